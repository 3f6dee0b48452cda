"""Quotes in the customer portal: the sent quotes waiting for the logged-in customer, and
accepting or declining one with the SMS code of the "quotes" context (core/approvals.py).

The same quote can also be accepted from the e-mailed link; whichever comes first wins,
the other gets a clear 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core import approvals
from core.approvals import PortalApproval, PortalApprovalLine, PortalDecisionRequest, PortalDecisionResult, PortalPerson
from core.contracts import SignedItem
from core.db import utcnow
from plugins.quotes.services import can_accept, lines_of
from plugins.quotes.tables import Quote

KIND = "quote"
CONTEXT = "quotes"
CHANGED = "This quote was answered or changed a moment ago; reload the page."


def _mine(person: PortalPerson) -> Any:
    return approvals.owned_where(Quote, person)


async def pending(person: PortalPerson) -> list[PortalApproval]:
    rows = await Quote.select().where(
        _mine(person) & (Quote.status == "sent")
    ).order_by(Quote.id)
    rows = [r for r in rows if can_accept(r)]
    lines = await lines_of(person.tenant_id, [int(r["id"]) for r in rows])
    out = []
    for row in rows:
        items = lines[int(row["id"])]
        out.append(
            approvals.portal_approval(
                KIND,
                "quotes",
                ("Offert", "Quote"),
                row,
                title=row["title"],
                number=int(row["number"]),
                total=sum((i.amount for i in items), Decimal("0.00")),
                lines=tuple(PortalApprovalLine(i.description, i.amount) for i in items),
                sent_at=row["sent_at"],
                valid_until=row["valid_until"],
            )
        )
    return out


def signed_item(row: dict[str, Any], lines: list[Any]) -> SignedItem:
    """What the SMS code accepts: "Godkänn offert 12 på 2 500 kr"."""
    total = sum((i.amount for i in lines), Decimal("0.00"))
    return SignedItem("offert", "quote", amount=total, number=int(row["number"]))


async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    person = request.person
    row = await Quote.select().where(_mine(person) & (Quote.id == request.item_id)).first()
    if row is None or not approvals.owns(person, int(row["customer_id"]), int(row["contact_person_id"])):
        return approvals.refused(approvals.NOT_FOUND, 404)
    if row["status"] == "accepted":
        return approvals.refused("This quote is already accepted.")
    if row["status"] == "declined":
        return approvals.refused("This quote is already declined.")
    if not can_accept(row):
        return approvals.refused("This quote can no longer be answered (it is closed or past its validity date).")
    items = (await lines_of(person.tenant_id, [int(row["id"])]))[int(row["id"])]
    stop, signature = await approvals.ask_signature(request, CONTEXT, item=signed_item(row, items))
    if stop is not None:
        return stop
    signed = approvals.signed_by(signature, request.signer_name)
    status = "accepted" if request.approve else "declined"
    values: dict[Any, Any] = {
        Quote.status: status,
        Quote.updated_at: utcnow(),
        **approvals.approver_values(Quote, signed, request.signer_email),
    }
    values[Quote.accepted_at if request.approve else Quote.declined_at] = signed.at
    update = Quote.update(values).where(
        (Quote.tenant_id == person.tenant_id) & (Quote.id == row["id"]) & (Quote.status == "sent")
    ).returning(Quote.id)
    return await approvals.decided(request, signed, update, CHANGED)
