"""What is the quotes module's own: lines and totals, the send, void and accept steps, the
public link. Reading, numbering, reference checks, soft delete and the event log of the
common actions are the record layer's (:class:`core.records.RecordService`).

No HTTP here: every refusal is a :mod:`core.errors` exception with a code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from core.approvals import approver_values, row_by_link, send_link, sign_by_link
from core.contracts import SignedItem
from core.db import atomic, bind_tenant, utcnow
from core.errors import RECORD_NOT_FOUND, Checks, Conflict, Label, NotFound
from core.errors import mark as _
from core.eventlog import log_event
from core.plugins import get_host
from core.records import RecordService, children_of
from core.records.shapes import out_of
from core.tables import Tenant
from core.tenancy import enabled_modules
from core.validation import FieldError, decimal_value, normalize_email
from plugins.quotes.records import QUOTE
from plugins.quotes.schemas import LineIn, LineOut, QuoteOut
from plugins.quotes.tables import Quote, QuoteLine, QuoteView

MODULE = "quotes"
CENT = Decimal("0.01")
MAX_QUANTITY = Decimal("1000000")
MAX_PRICE = Decimal("1000000000")
MAX_LINES = 500
# The page the customer opens (plugins/quotes/pages.py); the API is /api/quotes/public/{token}.
PUBLIC_PATH = "/quotes/public/{token}"
EDITABLE = ("draft", "sent")
SENDABLE = ("draft", "sent")
CLOSABLE = QUOTE.states_for("close")


LINE = Label(_("Quote line"))
VIEW = Label(_("Quote view"))
LINE_TEXT = _("Write what the line is for.")
TITLE_NEEDED = _("The quote needs a title.")
DATE_OR_CLEAR = _("Give a date or clear_valid_until, not both.")
WRONG_STATE = _("A quote that is %(status)s cannot be changed this way (only when it is %(allowed)s).")
TOO_MANY_LINES = _("A quote can have at most %(max)s lines.")
NO_LINES = _("Add at least one line before sending the quote.")
LINK_INVALID = _("This quote link is not valid.")
APPROVER_NEEDED = _("Write the name of the person accepting the quote.")
ALREADY_ACCEPTED = _("This quote is already accepted.")
WAS_DECLINED = _("This quote was declined.")
NOT_ACCEPTABLE = _("This quote can no longer be accepted (it is closed or past its validity date).")
CHANGED_MEANWHILE = _("This quote was accepted or changed a moment ago; reload it.")


class QuoteRecords(RecordService):
    """The record layer's quote, with the quote's own states: it closes from draft, sent,
    accepted or declined (M19's clock starts; "immediately" anonymizes in the same
    transaction), and reopens to where it was."""

    async def close(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        return await _end(tenant_id, record_id, "closed", Quote.closed_at)

    async def reopen(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        """A closed quote goes back to where it was: accepted, declined, sent or draft."""
        async with atomic():
            row = await _editable(tenant_id, record_id, ("closed",))
            status = (
                "accepted" if row["accepted_at"] else "declined" if row["declined_at"]
                else "sent" if row["sent_at"] else "draft"
            )
            await Quote.update({Quote.status: status, Quote.closed_at: None, Quote.updated_at: utcnow()}).where(
                _where(tenant_id, record_id)
            )
            await self.log(tenant_id, "reopened", record_id)
            return await self.get(tenant_id, record_id)


QUOTES = QuoteRecords(QUOTE, MODULE)


def check_line(
    description: str, quantity: Decimal, unit_price: Decimal, prefix: str = ""
) -> tuple[str, Decimal, Decimal]:
    checks = Checks()  # every bad field of the line refused together
    text = description.strip()
    if not text:
        checks.add(FieldError(prefix + "description", LINE_TEXT, code="quote.line_text_required"))
    q = checks(decimal_value, quantity, f"{prefix}quantity", high=MAX_QUANTITY)
    p = checks(decimal_value, unit_price, f"{prefix}unit_price", low=-MAX_PRICE, high=MAX_PRICE, low_allowed=True)
    checks.done()
    return text, q, p


def clean_title(title: str, field: str = "title") -> str:
    text = title.strip()
    if not text:
        raise FieldError(field, TITLE_NEEDED, code="quote.title_required")
    return text


def line_out(row: dict[str, Any]) -> LineOut:
    q = Decimal(row["quantity"])
    p = Decimal(row["unit_price"])
    return LineOut(
        id=row["id"], position=row["position"], description=row["description"],
        quantity=q.quantize(CENT), unit_price=p.quantize(CENT), amount=(q * p).quantize(CENT),
    )


async def lines_of(tenant_id: int, quote_ids: list[int]) -> dict[int, list[LineOut]]:
    return await children_of(QuoteLine, "quote_id", tenant_id, quote_ids, line_out, QuoteLine.position)


def quote_out(row: dict[str, Any], lines: list[LineOut]) -> QuoteOut:
    total = sum((line.amount for line in lines), Decimal("0.00")).quantize(CENT)
    return out_of(QuoteOut, row, total=total, lines=lines)


async def output(row: dict[str, Any]) -> QuoteOut:
    """What the API answers for a quote: the row with its lines and total."""
    return quote_out(row, (await lines_of(int(row["tenant_id"]), [int(row["id"])]))[int(row["id"])])


async def load_out(tenant_id: int, quote_id: int) -> QuoteOut:
    return await output(await QUOTES.get(tenant_id, quote_id))


async def get_line(tenant_id: int, line_id: int) -> dict[str, Any]:
    row = await QuoteLine.select().where(
        (QuoteLine.tenant_id == tenant_id) & (QuoteLine.id == line_id)
    ).first()
    if row is None:
        raise NotFound(RECORD_NOT_FOUND, code="quote_line.not_found", what=LINE, id=line_id)
    return row


async def get_view(tenant_id: int, view_id: int) -> dict[str, Any]:
    row = await QuoteView.select().where(
        (QuoteView.tenant_id == tenant_id) & (QuoteView.id == view_id)
    ).first()
    if row is None:
        raise NotFound(RECORD_NOT_FOUND, code="quote_view.not_found", what=VIEW, id=view_id)
    return row


def _where(tenant_id: int, quote_id: int) -> Any:
    return QUOTES.where_own(tenant_id, quote_id)


async def _editable(tenant_id: int, quote_id: int, states: tuple[str, ...] = EDITABLE) -> dict[str, Any]:
    row = await QUOTES.get_writable(tenant_id, quote_id)
    if row["status"] not in states:
        raise Conflict(WRONG_STATE, code="quote.wrong_state", status=row["status"],
                       allowed=" | ".join(states))
    return row


async def _log(tenant_id: int, action: str, quote_id: int) -> None:
    await QUOTES.log(tenant_id, action, quote_id)


@QUOTES.creates
async def create_quote(tenant_id: int, employee_id: int, data: Any) -> dict[str, Any]:
    """A new quote with its lines (``employee_id``: who makes it, as every record's create
    takes it; the event log reads the acting person from the context)."""
    checks = Checks()  # the title's and every line's errors together
    title = checks(clean_title, data.title)
    lines = [checks(check_line, x.description, x.quantity, x.unit_price, f"lines[{i}].")
             for i, x in enumerate(data.lines)]
    checks.done()
    async with atomic():
        row = await QUOTES.create(tenant_id, {
            "title": title, "description": data.description, "customer_id": data.customer_id,
            "contact_person_id": data.contact_person_id, "valid_until": data.valid_until,
        })
        quote_id = int(row["id"])
        for position, (text, q, p) in enumerate(lines):
            await QuoteLine.insert(QuoteLine(tenant_id=tenant_id, quote_id=quote_id, position=position,
                                             description=text, quantity=q, unit_price=p))
        return row


@QUOTES.edits
async def update_quote(tenant_id: int, quote_id: int, data: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.title is not None:
        changes["title"] = clean_title(data.title)
    for key in ("description", "customer_id", "contact_person_id"):
        if getattr(data, key) is not None:
            changes[key] = getattr(data, key)
    if data.clear_valid_until:
        if data.valid_until is not None:
            raise FieldError("valid_until", DATE_OR_CLEAR, code="quote.date_or_clear")
        changes["valid_until"] = None
    elif data.valid_until is not None:
        changes["valid_until"] = data.valid_until
    async with atomic():
        row = await _editable(tenant_id, quote_id)
        return await QUOTES.edit(tenant_id, quote_id, changes, row=row)


async def _touch(tenant_id: int, quote_id: int, action: str) -> QuoteOut:
    await Quote.update({Quote.updated_at: utcnow()}).where(_where(tenant_id, quote_id))
    await _log(tenant_id, action, quote_id)
    return await load_out(tenant_id, quote_id)


async def add_line(tenant_id: int, quote_id: int, data: LineIn) -> QuoteOut:
    text, q, p = check_line(data.description, data.quantity, data.unit_price)
    async with atomic():
        await _editable(tenant_id, quote_id)
        count = await QuoteLine.count().where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.quote_id == quote_id))
        if count >= MAX_LINES:
            raise Conflict(TOO_MANY_LINES, code="quote.too_many_lines", max=MAX_LINES)
        await QuoteLine.insert(
            QuoteLine(
                tenant_id=tenant_id, quote_id=quote_id, position=count, description=text, quantity=q, unit_price=p
            )
        )
        return await _touch(tenant_id, quote_id, "line_added")


async def update_line(tenant_id: int, line_id: int, data: Any) -> QuoteOut:
    async with atomic():
        line = await get_line(tenant_id, line_id)
        quote_id = int(line["quote_id"])
        await _editable(tenant_id, quote_id)
        text, q, p = check_line(
            data.description if data.description is not None else line["description"],
            data.quantity if data.quantity is not None else Decimal(line["quantity"]),
            data.unit_price if data.unit_price is not None else Decimal(line["unit_price"]),
        )
        changes: dict[Any, Any] = {QuoteLine.description: text, QuoteLine.quantity: q, QuoteLine.unit_price: p}
        if data.position is not None:
            changes[QuoteLine.position] = data.position
        await QuoteLine.update(changes).where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.id == line_id))
        return await _touch(tenant_id, quote_id, "line_edited")


async def delete_line(tenant_id: int, line_id: int) -> QuoteOut:
    async with atomic():
        line = await get_line(tenant_id, line_id)
        quote_id = int(line["quote_id"])
        await _editable(tenant_id, quote_id)
        await QuoteLine.delete().where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.id == line_id))
        return await _touch(tenant_id, quote_id, "line_deleted")


# The e-mail with the public link, in the organization's language (core.approvals.email_link).
EMAIL = {
    "sv": ("Offert %(number)s från %(org)s",
           "%(org)s har skickat offert %(number)s: %(title)s\n\nÖppna offerten här: %(link)s\n"),
    "en": ("Quote %(number)s from %(org)s",
           "%(org)s has sent you quote %(number)s: %(title)s\n\nOpen the quote here: %(link)s\n"),
}


async def send_quote(tenant_id: int, quote_id: int, email: str, message: str) -> QuoteOut:
    """Make a fresh public link (an earlier one stops working) and e-mail it."""
    address = normalize_email(email, "email", required=True)
    assert address is not None
    async with atomic():
        row = await _editable(tenant_id, quote_id, SENDABLE)
        has_lines = await QuoteLine.exists().where(
            (QuoteLine.tenant_id == tenant_id) & (QuoteLine.quote_id == quote_id)
        )
        if not has_lines:
            raise Conflict(NO_LINES, code="quote.no_lines")
        await send_link(Quote, _where(tenant_id, quote_id), tenant_id, address, PUBLIC_PATH, message, EMAIL,
                        number=row["number"], title=row["title"])
        await _log(tenant_id, "sent", quote_id)
        return await load_out(tenant_id, quote_id)


async def _end(tenant_id: int, quote_id: int, status: str, column: Any) -> dict[str, Any]:
    """Close or void: M19's clock starts, and with the rule set to "immediately" the quote
    is anonymized in the same transaction."""
    async with atomic():
        row = await _editable(tenant_id, quote_id, CLOSABLE)
        now = utcnow()
        await Quote.update({Quote.status: status, column: now, Quote.updated_at: now}).where(
            _where(tenant_id, quote_id)
        )
        await QUOTES.anonymize_if_immediate(tenant_id, row, quote_id)
        await _log(tenant_id, status, quote_id)
        return await QUOTES.get(tenant_id, quote_id)


async def void_quote(tenant_id: int, quote_id: int) -> dict[str, Any]:
    return await _end(tenant_id, quote_id, "voided", Quote.voided_at)


# --- The public link --------------------------------------------------------------


def _invalid_link() -> NotFound:
    return NotFound(LINK_INVALID, code="quote.link_invalid")


async def find_public(token: str) -> dict[str, Any]:
    """The quote behind a public token, or 404 (unknown, voided, deleted, anonymized,
    or the tenant turned the quotes module off)."""
    row = await row_by_link(Quote, token)
    if (
        row is None
        or row["deleted_at"] is not None
        or row["anonymized_at"] is not None
        or row["status"] not in ("sent", "accepted", "declined", "closed")
    ):
        raise _invalid_link()
    if MODULE not in await enabled_modules(get_host(), int(row["tenant_id"])):
        raise _invalid_link()
    bind_tenant(int(row["tenant_id"]))  # the rest of the request sees only this tenant's rows
    return row


def can_accept(row: dict[str, Any], today: date | None = None) -> bool:
    today = today or utcnow().date()
    return row["status"] == "sent" and (row["valid_until"] is None or row["valid_until"] >= today)


async def view_public(token: str, ip: str) -> tuple[dict[str, Any], str, list[LineOut]]:
    """Show the quote and log the opening (by the address it was sent to, from this IP)."""
    async with atomic():
        row = await find_public(token)
        tenant_id = int(row["tenant_id"])
        await QuoteView.insert(
            QuoteView(tenant_id=tenant_id, quote_id=row["id"], viewed_at=utcnow(), email=row["sent_to_email"], ip=ip)
        )
        tenant = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
        lines = (await lines_of(tenant_id, [int(row["id"])]))[int(row["id"])]
    return row, tenant["name"], lines


async def accept_public(
    token: str, name: str, email: str, challenge_id: str | None, user_agent: str
) -> tuple[str, Any]:
    """Accept the quote, asking for an SMS code first when the tenant wants one.

    Returns ("accepted", accepted_at) or ("second_factor_required", decision).
    """
    approver = name.strip()
    if not approver:
        raise FieldError("name", APPROVER_NEEDED, code="quote.approver_required")
    address = normalize_email(email, "email", required=True)
    row = await find_public(token)
    if not can_accept(row):
        if row["status"] == "accepted":
            raise Conflict(ALREADY_ACCEPTED, code="quote.already_accepted")
        if row["status"] == "declined":
            raise Conflict(WAS_DECLINED, code="quote.declined")
        raise Conflict(NOT_ACCEPTABLE, code="quote.not_acceptable")
    tenant_id = int(row["tenant_id"])
    challenge, signed = await sign_by_link(
        tenant_id=tenant_id, customer_id=int(row["customer_id"]),
        contact_person_id=int(row["contact_person_id"]), context="quotes",
        subject=f"quote:{int(row['id'])}:accept",  # the code accepts this quote only
        challenge_id=challenge_id, user_agent=user_agent, name=approver,
        item=SignedItem("offert", "quote", number=int(row["number"]), amount=sum(
            (i.amount for i in (await lines_of(tenant_id, [int(row["id"])]))[int(row["id"])]), Decimal("0.00"))),
    )
    if signed is None:
        return "second_factor_required", challenge
    async with atomic():
        now = utcnow()
        updated = await Quote.update(
            {
                Quote.status: "accepted",
                Quote.accepted_at: signed.at,
                Quote.updated_at: now,
                **approver_values(Quote, signed, address),
            }
        ).where(
            (Quote.id == row["id"]) & (Quote.tenant_id == tenant_id) & (Quote.status == "sent")
        ).returning(Quote.accepted_at)
        if not updated:
            raise Conflict(CHANGED_MEANWHILE, code="quote.changed_meanwhile")
        await log_event(tenant_id, user=None, action="quote.accepted", plugin=MODULE,
                        record_type=QUOTE.name, record_id=int(row["id"]))
    return "accepted", updated[0]["accepted_at"]
