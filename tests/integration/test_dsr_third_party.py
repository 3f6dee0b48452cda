"""A third-party module's data in the answer of a data-subject request: with the example
plugin gallra-contracts installed (``pip install -e examples/gallra-contracts``), a
contract signed with the person's e-mail is in the access export the person downloads and
is erased by their erasure request, without any change to core or to the dsr module.
Skipped where the example is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("gallra_contracts")

EMAIL = "avtal.person@example.se"


async def contract(admin_client) -> dict:  # type: ignore[no-untyped-def]
    r = await admin_client.post("/api/customers/", json={"name": "Avtalskund AB"})
    customer_id = r.json()["id"]
    r = await admin_client.post("/api/contracts/", json={
        "title": "Serviceavtal", "customer_id": customer_id, "signer_name": "Siri Signer",
        "signer_email": EMAIL, "signed_on": "2026-03-01", "terms": "Kvartalsvis"})
    assert r.status_code == 201, r.text
    return r.json()


async def test_contracts_are_in_the_export_and_the_erasure(admin_client) -> None:
    made = await contract(admin_client)
    r = await admin_client.post("/api/dsr/", json={"kind": "access", "requester_email": EMAIL})
    access = r.json()
    await admin_client.patch(f"/api/dsr/{access['id']}", json={"status": "verified"})
    r = await admin_client.post(f"/api/dsr/{access['id']}/answer", json={"text": ""})
    assert r.status_code == 200, r.text
    export_id = (await admin_client.get(f"/api/dsr/{access['id']}")).json()
    from core.gdpr.subjects import export_row
    from plugins.dsr.tables import DsrRequest

    row = await DsrRequest.select(DsrRequest.export_id, DsrRequest.tenant_id).where(
        DsrRequest.id == export_id["id"]).first()
    export = await export_row(int(row["tenant_id"]), int(row["export_id"]))
    assert export is not None and "Siri Signer" in export["document"] and "contracts" in export["document"]

    r = await admin_client.post("/api/dsr/", json={"kind": "erasure", "requester_email": EMAIL})
    erasure = r.json()
    await admin_client.patch(f"/api/dsr/{erasure['id']}", json={"status": "verified"})
    preview = (await admin_client.get(f"/api/dsr/{erasure['id']}/erasure")).json()
    assert any(p["plugin"] == "contracts" and p["record_id"] == made["id"] for p in preview["records"])
    assert (await admin_client.post(f"/api/dsr/{erasure['id']}/erase")).status_code == 200
    gone = (await admin_client.get(f"/api/contracts/{made['id']}")).json()
    assert gone["signer_email"] is None and gone["signer_name"] != "Siri Signer"
