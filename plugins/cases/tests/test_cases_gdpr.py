"""M17 (cases) and M21 (service cases): what a sweep keeps and what it removes.

Time is frozen: the rule is "30 days", the sweep runs at NOW, so the cutoff is NOW - 30
days. A record whose clock is one second before the cutoff is anonymized; one second
after it is left exactly as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from tests import sweeps
from tests.modules import activity_kinds, add_activity, set_rule
from tests.support import END_CUSTOMER, add_party, each_answers
from tests.sweeps import INSIDE, OUTSIDE, PARTY_GONE, WORD, assert_swept, run_sweep

PERSONAL = dict(
    **END_CUSTOMER,
    title="Fukt hos Anna Svensson",
    description="Ring Anna innan besöket",
)
GONE = PARTY_GONE | sweeps.END_CUSTOMER_GONE

# The customer and contact person: real ones of the test's tenant, set before each test.
_real_party = sweeps.real_party(PERSONAL)


async def make(client, kind: str, action: str, moment: datetime, **fields):  # type: ignore[no-untyped-def]
    r = await client.post("/api/cases/", json={**PERSONAL, "kind": kind, **fields})
    assert r.status_code == 201, r.text
    case = r.json()
    await add_activity(client, "cases", "case", case["id"])
    return await sweeps.act_at(client, f"/api/cases/{case['id']}", action, moment)


async def test_cases_rule_removes_parties_and_clears_all_activity(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    (closed_old, deleted_old), (closed_new, at_cutoff) = await sweeps.around_the_cutoff(
        partial(make, admin_client, "case"), ("close", "delete"), young="close", at_cutoff="close"
    )
    # A service case just as old is not this rule's (service_cases is off).
    service_old = await make(admin_client, "service", "close", OUTSIDE)
    open_case = (await admin_client.post("/api/cases/", json=PERSONAL)).json()

    assert await run_sweep(tenant.id, "cases") == {"cases": 2, "service_cases": 0}

    for before in (closed_old, deleted_old):
        after = (await admin_client.get(f"/api/cases/{before['id']}")).json()
        # Kept: the brief keeps a case's title and description.
        kept = ("id", "number", "kind", "title", "description", "status", "created_by", "created_at")
        assert_swept(before, after, GONE, (*kept, "closed_at", "deleted_at"))
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
    assert await run_sweep(tenant.id, "cases") == {"cases": 0, "service_cases": 0}
    later = INSIDE + timedelta(days=30, seconds=1)
    assert (await run_sweep(tenant.id, "cases", at=later))["cases"] == 2


async def test_service_cases_rule_also_clears_title_and_notes(admin_client, tenant):
    await set_rule(admin_client, "cases", "service_cases", "days", 30)
    old = await make(admin_client, "service", "close", OUTSIDE)
    deleted = await make(admin_client, "service", "delete", OUTSIDE)
    young = await make(admin_client, "service", "delete", INSIDE)
    plain_case = await make(admin_client, "case", "close", OUTSIDE)

    assert await run_sweep(tenant.id, "cases") == {"cases": 0, "service_cases": 2}

    for before in (old, deleted):
        after = (await admin_client.get(f"/api/cases/{before['id']}")).json()
        kept = ("number", "kind", "description", "status", "created_by", "closed_at", "deleted_at")
        assert_swept(before, after, {**GONE, "title": WORD}, kept)
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
    assert await run_sweep(tenant.id, "cases") == {"cases": 0, "service_cases": 0}
    assert (await admin_client.get(f"/api/cases/{old['id']}")).json() == old
    # The other tenant sets the rule and sweeps: our case stays.
    await set_rule(other_client, "cases", "cases", "days", 30)
    customer, (contact,) = await add_party(other_tenant.id)
    theirs = await make(
        other_client, "case", "close", OUTSIDE, customer_id=customer, contact_person_id=contact
    )
    assert await run_sweep(other_tenant.id, "cases") == {"cases": 1, "service_cases": 0}
    assert (await other_client.get(f"/api/cases/{theirs['id']}")).json()["customer_id"] == 0
    assert (await admin_client.get(f"/api/cases/{old['id']}")).json() == old


async def test_reopened_case_is_not_due(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    case = await make(admin_client, "case", "close", OUTSIDE)
    reopened = (await admin_client.post(f"/api/cases/{case['id']}/reopen")).json()
    assert await run_sweep(tenant.id, "cases") == {"cases": 0, "service_cases": 0}
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json() == reopened


async def test_anonymized_case_cannot_be_edited_or_reopened(admin_client, tenant):
    await set_rule(admin_client, "cases", "cases", "days", 30)
    case = await make(admin_client, "case", "close", OUTSIDE)
    await run_sweep(tenant.id, "cases")
    await each_answers(admin_client, 409, (
        ("patch", "", {"end_customer_name": "Anna Svensson"}),
        ("post", "/reopen", None),
        ("post", "/close", None),
    ), under=f"/api/cases/{case['id']}", detail="anonymized")
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json()["end_customer_name"] == WORD


async def test_deleting_in_days_mode_anonymizes_nothing_at_once(admin_client):
    await set_rule(admin_client, "cases", "cases", "days", 1)
    case = (await admin_client.post("/api/cases/", json=PERSONAL)).json()
    deleted = (await admin_client.delete(f"/api/cases/{case['id']}")).json()
    assert deleted["anonymized_at"] is None and deleted["end_customer_name"] == "Anna Svensson"
