"""M17 (cases) and M21 (service cases): what a sweep keeps and what it removes.

Time is frozen: the rule is "30 days", the sweep runs at NOW, so the cutoff is NOW - 30
days. A record whose clock is one second before the cutoff is anonymized; one second
after it is left exactly as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.gdpr.engine import sweep
from plugins.cases.tables import Case
from tests.modules import activity_kinds, add_activity, set_rule
from tests.stub_people import add_person, anonymize_person
from tests.support import add_party

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OUTSIDE = CUTOFF - timedelta(seconds=1)  # older than the cutoff: due
INSIDE = CUTOFF + timedelta(seconds=1)  # younger: not yet
WORD = "Anonymiserad"

PERSONAL = dict(
    customer_id=41,
    contact_person_id=42,
    end_customer_name="Anna Svensson",
    end_customer_address="Storgatan 1, 111 22 Stockholm",
    end_customer_phone="0701234567",
    end_customer_email="anna@example.se",
    title="Fukt hos Anna Svensson",
    description="Ring Anna innan besöket",
)


@pytest.fixture(autouse=True)
async def _real_party(tenant):  # type: ignore[no-untyped-def]
    """PERSONAL names a real customer and contact person of the test's tenant: a record may
    name only those (core.references.check_party)."""
    customer, (contact,) = await add_party(tenant.id)
    PERSONAL.update(customer_id=customer, contact_person_id=contact)


async def make(client, kind: str, action: str, moment: datetime, **fields):  # type: ignore[no-untyped-def]
    r = await client.post("/api/cases/", json={**PERSONAL, "kind": kind, **fields})
    assert r.status_code == 201, r.text
    case = r.json()
    await add_activity(client, "cases", "case", case["id"])
    with time_machine.travel(moment, tick=False):
        if action == "close":
            r = await client.post(f"/api/cases/{case['id']}/close")
        else:
            r = await client.delete(f"/api/cases/{case['id']}")
    assert r.status_code == 200, r.text
    return r.json()


async def run_sweep(tenant_id: int) -> dict[str, int]:
    with time_machine.travel(NOW, tick=False):
        results = await sweep(tenant_id, "cases")
    return {r.rule: r.records for r in results}


async def test_cases_rule_removes_parties_and_clears_all_activity(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    closed_old = await make(admin_client, "case", "close", OUTSIDE)
    deleted_old = await make(admin_client, "case", "delete", OUTSIDE)
    closed_new = await make(admin_client, "case", "close", INSIDE)
    at_cutoff = await make(admin_client, "case", "close", CUTOFF)
    # A service case just as old is not this rule's (service_cases is off).
    service_old = await make(admin_client, "service", "close", OUTSIDE)
    open_case = (await admin_client.post("/api/cases/", json=PERSONAL)).json()

    assert await run_sweep(tenant.id) == {"cases": 2, "service_cases": 0}

    for before in (closed_old, deleted_old):
        after = (await admin_client.get(f"/api/cases/{before['id']}")).json()
        # Gone:
        assert after["customer_id"] == 0
        assert after["contact_person_id"] == 0
        assert after["end_customer_name"] == WORD
        assert after["end_customer_address"] == WORD
        assert after["end_customer_phone"] is None
        assert after["end_customer_email"] is None
        assert datetime.fromisoformat(after["anonymized_at"]) == NOW
        # Kept (the brief keeps a case's title and description):
        for column in (
            "id",
            "number",
            "kind",
            "title",
            "description",
            "status",
            "created_by",
            "created_at",
            "closed_at",
            "deleted_at",
        ):
            assert after[column] == before[column], column
        assert await activity_kinds(admin_client, "cases", "case", before["id"]) == []

    for untouched in (closed_new, at_cutoff, service_old):
        assert (await admin_client.get(f"/api/cases/{untouched['id']}")).json() == untouched
        assert await activity_kinds(admin_client, "cases", "case", untouched["id"]) == [
            "comment",
            "conversation",
            "note",
            "work_report",
        ]
    assert (await admin_client.get(f"/api/cases/{open_case['id']}")).json() == open_case

    # A second sweep at the same moment finds nothing more; later, the younger one is due.
    assert await run_sweep(tenant.id) == {"cases": 0, "service_cases": 0}
    with time_machine.travel(INSIDE + timedelta(days=30, seconds=1), tick=False):
        assert {r.rule: r.records for r in await sweep(tenant.id, "cases")}["cases"] == 2


async def test_service_cases_rule_also_clears_title_and_notes(admin_client, tenant):
    await set_rule(admin_client, "cases", "service_cases", "days", 30)
    old = await make(admin_client, "service", "close", OUTSIDE)
    deleted = await make(admin_client, "service", "delete", OUTSIDE)
    young = await make(admin_client, "service", "delete", INSIDE)
    plain_case = await make(admin_client, "case", "close", OUTSIDE)

    assert await run_sweep(tenant.id) == {"cases": 0, "service_cases": 2}

    for before in (old, deleted):
        after = (await admin_client.get(f"/api/cases/{before['id']}")).json()
        assert after["title"] == WORD
        assert after["customer_id"] == 0 and after["contact_person_id"] == 0
        assert after["end_customer_name"] == WORD and after["end_customer_address"] == WORD
        assert after["end_customer_phone"] is None and after["end_customer_email"] is None
        assert datetime.fromisoformat(after["anonymized_at"]) == NOW
        for column in (
            "number",
            "kind",
            "description",
            "status",
            "created_by",
            "closed_at",
            "deleted_at",
        ):
            assert after[column] == before[column], column
        # Comments, work reports, conversations and notes go (#17: notes are free text
        # about the customer too).
        assert await activity_kinds(admin_client, "cases", "case", before["id"]) == []

    assert (await admin_client.get(f"/api/cases/{young['id']}")).json() == young
    assert (await admin_client.get(f"/api/cases/{plain_case['id']}")).json() == plain_case
    assert len(await activity_kinds(admin_client, "cases", "case", young["id"])) == 4


async def test_rules_off_by_default_and_other_tenants_untouched(
    admin_client, other_client, tenant, other_tenant
):
    old = await make(admin_client, "case", "close", OUTSIDE)
    assert await run_sweep(tenant.id) == {"cases": 0, "service_cases": 0}
    assert (await admin_client.get(f"/api/cases/{old['id']}")).json() == old
    # The other tenant sets the rule and sweeps: our case stays.
    await set_rule(other_client, "cases", "cases", "days", 30)
    customer, (contact,) = await add_party(other_tenant.id)
    theirs = await make(
        other_client, "case", "close", OUTSIDE, customer_id=customer, contact_person_id=contact
    )
    assert await run_sweep(other_tenant.id) == {"cases": 1, "service_cases": 0}
    assert (await other_client.get(f"/api/cases/{theirs['id']}")).json()["customer_id"] == 0
    assert (await admin_client.get(f"/api/cases/{old['id']}")).json() == old


async def test_reopened_case_is_not_due(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    case = await make(admin_client, "case", "close", OUTSIDE)
    reopened = (await admin_client.post(f"/api/cases/{case['id']}/reopen")).json()
    assert await run_sweep(tenant.id) == {"cases": 0, "service_cases": 0}
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json() == reopened


async def test_anonymized_case_cannot_be_edited_or_reopened(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    case = await make(admin_client, "case", "close", OUTSIDE)
    await run_sweep(tenant.id)
    for method, path, body in (
        ("patch", "", {"end_customer_name": "Anna Svensson"}),
        ("post", "/reopen", None),
        ("post", "/close", None),
    ):
        kwargs = {"json": body} if body is not None else {}
        r = await getattr(admin_client, method)(f"/api/cases/{case['id']}{path}", **kwargs)
        assert r.status_code == 409 and "anonymized" in r.json()["detail"], path
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json()["end_customer_name"] == WORD


async def test_settings_endpoint_lists_both_rules_and_refuses_immediately(
    admin_client, client, tenant
):
    rows = (await admin_client.get("/api/cases/settings")).json()
    by_key = {r["key"]: r for r in rows}
    assert set(by_key) == {"cases", "service_cases"}
    assert (
        by_key["cases"]["label_sv"] == "Ärenden"
        and by_key["service_cases"]["label_en"] == "Service cases"
    )
    assert by_key["cases"]["allowed_modes"] == ["days", "off"]
    assert by_key["cases"]["clock"] == ["closed", "deleted"]
    r = await admin_client.put(
        "/api/cases/settings", json=[{"key": "cases", "mode": "immediately"}]
    )
    assert r.status_code == 400 and "immediately" in r.text
    r = await admin_client.put(
        "/api/cases/settings", json=[{"key": "cases", "mode": "days", "days": 0}]
    )
    assert r.status_code == 400
    r = await admin_client.put("/api/cases/settings", json=[{"key": "work_orders", "mode": "off"}])
    assert r.status_code == 400
    # The same value shows in Settings > GDPR.
    await set_rule(admin_client, "cases", "service_cases", "days", 90)
    overview = {r["key"]: r for r in (await admin_client.get("/api/gdpr/retention")).json()}
    assert overview["service_cases"]["mode"] == "days" and overview["service_cases"]["days"] == 90


async def test_deleting_in_days_mode_anonymizes_nothing_at_once(admin_client):
    await set_rule(admin_client, "cases", "cases", "days", 1)
    case = (await admin_client.post("/api/cases/", json=PERSONAL)).json()
    deleted = (await admin_client.delete(f"/api/cases/{case['id']}")).json()
    assert deleted["anonymized_at"] is None and deleted["end_customer_name"] == "Anna Svensson"


async def test_customer_and_contact_links_become_zero(
    admin_client, other_client, tenant, other_tenant, people
):
    customer = await add_person(tenant.id, "customer")
    contact = await add_person(tenant.id, "contact")
    other_customer = await add_person(tenant.id, "customer")
    mine = (
        await admin_client.post(
            "/api/cases/",
            json={"title": "a", "customer_id": customer, "contact_person_id": contact},
        )
    ).json()
    service = (
        await admin_client.post(
            "/api/cases/", json={"title": "b", "kind": "service", "customer_id": customer}
        )
    ).json()
    unrelated = (
        await admin_client.post(
            "/api/cases/",
            json={"title": "c", "customer_id": other_customer, "contact_person_id": customer},
        )
    ).json()
        # Another tenant's record holding the same id numbers (stored before references were
    # checked; a request can no longer name another organization's people) is not ours.
    theirs = (await other_client.post("/api/cases/", json={"title": "d"})).json()
    await Case.update({Case.customer_id: customer, Case.contact_person_id: contact}).where(
        Case.id == theirs["id"]
    )
    theirs = (await other_client.get(f"/api/cases/{theirs['id']}")).json()

    assert await anonymize_person(tenant.id, "customer", customer) == 1
    after = (await admin_client.get(f"/api/cases/{mine['id']}")).json()
    assert after["customer_id"] == 0 and after["contact_person_id"] == contact
    assert after["anonymized_at"] is None  # the case itself is not anonymized
    assert (await admin_client.get(f"/api/cases/{service['id']}")).json()["customer_id"] == 0
    # A contact_ref holding the same number is a different person: untouched.
    assert (await admin_client.get(f"/api/cases/{unrelated['id']}")).json() == unrelated

    assert await anonymize_person(tenant.id, "contact", contact) == 1
    assert (await admin_client.get(f"/api/cases/{mine['id']}")).json()["contact_person_id"] == 0
    assert (await other_client.get(f"/api/cases/{theirs['id']}")).json() == theirs
