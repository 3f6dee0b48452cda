"""The customer picker (``find_customers`` hook, /pick/customers), htmx served locally with
its licence, the CSRF header htmx sends, and the account menu's own pages."""

from __future__ import annotations

import hashlib
import re

from core.pages.pickers import find_customers
from plugins.customers import services as customers
from plugins.customers.schemas import CustomerIn
from tests.pages.helpers import csrf_of, page_login, post_form


async def _customer(tenant_id: int, name: str) -> dict:
    return await customers.create_customer(tenant_id, CustomerIn(name=name, kind="company"))


async def test_hook_find_customers(tenant, other_tenant, tenant_factory):
    mine = await _customer(tenant.id, "Bergström Bygg AB")
    await _customer(tenant.id, "Andersson Måleri")
    theirs = await _customer(other_tenant.id, "Bergström Bygg AB")
    found = await find_customers(tenant.id, "bergström")
    assert [c.id for c in found] == [mine["id"]]
    assert found[0].number == mine["number"] and found[0].name == "Bergström Bygg AB"
    # By customer number as well; another organization's customers never answer.
    assert [c.id for c in await find_customers(tenant.id, str(mine["number"]))] == [mine["id"]]
    assert theirs["id"] not in [c.id for c in await find_customers(tenant.id, "Bygg")]
    assert await find_customers(tenant.id, "   ") == []
    # Without the customer module nothing answers.
    bare = await tenant_factory(modules=["cases"])
    await _customer(bare.id, "Bergström Bygg AB")
    assert await find_customers(bare.id, "Bergström") == []


async def test_suggestions_and_choosing_fill_the_id(anon_client, tenant, other_tenant):
    mine = await _customer(tenant.id, "Lindqvist El AB")
    theirs = await _customer(other_tenant.id, "Lindqvist Rör AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    # htmx asks for a fragment: the suggestions only, each choosing by id.
    r = await anon_client.get("/pick/customers?field=customer_id&customer_search=lindq", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    assert f'data-customer-id="{mine["id"]}"' in r.text and "Lindqvist Rör" not in r.text
    assert f"/pick/customers/choose?field=customer_id&amp;id={mine['id']}" in r.text
    # Without htmx the same address is a page of its own (the no-JavaScript way to find an id).
    r = await anon_client.get("/pick/customers?customer_search=lindq")
    assert r.status_code == 200 and "<html" in r.text and f"<td>{mine['id']}</td>" in r.text
    r = await anon_client.get("/pick/customers?customer_search=nothing-like-it", headers={"HX-Request": "true"})
    assert "Lindqvist" not in r.text and 'role="status"' in r.text
    # Choosing answers the field again with the id filled in and the name beside it.
    r = await anon_client.get(
        f"/pick/customers/choose?field=customer_id&id={mine['id']}", headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and f'name="customer_id" type="number" min="0" value="{mine["id"]}"' in r.text
    assert "Lindqvist El AB" in r.text and 'id="picker-customer_id"' in r.text
    # Another organization's customer is not found; a bad field name is refused.
    r = await anon_client.get(f"/pick/customers/choose?field=customer_id&id={theirs['id']}")
    assert r.status_code == 404 and "Lindqvist" not in r.text
    r = await anon_client.get("/pick/customers?field=x%22onclick&customer_search=a")
    assert r.status_code == 400


async def test_picker_needs_login(anon_client):
    r = await anon_client.get("/pick/customers?customer_search=a", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_forms_have_the_picker_and_typing_the_id_still_works(anon_client, tenant):
    mine = await _customer(tenant.id, "Nilsson Plåt")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for path in ("/cases/new", "/quotes/new", "/orders/new", "/projects/new", "/workorders/new"):
        r = await anon_client.get(path)
        assert r.status_code == 200, path
        assert 'id="s-customer_id"' in r.text and 'hx-get="/pick/customers?field=customer_id"' in r.text, path
        assert 'name="customer_id" type="number"' in r.text, path
    r = await post_form(
        anon_client,
        "/cases/new",
        {"title": "Läckage", "kind": "case", "customer_id": str(mine["id"]), "customer_search": "Nils"},
        "/cases/new",
    )
    assert r.status_code == 303
    assert "Nilsson Plåt" in (await anon_client.get(r.headers["location"])).text


async def test_htmx_is_served_locally_with_its_licence(anon_client, tenant):
    r = await anon_client.get("/static/htmx.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    first, _, rest = r.text.partition("\n")
    assert first.startswith("/*! htmx 2.0.11") and "Zero-Clause BSD" in first
    # The vendored file is the published one, byte for byte, below the notice.
    assert (
        hashlib.sha256(rest.encode()).hexdigest() == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    )
    assert (await anon_client.get("/static/htmx.LICENSE.txt")).status_code == 404  # kept beside, not served
    assert (await page_login(anon_client, tenant)).status_code == 303
    page = (await anon_client.get("/cases")).text
    assert '<script src="/static/htmx.min.js" defer></script>' in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    # Every page gives htmx the CSRF token as a header for its requests.
    token = await csrf_of(anon_client, "/cases")
    match = re.search(r"<body[^>]* hx-headers='([^']+)'", page)
    assert match and token in match.group(1) and "X-CSRF-Token" in match.group(1)


async def test_csrf_header_alone_is_accepted_and_a_wrong_one_refused(anon_client, tenant):
    assert (await page_login(anon_client, tenant)).status_code == 303
    token = await csrf_of(anon_client, "/cases/new")
    r = await anon_client.post(
        "/cases/new",
        data={"title": "Via htmx", "kind": "case"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = await anon_client.post(
        "/cases/new",
        data={"title": "Falsk", "kind": "case"},
        headers={"X-CSRF-Token": "x" * 40},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = await anon_client.post("/cases/new", data={"title": "Utan", "kind": "case"}, follow_redirects=False)
    assert r.status_code == 403


async def test_module_lists_filter_live_and_still_work_without_javascript(anon_client, tenant):
    await _customer(tenant.id, "Filtrerbar Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for path in ("/cases", "/quotes", "/orders", "/projects", "/workorders", "/customers"):
        page = (await anon_client.get(path)).text
        form = re.search(r'<form method="get" action="' + path + r'"[^>]*>', page, re.DOTALL)
        assert form and f'hx-get="{path}"' in form.group(0) and 'hx-select="#results"' in form.group(0), path
        assert page.count('<div id="results">') == 1, path
    # The same address without JavaScript: the filtered page itself.
    page = (await anon_client.get("/customers?q=Filtrerbar")).text
    assert "Filtrerbar Kund AB" in page
    assert "Filtrerbar Kund AB" not in (await anon_client.get("/customers?q=ingen-sadan")).text


async def test_edit_forms_name_the_chosen_customer(anon_client, tenant):
    mine = await _customer(tenant.id, "Namngiven Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for module in ("cases", "workorders"):
        data = {"title": "Med kund", "customer_id": str(mine["id"])}
        if module == "cases":
            data["kind"] = "case"
        r = await post_form(anon_client, f"/{module}/new", data, f"/{module}/new")
        assert r.status_code == 303, (module, r.text[:300])
        page = (await anon_client.get(r.headers["location"] + "/edit")).text
        assert "Vald: Namngiven Kund AB" in page and f'value="{mine["id"]}"' in page, module
        r = await post_form(anon_client, f"/{module}/new", {**data, "customer_id": ""}, f"/{module}/new")
        assert r.status_code == 303
        page = (await anon_client.get(r.headers["location"] + "/edit")).text
        assert 'id="c-customer_id"' not in page and 'name="customer_id" type="number" min="0" value=""' in page, module


async def test_htmx_request_after_the_session_ended_sends_the_page_to_login(anon_client):
    r = await anon_client.get(
        "/pick/customers?customer_search=a",
        follow_redirects=False,
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver.local/cases/new"},
    )
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/login?next=%2Fcases%2Fnew"
    # Another site's address is never where the login goes on to.
    r = await anon_client.get(
        "/cases?q=x",
        follow_redirects=False,
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example//x"},
    )
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/login?next=%2Fcases%3Fq%3Dx"
