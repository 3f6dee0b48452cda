"""What every record's generated pages share (core.pages.records, issue #20.7): the list's
columns sort both ways with ``aria-sort`` and keep the filters and the pager, each cell
carries its column's label for the stacked cards of a phone, and a record's page offers
only the state actions its state allows (a draft quote: close and void, never reopen)."""

from __future__ import annotations

import re
from typing import Any

from tests.pages.helpers import page_login, post_form

CASE_LINK = re.compile(r'<a href="/cases/(\d+)">')


def case_ids(html: str) -> list[int]:
    return [int(i) for i in CASE_LINK.findall(html[html.index('id="results"'):])]


def th(html: str, label: str) -> str:
    match = re.search(r"<th scope=\"col\"[^>]*>(?:(?!</th>).)*?" + re.escape(label) + r".*?</th>", html, re.S)
    assert match, label
    return match.group(0)


async def make_case(client: Any, title: str) -> dict:
    r = await client.post("/api/cases/", json={"title": title})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_generated_list_sorts_by_its_declared_columns(admin_client, anon_client, tenant):
    beta, alfa, gamma = [await make_case(admin_client, t) for t in ("Beta", "Alfa", "Gamma")]
    await page_login(anon_client, tenant)

    page = (await anon_client.get("/cases")).text  # the spec's default: -number
    assert case_ids(page) == [gamma["id"], alfa["id"], beta["id"]]
    assert 'aria-sort="descending"' in th(page, "Nummer")
    assert "sort=number" in th(page, "Nummer")  # pressed: ascending
    assert "<a" not in th(page, "Status")  # not a declared sort key

    page = (await anon_client.get("/cases?sort=title&status=open")).text
    assert case_ids(page) == [alfa["id"], beta["id"], gamma["id"]]
    title = th(page, "Titel")
    assert 'aria-sort="ascending"' in title and "status=open" in title and "sort=-title" in title
    page = (await anon_client.get("/cases?sort=-title")).text
    assert case_ids(page) == [gamma["id"], beta["id"], alfa["id"]]
    assert 'aria-sort="descending"' in th(page, "Titel")

    # Each cell is labelled by its column: a phone shows the rows as stacked cards.
    assert '<table class="stack">' in page and '<td data-label="Titel"><a href="/cases/' in page
    # A hand-written order the list does not offer: the usual order, not an error.
    for bad in ("description", "-", "title,title", "x" * 500):
        r = await anon_client.get("/cases", params={"sort": bad})
        assert r.status_code == 200 and case_ids(r.text) == [gamma["id"], alfa["id"], beta["id"]], bad
    assert (await admin_client.get("/api/cases/", params={"sort": "description"})).status_code == 400


async def test_the_pager_keeps_the_order(admin_client, anon_client, tenant):
    for n in range(27):
        await make_case(admin_client, f"Ärende {n:02d}")
    await page_login(anon_client, tenant)
    page = (await anon_client.get("/cases?sort=title")).text
    assert 'href="/cases?sort=title&amp;offset=25"' in page
    second = (await anon_client.get("/cases?sort=title&offset=25")).text
    assert re.findall(r'<a href="/cases/\d+">(Ärende \d+)</a>', second) == ["Ärende 25", "Ärende 26"]


def actions_of(html: str, base: str) -> set[str]:
    """The state actions the page offers (its forms posting to ``base``/<action>)."""
    return set(re.findall(rf'<form method="post" action="{re.escape(base)}/(close|reopen|void)"', html))


async def test_a_quote_offers_only_the_actions_of_its_state(admin_client, anon_client, tenant):
    r = await admin_client.post("/api/quotes/", json={"title": "Fasadmålning"})
    assert r.status_code == 201, r.text
    base = f"/quotes/{r.json()['id']}"
    await page_login(anon_client, tenant)
    page = (await anon_client.get(base)).text
    assert actions_of(page, base) == {"close", "void"}  # a draft: no "Öppna igen"
    assert "Öppna igen" not in page and "Stäng" in page and "Makulera" in page

    assert (await post_form(anon_client, base + "/close", {}, base)).status_code == 303
    page = (await anon_client.get(base)).text
    assert actions_of(page, base) == {"reopen"}  # closed: no "Stäng"
    assert ">Stäng<" not in page and "Öppna igen" in page

    assert (await post_form(anon_client, base + "/reopen", {}, base)).status_code == 303
    assert (await post_form(anon_client, base + "/void", {}, base)).status_code == 303
    assert actions_of((await anon_client.get(base)).text, base) == set()  # voided: nothing left


async def test_an_open_or_closed_case_offers_one_state_action(admin_client, anon_client, tenant):
    case = await make_case(admin_client, "Läckande kran")
    base = f"/cases/{case['id']}"
    await page_login(anon_client, tenant)
    assert actions_of((await anon_client.get(base)).text, base) == {"close"}
    assert (await post_form(anon_client, base + "/close", {}, base)).status_code == 303
    assert actions_of((await anon_client.get(base)).text, base) == {"reopen"}
    # deleted: read only, no actions
    assert (await admin_client.delete(f"/api/cases/{case['id']}")).status_code == 200
    assert actions_of((await anon_client.get(base)).text, base) == set()


async def test_a_generic_form_shows_every_error_and_focuses_the_first(anon_client, tenant):
    await page_login(anon_client, tenant)
    long = "x" * 201
    r = await post_form(anon_client, "/quotes/new", {"title": long, "valid_until": "inte ett datum"}, "/quotes/new")
    assert r.status_code == 400
    assert 'id="e-title"' in r.text and 'id="e-valid_until"' in r.text
    assert r.text.count("autofocus") == 1 and re.search(r'id="f-title"[^>]*autofocus', r.text)


async def test_a_case_form_shows_the_shape_and_the_service_errors_together(anon_client, tenant):
    await page_login(anon_client, tenant)
    form = {"title": "", "kind": "case", "end_customer_phone": "12", "end_customer_email": "inte-en-adress"}
    r = await post_form(anon_client, "/cases/new", form, "/cases/new")
    assert r.status_code == 400
    for field in ("title", "end_customer_phone", "end_customer_email"):
        assert f'id="e-{field}"' in r.text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', r.text), field
    assert "Detta får inte vara tomt" in r.text  # an empty title says so, not "not valid"
    assert r.text.count("autofocus") == 1 and re.search(r'id="f-title"[^>]*autofocus', r.text)
    # With a title, the service refuses the two others together; the phone comes first.
    r = await post_form(anon_client, "/cases/new", {**form, "title": "Läcka"}, "/cases/new")
    assert r.status_code == 400 and 'id="e-end_customer_email"' in r.text
    assert re.search(r'id="f-end_customer_phone"[^>]*autofocus', r.text) and r.text.count("autofocus") == 1


async def test_the_api_lists_every_bad_field(admin_client):
    r = await admin_client.post("/api/cases/", json={"title": " ", "end_customer_phone": "12",
                                                     "end_customer_email": "x"})
    assert r.status_code == 400
    body = r.json()
    assert [e["field"] for e in body["errors"]] == ["title", "end_customer_phone", "end_customer_email"]
    assert all(e["code"] and e["detail"] for e in body["errors"])
    assert (await admin_client.get("/api/cases/")).json()["total"] == 0  # nothing written
    one = await admin_client.post("/api/cases/", json={"title": "x", "end_customer_phone": "12"})
    assert one.status_code == 400 and "errors" not in one.json()  # one error: the usual shape
