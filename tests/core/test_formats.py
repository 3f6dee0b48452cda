"""Swedish formats in one place (core.pages.formats), postcodes checked (core.validation),
plural messages, and the framework's refusals coded and translated (core.problems)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.errors import Invalid
from core.pages import environment, translations
from core.pages.formats import format_date, format_datetime, format_money, format_number, format_phone, format_postcode
from core.validation import normalize_postcode

NBSP = "\u00a0"


def test_amounts_read_in_swedish_and_english():
    assert format_money(Decimal("20925")) == f"20{NBSP}925,00{NBSP}kr"
    assert format_money("1250.5") == f"1{NBSP}250,50{NBSP}kr"
    assert format_money(Decimal("-3.25")).endswith(f"3,25{NBSP}kr")
    assert format_money(Decimal("20925"), "en") == "SEK 20,925.00"
    assert format_money(None) == "" and format_money("inte ett tal") == "inte ett tal"


def test_phones_postcodes_dates_and_numbers():
    assert format_phone("+46701234567") == "070-123 45 67"
    assert format_phone("+4722123456") == "+47 22 12 34 56"
    assert format_phone(None) == "" and format_phone("oläsligt") == "oläsligt"
    assert format_postcode("85230") == "852 30" and format_postcode("852 30") == "852 30"
    assert format_postcode("SW1A 1AA") == "SW1A 1AA"
    assert format_date(date(2026, 12, 5)) == "5 dec. 2026"
    assert format_date(date(2026, 12, 5), "en") == "5 Dec 2026"
    assert format_datetime(datetime(2026, 12, 5, 14, 3)) == "5 dec. 2026 14:03"
    assert format_number("7.5") == "7,5" and format_number("3.000") == "3"
    assert format_number("1234.5", "en") == "1,234.5"


def test_template_filters_follow_the_page_language():
    template = environment().from_string("{{ a|money }} {{ p|phone }} {{ d|date }}")
    values = {"a": "20925", "p": "+46701234567", "d": date(2026, 12, 5)}
    assert template.render(lang="sv", **values) == f"20{NBSP}925,00{NBSP}kr 070-123 45 67 5 dec. 2026"
    assert template.render(lang="en", **values) == "SEK 20,925.00 070-123 45 67 5 Dec 2026"


@pytest.mark.parametrize("raw", ["85230", "852 30", " 852 30 ", "SE-852 30"])
def test_postcodes_are_stored_as_written(raw):
    assert normalize_postcode(raw) == "852 30"


@pytest.mark.parametrize("raw", ["8523", "852300", "abcde", "01234", "852-3O"])
def test_a_postcode_that_is_none_is_refused_with_a_code(raw):
    with pytest.raises(Invalid) as caught:
        normalize_postcode(raw, "postal_postcode")
    assert caught.value.code == "postcode_invalid" and caught.value.field == "postal_postcode"
    assert caught.value.text(translations("sv")).startswith("Skriv ett svenskt postnummer")


def test_plural_messages_have_both_swedish_forms():
    t = translations("sv")
    one, many = "after %(days)s day", "after %(days)s days"
    assert t.ngettext(one, many, 1) % {"days": 1} == "efter 1 dag"
    assert t.ngettext(one, many, 5) % {"days": 5} == "efter 5 dagar"


async def test_a_body_that_does_not_validate_is_a_coded_problem_naming_the_field(admin_client):
    r = await admin_client.post("/api/cases/", json={"title": 5}, headers={"Accept-Language": "sv"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_value" and body["field"] == "title"
    assert body["detail"] == "Värdet är inte giltigt här."
    r = await admin_client.post("/api/cases/", json={"title": 5})
    assert r.json()["detail"] == "This value is not valid here."  # English without Accept-Language


async def test_an_unknown_address_is_a_swedish_page_for_a_browser_and_json_for_a_program(admin_client):
    r = await admin_client.get("/finns-inte", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Det finns ingen sida på den här adressen." in r.text
    r = await admin_client.get("/finns-inte", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await admin_client.get("/api/finns-inte", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_the_favicon_is_served(anon_client):
    r = await anon_client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    r = await anon_client.get("/static/favicon.svg")
    assert r.status_code == 200
