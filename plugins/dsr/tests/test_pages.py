"""The queue's pages: list, record, a request's steps, and who may open them."""

from __future__ import annotations

from plugins.dsr.tests.conftest import mails_to, make_request
from tests.pages.helpers import post_form


async def test_record_verify_and_answer_through_the_pages(admin_client, tenant) -> None:
    r = await admin_client.get("/dsr/new")
    assert r.status_code == 200 and "Registrera en begäran" in r.text
    r = await post_form(admin_client, "/dsr/new", {
        "kind": "erasure", "requester_name": "Bo Berg", "requester_email": "bo@example.se",
        "details": "Radera mig", "assignee_id": str(tenant.admin_id), "language": "sv"}, "/dsr/new")
    assert r.status_code in (302, 303), r.text
    path = r.headers["location"]
    page = (await admin_client.get(path)).text
    assert "Bo Berg" in page and "Radering (art. 17)" in page and "Mottagen" in page

    listed = (await admin_client.get("/dsr")).text
    assert "Bo Berg" in listed

    r = await post_form(admin_client, f"{path}/refuse", {"refusal_reason": ""}, path)
    assert r.status_code == 400 and "skälet" in r.text.lower()
    r = await post_form(admin_client, f"{path}/verified", {}, path)
    assert r.status_code in (302, 303)
    r = await post_form(admin_client, f"{path}/answer", {"text": "Raderat."}, path)
    assert r.status_code in (302, 303)
    page = (await admin_client.get(path)).text
    assert "Besvarad" in page and "Raderat." in page
    assert len(await mails_to("bo@example.se", tenant.id)) == 1
    # a request is never "closed"/"reopened" by the generic routes
    r = await post_form(admin_client, f"{path}/reopen", {}, path)
    assert r.status_code == 404


async def test_bad_form_input_is_shown_beside_the_field(admin_client) -> None:
    r = await post_form(admin_client, "/dsr/new", {
        "kind": "access", "requester_email": "inte-en-adress", "assignee_id": "0", "language": "sv"}, "/dsr/new")
    assert r.status_code == 400 and 'id="e-requester_email"' in r.text
    req = await make_request(admin_client)
    path = f"/dsr/{req['id']}"
    r = await post_form(admin_client, f"{path}/extend", {"months": "7", "reason": "x"}, path)
    assert r.status_code == 400 and 'id="e-months"' in r.text


async def test_another_tenants_request_page_is_not_found(admin_client, other_client) -> None:
    req = await make_request(admin_client)
    assert (await other_client.get(f"/dsr/{req['id']}")).status_code == 404
    assert "Anna Andersson" not in (await other_client.get("/dsr")).text
