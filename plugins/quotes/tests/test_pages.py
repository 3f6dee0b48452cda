"""The organization's quote pages through the test client."""

from __future__ import annotations

import re

from tests.pages.helpers import delete_on_its_page, form_done, form_refused, page_login, post_form


async def test_quote_lines_send_and_delete(anon_client, tenant):
    await page_login(anon_client, tenant)
    await form_refused(anon_client, "/quotes/new", {"title": "", "valid_until": ""}, "title")
    bad_date = {"title": "Målning av fasad", "valid_until": "inte ett datum"}
    await form_refused(anon_client, "/quotes/new", bad_date, "valid_until")
    path = await form_done(anon_client, "/quotes/new", {"title": "Målning av fasad"})
    r = await post_form(anon_client, path + "/send", {"email": "kund@example.se"}, path)
    assert r.status_code == 409  # no lines yet: said on the page
    line = {"description": "Färg", "unit_price": "100"}
    await form_refused(anon_client, path + "/lines", {**line, "quantity": "x"}, "quantity", path)
    await form_done(anon_client, path + "/lines", {**line, "quantity": "2", "unit_price": "99,50"}, path)
    assert "199,00\u00a0kr" in (await anon_client.get(path)).text
    await form_refused(anon_client, path + "/send", {"email": "inte"}, "email", path)
    await form_done(anon_client, path + "/send", {"email": "kund@example.se"}, path)
    page = (await anon_client.get(path)).text
    assert 'id="quote-status">Skickad<' in page and "kund@example.se" in page
    assert path in (await anon_client.get("/quotes?q=fasad&status=sent")).text
    assert path not in (await anon_client.get("/quotes?status=draft")).text
    await delete_on_its_page(anon_client, path, "/quotes")
    assert re.search(r"Offerten är raderad", (await anon_client.get("/quotes")).text) is None  # flash shown once
