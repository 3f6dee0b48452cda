"""Data-subject requests from the customer portal (hooks ``data_requests_of`` and
``ask_as_portal_person``; the portal imports nothing of this module).

A portal person is already verified: the portal login (with its SMS step where the
organization asks for one) proved who they are, and the address the request is answered at
is the login's own e-mail. So the request enters the queue as ``verified`` at once, tied to
the person (its customer and contact person, checked as every reference is), and the
person sees their own requests, and only those, with their statuses.
"""

from __future__ import annotations

from typing import Any

from core.contracts import DataRequestDesk, PortalDataAsk, PortalDataRequest, PortalPerson
from core.db import atomic
from core.errors import Invalid
from core.references import check_party
from plugins.dsr import services
from plugins.dsr.pages import KINDS, STATUSES
from plugins.dsr.public import CHOOSE_KIND, MAX_DETAILS
from plugins.dsr.records import KINDS as KIND_KEYS
from plugins.dsr.schemas import RequestIn
from plugins.dsr.tables import DsrRequest

CHANNEL = "portal"
SHOWN = 50  # the newest requests the portal lists


def _party(person: PortalPerson) -> tuple[int, int]:
    return person.customer_id, person.person_id if person.person_kind == "contact" else 0


def _theirs(person: PortalPerson) -> Any:
    """The person's own requests: asked in the portal by this very customer or contact
    person (a contact person does not see the company's other people's requests)."""
    customer, contact = _party(person)
    return (
        (DsrRequest.tenant_id == person.tenant_id)
        & (DsrRequest.customer_id == customer)
        & (DsrRequest.contact_person_id == contact)
        & (DsrRequest.channel == CHANNEL)
        & DsrRequest.deleted_at.is_null()
        & DsrRequest.anonymized_at.is_null()
    )


def shown(row: dict[str, Any]) -> PortalDataRequest:
    return PortalDataRequest(
        number=int(row["number"]), kind=row["kind"], status=row["status"],
        kind_text=KINDS.get(row["kind"], row["kind"]), status_text=STATUSES.get(row["status"], row["status"]),
        received_on=row["received_on"], due_on=row["due_on"], details=row["details"],
        answered=row["status"] in ("answered", "refused"),
    )


async def desk(person: PortalPerson) -> DataRequestDesk:
    if person.customer_id <= 0:
        return DataRequestDesk(choices=tuple(KINDS.items()))
    rows = await DsrRequest.select().where(_theirs(person)).order_by(DsrRequest.id, ascending=False).limit(SHOWN)
    return DataRequestDesk(choices=tuple(KINDS.items()), requests=tuple(shown(r) for r in rows))


async def ask(ask: PortalDataAsk) -> PortalDataRequest:
    """The request, recorded and verified in one transaction; the person is told its number
    and deadline as after the public page's confirmation."""
    if ask.kind not in KIND_KEYS:
        raise Invalid("kind", CHOOSE_KIND, code="dsr.kind_required")
    person = ask.person
    customer, contact = _party(person)
    if customer <= 0:
        raise Invalid("kind", CHOOSE_KIND, code="dsr.kind_required")  # never a portal person
    data = RequestIn(
        kind=ask.kind,  # type: ignore[arg-type]  # checked above
        requester_name=ask.name.strip()[:200],
        requester_email=ask.email.strip()[:254] or None,
        requester_phone=ask.phone.strip()[:32] or None,
        details=ask.details.strip()[:MAX_DETAILS],
        language="en" if ask.language == "en" else "sv",
    )
    async with atomic():
        await check_party(person.tenant_id, customer, contact)
        created = await services.create_request(person.tenant_id, 0, data, channel=CHANNEL, party=(customer, contact))
        row = await services.mark_verified(person.tenant_id, int(created["id"]))
    return shown(row)
