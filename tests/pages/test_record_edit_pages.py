"""Editing quotes, orders and projects on their pages: the form filled in with the customer
named beside the picker, errors beside the fields, 409 with the reason when the record can
no longer change, 404 for another organization's record, 403 without the CSRF token."""

from __future__ import annotations

from plugins.customers import services as customers
from plugins.customers.schemas import CustomerIn
from plugins.orders.tables import Order
from plugins.projects.tables import Project
from plugins.quotes.tables import Quote
from tests.pages.helpers import page_login, post_form


async def _new(client, path: str, data: dict) -> str:  # type: ignore[no-untyped-def]
    r = await post_form(client, f"/{path}/new", data, f"/{path}/new")
    assert r.status_code == 303, r.text
    return r.headers["location"]


async def _other_tenant_gets_404(client, other_tenant, path: str, data: dict) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    await page_login(client, other_tenant)
    assert (await client.get(f"{path}/edit")).status_code == 404
    r = await post_form(client, f"{path}/edit", data, "/")
    assert r.status_code == 404


async def test_edit_quote(anon_client, tenant, other_tenant):
    customer = await customers.create_customer(tenant.id, CustomerIn(name="Fasadfirman AB"))
    await page_login(anon_client, tenant)
    path = await _new(anon_client, "quotes", {"title": "Målning", "valid_until": "2026-12-31"})
    quote_id = int(path.rsplit("/", 1)[1])
    assert f'href="{path}/edit"' in (await anon_client.get(path)).text
    r = await anon_client.get(f"{path}/edit")
    assert r.status_code == 200 and 'value="Målning"' in r.text and 'value="2026-12-31"' in r.text
    r = await post_form(anon_client, f"{path}/edit", {"title": "", "valid_until": ""}, path)
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(anon_client, f"{path}/edit", {"title": "Målning", "valid_until": "snart"}, path)
    assert r.status_code == 400 and 'id="e-valid_until"' in r.text
    r = await anon_client.post(f"{path}/edit", data={"title": "Utan token"}, follow_redirects=False)
    assert r.status_code == 403
    assert (await Quote.select(Quote.title).where(Quote.id == quote_id).first())["title"] == "Målning"
    r = await post_form(
        anon_client,
        f"{path}/edit",
        {
            "title": "Målning av fasad",
            "description": "Två lager",
            "customer_id": str(customer["id"]),
            "valid_until": "",
        },
        path,
    )
    assert r.status_code == 303
    row = await Quote.select().where(Quote.id == quote_id).first()
    assert row["title"] == "Målning av fasad" and row["customer_id"] == customer["id"] and row["valid_until"] is None
    r = await anon_client.get(f"{path}/edit")
    assert f'<option value="{customer["id"]}" selected>Fasadfirman AB' in r.text
    # A voided quote cannot be changed: the reason on the form, nothing saved.
    assert (await post_form(anon_client, f"{path}/void", {}, path)).status_code == 303
    assert f'href="{path}/edit"' not in (await anon_client.get(path)).text
    r = await post_form(anon_client, f"{path}/edit", {"title": "Ändrad ändå"}, path)
    assert r.status_code == 409 and "Bara en offert som är utkast eller skickad kan ändras." in r.text
    assert (await Quote.select(Quote.title).where(Quote.id == quote_id).first())["title"] == "Målning av fasad"
    await _other_tenant_gets_404(anon_client, other_tenant, path, {"title": "Kapad"})
    assert (await Quote.select(Quote.title).where(Quote.id == quote_id).first())["title"] == "Målning av fasad"


async def test_edit_order(anon_client, tenant, other_tenant):
    await page_login(anon_client, tenant)
    first = await _new(anon_client, "orders", {"title": "Första"})
    path = await _new(anon_client, "orders", {"title": "Service", "customer_reference": "Ref 1"})
    order_id = int(path.rsplit("/", 1)[1])
    taken = (await Order.select(Order.number).where(Order.id == int(first.rsplit("/", 1)[1])).first())["number"]
    r = await anon_client.get(f"{path}/edit")
    assert r.status_code == 200 and 'value="Ref 1"' in r.text and 'id="f-number"' in r.text
    r = await post_form(anon_client, f"{path}/edit", {"title": "Service", "number": str(taken)}, path)
    assert (
        r.status_code == 400
        and 'id="e-number"' in r.text
        and f"Nummer {taken} används redan i organisationen." in r.text
    )
    r = await post_form(anon_client, f"{path}/edit", {"title": "Service", "customer_id": "tre"}, path)
    assert r.status_code == 400 and 'id="e-customer_id"' in r.text
    r = await anon_client.post(f"{path}/edit", data={"title": "Utan token"}, follow_redirects=False)
    assert r.status_code == 403
    r = await post_form(
        anon_client,
        f"{path}/edit",
        {
            "title": "Service av panna",
            "number": "",
            "customer_reference": "Ref 2",
            "invoice_comment": "Faktura via e-post",
        },
        path,
    )
    assert r.status_code == 303
    row = await Order.select().where(Order.id == order_id).first()
    assert row["title"] == "Service av panna" and row["customer_reference"] == "Ref 2"
    assert row["invoice_comment"] == "Faktura via e-post"
    # Invoiced: no longer changed.
    r = await post_form(
        anon_client, f"{path}/lines", {"description": "Arbete", "quantity": "1", "unit_price": "500"}, path
    )
    assert r.status_code == 303
    assert (await post_form(anon_client, f"{path}/invoice", {}, path)).status_code == 303
    r = await post_form(anon_client, f"{path}/edit", {"title": "Efter fakturan"}, path)
    assert r.status_code == 409 and "Ordern är fakturerad" in r.text
    assert (await Order.select(Order.title).where(Order.id == order_id).first())["title"] == "Service av panna"
    await _other_tenant_gets_404(anon_client, other_tenant, path, {"title": "Kapad"})


async def test_edit_project(anon_client, tenant, other_tenant):
    await page_login(anon_client, tenant)
    path = await _new(anon_client, "projects", {"title": "Badrum", "end_customer_name": "Eva"})
    project_id = int(path.rsplit("/", 1)[1])
    assert f'href="{path}/edit"' in (await anon_client.get(path)).text
    r = await anon_client.get(f"{path}/edit")
    assert r.status_code == 200 and 'value="Badrum"' in r.text and 'value="Eva"' in r.text
    r = await post_form(anon_client, f"{path}/edit", {"title": "Badrum", "end_customer_email": "inte-epost"}, path)
    assert r.status_code == 400 and 'id="e-end_customer_email"' in r.text
    r = await post_form(anon_client, f"{path}/edit", {"title": ""}, path)
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await anon_client.post(f"{path}/edit", data={"title": "Utan token"}, follow_redirects=False)
    assert r.status_code == 403
    r = await post_form(
        anon_client,
        f"{path}/edit",
        {"title": "Badrum och kök", "end_customer_name": "Eva Ek", "end_customer_phone": "070-111 22 33"},
        path,
    )
    assert r.status_code == 303
    row = await Project.select().where(Project.id == project_id).first()
    assert row["title"] == "Badrum och kök" and row["end_customer_name"] == "Eva Ek"
    assert (await post_form(anon_client, f"{path}/close", {}, path)).status_code == 303
    r = await post_form(anon_client, f"{path}/edit", {"title": "Stängt"}, path)
    assert r.status_code == 409 and "öppna det igen först" in r.text
    assert (await Project.select(Project.title).where(Project.id == project_id).first())["title"] == "Badrum och kök"
    await _other_tenant_gets_404(anon_client, other_tenant, path, {"title": "Kapad"})
