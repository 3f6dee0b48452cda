"""Quote business logic: numbering, life cycle, the public link and its acceptance.

No HTTP here beyond the core's exceptions: every function takes the tenant id and reads
rows only through tenant-filtered queries (core.tenancy.get_scoped for ids).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar.exceptions import ClientException, NotFoundException

from core.config import get_settings
from core.contracts import SecondFactorRequest
from core.db import atomic, bind_tenant, utcnow
from core.numbering import lock_numbers, next_number
from core.delivery import queue_message
from core.plugins import await_me_maybe, get_host
from core.references import check_party
from core.security import new_token, token_hash
from core.tables import Tenant
from core.tenancy import enabled_modules, get_scoped
from core.validation import FieldError, normalize_email
from plugins.quotes.schemas import LineIn, LineOut, QuoteOut
from plugins.quotes.tables import Quote, QuoteLine, QuoteView

MODULE = "quotes"
RULE = "quotes"
CENT = Decimal("0.01")
MAX_QUANTITY = Decimal("1000000")
MAX_PRICE = Decimal("1000000000")
# Where the recipient opens the quote. The web pages may serve a nicer page at the same token.
# The page the customer opens (plugins/quotes/pages.py); the API is /api/quotes/public/{token}.
PUBLIC_PATH = "/quotes/public/{token}"
EDITABLE = ("draft", "sent")
SENDABLE = ("draft", "sent")
MAX_TOKEN_LENGTH = 128


NUMBER_LOCK = 0x5154  # advisory-lock class of this plugin's numbering (PostgreSQL)


class Conflict(ClientException):
    """The quote is in a state that does not allow this (409)."""

    status_code = 409


def decimal_field(value: Decimal, field: str, *, low: Decimal, high: Decimal, allow_low: bool) -> Decimal:
    """A finite decimal with at most two decimals inside [low, high] (or (low, high])."""
    try:
        if not value.is_finite():
            raise FieldError(field, "must be a number")
        if value < low or (value == low and not allow_low) or value > high:
            bound = "at least" if allow_low else "more than"
            raise FieldError(field, f"must be {bound} {low} and at most {high}")
        if value != value.quantize(CENT):
            raise FieldError(field, "may have at most two decimals")
        return value.quantize(CENT)
    except InvalidOperation as exc:
        raise FieldError(field, "must be a number") from exc


def check_line(description: str, quantity: Decimal, unit_price: Decimal, prefix: str = "") -> tuple[str, Decimal, Decimal]:
    text = description.strip()
    if not text:
        raise FieldError(f"{prefix}description", "write what the line is for")
    q = decimal_field(quantity, f"{prefix}quantity", low=Decimal(0), high=MAX_QUANTITY, allow_low=False)
    p = decimal_field(unit_price, f"{prefix}unit_price", low=-MAX_PRICE, high=MAX_PRICE, allow_low=True)
    return text, q, p


def clean_title(title: str, field: str = "title") -> str:
    text = title.strip()
    if not text:
        raise FieldError(field, "the quote needs a title")
    return text


def line_out(row: dict[str, Any]) -> LineOut:
    q = Decimal(row["quantity"])
    p = Decimal(row["unit_price"])
    return LineOut(
        id=row["id"],
        position=row["position"],
        description=row["description"],
        quantity=q.quantize(CENT),
        unit_price=p.quantize(CENT),
        amount=(q * p).quantize(CENT),
    )


async def lines_of(tenant_id: int, quote_ids: list[int]) -> dict[int, list[LineOut]]:
    out: dict[int, list[LineOut]] = defaultdict(list)
    if not quote_ids:
        return out
    rows = (
        await QuoteLine.select()
        .where((QuoteLine.tenant_id == tenant_id) & QuoteLine.quote_id.is_in(quote_ids))
        .order_by(QuoteLine.position)
        .order_by(QuoteLine.id)
    )
    for row in rows:
        out[row["quote_id"]].append(line_out(row))
    return out


def quote_out(row: dict[str, Any], lines: list[LineOut]) -> QuoteOut:
    return QuoteOut(
        id=row["id"],
        number=row["number"],
        title=row["title"],
        description=row["description"],
        customer_id=row["customer_id"],
        contact_person_id=row["contact_person_id"],
        status=row["status"],
        valid_until=row["valid_until"],
        sent_to_email=row["sent_to_email"],
        approver_name=row["approver_name"],
        approver_email=row["approver_email"],
        approver_phone=row["approver_phone"],
        accepted_at=row["accepted_at"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        closed_at=row["closed_at"],
        voided_at=row["voided_at"],
        deleted_at=row["deleted_at"],
        anonymized_at=row["anonymized_at"],
        total=sum((line.amount for line in lines), Decimal("0.00")).quantize(CENT),
        lines=lines,
    )


async def load_out(tenant_id: int, quote_id: int) -> QuoteOut:
    row = await get_scoped(Quote, tenant_id, quote_id, "Quote")
    return quote_out(row, (await lines_of(tenant_id, [quote_id]))[quote_id])


def _where(tenant_id: int, quote_id: int) -> Any:
    return (Quote.tenant_id == tenant_id) & (Quote.id == quote_id)


async def _editable(tenant_id: int, quote_id: int, states: tuple[str, ...] = EDITABLE) -> dict[str, Any]:
    row = await get_scoped(Quote, tenant_id, quote_id, "Quote")
    if row["deleted_at"] is not None or row["anonymized_at"] is not None:
        raise Conflict("This quote is deleted and cannot be changed.")
    if row["status"] not in states:
        raise Conflict(
            f"A quote that is {row['status']} cannot be changed this way "
            f"(only when it is {' or '.join(states)})."
        )
    return row


async def create_quote(tenant_id: int, data: Any) -> QuoteOut:
    title = clean_title(data.title)
    lines = [check_line(l.description, l.quantity, l.unit_price, f"lines[{i}].") for i, l in enumerate(data.lines)]
    async with atomic():
        await check_party(tenant_id, data.customer_id, data.contact_person_id)
        await lock_numbers(NUMBER_LOCK, tenant_id)
        number = await next_number(Quote.number, tenant_id)
        rows = await Quote.insert(
            Quote(
                tenant_id=tenant_id,
                number=number,
                title=title,
                description=data.description,
                customer_id=data.customer_id,
                contact_person_id=data.contact_person_id,
                valid_until=data.valid_until,
            )
        ).returning(Quote.id)
        quote_id = int(rows[0]["id"])
        for position, (text, q, p) in enumerate(lines):
            await QuoteLine.insert(
                QuoteLine(tenant_id=tenant_id, quote_id=quote_id, position=position, description=text, quantity=q, unit_price=p)
            )
        return await load_out(tenant_id, quote_id)


async def update_quote(tenant_id: int, quote_id: int, data: Any) -> QuoteOut:
    async with atomic():
        row = await _editable(tenant_id, quote_id)
        await check_party(tenant_id, data.customer_id, data.contact_person_id, before=row)
        changes: dict[Any, Any] = {Quote.updated_at: utcnow()}
        if data.title is not None:
            changes[Quote.title] = clean_title(data.title)
        if data.description is not None:
            changes[Quote.description] = data.description
        if data.customer_id is not None:
            changes[Quote.customer_id] = data.customer_id
        if data.contact_person_id is not None:
            changes[Quote.contact_person_id] = data.contact_person_id
        if data.clear_valid_until:
            if data.valid_until is not None:
                raise FieldError("valid_until", "give a date or clear_valid_until, not both")
            changes[Quote.valid_until] = None
        elif data.valid_until is not None:
            changes[Quote.valid_until] = data.valid_until
        await Quote.update(changes).where(_where(tenant_id, quote_id))
        return await load_out(tenant_id, quote_id)


async def add_line(tenant_id: int, quote_id: int, data: LineIn) -> QuoteOut:
    text, q, p = check_line(data.description, data.quantity, data.unit_price)
    async with atomic():
        await _editable(tenant_id, quote_id)
        count = await QuoteLine.count().where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.quote_id == quote_id))
        if count >= 500:
            raise Conflict("A quote can have at most 500 lines.")
        await QuoteLine.insert(
            QuoteLine(tenant_id=tenant_id, quote_id=quote_id, position=count, description=text, quantity=q, unit_price=p)
        )
        await Quote.update({Quote.updated_at: utcnow()}).where(_where(tenant_id, quote_id))
        return await load_out(tenant_id, quote_id)


async def update_line(tenant_id: int, line_id: int, data: Any) -> QuoteOut:
    async with atomic():
        line = await get_scoped(QuoteLine, tenant_id, line_id, "Quote line")
        await _editable(tenant_id, int(line["quote_id"]))
        text, q, p = check_line(
            data.description if data.description is not None else line["description"],
            data.quantity if data.quantity is not None else Decimal(line["quantity"]),
            data.unit_price if data.unit_price is not None else Decimal(line["unit_price"]),
        )
        changes: dict[Any, Any] = {QuoteLine.description: text, QuoteLine.quantity: q, QuoteLine.unit_price: p}
        if data.position is not None:
            changes[QuoteLine.position] = data.position
        await QuoteLine.update(changes).where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.id == line_id))
        return await load_out(tenant_id, int(line["quote_id"]))


async def delete_line(tenant_id: int, line_id: int) -> QuoteOut:
    async with atomic():
        line = await get_scoped(QuoteLine, tenant_id, line_id, "Quote line")
        await _editable(tenant_id, int(line["quote_id"]))
        await QuoteLine.delete().where((QuoteLine.tenant_id == tenant_id) & (QuoteLine.id == line_id))
        return await load_out(tenant_id, int(line["quote_id"]))


def _email_text(language: str, org: str, number: int, title: str, link: str, message: str) -> tuple[str, str]:
    if language == "sv":
        subject = f"Offert {number} från {org}"
        body = f"{org} har skickat offert {number}: {title}\n\nÖppna offerten här: {link}\n"
    else:
        subject = f"Quote {number} from {org}"
        body = f"{org} has sent you quote {number}: {title}\n\nOpen the quote here: {link}\n"
    if message.strip():
        body = message.strip() + "\n\n" + body
    return subject, body


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
            raise Conflict("Add at least one line before sending the quote.")
        token = new_token()
        now = utcnow()
        await Quote.update(
            {
                Quote.status: "sent",
                Quote.sent_at: now,
                Quote.updated_at: now,
                Quote.sent_to_email: address,
                Quote.public_token_hash: token_hash(token),
            }
        ).where(_where(tenant_id, quote_id))
        tenant = await Tenant.select(Tenant.name, Tenant.language).where(Tenant.id == tenant_id).first()
        link = get_settings().base_url.rstrip("/") + PUBLIC_PATH.format(token=token)
        subject, body = _email_text(tenant["language"], tenant["name"], row["number"], row["title"], link, message)
        await queue_message("email", address, body, subject=subject, tenant_id=tenant_id)
        return await load_out(tenant_id, quote_id)


async def _anonymize_if_immediate(tenant_id: int, quote_id: int) -> None:
    """M19's clock starts at close, void or delete: with the rule set to "immediately"
    the quote is anonymized in the same transaction."""
    from core.gdpr.engine import anonymize_if_immediate

    await anonymize_if_immediate(tenant_id, MODULE, RULE, [quote_id])


async def close_quote(tenant_id: int, quote_id: int) -> QuoteOut:
    async with atomic():
        await _editable(tenant_id, quote_id, ("draft", "sent", "accepted", "declined"))
        now = utcnow()
        await Quote.update({Quote.status: "closed", Quote.closed_at: now, Quote.updated_at: now}).where(
            _where(tenant_id, quote_id)
        )
        await _anonymize_if_immediate(tenant_id, quote_id)
        return await load_out(tenant_id, quote_id)


async def void_quote(tenant_id: int, quote_id: int) -> QuoteOut:
    async with atomic():
        await _editable(tenant_id, quote_id, ("draft", "sent", "accepted", "declined"))
        now = utcnow()
        await Quote.update({Quote.status: "voided", Quote.voided_at: now, Quote.updated_at: now}).where(
            _where(tenant_id, quote_id)
        )
        await _anonymize_if_immediate(tenant_id, quote_id)
        return await load_out(tenant_id, quote_id)


async def reopen_quote(tenant_id: int, quote_id: int) -> QuoteOut:
    """A closed quote goes back to where it was: accepted, sent or draft."""
    async with atomic():
        row = await _editable(tenant_id, quote_id, ("closed",))
        status = (
            "accepted" if row["accepted_at"] else "declined" if row["declined_at"]
            else "sent" if row["sent_at"] else "draft"
        )
        await Quote.update({Quote.status: status, Quote.closed_at: None, Quote.updated_at: utcnow()}).where(
            _where(tenant_id, quote_id)
        )
        return await load_out(tenant_id, quote_id)


async def delete_quote(tenant_id: int, quote_id: int) -> QuoteOut:
    """Soft delete; the retention rule (or "immediately") anonymizes it."""
    async with atomic():
        row = await get_scoped(Quote, tenant_id, quote_id, "Quote")
        if row["deleted_at"] is None:
            now = utcnow()
            await Quote.update({Quote.deleted_at: now, Quote.updated_at: now}).where(_where(tenant_id, quote_id))
            await _anonymize_if_immediate(tenant_id, quote_id)
        return await load_out(tenant_id, quote_id)


# --- The public link --------------------------------------------------------------


async def find_public(token: str) -> dict[str, Any]:
    """The quote behind a public token, or 404 (unknown, voided, deleted, anonymized,
    or the tenant turned the quotes module off)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFoundException("This quote link is not valid.")
    row = await Quote.select().where(Quote.public_token_hash == token_hash(token)).first()
    if (
        row is None
        or row["deleted_at"] is not None
        or row["anonymized_at"] is not None
        or row["status"] not in ("sent", "accepted", "declined", "closed")
    ):
        raise NotFoundException("This quote link is not valid.")
    if MODULE not in await enabled_modules(get_host(), int(row["tenant_id"])):
        raise NotFoundException("This quote link is not valid.")
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


async def accept_public(token: str, name: str, email: str, challenge_id: str | None, user_agent: str) -> tuple[str, Any]:
    """Accept the quote, asking for an SMS code first when the tenant wants one.

    Returns ("accepted", accepted_at) or ("second_factor_required", decision).
    """
    approver = name.strip()
    if not approver:
        raise FieldError("name", "write the name of the person accepting the quote")
    address = normalize_email(email, "email", required=True)
    row = await find_public(token)
    if not can_accept(row):
        if row["status"] == "accepted":
            raise Conflict("This quote is already accepted.")
        if row["status"] == "declined":
            raise Conflict("This quote was declined.")
        raise Conflict("This quote can no longer be accepted (it is closed or past its validity date).")
    tenant_id = int(row["tenant_id"])
    contact = int(row["contact_person_id"])
    hooks = await get_host().for_tenant(tenant_id)
    decision = await await_me_maybe(
        hooks.challenge_second_factor(
            request=SecondFactorRequest(
                tenant_id=tenant_id,
                person_kind="contact" if contact else "customer",
                person_id=contact or int(row["customer_id"]),
                context="quotes",
                device_token=None,
                user_agent=user_agent[:200],
                challenge_id=challenge_id,
                subject=f"quote:{int(row['id'])}:accept",  # the code accepts this quote only
            )
        )
    )
    if decision is not None and decision.error:
        # The two-factor plugin's refusal as it is (409 missing phone, 429 throttled...).
        raise ClientException(decision.error, status_code=getattr(decision, "status", 409) or 409)
    if decision is not None and decision.required:
        return "second_factor_required", decision
    masked = (decision.masked_phone or "") if decision is not None else ""
    # A verified SMS signature names who signed and when; otherwise the form does.
    signer = ((getattr(decision, "signer_name", None) if decision is not None else None) or approver)[:200]
    signed_at = getattr(decision, "signed_at", None) if decision is not None else None
    async with atomic():
        now = utcnow()
        updated = await Quote.update(
            {
                Quote.status: "accepted",
                Quote.accepted_at: signed_at or now,
                Quote.updated_at: now,
                Quote.approver_name: signer,
                Quote.approver_email: address,
                Quote.approver_phone: masked[:40],
            }
        ).where(
            (Quote.id == row["id"]) & (Quote.tenant_id == tenant_id) & (Quote.status == "sent")
        ).returning(Quote.accepted_at)
        if not updated:
            raise Conflict("This quote was accepted or changed a moment ago; reload it.")
    return "accepted", updated[0]["accepted_at"]
