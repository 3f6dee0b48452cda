"""Customers and contact persons of records: refused when not the organization's or not the
chosen customer's (page and API alike, with a code and a translated message), and named,
never shown as ids, on every record list and record page (issue #20.4).

The pickers live in core (core.pages.pickers, core.pages.records), driven by the specs'
``customer_column`` and ``contact_column``, so every module naming a customer is covered."""

from __future__ import annotations

import re

import pytest

from core.testing.client import AppClient
from tests.pages.helpers import page_login, post_form
from tests.support import add_party, login

MODULES = ("cases", "workorders", "quotes", "orders", "projects")
MISSING = 999
SV = {
    "customer_id": "Det finns ingen sådan kund i organisationen.",
    "contact_person_id": "Kontaktpersonen hör inte till den valda kunden.",
    "no_contact": "Det finns ingen sådan kontaktperson i organisationen.",
}


def _body(module: str, **refs: int | str) -> dict[str, str]:
    data = {"title": f"Post i {module}", **{k: str(v) for k, v in refs.items()}}
    if module == "cases":
        data["kind"] = "case"
    return data


async def _bad_references(tenant_id: int, other_tenant_id: int) -> tuple[int, int, list[tuple[dict, str, str]]]:
    mine, (my_contact,) = await add_party(tenant_id, name="Egen Kund AB")
    _other, (their_contact,) = await add_party(tenant_id, name="Annan Kund AB")
    foreign, (foreign_contact,) = await add_party(other_tenant_id, name="Främmande AB")
    cases = [
        ({"customer_id": MISSING}, "customer_id", "reference.no_customer"),
        ({"customer_id": foreign}, "customer_id", "reference.no_customer"),
        ({"customer_id": mine, "contact_person_id": their_contact}, "contact_person_id",
         "reference.not_their_contact"),
        ({"customer_id": mine, "contact_person_id": foreign_contact}, "contact_person_id", "reference.no_contact"),
        ({"customer_id": mine, "contact_person_id": MISSING}, "contact_person_id", "reference.no_contact"),
    ]
    return mine, my_contact, cases


@pytest.mark.parametrize("module", MODULES)
async def test_page_forms_refuse_bad_references_with_the_fields_error(
    anon_client: AppClient, tenant, other_tenant, module: str
) -> None:
    mine, my_contact, bad = await _bad_references(tenant.id, other_tenant.id)
    assert (await page_login(anon_client, tenant)).status_code == 303
    page = f"/{module}/new"
    for refs, field, code in bad:
        r = await post_form(anon_client, page, _body(module, **refs), page)
        assert r.status_code == 400, (module, refs, r.status_code)
        message = SV["no_contact"] if code == "reference.no_contact" else SV[field]
        assert f'<p class="error" id="e-{field}">{message}</p>' in r.text, (module, refs)
        assert 'aria-invalid="true"' in r.text
    # Nothing was saved: the list is empty.
    assert "Post i" not in (await anon_client.get(f"/{module}")).text
    # The organization's own customer with its own contact person is saved, and named.
    r = await post_form(anon_client, page, _body(module, customer_id=mine, contact_person_id=my_contact), page)
    assert r.status_code == 303, (module, r.text[:500])
    record = r.headers["location"]
    # An edit to a bad reference is refused the same way, and changes nothing.
    for refs, field, _code in bad:
        r = await post_form(anon_client, f"{record}/edit", _body(module, **refs), f"{record}/edit")
        assert r.status_code == 400 and f'id="e-{field}"' in r.text, (module, refs)
    shown = (await anon_client.get(record)).text
    assert f'<a href="/customers/{mine}">Egen Kund AB</a>' in shown and "Kontakt 1" in shown, module


@pytest.mark.parametrize("module", MODULES)
async def test_api_refuses_bad_references_with_a_code(client: AppClient, tenant, other_tenant, module: str):
    mine, my_contact, bad = await _bad_references(tenant.id, other_tenant.id)
    assert (await login(client, tenant)).status_code == 200
    api = f"/api/{module}/"
    body = {"title": "API-post"}
    r = await client.post(api, json={**body, "customer_id": mine, "contact_person_id": my_contact})
    assert r.status_code == 201, (module, r.text)
    record = r.json()["id"]
    for refs, field, code in bad:
        r = await client.post(api, json={**body, **refs}, headers={"Accept-Language": "sv"})
        problem = r.json()
        assert (r.status_code, problem["field"], problem["code"]) == (400, field, code), (module, refs, problem)
        message = SV["no_contact"] if code == "reference.no_contact" else SV[field]
        assert problem["detail"] == message
        r = await client.patch(f"{api}{record}", json=refs)
        assert (r.status_code, r.json()["code"]) == (400, code), (module, refs, r.text)
    r = await client.get(f"{api}{record}")
    assert (r.json()["customer_id"], r.json()["contact_person_id"]) == (mine, my_contact)


async def test_lists_and_pages_name_the_customer_and_contact(anon_client, tenant):
    mine, (contact,) = await add_party(tenant.id, name="Synlig Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for module in MODULES:
        r = await post_form(anon_client, f"/{module}/new",
                            _body(module, customer_id=mine, contact_person_id=contact), f"/{module}/new")
        assert r.status_code == 303, module
        page = (await anon_client.get(r.headers["location"])).text
        customer = re.search(r'<dd id="record-customer">(.*?)</dd>', page, re.S)
        assert customer and customer.group(1) == f'<a href="/customers/{mine}">Synlig Kund AB</a>', module
        contact_dd = re.search(r'<dd id="record-contact">(.*?)</dd>', page, re.S)
        assert contact_dd and contact_dd.group(1) == "Kontakt 1", module
        listing = (await anon_client.get(f"/{module}")).text
        assert '<th scope="col">Kund</th>' in listing, module
        assert f'<a href="/customers/{mine}">Synlig Kund AB</a><br><span class="hint">Kontakt 1</span>' in listing
        # A record without a customer says so with a dash, never a 0.
        r = await post_form(anon_client, f"/{module}/new", _body(module), f"/{module}/new")
        page = (await anon_client.get(r.headers["location"])).text
        assert '<dd id="record-customer">–</dd>' in page and '<dd id="record-contact">–</dd>' in page, module
