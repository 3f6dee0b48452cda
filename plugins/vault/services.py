"""The vault's business logic: forms, access lists, entries, reveal. No HTTP here.

Access model (M11, M13), decided and tested in tests/vault/test_access.py:

* **Managing forms** (create, edit, access lists, delete) needs ``user.can("vault")``:
  administrators, and members of a group with the "vault" permission.
* **Administrators are not implicitly on a form's lists.** The lists are the one place
  that says who can read a form's data; an administrator who needs to read adds themself,
  which everybody managing forms then sees.
* The **plain list** lets a user (directly or through a group) list, read the plain
  values of, create, edit and delete the form's entries. A plain-list user may write
  encrypted values (a drop box) but never read them back.
* The **encrypted list** lets a user reveal encrypted values (with their password, and an
  SMS code when the form asks for it). Being on it also lets the user see the entries
  (list/get, plain values), since reveal shows more than that; it does not let them edit.
* Somebody on neither list gets 404 for the form's entries (they cannot tell they exist);
  somebody who can see an entry but is not on the encrypted list gets 403 from reveal.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from core import pending, throttle
from core.auth import SessionUser, verify_password
from core.config import get_settings
from core.contracts import SecondFactorRequest
from core.db import atomic, lock_row, raw, utcnow
from core.errors import RECORD_NOT_FOUND, Conflict, Forbidden, Invalid, Label, NotFound, TooMany
from core.errors import mark as _
from core.eventlog import log_event
from core.plugins import await_me_maybe, get_host
from core.records import RecordService
from core.references import check_party
from core.routes.schemas import SecondFactorOut
from core.secondfactor import second_factor_ready
from core.tables import Employee, EmployeeGroup
from core.validation import FieldError
from plugins.vault import crypto, keys
from plugins.vault.crypto import MasterKeyError, VaultIntegrityError
from plugins.vault.records import VAULT_ENTRY
from plugins.vault.schemas import (
    AccessIn,
    AccessListOut,
    AccessOut,
    EntryFieldOut,
    EntryGroupOut,
    EntryIn,
    EntryOut,
    EntryPage,
    EntryPatch,
    FieldIn,
    FieldOut,
    FormIn,
    FormOut,
    FormPatch,
    MyAccessOut,
    RevealedValueOut,
    RevealOut,
    ValueIn,
)
from plugins.vault.tables import (
    VaultAccess,
    VaultAudit,
    VaultEntry,
    VaultField,
    VaultForm,
    VaultPending,
)

log = logging.getLogger(__name__)

TWO_FACTOR_CONTEXT = "vault_decrypt"
PLAIN = "plain"
ENCRYPTED = "encrypted"
SHORT_VALUE = 2000  # text, password and url values; notes may be up to 10 000 characters
REWRITE_BATCH = 500
ENCRYPT_BATCH = 200  # entries per UPDATE when a field's stored values are encrypted


ENTRIES = RecordService(VAULT_ENTRY, "vault")




# What a refusal names (translated with its message: "Formulär 5").
FORM = Label(_("Form"))
ACCESS_GRANT = Label(_("Access grant"))
AUDIT_ROW = Label(_("Decryption log row"))
MANAGERS_ONLY = _("Only administrators (or members of a group with the vault permission) manage secure-data forms.")
NOT_ON_PLAIN_LIST = _("You may see this form's entries but not change them: that needs the form's plain list.")
NOT_ON_ENCRYPTED_LIST = _("You are not on this form's list for encrypted data.")
WRONG_PASSWORD = _("Wrong password.")
TOO_MANY_PASSWORDS = _("Too many wrong passwords. Wait %(minutes)s minutes before trying again.")
INTEGRITY_FAILED = _(
    "%(what)s failed its integrity check: it was changed, copied from another place, "
    "or the master key is not the one it was encrypted with. Nothing was decrypted."
)
FORM_HAS_ENTRIES = _(
    "The form has %(count)s entries. Delete them with it by adding ?delete_entries=true; "
    "they cannot be recovered."
)


def can_manage(user: SessionUser) -> bool:
    return user.can("vault")


def require_manager(user: SessionUser) -> None:
    if not can_manage(user):
        raise Forbidden(MANAGERS_ONLY, code="vault.managers_only")


async def _scoped(table: Any, tenant_id: int, row_id: int, what: Label, code: str) -> dict[str, Any]:
    """A row of the tenant's form, access list or log by id, or 404 (also another tenant's)."""
    row = await table.select().where((table.tenant_id == tenant_id) & (table.id == row_id)).first()
    if row is None:
        raise NotFound(RECORD_NOT_FOUND, code=code, what=what, id=row_id)
    return row


async def _form(tenant_id: int, form_id: int) -> dict[str, Any]:
    return await _scoped(VaultForm, tenant_id, form_id, FORM, "vault_form.not_found")


def _form_not_found(form_id: int) -> NotFound:
    return NotFound(RECORD_NOT_FOUND, code="vault_form.not_found", what=FORM, id=form_id)


def _entry_not_found(entry_id: int) -> NotFound:
    """Somebody on neither list of the form: as if the entry did not exist."""
    return NotFound(RECORD_NOT_FOUND, code=ENTRIES.code("not_found"), what=ENTRIES.what, id=entry_id)


# What failed the check (crypto.VaultIntegrityError.what).
STORED = {"value": _("The stored value"), "data key": _("The stored data key")}


def integrity_refusal(exc: VaultIntegrityError) -> Conflict:
    return Conflict(INTEGRITY_FAILED, code="vault_entry.integrity", what=Label(STORED.get(exc.what, STORED["value"])))


def _loads(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dumps(data: dict[str, Any]) -> str:
    # Not ASCII-escaped: person search looks for "Åsa" in the plain values as written.
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# --- access -----------------------------------------------------------------------------


async def access_map(tenant_id: int, employee_id: int, form_ids: list[int] | None = None) -> dict[int, set[str]]:
    """The lists (plain / encrypted) this employee is on, per form, directly or by group.

    Two queries (every entry request asks this): the employee with their groups, then the
    grants naming them. A grant counts only while the creation time it recorded still
    matches the user's or group's (a reused id inherits nothing).
    """
    if form_ids is not None and not form_ids:
        return {}
    rows = await raw(
        'SELECT e.created_at AS e_created, g.id AS g_id, g.created_at AS g_created '
        'FROM "employee" e '
        'LEFT JOIN "group_member" m ON m.employee_id = e.id AND m.tenant_id = e.tenant_id '
        'LEFT JOIN "employee_group" g ON g.id = m.group_id AND g.tenant_id = e.tenant_id '
        "WHERE e.id = {} AND e.tenant_id = {} AND e.deleted_at IS NULL",
        employee_id,
        tenant_id,
    )
    if not rows:
        return {}
    me_created = _as_datetime(rows[0]["e_created"])
    groups = {int(r["g_id"]): _as_datetime(r["g_created"]) for r in rows if r["g_id"] is not None}
    who = VaultAccess.employee_id == employee_id
    if groups:
        who = who | VaultAccess.group_id.is_in(list(groups))
    query = VaultAccess.select(
        VaultAccess.form_id,
        VaultAccess.level,
        VaultAccess.employee_id,
        VaultAccess.group_id,
        VaultAccess.principal_created_at,
    ).where((VaultAccess.tenant_id == tenant_id) & who)
    if form_ids is not None:
        query = query.where(VaultAccess.form_id.is_in(form_ids))
    out: dict[int, set[str]] = {}
    for g in await query:
        granted = _as_datetime(g["principal_created_at"])
        if g["employee_id"]:
            if int(g["employee_id"]) != employee_id or granted != me_created:
                continue
        elif int(g["group_id"]) not in groups or granted != groups[int(g["group_id"])]:
            continue  # a grant to a deleted group whose id was given to a new group
        out.setdefault(int(g["form_id"]), set()).add(g["level"])
    return out


def _as_datetime(value: Any) -> datetime | None:
    """Timestamps from raw SQL: datetimes on PostgreSQL, maybe text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def _form_access(user: SessionUser, form_id: int) -> set[str]:
    return (await access_map(user.tenant_id, user.employee_id, [form_id])).get(form_id, set())


NO_SUCH_USERS = _("no such users in the organization: %(missing)s")
NO_SUCH_GROUPS = _("no such groups in the organization: %(missing)s")


async def _created_at(table: Any, tenant_id: int, ids: list[int], field: str, message: str) -> dict[int, datetime]:
    """The creation times of the tenant's users (or groups) ``ids``; 400 naming the missing."""
    if not ids:
        return {}
    where = (table.tenant_id == tenant_id) & table.id.is_in(ids)
    if table is Employee:
        where = where & Employee.deleted_at.is_null()
    rows = await table.select(table.id, table.created_at).where(where)
    found = {int(r["id"]): r["created_at"] for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        code = "vault_form.unknown_users" if table is Employee else "vault_form.unknown_groups"
        raise FieldError(field, message, code=code, missing=missing)
    return found


async def _check_principals(tenant_id: int, lists: AccessIn) -> dict[str, dict[str, dict[int, datetime]]]:
    """Every user and group named in the lists exists in the tenant; their creation times."""
    out: dict[str, dict[str, dict[int, datetime]]] = {}
    for level in (PLAIN, ENCRYPTED):
        lst = getattr(lists, level)
        out[level] = {
            "users": await _created_at(
                Employee, tenant_id, sorted(set(lst.users)), f"access.{level}.users", NO_SUCH_USERS
            ),
            "groups": await _created_at(
                EmployeeGroup, tenant_id, sorted(set(lst.groups)), f"access.{level}.groups", NO_SUCH_GROUPS
            ),
        }
    return out


async def set_access(tenant_id: int, form_id: int, lists: AccessIn) -> None:
    """Replace both lists of a form (inside the caller's transaction)."""
    checked = await _check_principals(tenant_id, lists)
    await VaultAccess.delete().where((VaultAccess.tenant_id == tenant_id) & (VaultAccess.form_id == form_id))
    rows = [
        VaultAccess(
            tenant_id=tenant_id, form_id=form_id, level=level, principal_created_at=created,
            employee_id=pid if kind == "users" else 0, group_id=pid if kind == "groups" else 0,
        )
        for level, kinds in checked.items()
        for kind, principals in kinds.items()
        for pid, created in principals.items()
    ]
    if rows:
        await VaultAccess.insert(*rows)


async def access_out(tenant_id: int, form_id: int) -> AccessOut:
    rows = await VaultAccess.select().where((VaultAccess.tenant_id == tenant_id) & (VaultAccess.form_id == form_id))
    lists = {lvl: AccessListOut(users=[], groups=[]) for lvl in (PLAIN, ENCRYPTED)}
    for r in rows:
        target = lists.get(r["level"])
        if target is None:
            continue
        if r["employee_id"]:
            target.users.append(int(r["employee_id"]))
        else:
            target.groups.append(int(r["group_id"]))
    for lst in lists.values():
        lst.users.sort()
        lst.groups.sort()
    return AccessOut(plain=lists[PLAIN], encrypted=lists[ENCRYPTED])


def _grants(access: AccessOut) -> set[str]:
    """The grants of a form as comparable words: "encrypted user 7", "plain group 3"."""
    out: set[str] = set()
    for level in (PLAIN, ENCRYPTED):
        lst = getattr(access, level)
        out.update(f"{level} user {i}" for i in lst.users)
        out.update(f"{level} group {i}" for i in lst.groups)
    return out


def _grant_changes(before: AccessOut, after: AccessOut) -> list[str]:
    old, new = _grants(before), _grants(after)
    granted = [f"granted: {g}" for g in sorted(new - old)]
    return granted + [f"removed: {g}" for g in sorted(old - new)]


async def record_change(
    user: SessionUser,
    what: str,
    outcome: str,
    form_id: int,
    entry_id: int = 0,
    names: list[str] | None = None,
    ip: str = "",
) -> None:
    """A change to a form, its access lists or its entries, in the caller's transaction:
    a vault audit row (who, what, when, from where: ``what`` is "form", "access" or
    "entry", ``names`` the fields or grants concerned) and an event-log row. Never a value."""
    await audit(user, entry_id, form_id, outcome, names or [], ip, action=what)
    await log_event(
        user.tenant_id,
        user,
        f"vault.{what}_{outcome}",
        "vault",
        "vault_entry" if entry_id else "vault_form",
        entry_id or form_id,
        ip=ip or None,
    )


# --- forms ------------------------------------------------------------------------------


async def _fields_of(tenant_id: int, form_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {fid: [] for fid in form_ids}
    if not form_ids:
        return out
    rows = await VaultField.select().where(
        (VaultField.tenant_id == tenant_id) & VaultField.form_id.is_in(form_ids)
    ).order_by(VaultField.position).order_by(VaultField.id)
    for r in rows:
        out.setdefault(int(r["form_id"]), []).append(r)
    return out


async def managers(tenant_id: int) -> list[str]:
    """The names of those who manage the tenant's forms and their access lists: the
    administrators and the members of a group with the vault permission."""
    rows = await raw(
        'SELECT DISTINCT e.id, e.name FROM "employee" e '
        'LEFT JOIN "group_member" m ON m.employee_id = e.id AND m.tenant_id = e.tenant_id '
        'LEFT JOIN "employee_group" g ON g.id = m.group_id AND g.tenant_id = e.tenant_id '
        "WHERE e.tenant_id = {} AND e.deleted_at IS NULL "
        "AND (e.role = 'admin' OR ',' || COALESCE(g.permissions, '') || ',' LIKE '%,vault,%')",
        tenant_id,
    )
    return sorted({str(r["name"]) for r in rows}, key=str.casefold)


def _field_out(r: dict[str, Any]) -> FieldOut:
    return FieldOut(
        id=int(r["id"]), name=r["name"], type=r["kind"], encrypted=bool(r["encrypted"]), order=int(r["position"])
    )


async def form_out(
    user: SessionUser,
    form: dict[str, Any],
    fields: list[dict[str, Any]] | None = None,
    access: set[str] | None = None,
    ready: bool | None = None,
    grant_by: list[str] | None = None,
) -> FormOut:
    tid = user.tenant_id
    if fields is None:
        fields = (await _fields_of(tid, [int(form["id"])]))[int(form["id"])]
    if access is None:
        access = await _form_access(user, int(form["id"]))
    out = FormOut(
        id=int(form["id"]),
        name=form["name"],
        purpose=form["purpose"],
        auto_delete_days=form["auto_delete_days"],
        require_two_factor=bool(form["require_two_factor"]),
        fields=[_field_out(f) for f in fields],
        my_access=MyAccessOut(plain=PLAIN in access, encrypted=ENCRYPTED in access),
    )
    if PLAIN not in access:
        out.grant_by = grant_by if grant_by is not None else await managers(tid)
    if form["require_two_factor"]:
        if ready is None:
            ready = await second_factor_ready(tid, TWO_FACTOR_CONTEXT)
        out.two_factor_ready = ready
    if can_manage(user):
        out.access = await access_out(tid, int(form["id"]))
        out.entry_count = await VaultEntry.count().where(
            (VaultEntry.tenant_id == tid) & (VaultEntry.form_id == form["id"])
        )
        out.created_at = form["created_at"]
        out.updated_at = form["updated_at"]
    return out


def _check_field_names(items: list[FieldIn]) -> None:
    seen: set[str] = set()
    for f in items:
        name = f.name.strip()
        if not name:
            raise FieldError("fields", "every field needs a name", code="vault_form.field_name_required")
        if name.casefold() in seen:
            raise FieldError(
                "fields", "two fields are named %(name)s; field names must differ",
                code="vault_form.field_name_taken", name=repr(name),
            )
        seen.add(name.casefold())


# Words in a field's name that say it holds a secret: such a field is encrypted unless the
# form says otherwise (#20.6). Whole words, case-folded, or the end of a compound word
# ("PIN", "Lösenord", "Adminlösenord", "WiFi-password"); "pin" does not match "spinning".
SECRET_WORDS = frozenset({
    "lösen", "lösenord", "password", "passwd", "passord", "pwd", "pin", "pinkod", "puk", "pukkod",
    "secret", "hemlig", "hemligt", "hemlighet", "token", "apikey", "passphrase", "lösenfras",
    "psk", "otp",
})
SECRET_ENDINGS = ("lösenord", "password", "pinkod", "pukkod", "nyckel", "hemlighet", "secret")
SECRET_PHRASES = ("api key", "api nyckel", "private key", "privat nyckel", "secret key")


def looks_secret(name: str) -> bool:
    """Whether a field's name says it holds a password or another secret."""
    words = re.findall(r"\w+", name.casefold())
    if any(w in SECRET_WORDS or w.endswith(SECRET_ENDINGS) for w in words):
        return True
    return any(p in " ".join(words) for p in SECRET_PHRASES)


def wants_encryption(f: FieldIn, existing: dict[str, Any] | None = None) -> bool:
    """Whether a field is to be stored encrypted: as asked; when not said, a field that
    is already saved keeps its setting and a new one is encrypted when it is a password
    or its name says it holds a secret. A password field is always encrypted."""
    if f.encrypted is not None:
        encrypted = f.encrypted
    elif existing is not None:
        encrypted = bool(existing["encrypted"])
    else:
        encrypted = f.type == "password" or looks_secret(f.name)
    if f.type == "password" and not encrypted:
        raise FieldError(
            "fields", "field %(name)s is a password: a password field is always encrypted",
            code="vault_form.password_not_encrypted", name=repr(f.name.strip()),
        )
    return encrypted


def _form_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise FieldError("name", "the form needs a name", code="vault_form.name_required")
    return name


def _positions(items: list[FieldIn]) -> list[int]:
    return [f.order if f.order is not None else (i + 1) * 10 for i, f in enumerate(items)]


async def _visible_form(user: SessionUser, form_id: int) -> tuple[dict[str, Any], set[str]]:
    """A form the user manages or is on a list of; 404 otherwise (also another tenant's)."""
    form = await _form(user.tenant_id, form_id)
    access = await _form_access(user, form_id)
    if not access and not can_manage(user):
        raise _form_not_found(form_id)
    return form, access


async def list_forms(user: SessionUser) -> list[FormOut]:
    tid = user.tenant_id
    query = VaultForm.select().where(VaultForm.tenant_id == tid).order_by(VaultForm.name).order_by(VaultForm.id)
    rows = await query
    access = await access_map(tid, user.employee_id)
    if not can_manage(user):
        rows = [r for r in rows if int(r["id"]) in access]
    fields = await _fields_of(tid, [int(r["id"]) for r in rows])
    ready = None
    if any(r["require_two_factor"] for r in rows):
        ready = await second_factor_ready(tid, TWO_FACTOR_CONTEXT)
    grant_by = await managers(tid) if any(PLAIN not in access.get(int(r["id"]), set()) for r in rows) else []
    return [
        await form_out(user, r, fields[int(r["id"])], access.get(int(r["id"]), set()), ready, grant_by)
        for r in rows
    ]


async def get_form(user: SessionUser, form_id: int) -> FormOut:
    form, access = await _visible_form(user, form_id)
    return await form_out(user, form, access=access)


async def create_form(user: SessionUser, data: FormIn, ip: str = "") -> FormOut:
    require_manager(user)
    name = _form_name(data.name)
    _check_field_names(data.fields)
    if any(f.id is not None for f in data.fields):
        raise FieldError("fields", "a new form's fields have no id yet", code="vault_form.new_field_with_id")
    encrypted = [wants_encryption(f) for f in data.fields]
    tid = user.tenant_id
    now = utcnow()
    async with atomic():
        rows = await VaultForm.insert(
            VaultForm(
                tenant_id=tid,
                name=name,
                purpose=data.purpose,
                auto_delete_days=data.auto_delete_days,
                require_two_factor=data.require_two_factor,
                created_at=now,
                updated_at=now,
            )
        ).returning(*VaultForm.all_columns())
        form = rows[0]
        positions = _positions(data.fields)
        await VaultField.insert(
            *[
                VaultField(
                    tenant_id=tid,
                    form_id=form["id"],
                    name=f.name.strip(),
                    position=p,
                    kind=f.type,
                    encrypted=enc,
                )
                for f, p, enc in zip(data.fields, positions, encrypted, strict=True)
            ]
        )
        names = [f.name.strip() for f in data.fields]
        await record_change(user, "form", "created", int(form["id"]), names=names, ip=ip)
        if data.access is not None:
            await set_access(tid, int(form["id"]), data.access)
            none = AccessListOut(users=[], groups=[])
            granted = _grant_changes(
                AccessOut(plain=none, encrypted=none), await access_out(tid, int(form["id"]))
            )
            await record_change(user, "access", "changed", int(form["id"]), names=granted, ip=ip)
    return await form_out(user, form)


async def _entries_of_form(tenant_id: int, form_id: int, *columns: Any) -> AsyncIterator[dict[str, Any]]:
    """Every entry of a form (``id`` and ``columns``), read in batches of REWRITE_BATCH."""
    last = 0
    while True:
        rows = (
            await VaultEntry.select(VaultEntry.id, *columns)
            .where((VaultEntry.tenant_id == tenant_id) & (VaultEntry.form_id == form_id) & (VaultEntry.id > last))
            .order_by(VaultEntry.id)
            .limit(REWRITE_BATCH)
        )
        if not rows:
            return
        last = int(rows[-1]["id"])
        for r in rows:
            yield r


async def _remove_field_values(tenant_id: int, form_id: int, field_ids: list[int]) -> None:
    """Drop removed fields' stored values from every entry of the form."""
    drop = {str(i) for i in field_ids}
    async for r in _entries_of_form(tenant_id, form_id, VaultEntry.plain_values, VaultEntry.secret_values):
        plain, secret = _loads(r["plain_values"]), _loads(r["secret_values"])
        if drop & (plain.keys() | secret.keys()):
            await VaultEntry.update(
                {
                    VaultEntry.plain_values: _dumps({k: v for k, v in plain.items() if k not in drop}),
                    VaultEntry.secret_values: _dumps({k: v for k, v in secret.items() if k not in drop}),
                }
            ).where((VaultEntry.id == r["id"]) & (VaultEntry.tenant_id == tenant_id))


async def _recompute_delete_after(tenant_id: int, form_id: int, days: int | None) -> None:
    """Move every entry's deadline to created_at + days (the form's setting changed)."""
    if days is None:
        await VaultEntry.update({VaultEntry.delete_after: None}).where(
            (VaultEntry.tenant_id == tenant_id) & (VaultEntry.form_id == form_id)
        )
        return
    async for r in _entries_of_form(tenant_id, form_id, VaultEntry.created_at):
        await VaultEntry.update({VaultEntry.delete_after: r["created_at"] + timedelta(days=days)}).where(
            (VaultEntry.id == r["id"]) & (VaultEntry.tenant_id == tenant_id)
        )


async def edit_form(user: SessionUser, form_id: int, data: FormPatch, ip: str = "") -> FormOut:
    require_manager(user)
    tid = user.tenant_id
    async with atomic():
        form = await _form(tid, form_id)
        # First, before any entry row: entry writes take the form's row first too, so a
        # change of the fields and an entry's edit wait for each other instead of deadlocking.
        await lock_row("vault_form", form_id)
        changes: dict[Any, Any] = {}
        if data.name is not None:
            changes[VaultForm.name] = _form_name(data.name)
            await VaultEntry.update({VaultEntry.form_name: changes[VaultForm.name]}).where(
                (VaultEntry.tenant_id == tid) & (VaultEntry.form_id == form_id)
            )
        if data.require_two_factor is not None:
            changes[VaultForm.require_two_factor] = data.require_two_factor
        if data.auto_delete_days is not msgspec.UNSET:
            changes[VaultForm.auto_delete_days] = data.auto_delete_days
            if data.auto_delete_days != form["auto_delete_days"]:
                await _recompute_delete_after(tid, form_id, data.auto_delete_days)
        changed = [
            name
            for name, column in (
                ("name", VaultForm.name),
                ("require_two_factor", VaultForm.require_two_factor),
                ("auto_delete_days", VaultForm.auto_delete_days),
            )
            if column in changes and changes[column] != form[name]
        ]
        if data.fields is not None:
            changed += await _replace_fields(tid, form_id, data.fields)
        await record_change(user, "form", "changed", form_id, names=changed, ip=ip)
        changes[VaultForm.updated_at] = utcnow()
        await VaultForm.update(changes).where((VaultForm.id == form_id) & (VaultForm.tenant_id == tid))
        form = await _form(tid, form_id)
    return await form_out(user, form)


async def _replace_fields(tenant_id: int, form_id: int, items: list[FieldIn]) -> list[str]:
    """Replace the form's fields; returns what changed ("field added: X", ...).

    A saved plain field asked to be encrypted has every stored value encrypted here, in
    the caller's transaction (:func:`_encrypt_stored_values`); an encrypted field never
    becomes plain again (its values would have to be decrypted without anybody's
    password): refused with ``vault_form.cannot_decrypt_field``."""
    _check_field_names(items)
    existing = {int(f["id"]): f for f in (await _fields_of(tenant_id, [form_id]))[form_id]}
    kept: set[int] = set()
    encrypt: list[int] = []
    wanted: list[bool] = []
    for f in items:
        if f.id is None:
            wanted.append(wants_encryption(f))
            continue
        if f.id not in existing:
            raise FieldError(
                "fields", "field %(id)s is not a field of this form", code="vault_form.unknown_field", id=f.id
            )
        if f.id in kept:
            raise FieldError("fields", "field %(id)s is listed twice", code="vault_form.field_twice", id=f.id)
        was = bool(existing[f.id]["encrypted"])
        now = wants_encryption(f, existing[f.id])
        if was and not now:
            raise FieldError(
                "fields",
                "field %(name)s is encrypted and cannot become plain text again; add a new plain field "
                "if you need one",
                code="vault_form.cannot_decrypt_field", name=repr(existing[f.id]["name"]),
            )
        if now and not was:
            encrypt.append(f.id)
        wanted.append(now)
        kept.add(f.id)
    removed = sorted(set(existing) - kept)
    changed = [f"field removed: {existing[i]['name']}" for i in removed]
    if removed:
        await VaultField.delete().where((VaultField.tenant_id == tenant_id) & VaultField.id.is_in(removed))
        await _remove_field_values(tenant_id, form_id, removed)
    for f, p, enc in zip(items, _positions(items), wanted, strict=True):
        if f.id is None:
            changed.append(f"field added: {f.name.strip()}")
            await VaultField.insert(
                VaultField(
                    tenant_id=tenant_id,
                    form_id=form_id,
                    name=f.name.strip(),
                    position=p,
                    kind=f.type,
                    encrypted=enc,
                )
            )
        else:
            old = existing[f.id]
            if (old["name"], old["kind"]) != (f.name.strip(), f.type):
                changed.append(f"field changed: {old['name']}")
            await VaultField.update(
                {VaultField.name: f.name.strip(), VaultField.position: p, VaultField.kind: f.type,
                 VaultField.encrypted: enc}
            ).where((VaultField.id == f.id) & (VaultField.tenant_id == tenant_id))
    if encrypt:
        count = await _encrypt_stored_values(tenant_id, form_id, encrypt)
        names = ", ".join(existing[i]["name"] for i in encrypt)
        changed.append(f"field encrypted: {names} ({count} stored values)")
    return changed


async def _encrypt_stored_values(tenant_id: int, form_id: int, field_ids: list[int]) -> int:
    """Encrypt every stored plain value of ``field_ids`` (saved plain fields just switched
    to encrypted) with its entry's own data key, and take it out of the plain values.

    Runs in the caller's transaction, so all values are encrypted or none: a batch of
    :data:`ENCRYPT_BATCH` entries is read, then written back by one UPDATE (the form's row
    is locked first, so no entry of the form is written meanwhile). An entry whose data key
    fails its check stops the whole change (409, nothing encrypted). Person search never
    indexed an entry's values (``plain_values`` is declared ``search=False``), so no index
    term has to go. Returns how many values were encrypted."""
    await lock_row("vault_form", form_id)
    keys_of = [str(i) for i in field_ids]
    last, count = 0, 0
    while True:
        rows = (
            await VaultEntry.select(
                VaultEntry.id, VaultEntry.tenant_id, VaultEntry.form_id, VaultEntry.key_version,
                VaultEntry.wrapped_key, VaultEntry.plain_values, VaultEntry.secret_values,
            )
            .where((VaultEntry.tenant_id == tenant_id) & (VaultEntry.form_id == form_id) & (VaultEntry.id > last))
            .order_by(VaultEntry.id)
            .limit(ENCRYPT_BATCH)
        )
        if not rows:
            return count
        last = int(rows[-1]["id"])
        writes: list[tuple[int, str, str]] = []
        for r in rows:
            plain, secret = _loads(r["plain_values"]), _loads(r["secret_values"])
            moving = {k: plain.pop(k) for k in keys_of if k in plain}
            if not moving:
                continue
            ids = (tenant_id, form_id, int(r["id"]))
            version = int(r["key_version"])
            try:
                ring = await keys.get_ring(version)
                data_key = crypto.unwrap_data_key(ring, version, *ids, r["wrapped_key"])
            except VaultIntegrityError as exc:
                raise integrity_refusal(exc) from exc
            for k, value in moving.items():
                if value is None or value == "":
                    continue
                secret[k] = {"v": version, "c": crypto.encrypt_value(data_key, *ids, int(k), version, str(value))}
                count += 1
            writes.append((int(r["id"]), _dumps(plain), _dumps(secret)))
        if writes:
            await _write_values(tenant_id, writes)


async def _write_values(tenant_id: int, writes: list[tuple[int, str, str]]) -> None:
    """Write new plain and secret values of several entries in one UPDATE."""
    plain_case = " ".join("WHEN {} THEN {}" for _w in writes)
    args: list[Any] = []
    for entry_id, plain, _secret in writes:
        args += [entry_id, plain]
    for entry_id, _plain, secret in writes:
        args += [entry_id, secret]
    ids = [w[0] for w in writes]
    args += [tenant_id, *ids]
    await raw(
        f'UPDATE "vault_entry" SET plain_values = CASE id {plain_case} END, '
        f"secret_values = CASE id {plain_case} END "
        f"WHERE tenant_id = {{}} AND id IN ({', '.join('{}' for _i in ids)})",
        *args,
    )


async def replace_access(
    user: SessionUser, form_id: int, data: AccessIn, ip: str = ""
) -> AccessOut:
    require_manager(user)
    async with atomic():
        await _form(user.tenant_id, form_id)
        before = await access_out(user.tenant_id, form_id)
        await set_access(user.tenant_id, form_id, data)
        changed = _grant_changes(before, await access_out(user.tenant_id, form_id))
        if changed:
            await record_change(user, "access", "changed", form_id, names=changed, ip=ip)
        await VaultForm.update({VaultForm.updated_at: utcnow()}).where(
            (VaultForm.id == form_id) & (VaultForm.tenant_id == user.tenant_id)
        )
    return await access_out(user.tenant_id, form_id)


async def delete_form(user: SessionUser, form_id: int, delete_entries: bool, ip: str = "") -> int:
    """Delete a form; with entries only when asked (they are shredded with it)."""
    require_manager(user)
    tid = user.tenant_id
    async with atomic():
        await _form(tid, form_id)
        count = await VaultEntry.count().where((VaultEntry.tenant_id == tid) & (VaultEntry.form_id == form_id))
        if count and not delete_entries:
            raise Conflict(FORM_HAS_ENTRIES, code="vault_form.has_entries", count=count)
        await VaultEntry.delete().where((VaultEntry.tenant_id == tid) & (VaultEntry.form_id == form_id))
        await VaultAccess.delete().where((VaultAccess.tenant_id == tid) & (VaultAccess.form_id == form_id))
        await VaultField.delete().where((VaultField.tenant_id == tid) & (VaultField.form_id == form_id))
        await VaultForm.delete().where((VaultForm.tenant_id == tid) & (VaultForm.id == form_id))
        gone = [f"entries deleted: {count}"]
        await record_change(user, "form", "deleted", form_id, names=gone, ip=ip)
    log.info("vault form %s deleted with %s entries (tenant %s)", form_id, count, tid)
    return int(count)


# --- entries ----------------------------------------------------------------------------


def _entry_out(entry: dict[str, Any], form: dict[str, Any], fields: list[dict[str, Any]], access: set[str]) -> EntryOut:
    plain = _loads(entry["plain_values"])
    secret = _loads(entry["secret_values"])
    out_fields = []
    for f in fields:
        key = str(f["id"])
        # an encrypted value is never shown here, only that there is one (reveal shows it)
        value = None if f["encrypted"] else plain.get(key)
        has_value = key in secret if f["encrypted"] else value is not None
        out_fields.append(EntryFieldOut(
            field_id=int(f["id"]), name=f["name"], type=f["kind"], encrypted=bool(f["encrypted"]),
            has_value=has_value, value=value,
        ))
    return EntryOut(
        id=int(entry["id"]),
        form_id=int(form["id"]),
        form_name=form["name"],
        purpose=form["purpose"],
        customer_id=int(entry["customer_id"]) if form["purpose"] == "customer" else None,
        fields=out_fields,
        created_at=entry["created_at"],
        updated_at=entry["updated_at"],
        can_edit=PLAIN in access,
        can_reveal=ENCRYPTED in access,
    )


async def _visible_entry(user: SessionUser, entry_id: int) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """Entry, form and the user's lists; 404 when the user is on neither list."""
    entry = await ENTRIES.get(user.tenant_id, entry_id)
    form = await _form(user.tenant_id, int(entry["form_id"]))
    access = await _form_access(user, int(form["id"]))
    if not access:
        raise _entry_not_found(entry_id)
    return entry, form, access


def require_editable(entry: EntryOut) -> None:
    """403 unless the user may change the entry (the form's plain list)."""
    if not entry.can_edit:
        raise Forbidden(NOT_ON_PLAIN_LIST, code="vault_entry.not_on_plain_list")


def _require_plain(access: set[str]) -> None:
    if PLAIN not in access:
        raise Forbidden(NOT_ON_PLAIN_LIST, code="vault_entry.not_on_plain_list")


def _customer_for(form: dict[str, Any], customer_id: int | None, required: bool) -> int | None:
    if form["purpose"] == "customer":
        if customer_id is None and required:
            raise FieldError(
                "customer_id", "this form keeps data on behalf of a customer: give the customer's id",
                code="vault_entry.customer_required",
            )
        return customer_id
    if customer_id is not None:
        raise FieldError(
            "customer_id", "this form is for internal data: entries belong to no customer",
            code="vault_entry.internal_form",
        )
    return 0 if required else None


def _check_values(values: list[ValueIn], fields: list[dict[str, Any]]) -> dict[int, tuple[dict[str, Any], str | None]]:
    by_id = {int(f["id"]): f for f in fields}
    out: dict[int, tuple[dict[str, Any], str | None]] = {}
    for v in values:
        f = by_id.get(v.field_id)
        if f is None:
            raise FieldError(
                "values", "field %(field_id)s is not a field of this form",
                code="vault_entry.unknown_field", field_id=v.field_id,
            )
        if v.field_id in out:
            raise FieldError(
                "values", "field %(name)s is given twice", code="vault_entry.field_twice", name=repr(f["name"])
            )
        value = v.value
        if value is not None and value == "":
            value = None
        if value is not None:
            if f["kind"] != "note" and len(value) > SHORT_VALUE:
                raise FieldError(
                    "values", "field %(name)s holds at most %(short_value)s characters",
                    code="vault_entry.too_long", name=repr(f["name"]), short_value=SHORT_VALUE,
                )
            if f["kind"] != "note" and ("\n" in value or "\r" in value):
                raise FieldError(
                    "values", "field %(name)s is a single line; use a note field for more",
                    code="vault_entry.single_line", name=repr(f["name"]),
                )
            if f["kind"] == "url" and "://" not in value:
                raise FieldError(
                    "values", "field %(name)s must be an address like https://example.org",
                    code="vault_entry.not_an_address", name=repr(f["name"]),
                )
        out[v.field_id] = (f, value)
    return out


def _changed_names(changes: dict[int, tuple[dict[str, Any], str | None]]) -> list[str]:
    """The names of the fields a change writes or clears (never their values)."""
    return [f["name"] for f, _value in changes.values()]


async def _apply_values(
    entry: dict[str, Any], changes: dict[int, tuple[dict[str, Any], str | None]]
) -> tuple[str, str]:
    """New plain/secret JSON for an entry; encrypts with the entry's own data key."""
    plain = _loads(entry["plain_values"])
    secret = _loads(entry["secret_values"])
    data_key: bytes | None = None
    ids = (int(entry["tenant_id"]), int(entry["form_id"]), int(entry["id"]))
    version = int(entry["key_version"])
    for field_id, (f, value) in changes.items():
        key = str(field_id)
        if not f["encrypted"]:
            if value is None:
                plain.pop(key, None)
            else:
                plain[key] = value
            continue
        if value is None:
            secret.pop(key, None)
            continue
        if data_key is None:
            ring = await keys.get_ring(version)
            data_key = crypto.unwrap_data_key(ring, version, *ids, entry["wrapped_key"])
        secret[key] = {"v": version, "c": crypto.encrypt_value(data_key, *ids, field_id, version, value)}
    return _dumps(plain), _dumps(secret)


async def create_entry(user: SessionUser, data: EntryIn, ip: str = "") -> EntryOut:
    tid = user.tenant_id
    form = await _form(tid, data.form_id)
    access = await _form_access(user, data.form_id)
    if not access:
        raise _form_not_found(data.form_id)
    _require_plain(access)
    customer_id = _customer_for(form, data.customer_id, required=True)
    await check_party(tid, customer_id)
    now = utcnow()
    delete_after = now + timedelta(days=form["auto_delete_days"]) if form["auto_delete_days"] else None
    async with atomic():
        # Not while a field of the form is being encrypted: its fields are read after that.
        await lock_row("vault_form", data.form_id)
        fields = (await _fields_of(tid, [data.form_id]))[data.form_id]
        changes = _check_values(data.values, fields)
        version = await keys.active_version()
        ring = await keys.get_ring(version)
        rows = await VaultEntry.insert(
            VaultEntry(
                tenant_id=tid,
                form_id=data.form_id,
                form_name=form["name"],
                customer_id=customer_id or 0,
                key_version=version,
                wrapped_key="",
                created_by=user.employee_id,
                updated_by=user.employee_id,
                created_at=now,
                updated_at=now,
                delete_after=delete_after,
            )
        ).returning(*VaultEntry.all_columns())
        entry = rows[0]
        wrapped = crypto.wrap_data_key(ring, version, tid, data.form_id, int(entry["id"]), crypto.new_data_key())
        entry["wrapped_key"] = wrapped
        plain, secret = await _apply_values(entry, changes)
        await VaultEntry.update(
            {VaultEntry.wrapped_key: wrapped, VaultEntry.plain_values: plain, VaultEntry.secret_values: secret}
        ).where((VaultEntry.id == entry["id"]) & (VaultEntry.tenant_id == tid))
        entry = await ENTRIES.get(tid, int(entry["id"]))
        await record_change(
            user, "entry", "created", data.form_id, int(entry["id"]), _changed_names(changes), ip
        )
    return _entry_out(entry, form, fields, access)


async def get_entry(user: SessionUser, entry_id: int) -> EntryOut:
    entry, form, access = await _visible_entry(user, entry_id)
    fields = (await _fields_of(user.tenant_id, [int(form["id"])]))[int(form["id"])]
    return _entry_out(entry, form, fields, access)


async def edit_entry(user: SessionUser, entry_id: int, data: EntryPatch, ip: str = "") -> EntryOut:
    tid = user.tenant_id
    async with atomic():
        # Not while a field of the form is being encrypted (the entry and the fields are
        # read after the form's row is locked).
        await lock_row("vault_form", int((await ENTRIES.get(tid, entry_id))["form_id"]))
        entry, form, access = await _visible_entry(user, entry_id)
        _require_plain(access)
        fields = (await _fields_of(tid, [int(form["id"])]))[int(form["id"])]
        updates: dict[Any, Any] = {VaultEntry.updated_at: utcnow(), VaultEntry.updated_by: user.employee_id}
        changed: list[str] = []
        if data.customer_id is not None:
            updates[VaultEntry.customer_id] = _customer_for(form, data.customer_id, required=False)
            await check_party(tid, data.customer_id, before=entry)
            if data.customer_id != int(entry["customer_id"]):
                changed.append("customer")
        if data.values:
            changes = _check_values(data.values, fields)
            try:
                plain, secret = await _apply_values(entry, changes)
            except VaultIntegrityError as exc:
                raise integrity_refusal(exc) from exc
            updates[VaultEntry.plain_values] = plain
            updates[VaultEntry.secret_values] = secret
            changed += _changed_names(changes)
        await VaultEntry.update(updates).where((VaultEntry.id == entry_id) & (VaultEntry.tenant_id == tid))
        await record_change(user, "entry", "changed", int(form["id"]), entry_id, changed, ip)
        entry = await ENTRIES.get(tid, entry_id)
    return _entry_out(entry, form, fields, access)


async def delete_entry(user: SessionUser, entry_id: int, ip: str = "") -> None:
    """Hard delete: the values and the wrapped data key go in one row (crypto-shredding)."""
    async with atomic():
        _, form, access = await _visible_entry(user, entry_id)
        _require_plain(access)
        await VaultEntry.delete().where((VaultEntry.id == entry_id) & (VaultEntry.tenant_id == user.tenant_id))
        await record_change(user, "entry", "deleted", int(form["id"]), entry_id, [], ip)


async def list_entries(
    user: SessionUser,
    form_id: int | None,
    customer_id: int | None,
    purpose: str | None,
    offset: int,
    limit: int,
) -> EntryPage:
    """Entries of the forms the user is on a list of, grouped by form and customer."""
    tid = user.tenant_id
    access = await access_map(tid, user.employee_id)
    form_ids = sorted(access)
    if form_id is not None:
        form_ids = [f for f in form_ids if f == form_id]
    forms = {}
    if form_ids:
        q = VaultForm.select().where((VaultForm.tenant_id == tid) & VaultForm.id.is_in(form_ids))
        if purpose is not None:
            q = q.where(VaultForm.purpose == purpose)
        forms = {int(f["id"]): f for f in await q}
    if not forms:
        return EntryPage(total=0, offset=offset, limit=limit, groups=[])
    where = (VaultEntry.tenant_id == tid) & VaultEntry.form_id.is_in(sorted(forms))
    if customer_id is not None:
        where = where & (VaultEntry.customer_id == customer_id)
    total = await VaultEntry.count().where(where)
    rows = (
        await VaultEntry.select()
        .where(where)
        .order_by(VaultEntry.form_id)
        .order_by(VaultEntry.customer_id)
        .order_by(VaultEntry.id)
        .offset(offset)
        .limit(limit)
    )
    fields = await _fields_of(tid, sorted(forms))
    groups: list[EntryGroupOut] = []
    for r in rows:
        form = forms[int(r["form_id"])]
        cust = int(r["customer_id"]) if form["purpose"] == "customer" else None
        if not groups or groups[-1].form_id != form["id"] or groups[-1].customer_id != cust:
            groups.append(
                EntryGroupOut(
                    purpose=form["purpose"],
                    form_id=int(form["id"]),
                    form_name=form["name"],
                    customer_id=cust,
                    entries=[],
                )
            )
        groups[-1].entries.append(_entry_out(r, form, fields[int(form["id"])], access[int(form["id"])]))
    return EntryPage(total=total, offset=offset, limit=limit, groups=groups)


# --- reveal -----------------------------------------------------------------------------


def throttle_key(tenant_id: int, employee_id: int) -> str:
    """The employee's counter of wrong passwords at reveal (:func:`core.throttle.key_for`)."""
    return throttle.key_for("vault_reveal", str(int(tenant_id)), str(int(employee_id)))


# Shown when a form asks for an SMS code that cannot be asked for (fail closed).
TWO_FACTOR_UNAVAILABLE = _(
    "This form asks for an SMS code to decrypt, but no code can be sent: an administrator "
    "must activate SMS sending and switch on “Secure data – decryption” under "
    "Settings > Two-factor."
)
PENDING_TTL = timedelta(minutes=10)
PENDING_MAX_USES = 5
PENDING_EXPIRED = _("This step has expired (10 minutes) or is not valid. Start again.")


@dataclass
class RevealContext:
    ip: str
    user_agent: str


async def audit(
    user: SessionUser,
    entry_id: int,
    form_id: int,
    outcome: str,
    field_names: list[str],
    ip: str,
    action: str = "reveal",
) -> None:
    """One audit row (in the caller's transaction, if any). Never a value."""
    await VaultAudit.insert(
        VaultAudit(
            tenant_id=user.tenant_id,
            employee_id=user.employee_id,
            entry_id=entry_id,
            form_id=form_id,
            action=action,
            outcome=outcome,
            field_names=json.dumps(field_names, ensure_ascii=False),
            ip=ip[:64],
            at=utcnow(),
        )
    )
    log.info(
        "vault %s tenant=%s employee=%s entry=%s form=%s fields=%d outcome=%s",
        action, user.tenant_id, user.employee_id, entry_id, form_id, len(field_names), outcome,
    )


def reveal_subject(entry_id: int) -> str:
    """What a decryption code is bound to: this entry's reveal, no other entry's."""
    return f"vault:{int(entry_id)}:reveal"


def _second_factor_request(
    user: SessionUser, ctx: RevealContext, challenge_id: str | None, entry_id: int
) -> SecondFactorRequest:
    return SecondFactorRequest(
        tenant_id=user.tenant_id,
        person_kind="employee",
        person_id=user.employee_id,
        context=TWO_FACTOR_CONTEXT,
        # Never a remembered device: decrypting asks for a fresh code each time.
        device_token=None,
        user_agent=ctx.user_agent[:200],
        challenge_id=challenge_id,
        subject=reveal_subject(entry_id),
    )


async def _reserve_attempt(tenant_id: int, employee_id: int) -> bool:
    """Take one password attempt from the employee's allowance, or False when it is spent.

    The attempt is reserved atomically *before* the password is compared
    (:mod:`core.throttle`, the same counter logins use), so a burst of parallel requests
    compares at most ``login_max_failures`` times in a window; :func:`_release_attempt`
    gives it back when the password was right.
    """
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    return await throttle.reserve(
        throttle_key(tenant_id, employee_id), settings.login_max_failures, window
    )


async def _release_attempt(tenant_id: int, employee_id: int) -> None:
    """A right password: its reserved attempt was no failure."""
    await throttle.give_back(throttle_key(tenant_id, employee_id))


async def reveal(
    user: SessionUser,
    entry_id: int,
    password: str,
    challenge_id: str | None,
    field_ids: list[int] | None,
    ctx: RevealContext,
) -> tuple[RevealOut, bool]:
    """Decrypt an entry's encrypted values for a user on the form's encrypted list.

    Returns (answer, complete): ``complete`` is False when an SMS code is needed first
    (answer 202). Every outcome is audited, never a value.
    """
    return await _reveal(user, entry_id, password, challenge_id, field_ids, ctx)


async def _reveal(
    user: SessionUser,
    entry_id: int,
    password: str | None,
    challenge_id: str | None,
    field_ids: list[int] | None,
    ctx: RevealContext,
) -> tuple[RevealOut, bool]:
    """``password`` None: a pending step of the pages already checked it (see
    :func:`reveal_pending`)."""
    tid = user.tenant_id
    entry = await ENTRIES.get(tid, entry_id)
    form = await _form(tid, int(entry["form_id"]))
    form_id = int(form["id"])
    fields = [f for f in (await _fields_of(tid, [form_id]))[form_id] if f["encrypted"]]
    by_id = {int(f["id"]): f for f in fields}
    asked = fields if field_ids is None else [by_id[i] for i in dict.fromkeys(field_ids) if i in by_id]
    names = [f["name"] for f in asked]
    access = await _form_access(user, form_id)
    if not access:
        await audit(user, entry_id, form_id, "denied_no_access", names, ctx.ip)
        raise _entry_not_found(entry_id)
    if ENCRYPTED not in access:
        await audit(user, entry_id, form_id, "denied_not_on_list", names, ctx.ip)
        raise Forbidden(NOT_ON_ENCRYPTED_LIST, code="vault_entry.not_on_encrypted_list")
    if field_ids is not None:
        unknown = sorted({i for i in field_ids if i not in by_id})
        if unknown:
            raise FieldError(
                "field_ids", "not encrypted fields of this form: %(unknown)s",
                code="vault_entry.unknown_encrypted_field", unknown=unknown,
            )
    fields = asked

    if password is not None:
        settings = get_settings()
        if not await _reserve_attempt(tid, user.employee_id):
            await audit(user, entry_id, form_id, "throttled", names, ctx.ip)
            raise TooMany(TOO_MANY_PASSWORDS, code="vault_entry.too_many_passwords",
                          minutes=settings.login_window_minutes)
        me = await Employee.select(Employee.password_hash).where(
            (Employee.tenant_id == tid)
            & (Employee.id == user.employee_id)
            & Employee.deleted_at.is_null()
        ).first()
        if not await verify_password(me["password_hash"] if me else None, password):
            await audit(user, entry_id, form_id, "wrong_password", names, ctx.ip)
            raise Forbidden(WRONG_PASSWORD, code="vault_entry.wrong_password")
        await _release_attempt(tid, user.employee_id)

    if form["require_two_factor"]:
        hooks = await get_host().for_tenant(tid)
        decision = await await_me_maybe(
            hooks.challenge_second_factor(
                request=_second_factor_request(user, ctx, challenge_id, entry_id)
            )
        )
        if decision is None:
            # Fail closed: the form asks for a code and nobody can ask for one (the
            # two-factor plugin is missing, SMS is off, or the decryption step is off).
            await audit(user, entry_id, form_id, "second_factor_unavailable", names, ctx.ip)
            raise Conflict(TWO_FACTOR_UNAVAILABLE, code="vault_entry.second_factor_unavailable")
        if decision.error:
            await audit(user, entry_id, form_id, "second_factor_error", names, ctx.ip)
            # The two-factor plugin says why (no phone: 409, too many codes: 429, locked: 423).
            raise decision.refusal()
        if decision.required:
            await audit(user, entry_id, form_id, "second_factor_required", names, ctx.ip)
            return (
                RevealOut(
                    status="second_factor_required",
                    entry_id=entry_id,
                    second_factor=SecondFactorOut(
                        challenge_id=decision.challenge_id,
                        masked_phone=decision.masked_phone,
                        message=decision.message_text(),
                    ),
                ),
                False,
            )

    try:
        values = await decrypt_entry(entry, fields)
    except VaultIntegrityError as exc:
        await audit(user, entry_id, form_id, "integrity_error", names, ctx.ip)
        log.error("vault entry %s (tenant %s) failed its integrity check", entry_id, tid)
        raise integrity_refusal(exc) from exc
    except MasterKeyError:
        await audit(user, entry_id, form_id, "key_missing", names, ctx.ip)
        raise
    await audit(user, entry_id, form_id, "revealed", names, ctx.ip)
    return RevealOut(status="revealed", entry_id=entry_id, values=values), True


# --- the pages' pending SMS step -------------------------------------------------------


async def reveal_and_keep_pending(
    user: SessionUser, entry_id: int, password: str, binder: str, ctx: RevealContext
) -> tuple[RevealOut, bool, str | None]:
    """The pages' first step: :func:`reveal` with the password; when an SMS code is needed
    the step is kept (:func:`_start_pending`, only after the right password) and its token,
    which the code form carries instead of the password, is the third value."""
    out, complete = await _reveal(user, entry_id, password, None, None, ctx)
    if complete or out.second_factor is None:
        return out, complete, None
    return out, complete, await _start_pending(user, entry_id, binder)


async def _start_pending(user: SessionUser, entry_id: int, binder: str) -> str:
    """Keep a reveal whose password was right and that waits for its SMS code; returns the
    token the code form carries instead of the password (only hashes are stored)."""
    await VaultPending.delete().where(
        (VaultPending.tenant_id == user.tenant_id) & (VaultPending.expires_at <= utcnow())
    )
    return await pending.start_step(
        VaultPending, binder, PENDING_TTL, tenant_id=user.tenant_id, employee_id=user.employee_id, entry_id=entry_id
    )


async def reveal_pending(
    user: SessionUser,
    entry_id: int,
    token: str,
    binder: str | None,
    challenge_id: str | None,
    ctx: RevealContext,
) -> tuple[RevealOut, bool]:
    """Finish a pending reveal with its verified SMS code, without the password again.

    The step must be this employee's, for this entry, from the browser holding its cookie,
    younger than :data:`PENDING_TTL`, and is counted per use (:data:`PENDING_MAX_USES`);
    400 otherwise. It is gone once the values are shown.
    """
    try:
        row = await pending.take_step(
            VaultPending,
            token,
            binder,
            PENDING_MAX_USES,
            where=VaultPending.tenant_id == user.tenant_id,
            fits=lambda r: int(r["employee_id"]) == user.employee_id and int(r["entry_id"]) == entry_id,
        )
    except pending.StepRefused:
        raise Invalid(None, PENDING_EXPIRED, code="vault_entry.pending_expired") from None
    out, complete = await _reveal(user, entry_id, None, challenge_id, None, ctx)
    if complete:
        await VaultPending.delete().where(VaultPending.id == row["id"])
    return out, complete


async def decrypt_entry(entry: dict[str, Any], fields: list[dict[str, Any]]) -> list[RevealedValueOut]:
    secret = _loads(entry["secret_values"])
    ids = (int(entry["tenant_id"]), int(entry["form_id"]), int(entry["id"]))
    version = int(entry["key_version"])
    out: list[RevealedValueOut] = []
    data_key: bytes | None = None
    for f in fields:
        item = secret.get(str(f["id"]))
        value = None
        if item is not None:
            if not isinstance(item, dict) or not isinstance(item.get("c"), str) or not isinstance(item.get("v"), int):
                raise VaultIntegrityError("value")
            if data_key is None:
                ring = await keys.get_ring(version)
                data_key = crypto.unwrap_data_key(ring, version, *ids, entry["wrapped_key"])
            value = crypto.decrypt_value(data_key, *ids, int(f["id"]), int(item["v"]), item["c"])
        out.append(RevealedValueOut(field_id=int(f["id"]), name=f["name"], type=f["kind"], value=value))
    return out


async def get_grant(user: SessionUser, access_id: int) -> dict[str, Any]:
    """One access-list row (where person search links a user's place on a list)."""
    require_manager(user)
    row = await _scoped(VaultAccess, user.tenant_id, access_id, ACCESS_GRANT, "vault_access.not_found")
    form = await _form(user.tenant_id, int(row["form_id"]))
    return {**row, "form_name": form["name"]}


async def get_audit(user: SessionUser, audit_id: int) -> dict[str, Any]:
    require_manager(user)
    return await _scoped(VaultAudit, user.tenant_id, audit_id, AUDIT_ROW, "vault_audit.not_found")


async def list_audit(
    user: SessionUser, entry_id: int | None, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    require_manager(user)
    where = VaultAudit.tenant_id == user.tenant_id
    if entry_id is not None:
        where = where & (VaultAudit.entry_id == entry_id)
        entry = await VaultEntry.select(VaultEntry.created_at).where(
            (VaultEntry.tenant_id == user.tenant_id) & (VaultEntry.id == entry_id)
        ).first()
        if entry is not None:
            # SQLite gives a deleted newest entry's id to the next one: the rows of the
            # old entry predate the new one.
            where = where & (VaultAudit.at >= entry["created_at"])
    total = await VaultAudit.count().where(where)
    rows = await VaultAudit.select().where(where).order_by(VaultAudit.id, ascending=False).offset(offset).limit(limit)
    return total, rows
