"""The case pages through the test client."""

from __future__ import annotations

import re

from tests.pages.helpers import page_login, post_form


async def test_case_lifecycle_pages(anon_client, tenant):
    assert (await page_login(anon_client, tenant)).status_code == 303
    r = await post_form(anon_client, "/customers/new", {"name": "Kund Ett AB", "kind": "company"}, "/customers/new")
    customer_id = int(r.headers["location"].rsplit("/", 1)[1])
    r = await post_form(anon_client, "/cases/new", {"title": " ", "kind": "case"}, "/cases/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(
        anon_client, "/cases/new", {"title": "Läckande kran", "kind": "case", "customer_id": "x"}, "/cases/new"
    )
    assert r.status_code == 400 and 'id="e-customer_id"' in r.text
    r = await post_form(
        anon_client, "/cases/new",
        {"title": "Läckande kran", "kind": "case", "customer_id": str(customer_id), "end_customer_phone": "nej"},
        "/cases/new",
    )
    assert r.status_code == 400 and 'id="e-end_customer_phone"' in r.text
    r = await post_form(
        anon_client, "/cases/new", {"title": "Läckande kran", "kind": "case", "customer_id": str(customer_id)},
        "/cases/new",
    )
    assert r.status_code == 303
    path = r.headers["location"]
    page = (await anon_client.get(path)).text
    assert "Kund Ett AB" in page and "Öppen" in page
    assert path in (await anon_client.get("/cases?q=kran")).text
    assert path not in (await anon_client.get("/cases?q=dörr")).text
    assert path not in (await anon_client.get("/cases?status=closed")).text
    r = await post_form(anon_client, path + "/activity", {"kind": "work_report", "body": "Bytte packning"}, path)
    assert r.status_code == 303
    r = await post_form(anon_client, path + "/close", {}, path)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert re.search(r'id="case-status">Stängd<', page) and "Bytte packning" in page
    assert path in (await anon_client.get("/cases?status=closed")).text
    r = await post_form(anon_client, path + "/reopen", {}, path)
    assert r.status_code == 303
    r = await post_form(anon_client, path + "/reopen", {}, path)
    assert r.status_code == 409 and "har inte stängts" in r.text
    r = await post_form(
        anon_client, path + "/edit", {"title": "Läckande kran i kök", "kind": "service"}, path + "/edit"
    )
    assert r.status_code == 303
    r = await anon_client.get(path + "/delete")
    assert 'id="anonymization-notice"' in r.text and "Serviceärenden" in r.text
    r = await post_form(anon_client, path + "/delete", {}, path)
    assert r.status_code == 303
    assert path not in (await anon_client.get("/cases")).text


async def test_cases_settings_page_is_for_administrators(anon_client, tenant):
    from core.users import create_employee_with_password
    from tests.support import TEST_PASSWORD

    email = f"user@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Vanlig Användare", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    r = await anon_client.get("/cases/settings")
    assert r.status_code == 403
    r = await anon_client.get("/cases")
    assert r.status_code == 200 and "/cases/settings" not in r.text
