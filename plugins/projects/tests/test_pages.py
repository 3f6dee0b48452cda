"""Project pages through the test client: sub-projects, extra costs, a payment plan sent."""

from __future__ import annotations

import re

from tests.pages.helpers import page_login, post_form


async def test_project_plan_sent_and_closed(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, "/projects/new", {"title": ""}, "/projects/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(anon_client, "/projects/new", {"title": "Nytt kök"}, "/projects/new")
    assert r.status_code == 303
    path = r.headers["location"]
    r = await post_form(anon_client, path + "/sub-projects", {"name": "El", "description": "Nya uttag"}, path)
    assert r.status_code == 303
    r = await post_form(anon_client, path + "/extra-costs", {"cost_description": "Extra skåp", "amount": "x"}, path)
    assert r.status_code == 400 and 'id="e-amount"' in r.text
    r = await post_form(anon_client, path + "/extra-costs", {"cost_description": "Extra skåp", "amount": "4000"}, path)
    assert r.status_code == 303
    r = await post_form(anon_client, path + "/payment-plans",
                        {"plan_title": "Delbetalning", "due_date.0": "31/12", "amount.0": "500"}, path)
    assert r.status_code == 400 and 'id="e-due_date-0"' in r.text
    r = await post_form(anon_client, path + "/payment-plans",
                        {"plan_title": "Delbetalning", "due_date.0": "2030-01-31", "amount.0": "500",
                         "due_date.1": "2030-02-28", "amount.1": "700,50"}, path)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert "1\u00a0200,50\u00a0kr" in page and "Nya uttag" in page and "4\u00a0000,00\u00a0kr" in page
    send = re.search(r'action="(/projects/\d+/payment-plans/\d+/send)"', page).group(1)
    r = await post_form(anon_client, send, {"email": "nej"}, path)
    assert r.status_code == 400 and 'id="e-pe-' in r.text
    r = await post_form(anon_client, send, {"email": "kund@example.se"}, path)
    assert r.status_code == 303
    assert path in (await anon_client.get("/projects?q=kök")).text
    r = await post_form(anon_client, path + "/close", {}, path)
    assert r.status_code == 303 and 'id="project-status">Stängd<' in (await anon_client.get(path)).text
    assert 'id="anonymization-notice"' in (await anon_client.get(path + "/delete")).text
