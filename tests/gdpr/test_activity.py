"""Activity on any plugin's record: adding, listing, and refusing what is not there."""

from __future__ import annotations

import pytest

from core.activity import ActivityError, add_activity, list_activity
from core.db import utcnow
from core.testing.client import AppClient
from tests.gdpr.conftest import add_customer
from tests.support import login


def path(record_id: int, plugin: str = "gdprtest", record_type: str = "customer") -> str:
    return f"/api/activity/{plugin}/{record_type}/{record_id}"


async def test_add_and_list_with_author_from_the_session(admin_client, tenant):
    cid = await add_customer(tenant.id)
    r = await admin_client.post(path(cid), json={"kind": "comment", "body": "Called, no answer"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["author_id"] == tenant.admin_id and entry["author_name"] == "Admin Person"
    assert (entry["plugin"], entry["record_type"], entry["record_id"], entry["kind"]) == (
        "gdprtest",
        "customer",
        cid,
        "comment",
    )
    await admin_client.post(path(cid), json={"kind": "work_report", "body": "2h on site"})
    page = (await admin_client.get(path(cid))).json()
    assert page["total"] == 2 and [e["kind"] for e in page["items"]] == ["comment", "work_report"]
    only = (await admin_client.get(path(cid), params={"kind": "work_report"})).json()
    assert [e["body"] for e in only["items"]] == ["2h on site"]


async def test_refusals(app, admin_client, tenant, other_tenant):
    cid = await add_customer(tenant.id)
    theirs = await add_customer(other_tenant.id)
    ok = {"kind": "note", "body": "x"}
    for p in (
        path(theirs),
        path(999_999_999),
        path(2**40),
        path(0),
        path(cid, plugin="nope"),
        path(cid, record_type="nope"),
    ):
        assert (await admin_client.post(p, json=ok)).status_code == 404, p
        assert (await admin_client.get(p)).status_code == 404, p
    for body in (
        {"kind": "gossip", "body": "x"},
        {"kind": "note", "body": ""},
        {"kind": "note"},
        {"kind": "note", "body": "x", "author_id": 1},
        {"kind": "note", "body": "x" * 20_001},
    ):
        r = await admin_client.post(path(cid), json=body)
        assert r.status_code == 400, body
    async with AppClient(app=app) as anon:
        assert (await anon.get(path(cid))).status_code == 401
        assert (await anon.post(path(cid), json=ok)).status_code == 401
    # Nothing was written by any refusal.
    total, _ = await list_activity(tenant.id, "gdprtest", "customer", cid)
    assert total == 0


async def test_anonymized_record_takes_no_new_activity(admin_client, tenant):
    cid = await add_customer(tenant.id, deleted_at=utcnow(), anonymized_at=utcnow())
    r = await admin_client.post(path(cid), json={"kind": "comment", "body": "hello"})
    assert r.status_code == 409


async def test_disabled_module_hides_activity(app, tenant_factory):
    t = await tenant_factory(modules=[])
    cid = await add_customer(t.id)
    async with AppClient(app=app) as c:
        await login(c, t)
        assert (await c.get(path(cid))).status_code == 404
        assert (await c.post(path(cid), json={"kind": "note", "body": "x"})).status_code == 404


async def test_python_helper(tenant):
    row = await add_activity(
        tenant.id, "gdprtest", "customer", 5, "conversation", "Hej!", None, "Kund AB"
    )
    assert row["author_id"] is None and row["author_name"] == "Kund AB"
    with pytest.raises(ActivityError):
        await add_activity(tenant.id, "gdprtest", "customer", 5, "gossip", "x", None, "")
    total, rows = await list_activity(tenant.id, "gdprtest", "customer", 5)
    assert total == 1 and rows[0]["body"] == "Hej!"


async def test_a_type_nobody_said_who_may_open_is_refused(admin_client, tenant):
    """gdprtest's notes declare no ``can_open``: even the administrator gets the answer of
    a record that does not exist (fail closed), and nothing is written."""
    from tests.gdpr.plugin import GTNote

    rows = await GTNote.insert(GTNote(tenant_id=tenant.id)).returning(GTNote.id)
    nid = int(rows[0]["id"])
    missing = await admin_client.get(path(2**31 - 1, record_type="note"))
    for r in (
        await admin_client.get(path(nid, record_type="note")),
        await admin_client.post(path(nid, record_type="note"), json={"kind": "note", "body": "x"}),
    ):
        assert r.status_code == 404
        assert r.json()["detail"] == missing.json()["detail"].replace(str(2**31 - 1), str(nid))
    total, _ = await list_activity(tenant.id, "gdprtest", "note", nid)
    assert total == 0


async def test_page_form_asks_the_same_question(tenant):
    """The pages' helper refuses what the API refuses (core.activity.may_open): a type that
    declares no can_open takes no entry from a page form either."""
    from babel.support import NullTranslations

    from core.auth import SessionUser
    from core.pages.records import add_activity_from_form
    from tests.gdpr.plugin import GTNote

    rows = await GTNote.insert(GTNote(tenant_id=tenant.id)).returning(*GTNote.all_columns())
    admin = SessionUser(0, tenant.id, tenant.slug, tenant.admin_id, "A", "a@x.se", "admin", "sv")
    form, t = {"kind": "note", "body": "x"}, NullTranslations()
    errors = await add_activity_from_form(admin, "gdprtest", "note", rows[0], form, t)
    assert "body" in errors
    total, _ = await list_activity(tenant.id, "gdprtest", "note", int(rows[0]["id"]))
    assert total == 0
    cid = await add_customer(tenant.id)
    customer = {"id": cid, "anonymized_at": None}
    assert await add_activity_from_form(admin, "gdprtest", "customer", customer, form, t) == {}
