"""Settings > GDPR over HTTP: retention rules, module endpoints, the word, preview, runs."""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.gdpr.engine import sweep
from core.gdpr.tables import RetentionSetting
from core.testing.client import AppClient
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_customer
from tests.support import TEST_PASSWORD, login

DAY = timedelta(days=1)


def rows_by_key(response) -> dict:
    assert response.status_code == 200, response.text
    return {r["key"]: r for r in response.json()}


async def make_user(t) -> str:
    from core.users import create_employee_with_password

    email = f"user@{t.slug}.example"
    await create_employee_with_password(t.id, "Plain User", email, "user", TEST_PASSWORD)
    return email


async def stored(tenant_id: int) -> dict:
    rows = await RetentionSetting.select().where(RetentionSetting.tenant_id == tenant_id)
    return {r["rule_key"]: (r["mode"], r["days"]) for r in rows}


async def test_retention_lists_every_rule_with_defaults_and_fixed_rules(admin_client):
    rows = rows_by_key(await admin_client.get("/api/gdpr/retention"))
    assert set(rows) == {
        "core.event_log",
        "core.system_log",
        "core.outbox",
        "core.subject_exports",
        "core.employees",
        tp.CUSTOMERS,
        tp.COMPANIES,
        tp.NOTES,
    }
    ev = rows["core.event_log"]
    assert (ev["fixed"], ev["mode"], ev["days"], ev["allowed_modes"]) == (
        True,
        "days",
        30,
        ["days"],
    )
    assert rows["core.system_log"]["fixed"] and rows["core.system_log"]["days"] == 90
    assert rows["core.subject_exports"]["fixed"] and rows["core.subject_exports"]["days"] == 7
    c = rows[tp.CUSTOMERS]
    assert c == {
        "key": tp.CUSTOMERS,
        "plugin": "gdprtest",
        "module": "gdprtest",
        "label_sv": "Testkunder",
        "label_en": "Test customers",
        "clock": ["closed", "deleted"],
        "allowed_modes": ["immediately", "days", "off"],
        "fixed": False,
        "mode": "days",
        "days": 30,
        "default_mode": "days",
        "default_days": 30,
        "record_type": "customer",
    }
    assert rows[tp.NOTES]["module"] == "gdprother"


async def test_put_changes_and_both_endpoints_agree(admin_client, tenant):
    r = await admin_client.put(
        "/api/gdpr/retention",
        json=[
            {"key": tp.CUSTOMERS, "mode": "immediately", "days": 14},
            {"key": tp.COMPANIES, "mode": "days", "days": 3650},
        ],
    )
    rows = rows_by_key(r)
    assert (rows[tp.CUSTOMERS]["mode"], rows[tp.CUSTOMERS]["days"]) == ("immediately", 14)
    module = rows_by_key(await admin_client.get("/api/gdprtest/settings"))
    assert set(module) == {tp.CUSTOMERS, tp.COMPANIES}  # notes belong to another module's page
    assert module[tp.CUSTOMERS] == rows[tp.CUSTOMERS]
    assert module[tp.COMPANIES] == rows[tp.COMPANIES]
    # And the other way round: the module endpoint writes what /api/gdpr/retention shows.
    r = await admin_client.put(
        "/api/gdprtest/settings", json=[{"key": tp.CUSTOMERS, "mode": "off"}]
    )
    assert rows_by_key(r)[tp.CUSTOMERS]["mode"] == "off"
    rows = rows_by_key(await admin_client.get("/api/gdpr/retention"))
    assert (rows[tp.CUSTOMERS]["mode"], rows[tp.CUSTOMERS]["days"]) == ("off", 14)  # days kept
    assert await stored(tenant.id) == {tp.CUSTOMERS: ("off", 14), tp.COMPANIES: ("days", 3650)}


async def test_bad_settings_are_refused_with_400_and_change_nothing(admin_client, tenant):
    ok = {"key": tp.COMPANIES, "mode": "days", "days": 100}
    cases = [
        ({"key": tp.CUSTOMERS, "mode": "days", "days": 0}, "days"),
        ({"key": tp.CUSTOMERS, "mode": "days", "days": 3651}, "days"),
        ({"key": tp.CUSTOMERS, "mode": "days", "days": -5}, "days"),
        ({"key": tp.NOTES, "mode": "immediately", "days": 5}, tp.NOTES),  # not allowed by the rule
        ({"key": tp.CUSTOMERS, "mode": "sometimes", "days": 5}, "mode"),
        ({"key": "core.event_log", "mode": "days", "days": 60}, "fixed"),
        ({"key": "core.system_log", "mode": "days", "days": 90}, "fixed"),
        ({"key": "nope.rule", "mode": "days", "days": 5}, "nope.rule"),
    ]
    for bad, word in cases:
        r = await admin_client.put("/api/gdpr/retention", json=[ok, bad])
        assert r.status_code == 400, (bad, r.text)
        assert word in r.json()["detail"], (bad, r.json())
    for body in (
        [{"key": tp.CUSTOMERS, "mode": "days", "days": 1.5}],
        [{"key": tp.CUSTOMERS, "mode": "days", "days": "10"}],
        [{"key": tp.CUSTOMERS, "mode": "days", "days": 10, "extra": 1}],
        [{"mode": "days", "days": 10}],
        {"key": tp.CUSTOMERS, "mode": "days"},
        [ok, ok],
    ):
        r = await admin_client.put("/api/gdpr/retention", json=body)
        assert r.status_code == 400, (body, r.text)
    r = await admin_client.put(
        "/api/gdpr/retention", content=b"[{", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert await stored(tenant.id) == {}  # all or nothing: the valid first item was not kept
    # A module endpoint accepts only its own rules.
    r = await admin_client.put("/api/gdprtest/settings", json=[{"key": tp.NOTES, "mode": "off"}])
    assert r.status_code == 400 and "gdprtest" in r.json()["detail"]
    assert await stored(tenant.id) == {}


async def test_settings_need_an_administrator(app, tenant):
    email = await make_user(tenant)
    async with AppClient(app=app) as anon:
        for method, path in (
            ("GET", "/api/gdpr/retention"),
            ("PUT", "/api/gdpr/retention"),
            ("GET", "/api/gdpr/settings"),
            ("GET", "/api/gdpr/runs"),
            ("POST", "/api/gdpr/sweeps/preview"),
            ("GET", "/api/gdprtest/settings"),
            ("GET", "/api/gdpr/fields"),
        ):
            r = await anon.request(method, path, json=[] if method != "GET" else None)
            assert r.status_code == 401, (method, path)
        assert (await login(anon, tenant, email=email)).status_code == 200
        for method, path, body in (
            ("GET", "/api/gdpr/retention", None),
            ("PUT", "/api/gdpr/retention", [{"key": tp.CUSTOMERS, "mode": "off"}]),
            ("PUT", "/api/gdpr/settings", {"anonymization_word": "X"}),
            ("GET", "/api/gdpr/runs", None),
            ("POST", "/api/gdpr/sweeps/preview", {}),
            ("PUT", "/api/gdprtest/settings", [{"key": tp.CUSTOMERS, "mode": "off"}]),
        ):
            r = await anon.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
    assert await stored(tenant.id) == {}


async def test_settings_are_per_tenant(app, tenant, other_tenant):
    async with AppClient(app=app) as a, AppClient(app=app) as b:
        await login(a, tenant)
        await login(b, other_tenant)
        r = await a.put(
            "/api/gdpr/retention", json=[{"key": tp.CUSTOMERS, "mode": "days", "days": 7}]
        )
        assert r.status_code == 200
        await a.put("/api/gdpr/settings", json={"anonymization_word": "Borttagen"})
        other = rows_by_key(await b.get("/api/gdpr/retention"))
        assert other[tp.CUSTOMERS]["days"] == 30
        assert (await b.get("/api/gdpr/settings")).json()["anonymization_word"] == "Anonymiserad"


async def test_anonymization_word_setting(admin_client, tenant, tenant_factory):
    r = await admin_client.get("/api/gdpr/settings")
    assert r.json() == {"anonymization_word": "Anonymiserad", "language": "sv"}
    for bad in ("", "   ", "x" * 41, "a\nb"):
        r = await admin_client.put("/api/gdpr/settings", json={"anonymization_word": bad})
        assert r.status_code == 400, bad
        assert r.json()["field"] == "anonymization_word"
    r = await admin_client.put("/api/gdpr/settings", json={"anonymization_word": "x", "more": 1})
    assert r.status_code == 400
    r = await admin_client.put("/api/gdpr/settings", json={"anonymization_word": " Anonymized "})
    assert r.status_code == 200 and r.json()["anonymization_word"] == "Anonymized"
    cid = await add_customer(tenant.id, deleted_at=utcnow() - 40 * DAY)
    await sweep(tenant.id, "gdprtest")
    row = await tp.GTCustomer.select(tp.GTCustomer.name).where(tp.GTCustomer.id == cid).first()
    assert row["name"] == "Anonymized"


async def test_preview_counts_with_stored_and_proposed_settings(admin_client, tenant, other_tenant):
    now = utcnow()
    for days in (40, 40, 10):
        await add_customer(tenant.id, deleted_at=now - days * DAY)
    await add_customer(other_tenant.id, deleted_at=now - 40 * DAY)  # not counted for us
    r = await admin_client.post("/api/gdpr/sweeps/preview", json={})
    assert r.status_code == 200, r.text
    due = {x["rule"]: x["due"] for x in r.json()}
    assert due[tp.CUSTOMERS] == 2 and due[tp.COMPANIES] == 0 and "core.event_log" in due
    r = await admin_client.post(
        "/api/gdpr/sweeps/preview",
        json={"settings": [{"key": tp.CUSTOMERS, "mode": "days", "days": 5}]},
    )
    assert {x["rule"]: x["due"] for x in r.json()}[tp.CUSTOMERS] == 3
    r = await admin_client.post(
        "/api/gdpr/sweeps/preview",
        json={"settings": [{"key": tp.CUSTOMERS, "mode": "days", "days": 0}]},
    )
    assert r.status_code == 400
    # Nothing was saved or anonymized by a preview.
    assert await stored(tenant.id) == {}
    assert (
        await tp.GTCustomer.count().where(
            (tp.GTCustomer.tenant_id == tenant.id) & tp.GTCustomer.anonymized_at.is_not_null()
        )
        == 0
    )


async def test_runs_newest_first_paginated_and_per_tenant(app, tenant, other_tenant):
    for _ in range(3):
        await sweep(tenant.id, "gdprtest")
    await sweep(other_tenant.id, "gdprtest")
    async with AppClient(app=app) as c:
        await login(c, tenant)
        r = await c.get("/api/gdpr/runs", params={"limit": 2})
        assert r.status_code == 200
        page = r.json()
        assert page["total"] == 6  # 3 sweeps x 2 rules in mode days (companies is off)
        assert len(page["items"]) == 2
        ids = [i["id"] for i in page["items"]]
        rest = (await c.get("/api/gdpr/runs", params={"limit": 200, "offset": 2})).json()["items"]
        all_ids = ids + [i["id"] for i in rest]
        assert all_ids == sorted(all_ids, reverse=True)
        assert {i["rule"] for i in rest} <= {tp.CUSTOMERS, tp.NOTES}
        only = (await c.get("/api/gdpr/runs", params={"rule": tp.NOTES})).json()
        assert only["total"] == 3
        assert (await c.get("/api/gdpr/runs", params={"limit": 0})).status_code == 400
        assert (await c.get("/api/gdpr/runs", params={"offset": -1})).status_code == 400


async def test_fields_overview(admin_client):
    r = await admin_client.get("/api/gdpr/fields")
    assert r.status_code == 200
    rows = {(f["plugin"], f["table"], f["column"], f["rule"]) for f in r.json()}
    assert ("gdprtest", "gdprtest_contact", "name", tp.CUSTOMERS) in rows
    assert ("gdprlinks", "gdprtest_link", "customer_id", None) in rows
    assert ("core", "employee", "email", "core.employees") in rows
