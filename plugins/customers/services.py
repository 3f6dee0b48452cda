"""What is the customer register's own: the fields of a customer and a contact person and
how they are cleaned (organization and personal identity numbers, phones, e-mail), the
contact persons belonging to their customer, and the customer log with its dates.

Everything else (tenant scope, numbering, read-only deleted and anonymized records, soft
delete with immediate anonymization, the event log with the acting person of the context)
is the record layer's (:class:`core.records.RecordService`). No HTTP here; bad input raises
:class:`core.validation.FieldError` (a 400 naming the field).

Error messages never repeat the value a person typed: it may be personal data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from core.db import atomic, contains_text, is_sqlite, utcnow
from core.errors import REQUIRED, Checks, Conflict, NeedsConfirmation
from core.errors import mark as _
from core.records import RecordService
from core.validation import (
    FieldError,
    normalize_email,
    normalize_national_id,
    normalize_org_number,
    normalize_phone,
    normalize_postcode,
)
from plugins.customers.records import CONTACT_PERSON, CUSTOMER, CUSTOMER_CONTACT
from plugins.customers.schemas import (
    ContactIn,
    ContactPatch,
    CustomerIn,
    CustomerPatch,
    LogIn,
    LogPatch,
)
from plugins.customers.tables import ContactPerson, Customer

PLUGIN = "customers"
PHONES = ("mobile_phone", "private_phone", "work_phone")
DUPLICATE_ORG = _(
    "Customer %(number)s already has this organization number. Save anyway only if they are "
    "really two customers."
)


def _like(column: str, fragment: str) -> tuple[str, str]:
    """``column LIKE/ILIKE %fragment%`` (``%``, ``_`` and ``\\`` literal): SQL and its value."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = "LIKE" if is_sqlite() else "ILIKE"
    return f"{column} {like} {{}} ESCAPE '\\'", f"%{escaped}%"


def org_fragment(term: str) -> str | None:
    """The part of an organization number ``term`` is, as stored ("556016-0680"): written
    with or without the dash, spaces or the "16" prefix; None unless it is six digits or more."""
    if not re.fullmatch(r"[\d\s-]{6,20}", term):
        return None
    digits = re.sub(r"\D", "", term)
    if len(digits) == 12 and digits.startswith("16"):
        digits = digits[2:]
    if len(digits) < 6 or len(digits) > 10:
        return None
    return digits[:6] + ("-" + digits[6:] if len(digits) > 6 else "")


def phone_fragment(term: str) -> str | None:
    """The stored (E.164) form, or a part of it, of a phone number written any way: a whole
    number through phonenumbers as when it was saved ("070-123 45 67" is "+46701234567"),
    a part of one ("070-123") as the start of the E.164 form. None unless six digits or more."""
    if not re.fullmatch(r"[\d\s()+\-./]{6,40}", term):
        return None
    try:
        full = normalize_phone(term, "q")
    except FieldError:
        full = None
    if full:
        return full
    digits = re.sub(r"\D", "", term)
    if len(digits) < 6:
        return None
    if term.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return "+46" + digits[1:]
    return digits


class CustomerRecords(RecordService):
    """The record layer's customer, whose list search reaches further than the name."""

    def search_where(self, tenant_id: int, q: str) -> Any:
        """A customer matches ``q`` when its name, e-mail address or city (postal or
        visiting) holds it, its number is it, its organization number holds it (written with
        or without the dash), one of its phones is it in any format (or starts with it), or
        one of its live contact persons' name, e-mail or phone does. One condition, the
        contact persons through one ``IN (SELECT ...)``: no query per row."""
        term = q.strip()[:200]
        match = contains_text("name", term, number_column="number")
        for column in ("email", "postal_city", "visiting_city"):
            match = match | contains_text(column, term)
        org = org_fragment(term)
        if org:
            match = match | contains_text("org_number", org)
        phone = phone_fragment(term)
        # the contact persons: name and e-mail (and phones) in one subquery on the tenant's
        # live ones; the phones of the customer itself beside
        sql, value = _like("cp.name", term)
        email_sql, _email = _like("cp.email", term)
        inner = [sql, email_sql]
        args: list[Any] = [tenant_id, value, value]
        if phone:
            for column in PHONES:
                match = match | contains_text(column, phone)
                phone_sql, phone_value = _like(f"cp.{column}", phone)
                inner.append(phone_sql)
                args.append(phone_value)
        match = match | WhereRaw(
            "id IN (SELECT cp.customer_id FROM contact_person cp WHERE cp.tenant_id = {} "
            f"AND cp.deleted_at IS NULL AND ({' OR '.join(inner)}))",
            *args,
        )
        return match


CUSTOMERS = CustomerRecords(CUSTOMER, PLUGIN)
CONTACTS = RecordService(CONTACT_PERSON, PLUGIN)
LOG = RecordService(CUSTOMER_CONTACT, PLUGIN)

ADDRESS = (
    "postal_street",
    "postal_postcode",
    "postal_city",
    "visiting_street",
    "visiting_postcode",
    "visiting_city",
)
MAX_NUMBER = 2_000_000_000


# --- field normalization ---------------------------------------------------------------


def phone(value: str | None, field: str) -> str | None:
    try:
        return normalize_phone(value, field)
    except FieldError:
        raise FieldError(
            field,
            "This is not a valid phone number; write it like 070-123 45 67 or +46 70 123 45 67.",
            code="customer.phone_invalid",
        ) from None


def email(value: str | None, field: str = "email") -> str | None:
    try:
        return normalize_email(value, field)
    except FieldError:
        raise FieldError(
            field, "This is not an e-mail address; write it like name@example.se.",
            code="customer.email_invalid",
        ) from None


def text(value: str, field: str, required: bool = False) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise FieldError(field, REQUIRED, code="customer.required")
    return cleaned


# How each field of a customer or contact person is stored; absent: as given (kind, notes).
CLEAN: dict[str, Any] = {
    "name": lambda v, f: text(v, f, required=True),
    "title": text,
    "org_number": normalize_org_number,
    "national_id": normalize_national_id,
    "email": email,
    **{f: phone for f in PHONES},
    **{f: text for f in ADDRESS},
    "postal_postcode": lambda v, f: normalize_postcode(v, f),
    "visiting_postcode": lambda v, f: normalize_postcode(v, f),
}


NOT_COLUMNS = ("number", "confirm_duplicate")


def _values(data: msgspec.Struct, create: bool, checks: Checks | None = None) -> dict[str, Any]:
    """The given fields as column values in their stored formats. A PATCH's left-out
    (null) fields are not given; a create's optional ones are (null or ""). Every bad
    field is refused together (``checks``: collect into it, the caller raises)."""
    own = checks if checks is not None else Checks()
    values: dict[str, Any] = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if field in NOT_COLUMNS or (value is None and not create):
            continue
        clean = CLEAN.get(field)
        values[field] = own(clean, value, field) if clean is not None else value
    if checks is None:
        own.done()
    return values


def check_fields(values: Mapping[str, Any]) -> None:
    """The field checks of a customer or contact person's form values on their own (no
    database): a form whose shape is refused still shows these errors beside the others."""
    checks = Checks()
    for field, value in values.items():
        clean = CLEAN.get(field)
        if clean is not None and isinstance(value, str):
            checks(clean, value, field)
    checks.done()


def parse_date(value: str | None, field: str = "date") -> datetime:
    """A log entry's date: "YYYY-MM-DD" (00:00 UTC that day) or an ISO date-time, stored UTC.

    Dates more than a year ahead are refused: the entry's date is the clock of its
    retention rule, and a far-future date would keep it from ever being anonymized.
    """
    now = utcnow()
    if value is None or not value.strip():
        return now
    raw_value = value.strip()
    try:
        if len(raw_value) == 10:
            d = date.fromisoformat(raw_value)
            when = datetime(d.year, d.month, d.day, tzinfo=UTC)
        else:
            when = datetime.fromisoformat(raw_value)
    except ValueError:
        raise FieldError(
            field, "Write the date as YYYY-MM-DD or YYYY-MM-DDTHH:MM.", code="customer_contact.date_invalid"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when.year < 1900:
        raise FieldError(field, "The date must be 1900 or later.", code="customer_contact.date_too_early")
    if when > now + timedelta(days=366):
        raise FieldError(
            field, "The date must not be more than a year ahead.", code="customer_contact.date_too_late"
        )
    return when


def _check_identity(kind: str, org_number: str | None, national_id: str | None) -> None:
    if kind == "company" and national_id:
        raise FieldError(
            "national_id",
            "Only a private customer has a personal identity number; "
            "give a company its organization number.",
            code="customer.national_id_not_private",
        )
    if kind == "private" and org_number:
        raise FieldError(
            "org_number",
            "Only a company has an organization number; give a private customer "
            "a personal identity number.",
            code="customer.org_number_not_company",
        )


async def _phones_changed(
    tenant_id: int, kind: str, person_id: int, before: dict, after: dict
) -> None:
    """A new phone number means devices trusted for the old one are not trusted (issue 7,
    M8): the core password_changed hook makes two-factor forget them."""
    if any(after[f] != before[f] for f in PHONES):
        from core.auth import fire_password_changed

        await fire_password_changed(tenant_id, kind, person_id)


# --- customers ------------------------------------------------------------------------


async def get_customer(tenant_id: int, customer_id: int) -> dict:
    return await CUSTOMERS.get(tenant_id, customer_id)


async def list_customers(
    tenant_id: int,
    offset: int,
    limit: int,
    q: str | None = None,
    kind: str | None = None,
    include_deleted: bool = False,
) -> tuple[int, list[dict]]:
    """Customers by number; ``q`` matches part of the name or the exact number."""
    return await CUSTOMERS.list(
        tenant_id, offset, limit, q=q, filters={"kind": kind}, include_deleted=include_deleted
    )


def _checked(data: CustomerIn | CustomerPatch, create: bool, row: dict | None = None) -> dict[str, Any]:
    """The customer's column values, every bad field refused at once."""
    checks = Checks()
    values = _values(data, create, checks)
    if not checks.failed("org_number") and not checks.failed("national_id"):
        merged = {**(row or {}), **values}
        checks(_check_identity, merged["kind"], merged.get("org_number"), merged.get("national_id"))
    checks.done()
    return values


async def _check_duplicate(
    tenant_id: int, org_number: str | None, confirmed: bool, exclude_id: int | None = None
) -> None:
    """Another live customer of the organization with the same organization number: a
    warning (409, ``customer.duplicate_org_number``) unless the person confirmed it
    (``confirm_duplicate``). Not a rule: two branches of one company may be two customers."""
    if not org_number or confirmed:
        return
    where = (
        (Customer.tenant_id == tenant_id) & (Customer.org_number == org_number)
        & Customer.deleted_at.is_null() & Customer.anonymized_at.is_null()
    )
    if exclude_id is not None:
        where = where & (Customer.id != exclude_id)
    other = await Customer.select(Customer.id, Customer.number).where(where).order_by(Customer.number).first()
    if other is not None:
        raise NeedsConfirmation(
            DUPLICATE_ORG, confirm="confirm_duplicate", code="customer.duplicate_org_number",
            field="org_number", link=CUSTOMER.page_link(int(other["id"])),
            number=int(other["number"]), customer_id=int(other["id"]),
        )


async def create_customer(tenant_id: int, data: CustomerIn) -> dict:
    values = _checked(data, create=True)
    await _check_duplicate(tenant_id, values["org_number"], data.confirm_duplicate)
    return await CUSTOMERS.create(
        tenant_id, values, number=data.number, max_number=MAX_NUMBER, exhausted=_numbers_exhausted
    )


@CUSTOMERS.creates
async def create_by(tenant_id: int, employee_id: int, data: CustomerIn) -> dict:
    """A customer an employee makes (API and pages): who made it is not kept on the card."""
    return await create_customer(tenant_id, data)


def _numbers_exhausted() -> FieldError:
    return FieldError(
        "number", "No free customer number is left; give one explicitly.", code="customer.numbers_exhausted"
    )


@CUSTOMERS.edits
async def update_customer(tenant_id: int, customer_id: int, data: CustomerPatch) -> dict:
    async with atomic():
        row = await CUSTOMERS.get_writable(tenant_id, customer_id)
        changes = _checked(data, create=False, row=row)
        if changes.get("org_number") and changes["org_number"] != row["org_number"]:
            await _check_duplicate(tenant_id, changes["org_number"], data.confirm_duplicate, customer_id)
        after = await CUSTOMERS.edit(tenant_id, customer_id, changes, number=data.number, row=row)
        await _phones_changed(tenant_id, "customer", customer_id, row, after)
        return after


async def delete_customer(tenant_id: int, customer_id: int) -> dict:
    """Soft delete; with the "customers" rule set to immediately, anonymized in the same
    transaction (M14)."""
    return await CUSTOMERS.delete(tenant_id, customer_id)


# --- contact persons ------------------------------------------------------------------


async def get_contact(tenant_id: int, contact_id: int) -> dict:
    return await CONTACTS.get(tenant_id, contact_id)


async def list_contacts(
    tenant_id: int, customer_id: int, offset: int, limit: int, include_deleted: bool = False
) -> tuple[int, list[dict]]:
    """The customer's contact persons by name (404 for a customer that is not the tenant's)."""
    await CUSTOMERS.get(tenant_id, customer_id)
    return await CONTACTS.list(
        tenant_id, offset, limit, filters={"customer_id": customer_id}, include_deleted=include_deleted
    )


async def create_contact(tenant_id: int, customer_id: int, data: ContactIn) -> dict:
    values = _values(data, create=True) | {"customer_id": customer_id}
    async with atomic():
        customer = await CUSTOMERS.get(tenant_id, customer_id)
        if customer["deleted_at"] is not None:
            raise Conflict(
                "This customer is deleted; it cannot get new contact persons.", code="customer.deleted"
            )
        CUSTOMERS.writable(customer)
        return await CONTACTS.create(tenant_id, values)


async def update_contact(tenant_id: int, contact_id: int, data: ContactPatch) -> dict:
    async with atomic():
        row = await CONTACTS.get_writable(tenant_id, contact_id)
        after = await CONTACTS.edit(tenant_id, contact_id, _values(data, create=False), row=row)
        await _phones_changed(tenant_id, "contact", contact_id, row, after)
        return after


async def delete_contact(tenant_id: int, contact_id: int) -> dict:
    """Soft delete; anonymized at once when "contact_persons" is set to immediately (M15)."""
    return await CONTACTS.delete(tenant_id, contact_id)


# --- customer-contact log -------------------------------------------------------------


async def get_log_entry(tenant_id: int, entry_id: int) -> dict:
    return await LOG.get(tenant_id, entry_id)


async def _check_contact_of(tenant_id: int, customer_id: int, contact_id: int) -> None:
    """A log entry's contact person is a live one of the entry's customer (or none, 0)."""
    if contact_id == 0:
        return
    row = (
        await ContactPerson.select(
            ContactPerson.customer_id, ContactPerson.deleted_at, ContactPerson.anonymized_at
        )
        .where(CONTACTS.where_own(tenant_id, contact_id))
        .first()
    )
    if row is None or customer_id == 0 or row["customer_id"] != customer_id:
        raise FieldError(
            "contact_person_id",
            "This is not a contact person of this customer.",
            code="customer_contact.contact_not_of_customer",
        )
    if row["deleted_at"] is not None or row["anonymized_at"] is not None:
        raise FieldError(
            "contact_person_id",
            "This contact person is deleted or anonymized.",
            code="customer_contact.contact_gone",
        )


async def list_log(
    tenant_id: int, customer_id: int, offset: int, limit: int
) -> tuple[int, list[dict]]:
    """The customer's contact log, newest first."""
    await CUSTOMERS.get(tenant_id, customer_id)
    return await LOG.list(tenant_id, offset, limit, filters={"customer_id": customer_id})


async def create_log_entry(
    tenant_id: int, customer_id: int, employee_id: int, data: LogIn
) -> dict:
    when = parse_date(data.date)
    async with atomic():
        customer = await CUSTOMERS.get(tenant_id, customer_id)
        if customer["deleted_at"] is not None:
            raise Conflict(
                "This customer is deleted; log no new contacts with it.", code="customer.deleted"
            )
        await _check_contact_of(tenant_id, customer_id, data.contact_person_id)
        return await LOG.create(tenant_id, {
            "date": when, "customer_id": customer_id, "contact_person_id": data.contact_person_id,
            "comment": data.comment, "created_by": employee_id,
        })


async def update_log_entry(tenant_id: int, entry_id: int, data: LogPatch) -> dict:
    async with atomic():
        row = await LOG.get_writable(tenant_id, entry_id)
        changes: dict[str, Any] = {}
        if data.date is not None:
            changes["date"] = parse_date(data.date)
        if data.contact_person_id is not None:
            await _check_contact_of(tenant_id, row["customer_id"], data.contact_person_id)
            changes["contact_person_id"] = data.contact_person_id
        if data.comment is not None:
            changes["comment"] = data.comment
        return await LOG.edit(tenant_id, entry_id, changes, row=row)


async def delete_log_entry(tenant_id: int, entry_id: int) -> dict:
    """Log entries have no soft delete: a removed entry is gone, with nothing to retain."""
    from core.activity.service import ACTIVITY_KINDS, clear_activity

    async with atomic():
        row = await LOG.get(tenant_id, entry_id)
        await LOG.table.delete().where(LOG.where_own(tenant_id, entry_id))
        # Comments attached to the entry would otherwise outlive it, unreachable.
        await clear_activity(tenant_id, PLUGIN, "customer_contact", [entry_id], ACTIVITY_KINDS)
        await LOG.log(tenant_id, "deleted", entry_id)
    return row


async def suggest(tenant_id: int, query: str, limit: int) -> list[Any]:
    """Live customers whose name contains ``query`` or whose number is it (the picker); an
    empty ``query``: the first customers by name."""
    from core.contracts import CustomerChoice

    term = (query or "").strip()[:200]
    if limit < 1:
        return []
    if term:
        _total, rows = await list_customers(tenant_id, 0, min(limit, 50), q=term)
    else:  # the picker's list: the first customers by name
        _total, rows = await CUSTOMERS.list(tenant_id, 0, min(limit, 500), sort="name")
    return [
        CustomerChoice(
            id=int(r["id"]), number=int(r["number"]), name=r["name"],
            detail=", ".join(x for x in (r["org_number"] or "", r["postal_city"] or "") if x),
        )
        for r in rows
    ]


async def contacts_of(tenant_id: int, customer_id: int, limit: int) -> list[Any]:
    """The live contact persons of the tenant's live customer, by name (``find_contacts``,
    the contact picker that follows the chosen customer)."""
    from core.contracts import ContactChoice

    if customer_id < 1 or limit < 1:
        return []
    live_customer = Customer.deleted_at.is_null() & Customer.anonymized_at.is_null()
    if not await Customer.exists().where(CUSTOMERS.where_own(tenant_id, customer_id) & live_customer):
        return []
    rows = (
        await ContactPerson.select(ContactPerson.id, ContactPerson.name, ContactPerson.title)
        .where(
            (ContactPerson.tenant_id == tenant_id)
            & (ContactPerson.customer_id == customer_id)
            & ContactPerson.deleted_at.is_null()
            & ContactPerson.anonymized_at.is_null()
        )
        .order_by(ContactPerson.name)
        .order_by(ContactPerson.id)
        .limit(min(limit, 500))
    )
    return [ContactChoice(id=int(r["id"]), name=r["name"], detail=r["title"] or "") for r in rows]


async def look_up_party(tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
    """The reference check of other modules' records (``look_up_party``): is the customer a
    live one of this tenant, and whose live contact person is ``contact_person_id``."""
    from core.contracts import PartyFound

    live_customer = Customer.deleted_at.is_null() & Customer.anonymized_at.is_null()
    customer = bool(customer_id) and await Customer.exists().where(
        CUSTOMERS.where_own(tenant_id, customer_id) & live_customer
    )
    owner: int | None = None
    if contact_person_id:
        row = (
            await ContactPerson.select(ContactPerson.customer_id)
            .where(
                CONTACTS.where_own(tenant_id, contact_person_id)
                & ContactPerson.deleted_at.is_null()
                & ContactPerson.anonymized_at.is_null()
            )
            .first()
        )
        owner = int(row["customer_id"]) if row else None
    return PartyFound(customer=bool(customer), contact_customer_id=owner)
