"""The organization's quote pages through the test client."""

from __future__ import annotations

import re

from tests.pages.helpers import page_login, post_form


async def test_quote_lines_send_and_delete(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, "/quotes/new", {"title": "", "valid_until": ""}, "/quotes/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(
        anon_client, "/quotes/new", {"title": "Målning av fasad", "valid_until": "inte ett datum"}, "/quotes/new"
    )
    assert r.status_code == 400 and 'id="e-valid_until"' in r.text
    r = await post_form(anon_client, "/quotes/new", {"title": "Målning av fasad"}, "/quotes/new")
    assert r.status_code == 303
    path = r.headers["location"]
    r = await post_form(anon_client, path + "/send", {"email": "kund@example.se"}, path)
    assert r.status_code == 409  # no lines yet: said on the page
    r = await post_form(
        anon_client, path + "/lines", {"description": "Färg", "quantity": "x", "unit_price": "100"}, path
    )
    assert r.status_code == 400 and 'id="e-quantity"' in r.text
    r = await post_form(
        anon_client, path + "/lines", {"description": "Färg", "quantity": "2", "unit_price": "99,50"}, path
    )
    assert r.status_code == 303
    assert "199,00\u00a0kr" in (await anon_client.get(path)).text
    r = await post_form(anon_client, path + "/send", {"email": "inte"}, path)
    assert r.status_code == 400 and 'id="e-email"' in r.text
    r = await post_form(anon_client, path + "/send", {"email": "kund@example.se"}, path)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert 'id="quote-status">Skickad<' in page and "kund@example.se" in page
    assert path in (await anon_client.get("/quotes?q=fasad&status=sent")).text
    assert path not in (await anon_client.get("/quotes?status=draft")).text
    r = await anon_client.get(path + "/delete")
    assert 'id="anonymization-notice"' in r.text
    r = await post_form(anon_client, path + "/delete", {}, path)
    assert r.status_code == 303 and path not in (await anon_client.get("/quotes")).text
    assert re.search(r"Offerten är raderad", (await anon_client.get("/quotes")).text) is None  # flash shown once
