"""A person's identifiers in free text: found, redacted, and proven gone (erasure, #17.3).

Person search finds a phone number only where it is stored as one, and skips rows marked
anonymized, so it cannot prove that an erasure left nothing behind. This module reads the
declared personal-data text columns themselves (every one, of every row of the tenant,
anonymized or not) and looks for the person's e-mail addresses, phone numbers and personal
identity numbers written in any usual way ("070-111 22 33", "+46 70 111 22 33",
"800101-1234"), and, within the person's own records only, their name (a name alone is not
unique enough to redact across the whole organization).

A hit in a row that is kept is redacted in place: an occurrence in free text becomes the
tenant's anonymization word; a column of a fixed format (e-mail, phone, identity number,
IP) gets its declared strategy; a column whose strategy is ``delete_row`` loses its row, as
the declaration says. The identifiers are held in memory only; a hit is reported by table,
row, column and kind, never by value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from core.db import raw
from core.gdpr.registry import FieldInfo, get_declarations, text_capacity
from core.gdpr.sql import ids_in, pk_name, q, tname

SEP = r"[\s\-./()]*"
KIND_LABELS = {
    "e": "e-mail address",
    "p": "phone number",
    "n": "personal identity number",
    "name": "name",
}
STRUCTURED = ("email", "phone", "national_id", "ip")
PAGE = 1000


def _digits(digits: str) -> str:
    return SEP.join(re.escape(d) for d in digits)


def email_pattern(email: str) -> str:
    """The address, not as the tail or head of a longer one (case ignored by the caller)."""
    return r"(?<![\w.+\-])" + re.escape(email) + r"(?![\w\-]|\.\w)"


def phone_pattern(e164: str) -> str:
    """An E.164 number written internationally (+46 70.., 0046 70.., +46 (0)70..) or
    nationally (070-..), with any spaces, dashes, dots, slashes or brackets between digits."""
    digits = e164.lstrip("+")
    try:
        number = phonenumbers.parse(e164)
        cc, national = str(number.country_code), str(number.national_number)
    except phonenumbers.NumberParseException:
        cc, national = "", ""
    alternatives = [r"(?:\+|00)" + SEP + _digits(digits)]
    if cc and national:
        alternatives.append(
            r"(?:\+|00)" + SEP + _digits(cc) + SEP + r"\(0\)" + SEP + _digits(national)
        )
        alternatives.append("0" + SEP + _digits(national))
    return r"(?<![\d+])(?:" + "|".join(alternatives) + r")(?!\d)"


def national_id_pattern(pnr: str) -> str:
    """YYYYMMDD-XXXX as written with or without the century, dash, plus or space."""
    digits = pnr.replace("-", "")
    century, rest = digits[:2], digits[2:]
    return (
        r"(?<!\d)(?:"
        + re.escape(century)
        + r")?"
        + re.escape(rest[:6])
        + r"[\s\-+]?"
        + re.escape(rest[6:])
        + r"(?!\d)"
    )


def name_pattern(name: str) -> str | None:
    parts = name.split()
    if not parts or len(" ".join(parts)) < 3:
        return None
    return r"(?<!\w)" + r"\s+".join(re.escape(p) for p in parts) + r"(?!\w)"


@dataclass
class Finder:
    """The person's identifiers as one pattern, and their names as another."""

    identifiers: re.Pattern[str] | None
    names: re.Pattern[str] | None

    @classmethod
    def of(
        cls,
        emails: Iterable[str],
        phones: Iterable[str],
        national_ids: Iterable[str],
        names: Iterable[str] = (),
        word: str = "",
    ) -> Finder:
        parts = [f"(?P<e{i}>{email_pattern(e)})" for i, e in enumerate(emails)]
        parts += [f"(?P<p{i}>{phone_pattern(p)})" for i, p in enumerate(phones)]
        parts += [f"(?P<n{i}>{national_id_pattern(n)})" for i, n in enumerate(national_ids)]
        name_parts = []
        for n in dict.fromkeys(n.strip() for n in names if n):
            pattern = name_pattern(n)
            if pattern and n.casefold() != word.casefold():
                name_parts.append(pattern)
        return cls(
            re.compile("|".join(parts), re.IGNORECASE) if parts else None,
            re.compile("|".join(name_parts), re.IGNORECASE) if name_parts else None,
        )

    def kinds(self, text: str, with_names: bool) -> set[str]:
        found: set[str] = set()
        if self.identifiers is not None:
            for m in self.identifiers.finditer(text):
                found.add((m.lastgroup or "e")[0])
        if with_names and self.names is not None and self.names.search(text):
            found.add("name")
        return found

    def redact(self, text: str, word: str, with_names: bool) -> str:
        if self.identifiers is not None:
            text = self.identifiers.sub(word, text)
        if with_names and self.names is not None:
            text = self.names.sub(word, text)
        return text


@dataclass
class Hit:
    table: str
    record_id: int
    column: str
    kinds: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.column} holds the person's " + ", ".join(KIND_LABELS[k] for k in self.kinds)


@dataclass
class ScanResult:
    hits: list[Hit] = field(default_factory=list)
    redacted: int = 0  # columns rewritten
    deleted: int = 0  # rows deleted (their declared strategy)


def _new_value(f: FieldInfo, value: str, finder: Finder, word: str, with_names: bool) -> Any:
    """What a column holding the person becomes (``delete_row`` is the caller's)."""
    col = f.table._meta.get_column_by_name(f.field.column)
    cap = text_capacity(col)
    if f.field.category in STRUCTURED:
        strategy = f.field.strategy
        if strategy == "null":
            return None
        if strategy == "replace":
            return word if cap is None or cap >= len(word) else ""
        return ""
    out = finder.redact(value, word, with_names)
    return out if cap is None else out[:cap]


async def scan(
    tenant_id: int,
    finder: Finder,
    *,
    names_in: Mapping[str, set[int]],
    fix_word: str | None = None,
    keep: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
) -> ScanResult:
    """Every declared personal-data text column of every row of the tenant, read.

    With ``fix_word``, a hit in a row not in ``keep`` is redacted (or its row deleted, as
    declared) in the caller's transaction; without it, hits are only reported. Names count
    in the rows of ``names_in`` (tablename -> ids: the person's own records) only.
    """
    out = ScanResult()
    if finder.identifiers is None and finder.names is None:
        return out
    decl = get_declarations()
    for tbl, (table, columns) in sorted(decl.personal_text_columns().items()):
        pk = pk_name(table)
        key = table._meta.primary_key._meta.db_column_name
        db_cols = {c: table._meta.get_column_by_name(c)._meta.db_column_name for c in columns}
        sel = ", ".join(q(db_cols[c]) for c in sorted(columns))
        last = 0
        own = names_in.get(tbl, set())
        while True:
            rows = await raw(
                f"SELECT {pk}, {sel} FROM {tname(table)} "
                f"WHERE {q('tenant_id')} = {{}} AND {pk} > {{}} "
                f"ORDER BY {pk} LIMIT {PAGE}",
                tenant_id,
                last,
            )
            for row in rows:
                rid = int(row[key])
                with_names = rid in own
                sets: dict[str, Any] = {}
                delete = False
                for column in sorted(columns):
                    value = row[db_cols[column]]
                    if not isinstance(value, str) or not value:
                        continue
                    kinds = finder.kinds(value, with_names)
                    if not kinds:
                        continue
                    out.hits.append(Hit(tbl, rid, column, tuple(sorted(kinds))))
                    if fix_word is None or (tbl, rid) in keep:
                        continue
                    fields = columns[column]
                    if any(f.field.strategy == "delete_row" for f in fields):
                        delete = True
                    else:
                        sets[column] = _new_value(fields[0], value, finder, fix_word, with_names)
                if delete:
                    await raw(
                        f"DELETE FROM {tname(table)} WHERE {q('tenant_id')} = {{}} AND {pk} = {{}}",
                        tenant_id,
                        rid,
                    )
                    out.deleted += 1
                elif sets:
                    assignments = ", ".join(f"{q(db_cols[c])} = {{}}" for c in sets)
                    await raw(
                        f"UPDATE {tname(table)} SET {assignments} "
                        f"WHERE {q('tenant_id')} = {{}} AND {pk} = {{}}",
                        *sets.values(),
                        tenant_id,
                        rid,
                    )
                    out.redacted += len(sets)
            if len(rows) < PAGE:
                break
            last = int(rows[-1][key])
    return out


async def rows_by_id(
    table_name: str, ids: Iterable[int], tenant_id: int
) -> dict[int, dict[str, Any]]:
    """Whole rows of a table by id (to name the place of a hit)."""
    idl = sorted(set(ids))
    if not idl:
        return {}
    id_sql, id_args = ids_in("id", idl)
    rows = await raw(
        f"SELECT * FROM {q(table_name)} WHERE {id_sql} AND tenant_id = {{}}", *id_args, tenant_id
    )
    return {int(r["id"]): r for r in rows}
