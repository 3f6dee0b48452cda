"""Order pages through the test client."""

from __future__ import annotations

from tests.pages.helpers import delete_on_its_page, form_done, form_refused, page_login


async def test_order_lines_invoice_and_delete(anon_client, tenant):
    await page_login(anon_client, tenant)
    await form_refused(anon_client, "/orders/new", {"title": ""}, "title")
    await form_refused(anon_client, "/orders/new", {"title": "Service av panna", "customer_id": "-3"}, "customer_id")
    path = await form_done(anon_client, "/orders/new", {"title": "Service av panna"})
    line = {"description": "Arbete", "quantity": "2"}
    await form_refused(anon_client, path + "/lines", {**line, "unit_price": "pris"}, "unit_price", path)
    await form_done(anon_client, path + "/lines", {**line, "unit_price": "650"}, path)
    assert "1\u00a0300,00\u00a0kr" in (await anon_client.get(path)).text
    await form_done(anon_client, path + "/invoice", {}, path)
    assert path in (await anon_client.get("/orders?invoiced=yes")).text
    assert path not in (await anon_client.get("/orders?invoiced=no")).text
    await delete_on_its_page(anon_client, path, "/orders")
