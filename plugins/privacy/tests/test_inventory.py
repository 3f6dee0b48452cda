"""Signing the inventory (every version kept), signing with an SMS code when two-factor
context 9 "gdpr_inventory" is on, and the export as a readable document and as JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core.plugins import get_host
from core.tables import Employee, Outbox
from plugins.privacy.tests.conftest import make_activity, make_contact

MOBILE = "+46701234567"
MASKED = "+46 70•••••67"


async def test_nothing_to_sign_and_incomplete_activities_are_409(admin_client):
    r = await admin_client.post("/api/privacy/inventory/sign", json={})
    assert r.status_code == 409 and "no processing activities" in r.json()["detail"]
    a = await make_activity(admin_client, purpose="", legal_basis="")
    r = await admin_client.post("/api/privacy/inventory/sign", json={})
    assert r.status_code == 409
    assert f"{a['number']} (purpose, legal_basis)" in r.json()["detail"]
    assert (await admin_client.get("/api/privacy/inventory/versions")).json()["total"] == 0


async def test_every_signed_version_is_kept(admin_client, tenant):
    a = await make_activity(admin_client)
    await make_contact(admin_client)
    r = await admin_client.post("/api/privacy/inventory/sign", json={"note": "Årlig genomgång"})
    assert r.status_code == 201, r.text
    v1 = r.json()["version"]
    signed = (v1["version"], v1["signer_name"], v1["signed_by"], v1["sms_verified"])
    assert signed == (1, "Admin Person", tenant.admin_id, False)
    assert v1["activities"][0]["purpose"] == a["purpose"]
    assert v1["contacts"][0]["email"] == "dora@example.se"

    await admin_client.patch(f"/api/privacy/activities/{a['id']}", json={"purpose": "Nytt ändamål"})
    v2 = (await admin_client.post("/api/privacy/inventory/sign", json={})).json()["version"]
    assert v2["version"] == 2 and v2["activities"][0]["purpose"] == "Nytt ändamål"

    listed = (await admin_client.get("/api/privacy/inventory/versions")).json()
    assert [v["version"] for v in listed["items"]] == [2, 1]
    old = (await admin_client.get(f"/api/privacy/inventory/versions/{v1['id']}")).json()
    assert old["activities"][0]["purpose"] == a["purpose"]  # as signed, not as now
    assert old["superseded_at"] is not None and old["note"] == "Årlig genomgång"
    assert listed["items"][0]["superseded_at"] is None


async def test_another_tenants_versions_are_not_found(admin_client, other_client):
    await make_activity(admin_client)
    v = (await admin_client.post("/api/privacy/inventory/sign", json={})).json()["version"]
    assert (await other_client.get(f"/api/privacy/inventory/versions/{v['id']}")).status_code == 404
    assert (await other_client.get("/api/privacy/inventory/export?format=json&version=1")).status_code == 404
    assert (await other_client.get("/api/privacy/inventory/versions")).json()["total"] == 0


async def test_export_is_a_readable_escaped_document(admin_client, tenant):
    await make_activity(admin_client, purpose="<script>alert(1)</script> & mer", recipients=["Revisor"])
    await make_contact(admin_client, name="Dora <b>Dataskydd</b>")
    r = await admin_client.get("/api/privacy/inventory/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<h1>Registerförteckning</h1>" in html and "Dataskyddsombud" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; mer" in html and "<script>" not in html
    assert "Dora &lt;b&gt;Dataskydd&lt;/b&gt;" in html
    assert "Avtal (art. 6.1 b)" in html and "Revisor" in html
    assert "inte signerad" in html

    r = await admin_client.post("/api/privacy/inventory/sign", json={"note": "Ok"})
    assert r.status_code == 201
    doc = (await admin_client.get("/api/privacy/inventory/export?format=json")).json()
    assert doc["signature"] is None and doc["latest_signed"]["version"] == 1
    assert doc["activities"][0]["recipients"] == ["Revisor"]
    signed = (await admin_client.get("/api/privacy/inventory/export?format=json&version=1")).json()
    assert signed["signature"]["signer_name"] == "Admin Person" and signed["signature"]["note"] == "Ok"
    html = (await admin_client.get("/api/privacy/inventory/export?version=1")).text
    assert "Version 1." in html and "Signerad" in html and "Admin Person" in html
    assert (await admin_client.get("/api/privacy/inventory/export?version=9")).status_code == 404
    assert (await admin_client.get("/api/privacy/inventory/export?format=pdf")).status_code == 400


async def test_export_in_english_for_an_english_organization(app, tenant_factory):
    from core.testing.client import AppClient
    from tests.support import login

    t = await tenant_factory(language="en")
    async with AppClient(app=app) as c:
        assert (await login(c, t)).status_code == 200
        await make_activity(c, legal_basis="legitimate_interests")
        html = (await c.get("/api/privacy/inventory/export")).text
    assert "Record of processing activities" in html and "Legitimate interests (art. 6(1)(f))" in html


# --- SMS signing with the real two-factor plugin (M4 item 9) ---------------------------


@pytest.fixture
def two_factor_installed() -> Iterator[None]:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")
    yield


async def _switch_on(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    assert r.status_code == 200, r.text
    r = await client.put("/api/twofactor/contexts/gdpr_inventory", json={"enabled": True})
    assert r.status_code == 200, r.text


async def _last_code(tenant_id: int) -> str:
    rows = await Outbox.select().where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms")).order_by(Outbox.id)
    match = re.search(r"\b(\d{6})\b", rows[-1]["body"])
    assert match
    return match.group(1)


async def test_context_nine_is_listed_in_two_factor_settings(admin_client, two_factor_installed):
    contexts = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    mine = [c for c in contexts if c["key"] == "gdpr_inventory"]
    assert len(mine) == 1 and mine[0]["label_sv"] == "GDPR-förteckning – SMS-autentisering"
    # Hidden when the module is off (its two-factor context goes with it).
    assert (await admin_client.put("/api/modules/privacy", json={"enabled": False})).status_code == 200
    contexts = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    assert "gdpr_inventory" not in [c["key"] for c in contexts]


async def test_signing_needs_the_sms_code_of_the_signer(admin_client, tenant, two_factor_installed):
    await Employee.update({Employee.mobile_phone: MOBILE}).where(Employee.id == tenant.admin_id)
    await _switch_on(admin_client)
    await make_activity(admin_client)

    r = await admin_client.post("/api/privacy/inventory/sign", json={"note": "Signerad med SMS"})
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    assert challenge["masked_phone"] == MASKED and r.json()["version"] is None
    assert (await admin_client.get("/api/privacy/inventory/versions")).json()["total"] == 0
    # Re-submitting before the code is entered signs nothing.
    r = await admin_client.post("/api/privacy/inventory/sign", json={"challenge_id": challenge["challenge_id"]})
    assert r.status_code == 409
    r = await admin_client.post(
        f"/api/twofactor/challenges/{challenge['challenge_id']}/verify", json={"code": await _last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text
    r = await admin_client.post(
        "/api/privacy/inventory/sign", json={"note": "Signerad med SMS", "challenge_id": challenge["challenge_id"]}
    )
    assert r.status_code == 201, r.text
    v = r.json()["version"]
    assert (v["sms_verified"], v["signer_phone"], v["signer_name"]) == (True, MASKED, "Admin Person")
    # The code was used once: the same challenge cannot sign a second version.
    r = await admin_client.post("/api/privacy/inventory/sign", json={"challenge_id": challenge["challenge_id"]})
    assert r.status_code == 409
    assert (await admin_client.get("/api/privacy/inventory/versions")).json()["total"] == 1


async def test_signer_without_phone_is_told_to_ask_an_administrator(admin_client, tenant, two_factor_installed):
    await _switch_on(admin_client)
    await make_activity(admin_client)
    r = await admin_client.post("/api/privacy/inventory/sign", json={})
    assert r.status_code == 409, r.text
    assert "administrat" in r.json()["detail"].lower()
    assert (await admin_client.get("/api/privacy/inventory/versions")).json()["total"] == 0


async def test_with_the_context_off_no_code_is_needed(admin_client, tenant, two_factor_installed):
    r = await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    assert r.status_code == 200
    await make_activity(admin_client)
    r = await admin_client.post("/api/privacy/inventory/sign", json={})
    assert r.status_code == 201 and r.json()["version"]["sms_verified"] is False
    assert await Outbox.count().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")) == 0
