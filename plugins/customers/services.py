"""Business logic of the customer register: validation, numbering, tenant-scoped writes.

No HTTP here; bad input raises :class:`core.validation.FieldError` (a 400 naming the field)
and rows of another tenant are "not found" (core.tenancy.get_scoped). Callers wrap each
request's writes in ``core.db.atomic()``; functions that write open it too (nested calls
join the outer transaction).

Error messages never repeat the value a person typed: it may be personal data.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from core.db import atomic, contains_text, utcnow
from core.errors import REQUIRED, Conflict
from core.numbering import lock_numbers, next_number
from core.tenancy import get_scoped
from core.validation import (
    FieldError,
    normalize_email,
    normalize_national_id,
    normalize_org_number,
    normalize_phone,
)
from plugins.customers.schemas import (
    ContactIn,
    ContactPatch,
    CustomerIn,
    CustomerPatch,
    LogIn,
    LogPatch,
)
from plugins.customers.tables import ContactPerson, Customer, CustomerContact

PLUGIN = "customers"
PHONES = ("mobile_phone", "private_phone", "work_phone")
ADDRESS = (
    "postal_street",
    "postal_postcode",
    "postal_city",
    "visiting_street",
    "visiting_postcode",
    "visiting_city",
)
MAX_NUMBER = 2_000_000_000
# Key of the PostgreSQL advisory lock that serializes numbering within a tenant ("CUST").
_NUMBER_LOCK = 0x43555354


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
            when = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        else:
            when = datetime.fromisoformat(raw_value)
    except ValueError:
        raise FieldError(
            field, "Write the date as YYYY-MM-DD or YYYY-MM-DDTHH:MM.", code="customer_contact.date_invalid"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
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


# --- customers ------------------------------------------------------------------------


def _customer_where(tenant_id: int, customer_id: int) -> Any:
    return (Customer.tenant_id == tenant_id) & (Customer.id == customer_id)


async def _next_number(tenant_id: int) -> int:
    number = await next_number(Customer.number, tenant_id)
    if number > MAX_NUMBER:
        raise FieldError(
            "number", "No free customer number is left; give one explicitly.", code="customer.numbers_exhausted"
        )
    return number


async def _check_number_free(tenant_id: int, number: int, exclude_id: int | None = None) -> None:
    query = Customer.exists().where((Customer.tenant_id == tenant_id) & (Customer.number == number))
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    if await query:
        raise FieldError(
            "number",
            "Customer number %(number)s is already taken; choose another or leave it out.",
            code="customer.number_taken",
            number=number,
        )


async def get_customer(tenant_id: int, customer_id: int) -> dict:
    return await get_scoped(Customer, tenant_id, customer_id, "Customer")


async def list_customers(
    tenant_id: int,
    offset: int,
    limit: int,
    q: str | None = None,
    kind: str | None = None,
    include_deleted: bool = False,
) -> tuple[int, list[dict]]:
    def filtered(query: Any) -> Any:
        query = query.where(Customer.tenant_id == tenant_id)
        if not include_deleted:
            query = query.where(Customer.deleted_at.is_null())
        if kind:
            query = query.where(Customer.kind == kind)
        if q and q.strip():
            query = query.where(contains_text("name", q, number_column="number", max_number=MAX_NUMBER))
        return query

    total = await filtered(Customer.count())
    rows = await filtered(Customer.select()).order_by(Customer.number).offset(offset).limit(limit)
    return int(total), list(rows)


async def create_customer(tenant_id: int, data: CustomerIn) -> dict:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "kind": data.kind,
        "name": text(data.name, "name", required=True),
        "org_number": normalize_org_number(data.org_number, "org_number"),
        "national_id": normalize_national_id(data.national_id, "national_id"),
        "email": email(data.email),
        "notes": data.notes,
    }
    for field in PHONES:
        values[field] = phone(getattr(data, field), field)
    for field in ADDRESS:
        values[field] = text(getattr(data, field), field)
    _check_identity(data.kind, values["org_number"], values["national_id"])
    async with atomic():
        await lock_numbers(_NUMBER_LOCK, tenant_id)
        if data.number is None:
            values["number"] = await _next_number(tenant_id)
        else:
            await _check_number_free(tenant_id, data.number)
            values["number"] = data.number
        rows = await Customer.insert(Customer(**values)).returning(*Customer.all_columns())
    return rows[0]


async def update_customer(tenant_id: int, customer_id: int, data: CustomerPatch) -> dict:
    async with atomic():
        row = await get_customer(tenant_id, customer_id)
        if row["deleted_at"] is not None:
            raise Conflict("This customer is deleted and cannot be edited.", code="customer.deleted")
        changes: dict[str, Any] = {}
        if data.name is not None:
            changes["name"] = text(data.name, "name", required=True)
        if data.kind is not None:
            changes["kind"] = data.kind
        if data.org_number is not None:
            changes["org_number"] = normalize_org_number(data.org_number, "org_number")
        if data.national_id is not None:
            changes["national_id"] = normalize_national_id(data.national_id, "national_id")
        if data.email is not None:
            changes["email"] = email(data.email)
        for field in PHONES:
            value = getattr(data, field)
            if value is not None:
                changes[field] = phone(value, field)
        for field in ADDRESS:
            value = getattr(data, field)
            if value is not None:
                changes[field] = text(value, field)
        if data.notes is not None:
            changes["notes"] = data.notes
        merged = {**row, **changes}
        _check_identity(merged["kind"], merged["org_number"], merged["national_id"])
        if data.number is not None and data.number != row["number"]:
            await lock_numbers(_NUMBER_LOCK, tenant_id)
            await _check_number_free(tenant_id, data.number, exclude_id=customer_id)
            changes["number"] = data.number
        if changes:
            await Customer.update(
                {Customer._meta.get_column_by_name(k): v for k, v in changes.items()}
            ).where(_customer_where(tenant_id, customer_id))
        await _phones_changed(tenant_id, "customer", customer_id, row, changes)
        return await get_customer(tenant_id, customer_id)


async def delete_customer(tenant_id: int, customer_id: int) -> dict:
    """Soft delete; with the "customers" rule set to immediately, anonymize in the same
    transaction (M14)."""
    async with atomic():
        row = await get_customer(tenant_id, customer_id)
        if row["deleted_at"] is None:
            await Customer.update({Customer.deleted_at: utcnow()}).where(
                _customer_where(tenant_id, customer_id)
            )
        await _anonymize_if_immediate(tenant_id, "customers", [customer_id])
        return await get_customer(tenant_id, customer_id)


async def _phones_changed(
    tenant_id: int, kind: str, person_id: int, before: dict, changes: dict[str, Any]
) -> None:
    """A new phone number means devices trusted for the old one are not trusted (issue 7,
    M8): the core password_changed hook makes two-factor forget them."""
    if any(f in changes and changes[f] != before[f] for f in PHONES):
        from core.auth import fire_password_changed

        await fire_password_changed(tenant_id, kind, person_id)


async def _anonymize_if_immediate(tenant_id: int, rule: str, ids: list[int]) -> None:
    from core.gdpr.engine import anonymize_if_immediate

    await anonymize_if_immediate(tenant_id, PLUGIN, rule, ids)


# --- contact persons ------------------------------------------------------------------


def _contact_where(tenant_id: int, contact_id: int) -> Any:
    return (ContactPerson.tenant_id == tenant_id) & (ContactPerson.id == contact_id)


async def get_contact(tenant_id: int, contact_id: int) -> dict:
    return await get_scoped(ContactPerson, tenant_id, contact_id, "Contact person")


async def list_contacts(
    tenant_id: int, customer_id: int, offset: int, limit: int, include_deleted: bool = False
) -> tuple[int, list[dict]]:
    await get_customer(tenant_id, customer_id)
    where = (ContactPerson.tenant_id == tenant_id) & (ContactPerson.customer_id == customer_id)
    if not include_deleted:
        where = where & ContactPerson.deleted_at.is_null()
    total = await ContactPerson.count().where(where)
    rows = (
        await ContactPerson.select()
        .where(where)
        .order_by(ContactPerson.name)
        .order_by(ContactPerson.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


async def create_contact(tenant_id: int, customer_id: int, data: ContactIn) -> dict:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "customer_id": customer_id,
        "name": text(data.name, "name", required=True),
        "title": text(data.title, "title"),
        "email": email(data.email),
    }
    for field in PHONES:
        values[field] = phone(getattr(data, field), field)
    async with atomic():
        customer = await get_customer(tenant_id, customer_id)
        if customer["deleted_at"] is not None:
            raise Conflict(
                "This customer is deleted; it cannot get new contact persons.", code="customer.deleted"
            )
        rows = await ContactPerson.insert(ContactPerson(**values)).returning(
            *ContactPerson.all_columns()
        )
    return rows[0]


async def update_contact(tenant_id: int, contact_id: int, data: ContactPatch) -> dict:
    async with atomic():
        row = await get_contact(tenant_id, contact_id)
        if row["deleted_at"] is not None or row["anonymized_at"] is not None:
            raise Conflict(
                "This contact person is deleted or anonymized and cannot be edited.",
                code="contact_person.not_editable",
            )
        changes: dict[str, Any] = {}
        if data.name is not None:
            changes["name"] = text(data.name, "name", required=True)
        if data.title is not None:
            changes["title"] = text(data.title, "title")
        if data.email is not None:
            changes["email"] = email(data.email)
        for field in PHONES:
            value = getattr(data, field)
            if value is not None:
                changes[field] = phone(value, field)
        if changes:
            await ContactPerson.update(
                {ContactPerson._meta.get_column_by_name(k): v for k, v in changes.items()}
            ).where(_contact_where(tenant_id, contact_id))
        await _phones_changed(tenant_id, "contact", contact_id, row, changes)
        return await get_contact(tenant_id, contact_id)


async def delete_contact(tenant_id: int, contact_id: int) -> dict:
    """Soft delete; anonymized at once when "contact_persons" is set to immediately (M15)."""
    async with atomic():
        row = await get_contact(tenant_id, contact_id)
        if row["deleted_at"] is None:
            await ContactPerson.update({ContactPerson.deleted_at: utcnow()}).where(
                _contact_where(tenant_id, contact_id)
            )
        await _anonymize_if_immediate(tenant_id, "contact_persons", [contact_id])
        return await get_contact(tenant_id, contact_id)


# --- customer-contact log -------------------------------------------------------------


def _log_where(tenant_id: int, entry_id: int) -> Any:
    return (CustomerContact.tenant_id == tenant_id) & (CustomerContact.id == entry_id)


async def get_log_entry(tenant_id: int, entry_id: int) -> dict:
    return await get_scoped(CustomerContact, tenant_id, entry_id, "Customer contact")


async def _check_contact_of(tenant_id: int, customer_id: int, contact_id: int) -> None:
    if contact_id == 0:
        return
    row = (
        await ContactPerson.select(
            ContactPerson.customer_id, ContactPerson.deleted_at, ContactPerson.anonymized_at
        )
        .where(_contact_where(tenant_id, contact_id))
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
    await get_customer(tenant_id, customer_id)
    where = (CustomerContact.tenant_id == tenant_id) & (CustomerContact.customer_id == customer_id)
    total = await CustomerContact.count().where(where)
    rows = (
        await CustomerContact.select()
        .where(where)
        .order_by(CustomerContact.date, ascending=False)
        .order_by(CustomerContact.id, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


async def create_log_entry(
    tenant_id: int, customer_id: int, employee_id: int, data: LogIn
) -> dict:
    when = parse_date(data.date)
    async with atomic():
        customer = await get_customer(tenant_id, customer_id)
        if customer["deleted_at"] is not None:
            raise Conflict(
                "This customer is deleted; log no new contacts with it.", code="customer.deleted"
            )
        await _check_contact_of(tenant_id, customer_id, data.contact_person_id)
        rows = await CustomerContact.insert(
            CustomerContact(
                tenant_id=tenant_id,
                date=when,
                customer_id=customer_id,
                contact_person_id=data.contact_person_id,
                comment=data.comment,
                created_by=employee_id,
            )
        ).returning(*CustomerContact.all_columns())
    return rows[0]


async def update_log_entry(tenant_id: int, entry_id: int, data: LogPatch) -> dict:
    async with atomic():
        row = await get_log_entry(tenant_id, entry_id)
        if row["anonymized_at"] is not None:
            raise Conflict(
                "This customer contact is anonymized and cannot be edited.",
                code="customer_contact.anonymized",
            )
        changes: dict[Any, Any] = {}
        if data.date is not None:
            changes[CustomerContact.date] = parse_date(data.date)
        if data.contact_person_id is not None:
            await _check_contact_of(tenant_id, row["customer_id"], data.contact_person_id)
            changes[CustomerContact.contact_person_id] = data.contact_person_id
        if data.comment is not None:
            changes[CustomerContact.comment] = data.comment
        if changes:
            await CustomerContact.update(changes).where(_log_where(tenant_id, entry_id))
        return await get_log_entry(tenant_id, entry_id)


async def delete_log_entry(tenant_id: int, entry_id: int) -> dict:
    """Log entries have no soft delete: a removed entry is gone, with nothing to retain."""
    from core.activity.service import ACTIVITY_KINDS, clear_activity

    async with atomic():
        row = await get_log_entry(tenant_id, entry_id)
        await CustomerContact.delete().where(_log_where(tenant_id, entry_id))
        # Comments attached to the entry would otherwise outlive it, unreachable.
        await clear_activity(tenant_id, PLUGIN, "customer_contact", [entry_id], ACTIVITY_KINDS)
    return row


async def suggest(tenant_id: int, query: str, limit: int) -> list[Any]:
    """Live customers whose name contains ``query`` or whose number is it (the picker)."""
    from core.contracts import CustomerChoice

    term = (query or "").strip()[:200]
    if not term or limit < 1:
        return []
    _total, rows = await list_customers(tenant_id, 0, min(limit, 50), q=term)
    return [
        CustomerChoice(
            id=int(r["id"]), number=int(r["number"]), name=r["name"],
            detail=", ".join(x for x in (r["org_number"] or "", r["postal_city"] or "") if x),
        )
        for r in rows
    ]


async def look_up_party(tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
    """The reference check of other modules' records (``look_up_party``): is the customer a
    live one of this tenant, and whose live contact person is ``contact_person_id``."""
    from core.contracts import PartyFound

    customer = bool(customer_id) and await Customer.exists().where(
        (Customer.tenant_id == tenant_id)
        & (Customer.id == customer_id)
        & Customer.deleted_at.is_null()
        & Customer.anonymized_at.is_null()
    )
    owner: int | None = None
    if contact_person_id:
        row = (
            await ContactPerson.select(ContactPerson.customer_id)
            .where(
                (ContactPerson.tenant_id == tenant_id)
                & (ContactPerson.id == contact_person_id)
                & ContactPerson.deleted_at.is_null()
                & ContactPerson.anonymized_at.is_null()
            )
            .first()
        )
        owner = int(row["customer_id"]) if row else None
    return PartyFound(customer=bool(customer), contact_customer_id=owner)
