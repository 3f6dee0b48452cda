"""Cases and service cases: CRUD, life cycle, validation, tenant isolation, auth."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from plugins.cases.tables import Case
from tests.modules import list_calls, record_calls
from tests.support import add_party, each_answers, logged


async def create(client, **body):  # type: ignore[no-untyped-def]
    body.setdefault("title", "Läckande kran")
    response = await client.post("/api/cases/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def count(tenant_id: int) -> int:
    return await Case.count().where(Case.tenant_id == tenant_id)


async def test_create_numbers_normalizes_and_reads_back(admin_client, tenant):
    customer, (contact,) = await add_party(tenant.id)
    first = await create(admin_client)
    second = await create(
        admin_client,
        kind="service",
        title="  Service av värmepump ",
        description="Årlig service",
        customer_id=customer,
        contact_person_id=contact,
        end_customer_name=" Anna Svensson ",
        end_customer_address="Storgatan 1, 111 22 Stockholm",
        end_customer_phone="070-123 45 67",
        end_customer_email=" Anna.Svensson@Example.se ",
    )
    assert (first["number"], second["number"]) == (1, 2)
    assert first["kind"] == "case" and first["status"] == "open"
    assert first["customer_id"] == 0 and first["contact_person_id"] == 0
    assert first["created_by"] == tenant.admin_id
    assert second["title"] == "Service av värmepump"
    assert second["end_customer_name"] == "Anna Svensson"
    assert second["end_customer_phone"] == "+46701234567"
    assert second["end_customer_email"] == "anna.svensson@example.se"
    got = (await admin_client.get(f"/api/cases/{second['id']}")).json()
    assert got == second


async def test_numbers_are_per_tenant_and_explicit_numbers_must_be_free(
    admin_client, other_client, tenant, other_tenant
):
    await create(admin_client)
    assert (await create(other_client))["number"] == 1
    assert (await create(admin_client, number=100))["number"] == 100
    assert (await create(admin_client))["number"] == 101
    before = await count(tenant.id)
    r = await admin_client.post("/api/cases/", json={"title": "x", "number": 100})
    assert r.status_code == 400 and r.json()["field"] == "number"
    assert await count(tenant.id) == before
    # Another tenant may use the same number.
    assert (await create(other_client, number=100))["number"] == 100


BAD_CREATES = [
    ({"title": "   "}, "title"),
    ({"title": "x", "end_customer_phone": "12"}, "end_customer_phone"),
    ({"title": "x", "end_customer_phone": "not a phone"}, "end_customer_phone"),
    ({"title": "x", "end_customer_email": "anna@"}, "end_customer_email"),
    ({"title": "x", "customer_id": -1}, "customer_id"),
    ({"title": "x", "contact_person_id": -3}, "contact_person_id"),
    ({"title": "x", "contact_person_id": "seven"}, "contact_person_id"),
    ({"title": "x", "kind": "incident"}, "kind"),
    ({"title": "x", "number": 0}, "number"),
    ({"title": "x" * 201}, "title"),
    ({"title": "x", "end_customer_name": "n" * 201}, "end_customer_name"),
    ({"title": "x", "surprise": 1}, "surprise"),
    ({}, "title"),
]


async def test_bad_create_is_400_naming_the_field_and_writes_nothing(admin_client, tenant):
    await create(admin_client)
    for body, field in BAD_CREATES:
        r = await admin_client.post("/api/cases/", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
    assert await count(tenant.id) == 1


async def test_malformed_json_is_400(admin_client, tenant):
    r = await admin_client.post(
        "/api/cases/", content=b'{"title": "x"', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert await count(tenant.id) == 0


async def test_list_pages_and_filters(admin_client, tenant):
    five, _ = await add_party(tenant.id, contacts=0)
    six, _ = await add_party(tenant.id, contacts=0)
    a = await create(admin_client, customer_id=five)
    b = await create(admin_client, customer_id=five, kind="service")
    c = await create(admin_client, customer_id=six)
    await admin_client.post(f"/api/cases/{a['id']}/close")
    d = await create(admin_client)
    await admin_client.delete(f"/api/cases/{d['id']}")

    page = (await admin_client.get("/api/cases/", params={"limit": 2})).json()
    assert page["total"] == 3 and page["limit"] == 2
    assert [i["id"] for i in page["items"]] == [c["id"], b["id"]]  # newest first
    page2 = (await admin_client.get("/api/cases/", params={"limit": 2, "offset": 2})).json()
    assert [i["id"] for i in page2["items"]] == [a["id"]]

    def ids(r):  # type: ignore[no-untyped-def]
        assert r.status_code == 200, r.text
        return sorted(i["id"] for i in r.json()["items"])

    assert ids(await admin_client.get("/api/cases/", params={"customer_id": five})) == [
        a["id"],
        b["id"],
    ]
    assert ids(await admin_client.get("/api/cases/", params={"status": "closed"})) == [a["id"]]
    assert ids(await admin_client.get("/api/cases/", params={"status": "open"})) == [
        b["id"],
        c["id"],
    ]
    assert ids(await admin_client.get("/api/cases/", params={"kind": "service"})) == [b["id"]]
    assert ids(
        await admin_client.get("/api/cases/", params={"kind": "case", "customer_id": five})
    ) == [a["id"]]
    assert ids(await admin_client.get("/api/cases/", params={"include_deleted": "true"})) == sorted(
        [a["id"], b["id"], c["id"], d["id"]]
    )


async def test_bad_list_parameters_are_400(admin_client):
    for params in (
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"status": "done"},
        {"kind": "x"},
        {"customer_id": -1},
    ):
        r = await admin_client.get("/api/cases/", params=params)
        assert r.status_code == 400, (params, r.text)


async def test_patch_changes_only_given_fields_and_empty_clears(admin_client, tenant):
    nine, _ = await add_party(tenant.id, contacts=0)
    case = await create(admin_client, end_customer_phone="0701234567", end_customer_email="a@b.se")
    r = await admin_client.patch(
        f"/api/cases/{case['id']}",
        json={"title": "Ny rubrik", "end_customer_phone": "", "customer_id": nine, "kind": "service"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["title"] == "Ny rubrik" and out["kind"] == "service" and out["customer_id"] == nine
    assert out["end_customer_phone"] is None
    assert out["end_customer_email"] == "a@b.se"
    assert out["number"] == case["number"]


BAD_PATCHES = [
    ({"end_customer_phone": "123"}, "end_customer_phone"),
    ({"end_customer_email": "x@y"}, "end_customer_email"),
    ({"title": " "}, "title"),
    ({"title": ""}, "title"),
    ({"customer_id": -1}, "customer_id"),
    ({"kind": "other"}, "kind"),
    ({"status": "closed"}, "status"),
    ({"title": "ok", "end_customer_phone": "1"}, "end_customer_phone"),
]


async def test_bad_patch_is_400_and_changes_nothing(admin_client):
    case = await create(admin_client, end_customer_phone="0701234567")
    for body, field in BAD_PATCHES:
        r = await admin_client.patch(f"/api/cases/{case['id']}", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json() == case


async def test_patch_number_conflict_is_400(admin_client):
    a = await create(admin_client)
    b = await create(admin_client)
    r = await admin_client.patch(f"/api/cases/{b['id']}", json={"number": a["number"]})
    assert r.status_code == 400 and r.json()["field"] == "number"
    r = await admin_client.patch(f"/api/cases/{b['id']}", json={"number": b["number"]})
    assert r.status_code == 200
    r = await admin_client.patch(f"/api/cases/{b['id']}", json={"number": 50})
    assert r.json()["number"] == 50


async def test_close_reopen_life_cycle(admin_client):
    case = await create(admin_client)
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        closed = (await admin_client.post(f"/api/cases/{case['id']}/close")).json()
    assert closed["status"] == "closed"
    assert datetime.fromisoformat(closed["closed_at"]) == moment
    r = await admin_client.post(f"/api/cases/{case['id']}/close")
    body = r.json()
    assert r.status_code == 409 and body["code"] == "case.already_closed"
    assert body["detail"] == f"Case {case['number']} has already been closed."
    assert r.headers["content-type"].startswith("application/problem+json")
    sv = await admin_client.post(f"/api/cases/{case['id']}/close", headers={"accept-language": "sv"})
    assert sv.json()["detail"] == f"Ärende {case['number']} har redan stängts."
    reopened = (await admin_client.post(f"/api/cases/{case['id']}/reopen")).json()
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    r = await admin_client.post(f"/api/cases/{case['id']}/reopen")
    assert r.status_code == 409


async def test_soft_delete_keeps_the_row_and_freezes_it(admin_client):
    case = await create(admin_client)
    r = await admin_client.delete(f"/api/cases/{case['id']}")
    assert r.status_code == 200
    deleted = r.json()
    assert deleted["deleted_at"] is not None
    assert (await admin_client.get(f"/api/cases/{case['id']}")).json()["deleted_at"] == deleted[
        "deleted_at"
    ]
    assert (await admin_client.get("/api/cases/")).json()["total"] == 0
    await each_answers(admin_client, 409, (
        ("patch", "", {"title": "y"}),
        ("post", "/close", None),
        ("post", "/reopen", None),
    ), under=f"/api/cases/{case['id']}", detail="deleted")
    again = await admin_client.delete(f"/api/cases/{case['id']}")
    assert again.status_code == 200 and again.json()["deleted_at"] == deleted["deleted_at"]


def endpoints(case_id: int) -> list[tuple]:
    return record_calls("/api/cases", case_id)


async def test_another_tenants_case_is_404_everywhere_and_untouched(
    admin_client, other_client, other_tenant
):
    three, _ = await add_party(other_tenant.id, contacts=0)
    theirs = await create(other_client, end_customer_name="Their Person", customer_id=three)
    await each_answers(admin_client, 404, endpoints(theirs["id"]))
    assert (await admin_client.get("/api/cases/", params={"customer_id": three})).json()["total"] == 0
    assert (await other_client.get(f"/api/cases/{theirs['id']}")).json() == theirs


async def test_missing_session_is_401_everywhere(client, admin_client):
    case = await create(admin_client)
    client.cookies.clear()
    await each_answers(client, 401, [*list_calls("/api/cases"), *endpoints(case["id"])])


async def test_disabled_module_is_404(admin_client, tenant):
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    case = await create(admin_client)
    await set_module_enabled(get_host(), tenant.id, "cases", False)
    assert (await admin_client.get(f"/api/cases/{case['id']}")).status_code == 404
    assert (await admin_client.post("/api/cases/", json={"title": "x"})).status_code == 404


async def test_changes_are_in_the_event_log_refusals_are_not(admin_client, tenant):

    case = await create(admin_client)
    await admin_client.patch(f"/api/cases/{case['id']}", json={"title": "Ny"})
    await admin_client.post(f"/api/cases/{case['id']}/close")
    await admin_client.post(f"/api/cases/{case['id']}/reopen")
    assert (
        await admin_client.patch(f"/api/cases/{case['id']}", json={"end_customer_phone": "1"})
    ).status_code == 400
    await admin_client.delete(f"/api/cases/{case['id']}")
    rows = await logged(tenant.id, "cases", case["id"])
    assert [r["action"] for r in rows] == [
        "case.created",
        "case.edited",
        "case.closed",
        "case.reopened",
        "case.deleted",
    ]
    assert all(r["employee_id"] == tenant.admin_id and r["record_type"] == "case" for r in rows)


async def test_concurrent_creates_get_distinct_numbers(tenant):
    """Creates racing in separate transactions (separate connections on PostgreSQL)."""
    import asyncio

    from plugins.cases.schemas import CaseIn
    from plugins.cases.services import create_case

    rows = await asyncio.gather(
        *(create_case(tenant.id, tenant.admin_id, CaseIn(title=f"t{i}")) for i in range(8))
    )
    assert sorted(r["number"] for r in rows) == list(range(1, 9))
