"""Requests from the customer portal (hooks ``data_requests_of`` and ``ask_as_portal_person``):
a logged-in portal person's request is verified at once and tied to the person, who sees
their own requests only; and a confirmation link used twice at the same time makes one
request (the pending row's DELETE ... RETURNING decides)."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest

from core.contracts import PortalDataAsk, PortalPerson
from core.db import pooled
from core.errors import Invalid, NotFound
from core.plugins import await_me_maybe, get_host
from core.tenancy import set_module_enabled
from plugins.dsr import public
from plugins.dsr.tables import DsrRequest
from plugins.dsr.tests.conftest import mails_to
from tests.pages.helpers import post_form

KNOWN = "kund@example.se"


async def customer(admin_client, name: str = "Karin Kund", email: str = KNOWN) -> int:  # type: ignore[no-untyped-def]
    r = await admin_client.post("/api/customers/", json={"name": name, "kind": "private", "email": email})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def person(tenant_id: int, customer_id: int) -> PortalPerson:
    return PortalPerson(tenant_id=tenant_id, customer_id=customer_id, person_kind="customer", person_id=customer_id)


def asking(who: PortalPerson, kind: str = "erasure", email: str = KNOWN) -> PortalDataAsk:
    return PortalDataAsk(person=who, name="Karin Kund", email=email, phone="070-123 45 67", kind=kind,
                         details="Radera mig, tack.", language="sv")


async def ask(who: PortalPerson, **kw):  # type: ignore[no-untyped-def]
    hooks = await get_host().for_tenant(who.tenant_id)
    return await await_me_maybe(hooks.ask_as_portal_person(ask=asking(who, **kw)))


async def desk(who: PortalPerson):  # type: ignore[no-untyped-def]
    hooks = await get_host().for_tenant(who.tenant_id)
    return await await_me_maybe(hooks.data_requests_of(person=who))


async def test_hook_ask_as_portal_person(admin_client, tenant) -> None:
    karin = person(tenant.id, await customer(admin_client))
    made = await ask(karin)
    assert (made.kind, made.status, made.kind_text, made.status_text) == (
        "erasure", "verified", "Erasure (art. 17)", "Verified")
    (req,) = (await admin_client.get("/api/dsr/")).json()["items"]
    assert (req["number"], req["status"], req["channel"], req["requester_email"], req["requester_phone"]) == (
        made.number, "verified", "portal", KNOWN, "+46701234567")
    assert req["verified_at"] and req["details"] == "Radera mig, tack."
    row = await DsrRequest.select().where(DsrRequest.id == req["id"]).first()
    assert (row["customer_id"], row["contact_person_id"]) == (karin.customer_id, 0)
    # The person is told the number and deadline, as after the public page's confirmation.
    assert f"nummer {made.number}" in (await mails_to(KNOWN, tenant.id))[-1]["body"]


async def test_ask_refuses_a_kind_not_offered_and_a_foreign_customer(admin_client, tenant, other_tenant) -> None:
    karin = person(tenant.id, await customer(admin_client))
    with pytest.raises(Invalid) as refused:
        await ask(karin, kind="everything")
    assert refused.value.field == "kind"
    # A customer id that is not the tenant's is refused by the reference check.
    with pytest.raises(Invalid):
        await ask(person(tenant.id, 999_999))
    assert await DsrRequest.count().where(DsrRequest.tenant_id == tenant.id) == 0


async def test_hook_data_requests_of(admin_client, tenant) -> None:
    karin = person(tenant.id, await customer(admin_client))
    per = person(tenant.id, await customer(admin_client, "Per Privat", "per@example.se"))
    first = await ask(karin, kind="access")
    second = await ask(karin, kind="correction")
    await ask(per, kind="objection", email="per@example.se")
    # A request recorded by staff for the same address is not the portal person's.
    r = await admin_client.post("/api/dsr/", json={"kind": "access", "requester_email": KNOWN})
    assert r.status_code == 201
    got = await desk(karin)
    assert [k for k, _t in got.choices] == ["access", "portability", "correction", "erasure", "restriction",
                                             "objection"]
    assert [(r.number, r.kind) for r in got.requests] == [(second.number, "correction"), (first.number, "access")]
    assert [r.kind for r in (await desk(per)).requests] == ["objection"]
    # Answered: shown as such.
    correction = (await admin_client.get("/api/dsr/?kind=correction")).json()["items"][0]["id"]
    r = await admin_client.post(f"/api/dsr/{correction}/answer", json={"text": "Rättat."})
    assert r.status_code == 200, r.text
    shown = {r.kind: r for r in (await desk(karin)).requests}
    assert shown["correction"].status == "answered" and shown["correction"].answered
    assert shown["access"].status == "verified" and not shown["access"].answered


async def test_no_answer_where_the_module_is_off(admin_client, tenant) -> None:
    karin = person(tenant.id, await customer(admin_client))
    await set_module_enabled(get_host(), tenant.id, "dsr", False)
    assert await desk(karin) is None
    assert await ask(karin) is None


async def test_deleted_requests_are_not_listed(admin_client, tenant) -> None:
    karin = person(tenant.id, await customer(admin_client))
    await ask(karin)
    (req,) = (await admin_client.get("/api/dsr/")).json()["items"]
    assert (await admin_client.delete(f"/api/dsr/{req['id']}")).status_code in (200, 204)
    assert (await desk(karin)).requests == ()


async def test_two_confirmations_at_once_make_one_request(admin_client, anon_client, tenant) -> None:
    """The same link used twice at the same time: both find the pending confirmation, one
    deletes it and makes the request, the other is told the link is gone."""
    await customer(admin_client)
    page = f"/dsr/ask/{tenant.slug}"
    r = await post_form(anon_client, page, {"kind": "access", "email": KNOWN}, page)
    assert r.status_code == 200
    token = re.search(r"token=(\S+)", (await mails_to(KNOWN, tenant.id))[0]["body"]).group(1)
    org = await public.organization(tenant.slug)

    # Hold both until each has read the pending row (or a moment passed: SQLite runs one
    # write transaction at a time, so there the second only starts after the first).
    real = public._pending
    arrived = 0
    both = asyncio.Event()

    async def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal arrived
        row = await real(*args, **kwargs)
        arrived += 1
        if arrived >= 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 0.5)
        return row

    public._pending = held  # type: ignore[assignment]
    try:
        async with pooled():
            results = await asyncio.gather(public.confirm(org, token), public.confirm(org, token),
                                           return_exceptions=True)
    finally:
        public._pending = real  # type: ignore[assignment]
    made = [r for r in results if isinstance(r, dict)]
    gone = [r for r in results if isinstance(r, NotFound)]
    assert len(made) == 1 and len(gone) == 1, results
    assert gone[0].code == "dsr.link_gone"
    assert await DsrRequest.count().where(DsrRequest.tenant_id == tenant.id) == 1
    received = [m for m in await mails_to(KNOWN, tenant.id) if "nummer" in m["body"]]
    assert len(received) == 1
