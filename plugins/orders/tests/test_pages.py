"""Order pages through the test client."""

from __future__ import annotations

from tests.pages.helpers import page_login, post_form


async def test_order_lines_invoice_and_delete(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, "/orders/new", {"title": ""}, "/orders/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(anon_client, "/orders/new", {"title": "Service av panna", "customer_id": "-3"}, "/orders/new")
    assert r.status_code == 400 and 'id="e-customer_id"' in r.text
    r = await post_form(anon_client, "/orders/new", {"title": "Service av panna"}, "/orders/new")
    assert r.status_code == 303
    path = r.headers["location"]
    r = await post_form(
        anon_client, path + "/lines", {"description": "Arbete", "quantity": "2", "unit_price": "pris"}, path
    )
    assert r.status_code == 400 and 'id="e-unit_price"' in r.text
    r = await post_form(
        anon_client, path + "/lines", {"description": "Arbete", "quantity": "2", "unit_price": "650"}, path
    )
    assert r.status_code == 303
    assert "1\u00a0300,00\u00a0kr" in (await anon_client.get(path)).text
    r = await post_form(anon_client, path + "/invoice", {}, path)
    assert r.status_code == 303
    assert path in (await anon_client.get("/orders?invoiced=yes")).text
    assert path not in (await anon_client.get("/orders?invoiced=no")).text
    r = await anon_client.get(path + "/delete")
    assert 'id="anonymization-notice"' in r.text
    r = await post_form(anon_client, path + "/delete", {}, path)
    assert r.status_code == 303 and path not in (await anon_client.get("/orders")).text
