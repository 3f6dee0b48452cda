"""Projects: CRUD, life cycle, children, validation, tenant isolation and plan approval."""

from __future__ import annotations

from plugins.projects.tables import (
    ExtraCost,
    Installment,
    PartnerInvitation,
    PaymentPlan,
    Project,
    SubProject,
)
from plugins.projects.tests.conftest import PLAN, make_project, send_plan
from tests.support import created, each_answers

ALL_TABLES = (Project, SubProject, ExtraCost, PaymentPlan, Installment, PartnerInvitation)


async def _counts(tenant_id: int) -> list[int]:
    return [await t.count().where(t.tenant_id == tenant_id) for t in ALL_TABLES]


async def _full_project(client) -> dict:  # type: ignore[no-untyped-def]
    project = await make_project(client)
    pid = project["id"]
    await created(client, f"/api/projects/{pid}/sub-projects", {"name": "Kök", "description": "Nytt kök åt Sven"})
    await created(client, f"/api/projects/{pid}/extra-costs", {"description": "Extra el åt Sven", "amount": "1250.50"})
    await created(client, f"/api/projects/{pid}/partner-invitations", {
        "partner_company": "Rör AB", "partner_contact": "Rolf Rör", "partner_email": "rolf@ror.se",
        "comment": "Sven vill ha det klart till jul",
    })
    await created(client, f"/api/projects/{pid}/payment-plans", PLAN)
    return (await client.get(f"/api/projects/{pid}")).json()


async def test_create_normalizes_and_numbers(admin_client):
    project = await make_project(admin_client)
    assert project["status"] == "open" and project["number"] >= 1
    assert project["end_customer_phone"] == "+46701234567"
    assert project["end_customer_email"] == "sven@example.se"
    assert project["customer_id"] and project["contact_person_id"]  # make_project's new customer's
    assert project["sub_projects"] == [] and project["extra_costs_total"] == "0.00"
    second = await make_project(admin_client, title="Annat", customer_id=0)
    assert second["number"] == project["number"] + 1


async def test_list_filters_and_paging(admin_client):
    a = await make_project(admin_client)
    b = await make_project(admin_client, title="Garage")  # another customer
    page = (await admin_client.get("/api/projects/")).json()
    assert page["total"] == 2 and [p["id"] for p in page["items"]] == [b["id"], a["id"]]
    assert (await admin_client.get("/api/projects/", params={"customer_id": b["customer_id"]})).json()["total"] == 1
    assert (await admin_client.get("/api/projects/", params={"q": "garage"})).json()["items"][0]["id"] == b["id"]
    await admin_client.post(f"/api/projects/{a['id']}/close")
    assert (await admin_client.get("/api/projects/", params={"status": "closed"})).json()["total"] == 1
    page = (await admin_client.get("/api/projects/", params={"limit": 1, "offset": 1})).json()
    assert page["total"] == 2 and [p["id"] for p in page["items"]] == [a["id"]]
    for params in ({"limit": 201}, {"limit": 0}, {"offset": -1}, {"status": "done"}, {"customer_id": -1}):
        assert (await admin_client.get("/api/projects/", params=params)).status_code == 400, params


async def test_children_crud(admin_client):
    project = await _full_project(admin_client)
    pid = project["id"]
    assert [s["name"] for s in project["sub_projects"]] == ["Kök"]
    assert project["extra_costs_total"] == "1250.50"
    plan = project["payment_plans"][0]
    assert plan["status"] == "draft" and plan["total"] == "15000.50"
    assert [i["amount"] for i in plan["installments"]] == ["10000.00", "5000.50"]
    inv = project["partner_invitations"][0]
    assert inv["status"] == "invited" and inv["partner_email"] == "rolf@ror.se"

    sub_id = project["sub_projects"][0]["id"]
    r = await admin_client.patch(f"/api/projects/sub-projects/{sub_id}", json={"name": "Kök och bad"})
    assert r.status_code == 200 and r.json()["name"] == "Kök och bad"
    assert (await admin_client.get(f"/api/projects/sub-projects/{sub_id}")).json()["name"] == "Kök och bad"
    cost_id = project["extra_costs"][0]["id"]
    r = await admin_client.patch(f"/api/projects/extra-costs/{cost_id}", json={"amount": 99})
    assert r.status_code == 200 and r.json()["amount"] == "99.00"
    r = await admin_client.patch(f"/api/projects/partner-invitations/{inv['id']}", json={"status": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = await admin_client.patch(f"/api/projects/payment-plans/{plan['id']}", json={
        "installments": [{"due_date": "2027-03-01", "amount": 42}]
    })
    assert r.status_code == 200 and r.json()["total"] == "42.00" and len(r.json()["installments"]) == 1
    inst_id = r.json()["installments"][0]["id"]
    assert (await admin_client.get(f"/api/projects/installments/{inst_id}")).json()["id"] == plan["id"]

    for url in (
        f"/api/projects/sub-projects/{sub_id}",
        f"/api/projects/extra-costs/{cost_id}",
        f"/api/projects/partner-invitations/{inv['id']}",
        f"/api/projects/payment-plans/{plan['id']}",
    ):
        r = await admin_client.delete(url)
        assert r.status_code == 200, (url, r.text)
        assert (await admin_client.get(url)).status_code == 404
    detail = (await admin_client.get(f"/api/projects/{pid}")).json()
    assert (
        detail["sub_projects"]
        == detail["extra_costs"]
        == detail["payment_plans"]
        == detail["partner_invitations"]
        == []
    )
    assert await Installment.count().where(Installment.project_id == pid) == 0


async def test_life_cycle(admin_client):
    project = await _full_project(admin_client)
    pid = project["id"]
    closed = (await admin_client.post(f"/api/projects/{pid}/close")).json()
    assert closed["status"] == "closed" and closed["closed_at"]
    # A closed project is read-only until reopened.
    assert (await admin_client.patch(f"/api/projects/{pid}", json={"title": "x"})).status_code == 409
    assert (await admin_client.post(f"/api/projects/{pid}/sub-projects", json={"name": "x"})).status_code == 409
    sub_id = project["sub_projects"][0]["id"]
    assert (await admin_client.patch(f"/api/projects/sub-projects/{sub_id}", json={"name": "x"})).status_code == 409
    assert (await admin_client.post(f"/api/projects/{pid}/close")).status_code == 409
    reopened = (await admin_client.post(f"/api/projects/{pid}/reopen")).json()
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    r = await admin_client.patch(f"/api/projects/{pid}", json={"end_customer_phone": "", "title": "Ny rubrik"})
    assert r.status_code == 200 and r.json()["end_customer_phone"] == "" and r.json()["title"] == "Ny rubrik"
    deleted = (await admin_client.delete(f"/api/projects/{pid}")).json()
    assert deleted["deleted_at"]
    assert (await admin_client.get("/api/projects/")).json()["total"] == 0
    assert (await admin_client.get("/api/projects/", params={"include_deleted": True})).json()["total"] == 1
    assert (await admin_client.post(f"/api/projects/{pid}/reopen")).status_code == 409
    assert (await admin_client.delete(f"/api/projects/{pid}")).json()["deleted_at"] == deleted["deleted_at"]


async def test_bad_input_on_every_write_endpoint_is_400_and_writes_nothing(admin_client, tenant):
    project = await _full_project(admin_client)
    pid = project["id"]
    sub_id = project["sub_projects"][0]["id"]
    cost_id = project["extra_costs"][0]["id"]
    inv_id = project["partner_invitations"][0]["id"]
    plan_id = project["payment_plans"][0]["id"]
    before = await _counts(tenant.id)
    cases = [
        ("post", "/api/projects/", {"title": ""}, "title"),
        ("post", "/api/projects/", {"title": "  "}, "title"),
        ("post", "/api/projects/", {"title": "A", "end_customer_phone": "12"}, "end_customer_phone"),
        ("post", "/api/projects/", {"title": "A", "end_customer_email": "nope"}, "end_customer_email"),
        ("post", "/api/projects/", {"title": "A", "email": "a@"}, "email"),
        ("post", "/api/projects/", {"title": "A", "customer_id": -1}, "customer_id"),
        ("post", "/api/projects/", {"title": "A", "status": "closed"}, "status"),
        ("patch", f"/api/projects/{pid}", {"title": ""}, "title"),
        ("patch", f"/api/projects/{pid}", {"contact_person_id": 2**31}, "contact_person_id"),
        ("patch", f"/api/projects/{pid}", {"end_customer_email": "x"}, "end_customer_email"),
        ("post", f"/api/projects/{pid}/sub-projects", {"name": " "}, "name"),
        ("post", f"/api/projects/{pid}/sub-projects", {"description": "x"}, "name"),
        ("patch", f"/api/projects/sub-projects/{sub_id}", {"name": ""}, "name"),
        ("post", f"/api/projects/{pid}/extra-costs", {"description": "x", "amount": 0}, "amount"),
        ("post", f"/api/projects/{pid}/extra-costs", {"description": "x", "amount": "1.234"}, "amount"),
        ("post", f"/api/projects/{pid}/extra-costs", {"description": " ", "amount": 1}, "description"),
        ("patch", f"/api/projects/extra-costs/{cost_id}", {"amount": "Infinity"}, "amount"),
        ("post", f"/api/projects/{pid}/partner-invitations", {"partner_company": ""}, "partner_company"),
        (
            "post",
            f"/api/projects/{pid}/partner-invitations",
            {"partner_company": "A", "partner_email": "x"},
            "partner_email",
        ),
        ("patch", f"/api/projects/partner-invitations/{inv_id}", {"status": "maybe"}, "status"),
        ("post", f"/api/projects/{pid}/payment-plans", {"title": "P", "installments": []}, "installments"),
        (
            "post",
            f"/api/projects/{pid}/payment-plans",
            {"title": "P", "installments": [{"due_date": "2027-13-01", "amount": 1}]},
            "due_date",
        ),
        (
            "post",
            f"/api/projects/{pid}/payment-plans",
            {"title": "P", "installments": [{"due_date": "2027-01-01", "amount": -5}]},
            "amount",
        ),
        ("patch", f"/api/projects/payment-plans/{plan_id}", {"title": " "}, "title"),
        (
            "patch",
            f"/api/projects/payment-plans/{plan_id}",
            {"installments": [{"due_date": "2027-01-01", "amount": "x"}]},
            "amount",
        ),
        ("post", f"/api/projects/payment-plans/{plan_id}/send", {"email": "nope"}, "email"),
        ("post", f"/api/projects/payment-plans/{plan_id}/send", {}, "email"),
    ]
    await each_answers(admin_client, 400, cases)
    r = await admin_client.post("/api/projects/", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert await _counts(tenant.id) == before
    assert (await admin_client.get(f"/api/projects/{pid}")).json() == project


async def test_login_is_required(client):
    for method, url in [
        ("get", "/api/projects/"), ("post", "/api/projects/"), ("get", "/api/projects/1"),
        ("patch", "/api/projects/1"), ("delete", "/api/projects/1"), ("post", "/api/projects/1/close"),
        ("post", "/api/projects/1/reopen"), ("post", "/api/projects/1/sub-projects"),
        ("get", "/api/projects/sub-projects/1"), ("patch", "/api/projects/sub-projects/1"),
        ("delete", "/api/projects/sub-projects/1"), ("post", "/api/projects/1/extra-costs"),
        ("get", "/api/projects/extra-costs/1"), ("patch", "/api/projects/extra-costs/1"),
        ("delete", "/api/projects/extra-costs/1"), ("post", "/api/projects/1/partner-invitations"),
        ("get", "/api/projects/partner-invitations/1"), ("patch", "/api/projects/partner-invitations/1"),
        ("delete", "/api/projects/partner-invitations/1"), ("post", "/api/projects/1/payment-plans"),
        ("get", "/api/projects/payment-plans/1"), ("patch", "/api/projects/payment-plans/1"),
        ("delete", "/api/projects/payment-plans/1"), ("post", "/api/projects/payment-plans/1/send"),
        ("get", "/api/projects/installments/1"), ("get", "/api/projects/settings"),
    ]:
        kwargs = {"json": {}} if method in ("post", "patch") else {}
        r = await getattr(client, method)(url, **kwargs)
        assert r.status_code == 401, (method, url, r.status_code)


async def test_other_tenants_ids_are_404_everywhere(admin_client, other_client, tenant):
    project = await _full_project(admin_client)
    pid = project["id"]
    sub_id = project["sub_projects"][0]["id"]
    cost_id = project["extra_costs"][0]["id"]
    inv_id = project["partner_invitations"][0]["id"]
    plan_id = project["payment_plans"][0]["id"]
    inst_id = project["payment_plans"][0]["installments"][0]["id"]
    before = await _counts(tenant.id)
    calls = [
        ("get", f"/api/projects/{pid}", None),
        ("patch", f"/api/projects/{pid}", {"title": "Stulen"}),
        ("delete", f"/api/projects/{pid}", None),
        ("post", f"/api/projects/{pid}/close", None),
        ("post", f"/api/projects/{pid}/reopen", None),
        ("post", f"/api/projects/{pid}/sub-projects", {"name": "x"}),
        ("get", f"/api/projects/sub-projects/{sub_id}", None),
        ("patch", f"/api/projects/sub-projects/{sub_id}", {"name": "x"}),
        ("delete", f"/api/projects/sub-projects/{sub_id}", None),
        ("post", f"/api/projects/{pid}/extra-costs", {"description": "x", "amount": 1}),
        ("get", f"/api/projects/extra-costs/{cost_id}", None),
        ("patch", f"/api/projects/extra-costs/{cost_id}", {"amount": 1}),
        ("delete", f"/api/projects/extra-costs/{cost_id}", None),
        ("post", f"/api/projects/{pid}/partner-invitations", {"partner_company": "x"}),
        ("get", f"/api/projects/partner-invitations/{inv_id}", None),
        ("patch", f"/api/projects/partner-invitations/{inv_id}", {"comment": "x"}),
        ("delete", f"/api/projects/partner-invitations/{inv_id}", None),
        ("post", f"/api/projects/{pid}/payment-plans", PLAN),
        ("get", f"/api/projects/payment-plans/{plan_id}", None),
        ("patch", f"/api/projects/payment-plans/{plan_id}", {"title": "x"}),
        ("delete", f"/api/projects/payment-plans/{plan_id}", None),
        ("post", f"/api/projects/payment-plans/{plan_id}/send", {"email": "tjuv@example.se"}),
        ("get", f"/api/projects/installments/{inst_id}", None),
    ]
    await each_answers(other_client, 404, calls)
    assert (await other_client.get("/api/projects/")).json()["total"] == 0
    assert (await other_client.get("/api/projects/", params={"customer_id": project["customer_id"]})).json()[
        "total"
    ] == 0
    assert await _counts(tenant.id) == before
    assert (await admin_client.get(f"/api/projects/{pid}")).json() == project


async def test_payment_plan_approval_through_the_link(admin_client, anon_client):
    project = await _full_project(admin_client)
    plan = project["payment_plans"][0]
    token = await send_plan(admin_client, plan["id"])
    shown = await anon_client.get(f"/api/projects/public/payment-plans/{token}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["total"] == "15000.50" and shown.json()["can_approve"] is True
    assert "sent_to_email" not in shown.json()
    for body, field in [({"name": "", "email": "a@b.se"}, "name"), ({"name": "S", "email": "x"}, "email")]:
        r = await anon_client.post(f"/api/projects/public/payment-plans/{token}/approve", json=body)
        assert r.status_code == 400 and field in r.text
    r = await anon_client.post(
        f"/api/projects/public/payment-plans/{token}/approve",
        json={"name": "Sven Svensson", "email": "sven@example.se"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    got = (await admin_client.get(f"/api/projects/payment-plans/{plan['id']}")).json()
    assert got["status"] == "approved" and got["approver_name"] == "Sven Svensson" and got["approved_at"]
    again = await anon_client.post(
        f"/api/projects/public/payment-plans/{token}/approve", json={"name": "S", "email": "a@b.se"}
    )
    assert again.status_code == 409
    # An approved plan is fixed.
    assert (
        await admin_client.patch(f"/api/projects/payment-plans/{plan['id']}", json={"title": "x"})
    ).status_code == 409
    assert (await admin_client.delete(f"/api/projects/payment-plans/{plan['id']}")).status_code == 409
    assert (await anon_client.get("/api/projects/public/payment-plans/unknown")).status_code == 404
    r = await anon_client.post(
        "/api/projects/public/payment-plans/unknown/approve", json={"name": "S", "email": "a@b.se"}
    )
    assert r.status_code == 404


async def test_plan_link_dies_with_the_project_or_the_module(admin_client, anon_client):
    project = await _full_project(admin_client)
    token = await send_plan(admin_client, project["payment_plans"][0]["id"])
    assert (await admin_client.put("/api/modules/projects", json={"enabled": False})).status_code == 200
    assert (await anon_client.get(f"/api/projects/public/payment-plans/{token}")).status_code == 404
    assert (await admin_client.put("/api/modules/projects", json={"enabled": True})).status_code == 200
    assert (await anon_client.get(f"/api/projects/public/payment-plans/{token}")).status_code == 200
    await admin_client.post(f"/api/projects/{project['id']}/close")
    assert (await anon_client.get(f"/api/projects/public/payment-plans/{token}")).status_code == 404


async def test_plan_approval_with_sms_signing(admin_client, anon_client, two_factor):
    project = await _full_project(admin_client)
    plan_id = project["payment_plans"][0]["id"]
    token = await send_plan(admin_client, plan_id)
    body = {"name": "Sven Svensson", "email": "sven@example.se"}
    r = await anon_client.post(f"/api/projects/public/payment-plans/{token}/approve", json=body)
    assert r.status_code == 202 and r.json()["second_factor"]["challenge_id"] == "ch-1"
    asked = two_factor.requests[0]
    assert (asked.context, asked.person_kind, asked.person_id) == (
        "payment_plans",
        "contact",
        project["contact_person_id"],
    )
    assert (await admin_client.get(f"/api/projects/payment-plans/{plan_id}")).json()["status"] == "sent"
    two_factor.verified.add("ch-1")
    r = await anon_client.post(
        f"/api/projects/public/payment-plans/{token}/approve", json={**body, "challenge_id": "ch-1"}
    )
    assert r.status_code == 200, r.text
    got = (await admin_client.get(f"/api/projects/payment-plans/{plan_id}")).json()
    assert got["status"] == "approved" and got["approver_phone"] == "+46 70•••••67"



async def test_concurrent_creates_get_distinct_numbers(tenant):
    """Five creates racing in one tenant: five different numbers, none refused."""
    import asyncio

    from plugins.projects.schemas import ProjectIn
    from plugins.projects.services import create_project

    made = await asyncio.gather(*[create_project(tenant.id, 0, ProjectIn(title=f"P{i}")) for i in range(5)])
    numbers = sorted(p["number"] for p in made)
    assert numbers == [1, 2, 3, 4, 5]


async def test_every_change_is_in_the_event_log(admin_client, anon_client, tenant):
    """#18.4: the service logs each step on the project (parts included; the customer's
    approval has no employee)."""
    from core.eventlog import EventLog

    project = await _full_project(admin_client)
    pid = project["id"]
    plan = project["payment_plans"][0]
    assert (await admin_client.patch(f"/api/projects/{pid}", json={"title": "Kök 2"})).status_code == 200
    token = await send_plan(admin_client, plan["id"])
    r = await anon_client.post(f"/api/projects/public/payment-plans/{token}/approve",
                               json={"name": "Sven Svensson", "email": "sven@example.se"})
    assert r.status_code == 200, r.text
    sub = project["sub_projects"][0]["id"]
    assert (await admin_client.delete(f"/api/projects/sub-projects/{sub}")).status_code in (200, 204)
    assert (await admin_client.post(f"/api/projects/{pid}/close")).status_code == 200
    assert (await admin_client.post(f"/api/projects/{pid}/reopen")).status_code == 200
    assert (await admin_client.delete(f"/api/projects/{pid}")).status_code == 200
    rows = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.record_type == "project") & (EventLog.record_id == pid)
    ).order_by(EventLog.id)
    assert [r["action"] for r in rows] == [
        "project.created", "project.sub_project_added", "project.extra_cost_added",
        "project.partner_invitation_added", "project.payment_plan_added", "project.edited",
        "project.payment_plan_sent", "project.payment_plan_approved", "project.sub_project_deleted",
        "project.closed", "project.reopened", "project.deleted",
    ]
    assert next(r for r in rows if r["action"] == "project.payment_plan_approved")["employee_id"] is None
    assert all(r["employee_id"] for r in rows if r["action"] != "project.payment_plan_approved")


async def test_refusals_carry_codes(admin_client):
    """#18.2: a refusal says what went wrong as a stable code besides the text."""
    project = await make_project(admin_client)
    r = await admin_client.patch(f"/api/projects/{project['id']}", json={"title": " "})
    assert r.status_code == 400 and r.json()["code"] == "project.text_required", r.text
    r = await admin_client.post(f"/api/projects/{project['id']}/reopen")
    assert r.status_code == 409 and r.json()["code"] == "project.not_open", r.text
    r = await admin_client.get("/api/projects/sub-projects/2147483647")
    assert r.status_code == 404 and r.json()["code"] == "sub_project.not_found", r.text
