"""Data subjects' rights: access (an export of everything held about a person) and erasure.

A person is named by identifiers (e-mail addresses, phone numbers, personal identity
numbers, customer numbers). :func:`locate` finds, through the person-search index:

* the records holding one of the identifiers exactly (any plugin, any place), and
* the records that *are* the person: rows of a table whose retention rule declares a
  ``subject`` (customer, contact, employee), and every record referring to them through a
  declared ``*_ref`` field.

* every row referring to them through a declared reference that person search does not
  cover (their login rows in the system log), and their failed logins (by account key).

Export lists each record with every declared personal-data field and its value; erasure
anonymizes each record with its own rule's strategies, except records a plugin vetoes
through the ``veto_erasure`` hook (kept, e.g. for bookkeeping; the person's links in them are
cleared with the person). It deletes the person's stored subject-access exports and
redacts the person's identifiers in every declared personal-data text column of every row
of the tenant (:mod:`core.gdpr.redact`: free text a rule keeps, such as a case's
description, still loses the person's e-mail address and phone number). Afterwards the
identifiers (held in memory only) are searched again and every declared text column is
read again, anonymized rows included; the audit row says that nothing remains only when
neither finds anything, else exactly what remains (table, row, column, kind) and why.
"""

from __future__ import annotations

import html
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.db import atomic, raw, utcnow
from core.gdpr import redact
from core.gdpr import search as gs
from core.gdpr.registry import SUBJECT_CATEGORY, Declarations, get_declarations, is_secret_column
from core.gdpr.sql import ids_in, q
from core.validation import FieldError, normalize_email, normalize_national_id, normalize_phone
from core.worker import task

log = logging.getLogger(__name__)

MAX_IDENTIFIERS = 20
INLINE_LIMIT = 300  # records: more than this and the export runs as a background job
EXPORT_DAYS = 7
_HIDDEN = ("secret", "hash", "token", "password", "cipher", "account_key")


@dataclass
class Identifiers:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    customer_numbers: list[int] = field(default_factory=list)

    @classmethod
    def parse(
        cls, emails: list[str], phones: list[str], national_ids: list[str], customer_numbers: list[int]
    ) -> Identifiers:
        if not (emails or phones or national_ids or customer_numbers):
            raise FieldError(
                "identifiers",
                "give at least one e-mail address, phone number, personal identity number or customer number",
            )
        if len(emails) + len(phones) + len(national_ids) + len(customer_numbers) > MAX_IDENTIFIERS:
            raise FieldError(
                "identifiers",
                "give at most %(max)s identifiers at a time",
                code="too_many_identifiers",
                max=MAX_IDENTIFIERS,
            )
        out = cls()
        for i, e in enumerate(emails):
            v = normalize_email(e, field=f"emails[{i}]", required=True)
            assert v is not None
            out.emails.append(v)
        for i, p in enumerate(phones):
            v = normalize_phone(p, field=f"phones[{i}]")
            if v is None:
                raise FieldError(f"phones[{i}]", "the phone number is empty")
            out.phones.append(v)
        for i, n in enumerate(national_ids):
            v = normalize_national_id(n, field=f"national_ids[{i}]")
            if v is None:
                raise FieldError(f"national_ids[{i}]", "the personal identity number is empty")
            out.national_ids.append(v)
        for i, c in enumerate(customer_numbers):
            if c <= 0:
                raise FieldError(f"customer_numbers[{i}]", "a customer number is a positive whole number")
            out.customer_numbers.append(int(c))
        return out

    def lookups(self) -> list[gs.Lookup]:
        out = [gs.Lookup("e", gs.fold(e)) for e in self.emails]
        out += [gs.Lookup("p", p[1:]) for p in self.phones]
        out += [gs.Lookup("n", n.replace("-", "")) for n in self.national_ids]
        return out

    def summary(self) -> dict[str, int]:
        return {
            "emails": len(self.emails),
            "phones": len(self.phones),
            "national_ids": len(self.national_ids),
            "customer_numbers": len(self.customer_numbers),
        }


@dataclass
class Located:
    # tablename -> record ids
    records: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # "customer" | "contact" | "employee" -> ids (rows of the subject tables)
    subjects: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


def _subject_tables(decl: Declarations) -> dict[str, tuple[str, Any]]:
    """tablename -> (subject kind, rule) for rules that declare a subject."""
    out: dict[str, tuple[str, Any]] = {}
    for info in decl.rules.values():
        if info.rule.subject and info.rule.table is not None:
            out[info.table._meta.tablename] = (info.rule.subject, info)
    return out


async def locate(tenant_id: int, ids: Identifiers) -> Located:
    """Every record of this tenant holding the person's identifiers or referring to them."""
    await gs.flush_pending()
    decl = get_declarations()
    reg = gs.registry()
    fids = await gs.field_ids(reg)
    by_fid = {fid: key for key, fid in fids.items()}
    subject_tables = _subject_tables(decl)
    found = Located()

    async def add_matches(lookups: list[gs.Lookup]) -> None:
        """Records holding any of these exact terms (each lookup one alternative)."""
        if not lookups:
            return
        parsed = gs.ParsedQuery("subject", tuple((lk,) for lk in lookups))
        for fid, rids in (await gs.collect_matches(tenant_id, parsed, reg, fids, linked=False)).items():
            found.records[by_fid[fid][0]].update(rids)

    await add_matches(ids.lookups())
    # Customer numbers: the record type of the customer subject's table knows its number column.
    if ids.customer_numbers:
        for tbl, (kind, info) in subject_tables.items():
            if kind != "customer":
                continue
            for rt in decl.record_types.values():
                if rt.table is info.table and rt.number_column:
                    col = rt.table._meta.get_column_by_name(rt.number_column)._meta.db_column_name
                    n_sql, n_args = ids_in(q(col), ids.customer_numbers)
                    rows = await raw(f"SELECT id FROM {q(tbl)} WHERE tenant_id = {{}} AND {n_sql}", tenant_id, *n_args)
                    found.records[tbl].update(int(r["id"]) for r in rows)
    # Which found rows are the person themself, and what refers to them.
    for tbl, (kind, _info) in subject_tables.items():
        if tbl in found.records:
            found.subjects[kind].update(found.records[tbl])
    for kind, subject_ids in list(found.subjects.items()):
        term_kind = gs.REF_KINDS[SUBJECT_CATEGORY[kind]]
        await add_matches([gs.Lookup(term_kind, str(sid)) for sid in sorted(subject_ids)])
        # References person search does not cover (the system log's logins, sessions):
        # read directly, so the export shows them and the erasure clears them.
        for f in decl.reference_fields(SUBJECT_CATEGORY[kind]):
            tbl = f.table._meta.tablename
            col = f.table._meta.get_column_by_name(f.field.column)._meta.db_column_name
            if col in reg.tables.get(tbl, {}):
                continue
            id_sql, id_args = ids_in(q(col), sorted(subject_ids))
            rows = await raw(
                f"SELECT id FROM {q(tbl)} WHERE tenant_id = {{}} AND {id_sql}", tenant_id, *id_args
            )
            found.records[tbl].update(int(r["id"]) for r in rows)
    # Child rows anonymized with the person (fields declared with parent_column).
    for tbl, (_kind, info) in subject_tables.items():
        sids = sorted(found.records.get(tbl, ()))
        if not sids:
            continue
        for f in decl.fields:
            if f.field.parent_column and f.field.rule == info.key:
                child = f.table._meta.tablename
                col = f.table._meta.get_column_by_name(f.field.parent_column)._meta.db_column_name
                id_sql, id_args = ids_in(q(col), sids)
                rows = await raw(f"SELECT id FROM {q(child)} WHERE tenant_id = {{}} AND {id_sql}", tenant_id, *id_args)
                found.records[child].update(int(r["id"]) for r in rows)
    # Activity (comments, notes, reports, conversations) on the records found.
    for (owner, key), rt in decl.record_types.items():
        rids = sorted(found.records.get(rt.table._meta.tablename, ()))
        if not rids:
            continue
        id_sql, id_args = ids_in("record_id", rids)
        rows = await raw(
            f"SELECT id FROM activity WHERE tenant_id = {{}} AND plugin = {{}} AND record_type = {{}} AND {id_sql}",
            tenant_id, owner, key, *id_args,
        )
        found.records["activity"].update(int(r["id"]) for r in rows)
    return found


async def _rows(tbl: str, ids: set[int], tenant_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    idl = sorted(ids)
    for start in range(0, len(idl), 1000):
        id_sql, id_args = ids_in("id", idl[start : start + 1000])
        out += await raw(f"SELECT * FROM {q(tbl)} WHERE {id_sql} AND tenant_id = {{}}", *id_args, tenant_id)
    return out


def _place(
    reg: gs.Registry, tbl: str, row: dict[str, Any], language: str
) -> tuple[str, str, str, str, str | None]:
    """(plugin, area, place, record_type, link) of a row, from its table's search sources;
    the place named in ``language`` ("sv", else English), as person search names it."""
    for s in reg.sources:
        if s.tbl == tbl and gs.where_ok(s.source, row):
            place = s.source.place_sv if language == "sv" else s.source.place_en
            return s.owner, s.source.area, place, s.source.record_type, gs.record_link(s, int(row["id"]), row)
    return "", "", tbl, "", None


def _shown(column: str, value: Any, table: Any = None) -> Any:
    # A secret column (the outbox's subject and body carry reset links and one-time codes:
    # core/gdpr/registry.py) is named, never shown.
    secret = table is not None and is_secret_column(table._meta.get_column_by_name(column))
    if value is not None and (secret or any(h in column.lower() for h in _HIDDEN)):
        return "(stored encrypted or hashed; not shown here)"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def build_export(tenant_id: int, ids: Identifiers, language: str = "sv") -> dict[str, Any]:
    """The access export: every record and personal-data field held about the person, its
    places named in ``language`` (the requesting user's)."""
    decl = get_declarations()
    reg = gs.registry()
    found = await locate(tenant_id, ids)
    records: list[dict[str, Any]] = []
    for tbl in sorted(found.records):
        fields = [f for f in decl.fields if f.table._meta.tablename == tbl]
        for row in await _rows(tbl, found.records[tbl], tenant_id):
            plugin, area, place, record_type, link = _place(reg, tbl, row, language)
            records.append(
                {
                    "plugin": plugin,
                    "area": area,
                    "place": place,
                    "record_type": record_type,
                    "table": tbl,
                    "record_id": int(row["id"]),
                    "status": gs.record_status(row),
                    "link": link,
                    "fields": [
                        {
                            "column": f.field.column,
                            "label_sv": f.field.label_sv,
                            "label_en": f.field.label_en,
                            "category": f.field.category,
                            "value": _shown(f.field.column, row.get(f.field.column), f.table),
                        }
                        for f in _unique_fields(fields)
                    ],
                }
            )
    records.sort(key=lambda r: (gs.AREA_ORDER.get(r["area"], 9), r["plugin"], r["table"], r["record_id"]))
    return {
        "generated_at": utcnow().isoformat(),
        "language": language,
        "records": records,
        "record_count": len(records),
    }


def _unique_fields(fields: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for f in fields:
        if f.field.column not in seen:
            seen.add(f.field.column)
            out.append(f)
    return out


def export_html(document: dict[str, Any], organization: str) -> str:
    e = html.escape
    parts = [
        f"<!doctype html><html lang='{e(document.get('language') or 'sv')}'><head><meta charset='utf-8'>",
        f"<title>Registerutdrag – {e(organization)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}"
        "th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        "th{background:#eee}</style></head><body>",
        f"<h1>Registerutdrag / Subject access export</h1><p>{e(organization)} · "
        f"{e(document['generated_at'])} · {document['record_count']} poster / records</p>",
    ]
    for r in document["records"]:
        parts.append(
            f"<h2>{e(r['place'])} · {e(r['record_type'] or r['table'])} #{r['record_id']} "
            f"<small>({e(r['status'])})</small></h2><table><tr><th>Fält / Field</th><th>Värde / Value</th></tr>"
        )
        for f in r["fields"]:
            value = "" if f["value"] is None else str(f["value"])
            parts.append(f"<tr><td>{e(f['label_sv'] or f['column'])} / {e(f['label_en'] or f['column'])}</td>"
                         f"<td>{e(value)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


async def _organization(tenant_id: int) -> str:
    rows = await raw("SELECT name FROM tenant WHERE id = {}", tenant_id)
    return str(rows[0]["name"]) if rows else ""


async def create_export(
    tenant_id: int, requested_by: int | None, ids: Identifiers, language: str = "sv"
) -> dict[str, Any]:
    """Make the export now when it is small, else as a background job; returns its row.
    ``language``: the requesting user's, for the places' names."""
    from core.gdpr.tables import SubjectExport
    from core.security import keyed_hash, new_token

    now = utcnow()
    found = await locate(tenant_id, ids)
    rows = await SubjectExport.insert(
        SubjectExport(
            tenant_id=tenant_id,
            token=new_token(16),
            status="pending",
            requested_by=requested_by,
            identifiers_hash=keyed_hash(json.dumps(ids.__dict__, sort_keys=True)),
            created_at=now,
            expires_at=now + timedelta(days=EXPORT_DAYS),
        )
    ).returning(SubjectExport.id)
    export_id = int(rows[0]["id"])
    if found.count() <= INLINE_LIMIT:
        await run_export(export_id, ids.__dict__, language)
    else:
        from core.db import after_commit
        from core.worker import enqueue

        after_commit(lambda: enqueue("core.gdpr.subjects.export_job", export_id, ids.__dict__, language))
    return await export_row(tenant_id, export_id)  # type: ignore[return-value]


async def run_export(export_id: int, ids: dict[str, Any], language: str = "sv") -> None:
    from core.gdpr.tables import SubjectExport

    row = await SubjectExport.select().where(SubjectExport.id == export_id).first()
    if row is None or row["status"] != "pending":
        return
    tenant_id = int(row["tenant_id"])
    try:
        document = await build_export(tenant_id, Identifiers(**ids), language)
        page = export_html(document, await _organization(tenant_id))
        async with atomic():
            await SubjectExport.update(
                {
                    SubjectExport.status: "done",
                    SubjectExport.document: json.dumps(document, ensure_ascii=False),
                    SubjectExport.html: page,
                    SubjectExport.records: document["record_count"],
                    SubjectExport.finished_at: utcnow(),
                }
            ).where(SubjectExport.id == export_id)
    except Exception as exc:  # recorded without personal data
        log.error("subject export %s failed: %s", export_id, type(exc).__name__)
        await SubjectExport.update(
            {
                SubjectExport.status: "error",
                SubjectExport.error: type(exc).__name__,
                SubjectExport.finished_at: utcnow(),
            }
        ).where(SubjectExport.id == export_id)


@task("core.gdpr.subjects.export_job")
async def export_job(export_id: int, ids: dict[str, Any], language: str = "sv") -> None:
    await run_export(export_id, ids, language)


async def export_row(tenant_id: int, export_id: int) -> dict[str, Any] | None:
    """An export of this tenant that has not expired (expired ones are as good as gone)."""
    from core.gdpr.tables import SubjectExport

    row = (
        await SubjectExport.select()
        .where((SubjectExport.id == export_id) & (SubjectExport.tenant_id == tenant_id))
        .first()
    )
    if row is None or row["expires_at"] <= utcnow():
        return None
    return row


# --- erasure ----------------------------------------------------------------------------------


@dataclass
class Planned:
    plugin: str
    rule: str | None
    table: str
    record_type: str
    place: str
    record_id: int
    status: str
    action: str  # "anonymize" | "keep" (vetoed) | "with_subject" (cleared with the person)
    reason: str = ""


async def plan_erasure(tenant_id: int, ids: Identifiers, language: str = "sv") -> tuple[Located, list[Planned]]:
    decl = get_declarations()
    reg = gs.registry()
    found = await locate(tenant_id, ids)
    from core.plugins import await_me_maybe, get_host

    host = get_host()
    plan: list[Planned] = []
    for tbl in sorted(found.records):
        rows = await _rows(tbl, found.records[tbl], tenant_id)
        rules = [i for i in decl.rules.values() if i.rule.table is not None and i.table._meta.tablename == tbl]
        by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
        loose: list[dict[str, Any]] = []
        for row in rows:
            rule = next((i for i in rules if all(row.get(c) == v for c, v in i.rule.where)), None)
            if rule is None:
                loose.append(row)
            else:
                by_rule[rule.key].append(row)
        for key, rule_rows in by_rule.items():
            info = decl.rules[key]
            vetoes: dict[int, str] = {}
            active = [int(r["id"]) for r in rule_rows if r.get(info.rule.marker_column) is None]
            if active:
                answers = host.call_plugin(info.owner, "veto_erasure", tenant_id=tenant_id, rule=key, record_ids=active)
                for answer in answers:
                    vetoes.update(await await_me_maybe(answer) or {})
            for row in rule_rows:
                rid = int(row["id"])
                plugin, _area, place, record_type, _ = _place(reg, tbl, row, language)
                status = gs.record_status(row)
                if status == "anonymized":
                    action, reason = "none", "already anonymized"
                elif rid in vetoes:
                    action, reason = "keep", str(vetoes[rid])[:300]
                else:
                    action, reason = "anonymize", ""
                plan.append(Planned(info.owner, key, tbl, record_type, place, rid, status, action, reason))
        for row in loose:
            plugin, _area, place, record_type, _ = _place(reg, tbl, row, language)
            plan.append(
                Planned(plugin, None, tbl, record_type, place, int(row["id"]), gs.record_status(row), "with_subject",
                        "cleared through the person's own record (declared reference)")
            )
    return found, plan


async def erase(
    tenant_id: int, ids: Identifiers, *, dry_run: bool, requested_by: Any = None, language: str = "sv"
) -> dict[str, Any]:
    """Dry run: what would be anonymized. Otherwise anonymize it, delete the person's
    subject-access exports, redact the person in free text, verify, audit.
    Places are named in ``language`` (the requesting user's)."""
    from core.gdpr.engine import anonymization_word, anonymize_records, finish_run, start_run

    found, plan = await plan_erasure(tenant_id, ids, language)
    word = await anonymization_word(tenant_id)
    # The names are read now: anonymizing the person replaces them.
    finder = redact.Finder.of(
        ids.emails, ids.phones, ids.national_ids, await _subject_names(tenant_id, found), word
    )
    exports = await _exports_of(tenant_id, ids, found, finder)
    plan += [
        Planned("core", EXPORTS_RULE, EXPORTS_TABLE, "subject_export",
                EXPORTS_PLACE[language == "sv"], export_id, "active", "delete",
                "a subject access export holding the person's data")
        for export_id in exports
    ]
    out: dict[str, Any] = {
        "dry_run": dry_run,
        "records": [p.__dict__ for p in plan],
        "per_plugin": _per_plugin(plan),
        "vetoed": [p.__dict__ for p in plan if p.action == "keep"],
    }
    if dry_run:
        return out
    subject_tables = _subject_tables(get_declarations())
    # Records first, the people themselves last: anonymizing a person clears every
    # reference to them, after which their records could no longer be told apart.
    todo: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p in plan:
        if p.action == "anonymize" and p.rule:
            todo[(p.plugin, p.rule)].append(p.record_id)
    order = sorted(todo, key=lambda k: (get_declarations().rules[k[1]].table._meta.tablename in subject_tables, k))
    kept = {(p.table, p.record_id): p.reason for p in plan if p.action == "keep"}
    # Names count in the person's own records only (a name alone is not unique).
    own: dict[str, set[int]] = {tbl: set(rids) for tbl, rids in found.records.items()}
    async with atomic():
        run_id = await start_run(tenant_id, "core", "core.erasure", "erasure", utcnow())
        done = 0
        for plugin, rule in order:
            done += await anonymize_records(tenant_id, plugin, rule, todo[(plugin, rule)], reason="erasure")
        deleted_exports = await _delete_rows(tenant_id, EXPORTS_TABLE, exports)
        fixed = await redact.scan(tenant_id, finder, names_in=own, fix_word=word, keep=set(kept))
        # Verify: search again with the identifiers (held in memory only) and the people's
        # ids, and read every declared text column of every row again, anonymized or not.
        # The index first takes in what this transaction changed (it would flush at commit).
        await gs.flush()
        after = await locate(tenant_id, ids)
        for kind, sids in found.subjects.items():
            after.subjects[kind].update(sids)
        _, remaining_plan = await _remaining(tenant_id, after, language)
        left = await redact.scan(tenant_id, finder, names_in=own)
        remaining_plan = await _with_leftovers(tenant_id, remaining_plan, left.hits, kept, language)
        if remaining_plan:
            lines = [
                f"{p.table}#{p.record_id}: "
                + (f"kept ({kept[(p.table, p.record_id)]})" if (p.table, p.record_id) in kept
                   else (p.reason or "still holds data"))
                for p in remaining_plan
            ]
            summary = "remains: " + "; ".join(lines)
            outcome = "remains"
        else:
            summary = "nothing remains"
            outcome = "ok"
        notes = []
        if fixed.redacted or fixed.deleted:
            notes.append(f"redacted in free text: {fixed.redacted} (rows deleted: {fixed.deleted})")
        if deleted_exports:
            notes.append(f"subject access exports deleted: {deleted_exports}")
        if notes:
            summary = summary + "; " + "; ".join(notes)
        await finish_run(run_id, done, outcome, summary[:4000])
    out.update(
        {
            "anonymized": done,
            "remaining": [p.__dict__ for p in remaining_plan],
            "audit": {"run_id": run_id, "outcome": outcome, "summary": summary[:4000]},
        }
    )
    return out


EXPORTS_RULE = "core.subject_exports"
EXPORTS_TABLE = "gdpr_subject_export"
EXPORTS_PLACE = {True: "Registerutdrag", False: "Subject access exports"}


async def _subject_names(tenant_id: int, found: Located) -> list[str]:
    """The names of the people found (customers, contact persons, employees): the values
    of the name fields their own rules declare, read before they are anonymized."""
    decl = get_declarations()
    names: list[str] = []
    for tbl, (_kind, info) in _subject_tables(decl).items():
        rids = found.records.get(tbl)
        if not rids:
            continue
        columns = {
            f.field.column for f in decl.fields_of_rule(info.key)
            if f.table is info.table and f.field.parent_column is None
            and f.field.category == "name"
        }
        for row in await _rows(tbl, rids, tenant_id):
            names += [str(row[c]) for c in columns if row.get(c)]
    return names


async def _exports_of(
    tenant_id: int, ids: Identifiers, found: Located, finder: redact.Finder
) -> list[int]:
    """The stored subject-access exports of the person: asked for with the same
    identifiers, or holding one of them or one of the person's own records."""
    from core.security import keyed_hash

    asked = keyed_hash(json.dumps(ids.__dict__, sort_keys=True))
    subject_tables = _subject_tables(get_declarations())
    mine = {(tbl, rid) for tbl in subject_tables for rid in found.records.get(tbl, ())}
    rows = await raw(
        f"SELECT id, identifiers_hash, document, html FROM {q(EXPORTS_TABLE)} "
        "WHERE tenant_id = {}",
        tenant_id,
    )
    out: list[int] = []
    for row in rows:
        text = f"{row['document'] or ''}\n{row['html'] or ''}"
        hit = row["identifiers_hash"] == asked or bool(finder.kinds(text, with_names=False))
        if not hit and mine and row["document"]:
            try:
                records = json.loads(row["document"]).get("records", [])
            except (ValueError, AttributeError):
                records = []
            hit = any(
                (r.get("table"), r.get("record_id")) in mine for r in records if isinstance(r, dict)
            )
        if hit:
            out.append(int(row["id"]))
    return sorted(out)


async def _delete_rows(tenant_id: int, tbl: str, rids: Any) -> int:
    idl = sorted(rids)
    if not idl:
        return 0
    id_sql, id_args = ids_in("id", idl)
    rows = await raw(
        f"DELETE FROM {q(tbl)} WHERE tenant_id = {{}} AND {id_sql} RETURNING id",
        tenant_id,
        *id_args,
    )
    return len(rows)


async def _with_leftovers(
    tenant_id: int,
    remaining: list[Planned],
    hits: list[redact.Hit],
    kept: dict[tuple[str, int], str],
    language: str,
) -> list[Planned]:
    """The records still found, plus every row whose text still holds the person."""
    reg = gs.registry()
    out = list(remaining)
    listed = {(p.table, p.record_id): p for p in out}
    by_table: dict[str, list[redact.Hit]] = defaultdict(list)
    for h in hits:
        by_table[h.table].append(h)
    for tbl, table_hits in sorted(by_table.items()):
        rows = await redact.rows_by_id(tbl, (h.record_id for h in table_hits), tenant_id)
        for h in table_hits:
            reason = kept.get((tbl, h.record_id)) or h.describe()
            if (tbl, h.record_id) in listed:
                p = listed[(tbl, h.record_id)]
                if h.describe() not in p.reason:
                    p.reason = (p.reason + "; " if p.reason else "") + h.describe()
                continue
            row = rows.get(h.record_id, {"id": h.record_id})
            plugin, _area, place, record_type, _ = _place(reg, tbl, row, language)
            p = Planned(plugin, None, tbl, record_type, place, h.record_id,
                        gs.record_status(row), "remains", reason)
            listed[(tbl, h.record_id)] = p
            out.append(p)
    return out


async def _remaining(tenant_id: int, after: Located, language: str) -> tuple[Located, list[Planned]]:
    """Records that still hold one of the identifiers in a declared place (not anonymized)."""
    reg = gs.registry()
    remaining: list[Planned] = []
    for tbl, rids in sorted(after.records.items()):
        for row in await _rows(tbl, rids, tenant_id):
            if gs.record_status(row) == "anonymized":
                continue
            plugin, _area, place, record_type, _ = _place(reg, tbl, row, language)
            remaining.append(
                Planned(plugin, None, tbl, record_type, place, int(row["id"]), gs.record_status(row), "remains")
            )
    return after, remaining


def _per_plugin(plan: list[Planned]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in plan:
        out[p.plugin or "core"][p.action] += 1
    return {k: dict(v) for k, v in out.items()}
