"""Rule M20 column by column: closed or deleted projects, N days later."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import time_machine

from core.activity.service import add_activity, list_activity
from core.db import utcnow
from core.gdpr.engine import sweep
from core.gdpr.registry import get_declarations
from core.plugins import get_host
from plugins.projects.tables import (
    ExtraCost,
    Installment,
    PartnerInvitation,
    PaymentPlan,
    Project,
    SubProject,
)
from plugins.projects.tests.conftest import PLAN, make_project, send_plan
from tests.modules import set_rule
from tests.support import created

DAYS = 45
KINDS = ("comment", "work_report", "conversation", "note")


async def _full_project(client, anon_client, tenant, approve: bool = True) -> int:  # type: ignore[no-untyped-def]
    project = await make_project(client)
    pid = project["id"]
    await created(
        client, f"/api/projects/{pid}/sub-projects", {"name": "Kök åt Sven", "description": "Sven vill ha ek"}
    )
    await created(client, f"/api/projects/{pid}/extra-costs", {"description": "Extra el åt Sven", "amount": "1250.50"})
    await created(client, f"/api/projects/{pid}/extra-costs", {"description": "Frakt", "amount": "300"})
    await created(client, f"/api/projects/{pid}/partner-invitations", {
        "partner_company": "Rör AB", "partner_contact": "Rolf Rör", "partner_email": "rolf@ror.se",
        "comment": "Sven vill ha det klart till jul",
    })
    plan = await created(client, f"/api/projects/{pid}/payment-plans", PLAN)
    token = await send_plan(client, plan["id"])
    if approve:
        r = await anon_client.post(
            f"/api/projects/public/payment-plans/{token}/approve",
            json={"name": "Sven Svensson", "email": "sven@example.se"},
        )
        assert r.status_code == 200, r.text
    for kind in KINDS:
        await add_activity(
            tenant.id, "projects", "project", pid, kind, f"{kind}: Sven ringde", tenant.admin_id, "Admin"
        )
    return int(pid)


async def _snapshot(pid: int) -> dict:
    return {
        "project": await Project.select().where(Project.id == pid).first(),
        "subs": await SubProject.select().where(SubProject.project_id == pid).order_by(SubProject.id),
        "costs": await ExtraCost.select().where(ExtraCost.project_id == pid).order_by(ExtraCost.id),
        "plans": await PaymentPlan.select().where(PaymentPlan.project_id == pid).order_by(PaymentPlan.id),
        "installments": await Installment.select().where(Installment.project_id == pid).order_by(Installment.id),
        "invitations": await PartnerInvitation.select()
        .where(PartnerInvitation.project_id == pid)
        .order_by(PartnerInvitation.id),
    }


async def _kinds(tenant_id: int, pid: int) -> set[str]:
    _, rows = await list_activity(tenant_id, "projects", "project", pid)
    return {r["kind"] for r in rows}


def assert_anonymized(s: dict, status: str) -> None:
    p = s["project"]
    assert p["anonymized_at"] is not None and p["status"] == status
    # title, customer information and end-customer information cleared
    assert p["title"] == "Anonymiserad"
    assert p["customer_id"] == 0 and p["contact_person_id"] == 0
    assert (p["end_customer_name"], p["end_customer_address"], p["end_customer_phone"], p["end_customer_email"]) == (
        "",
        "",
        "",
        "",
    )
    assert p["email"] == ""
    assert p["number"] >= 1 and p["created_at"] is not None
    # sub-project names and descriptions
    assert [(x["name"], x["description"]) for x in s["subs"]] == [("Anonymiserad", "")]
    # extra costs: the text goes, the amount stays
    assert [(x["description"], x["amount"]) for x in s["costs"]] == [("", Decimal("1250.50")), ("", Decimal("300.00"))]
    # payment plans anonymized: who approved it, where it was sent, the link, the texts
    plan = s["plans"][0]
    assert plan["title"] == "Anonymiserad"
    assert (plan["approver_name"], plan["approver_email"], plan["approver_phone"], plan["sent_to_email"]) == (
        "",
        "",
        "",
        "",
    )
    assert plan["public_token_hash"] is None
    assert plan["status"] == "approved" and plan["approved_at"] is not None
    assert [(x["description"], x["amount"]) for x in s["installments"]] == [
        ("", Decimal("10000.00")),
        ("", Decimal("5000.50")),
    ]
    # partner invitations: the comment goes; the partner company and its contact stay
    inv = s["invitations"][0]
    assert inv["comment"] == "" and inv["partner_company"] == "Rör AB" and inv["partner_contact"] == "Rolf Rör"


def assert_untouched(s: dict) -> None:
    p = s["project"]
    assert p["anonymized_at"] is None
    assert p["title"] == "Villa Svensson, tillbyggnad" and p["customer_id"] and p["contact_person_id"]
    assert p["end_customer_name"] == "Sven Svensson" and p["end_customer_email"] == "sven@example.se"
    assert p["end_customer_phone"] == "+46701234567" and p["email"] == "projekt@example.se"
    assert s["subs"][0]["name"] == "Kök åt Sven" and s["subs"][0]["description"] == "Sven vill ha ek"
    assert s["costs"][0]["description"] == "Extra el åt Sven"
    assert s["plans"][0]["approver_name"] == "Sven Svensson" and s["plans"][0]["public_token_hash"]
    assert s["installments"][0]["description"] == "Första delen, Sven"
    assert s["invitations"][0]["comment"] == "Sven vill ha det klart till jul"


async def test_m20_closed_and_deleted_just_inside_and_outside(admin_client, anon_client, tenant):
    await set_rule(admin_client, "projects", "projects", "days", DAYS)
    t0 = utcnow() - timedelta(days=90)
    with time_machine.travel(t0, tick=False):
        closed = await _full_project(admin_client, anon_client, tenant)
        deleted = await _full_project(admin_client, anon_client, tenant)
        still_open = await _full_project(admin_client, anon_client, tenant)
        late = await _full_project(admin_client, anon_client, tenant)
        assert (await admin_client.post(f"/api/projects/{closed}/close")).status_code == 200
        assert (await admin_client.delete(f"/api/projects/{deleted}")).status_code == 200
    with time_machine.travel(t0 + timedelta(seconds=2), tick=False):
        assert (await admin_client.post(f"/api/projects/{late}/close")).status_code == 200

    with time_machine.travel(t0 + timedelta(days=DAYS), tick=False):
        assert [(r.rule, r.records) for r in await sweep(tenant.id, "projects")] == [("projects", 0)]
    with time_machine.travel(t0 + timedelta(days=DAYS, seconds=1), tick=False):
        assert [(r.rule, r.records) for r in await sweep(tenant.id, "projects")] == [("projects", 2)]

    assert_anonymized(await _snapshot(closed), "closed")
    assert_anonymized(await _snapshot(deleted), "open")
    for pid in (closed, deleted):
        # comments, work reports, conversations and notes cleared (#17: notes are free
        # text about the customer too)
        assert await _kinds(tenant.id, pid) == set()
    for pid in (still_open, late):
        assert_untouched(await _snapshot(pid))
        assert await _kinds(tenant.id, pid) == set(KINDS)

    with time_machine.travel(t0 + timedelta(days=DAYS, seconds=3), tick=False):
        assert [r.records for r in await sweep(tenant.id, "projects")] == [1]
    assert_anonymized(await _snapshot(late), "closed")
    assert_untouched(await _snapshot(still_open))


async def test_m20_amounts_stay(admin_client, anon_client, tenant):
    await set_rule(admin_client, "projects", "projects", "days", DAYS)
    with time_machine.travel(utcnow() - timedelta(days=DAYS + 1), tick=False):
        pid = await _full_project(admin_client, anon_client, tenant)
        before = (await admin_client.get(f"/api/projects/{pid}")).json()
        await admin_client.post(f"/api/projects/{pid}/close")
    assert [r.records for r in await sweep(tenant.id, "projects")] == [1]
    after = (await admin_client.get(f"/api/projects/{pid}")).json()
    assert after["extra_costs_total"] == before["extra_costs_total"] == "1550.50"
    assert after["payment_plans"][0]["total"] == before["payment_plans"][0]["total"] == "15000.50"
    assert [i["due_date"] for i in after["payment_plans"][0]["installments"]] == ["2026-12-31", "2027-01-31"]
    # An anonymized project cannot be reopened or edited, and its plan link is dead.
    assert (await admin_client.post(f"/api/projects/{pid}/reopen")).status_code == 409


async def test_m20_immediately_on_delete_and_close(admin_client, anon_client, tenant):
    await set_rule(admin_client, "projects", "projects", "immediately")
    deleted = await _full_project(admin_client, anon_client, tenant)
    r = await admin_client.delete(f"/api/projects/{deleted}")
    assert r.status_code == 200 and r.json()["anonymized_at"] is not None
    assert_anonymized(await _snapshot(deleted), "open")
    closed = await _full_project(admin_client, anon_client, tenant)
    r = await admin_client.post(f"/api/projects/{closed}/close")
    assert r.status_code == 200 and r.json()["title"] == "Anonymiserad"
    assert_anonymized(await _snapshot(closed), "closed")


async def test_m20_unapproved_plan_link_dies(admin_client, anon_client, tenant):
    await set_rule(admin_client, "projects", "projects", "immediately")
    pid = await _full_project(admin_client, anon_client, tenant, approve=False)
    token = await send_plan(admin_client, (await _snapshot(pid))["plans"][0]["id"])
    await admin_client.delete(f"/api/projects/{pid}")
    assert (await anon_client.get(f"/api/projects/public/payment-plans/{token}")).status_code == 404
    plan = (await _snapshot(pid))["plans"][0]
    assert plan["public_token_hash"] is None and plan["sent_to_email"] == ""


async def test_declarations_and_search_sources():
    decl = get_declarations()
    mine = [f for f in decl.fields if f.owner == "projects"]
    ruled = {(f.table._meta.tablename, f.field.column) for f in mine if f.field.rule == "projects"}
    assert ("project", "customer_id") in ruled and ("project_installment", "description") in ruled
    for f in mine:
        if f.table is not Project:
            assert f.field.parent_column == "project_id"
    refs = {(f.field.column, f.field.category, f.field.strategy) for f in mine if f.field.category.endswith("_ref")}
    assert refs == {("customer_id", "customer_ref", "zero"), ("contact_person_id", "contact_ref", "zero")}
    sources = get_host().collect_by_plugin("declare_search_sources")["projects"]
    declared = {(f.table._meta.tablename, f.field.column) for f in mine}
    assert {(s.table._meta.tablename, s.column) for s in sources} == declared
    assert {(s.area, s.place_sv, s.place_en) for s in sources} == {("workcloud", "Projekt", "Projects")}
    assert all(s.link is not None and s.link(7).startswith("/api/projects/") for s in sources)
    rule = decl.rules["projects"].rule
    assert set(rule.clears_activity) == {"comment", "work_report", "note", "conversation"}


async def test_customer_and_contact_anonymization_zero_the_project_links(admin_client, tenant):
    """The customers plugin's rules reach project.customer_id / contact_person_id."""
    if "customers" not in get_host().modules():
        import pytest

        pytest.skip("the customers plugin is not installed")
    customer = (await admin_client.post("/api/customers/", json={"name": "Acme AB", "kind": "company"})).json()
    contact = (await admin_client.post(f"/api/customers/{customer['id']}/contacts", json={"name": "Karin"})).json()
    project = await make_project(admin_client, customer_id=customer["id"], contact_person_id=contact["id"])
    r = await admin_client.put("/api/customers/settings", json=[
        {"key": "customers", "mode": "immediately"}, {"key": "contact_persons", "mode": "immediately"},
    ])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/customers/contacts/{contact['id']}")).status_code == 200
    assert (await admin_client.delete(f"/api/customers/{customer['id']}")).status_code == 200
    row = (await _snapshot(project["id"]))["project"]
    assert (row["customer_id"], row["contact_person_id"]) == (0, 0)
    assert row["anonymized_at"] is None and row["end_customer_name"] == "Sven Svensson"
