"""A two-factor refusal reaches every edge as a code with params (#18.2), never as finished
English text: the API answers problem details with the code and params, a page says it in
its own language with the number filled in. Quote acceptance is the guarded step here (the
same decision reaches projects, the vault, the portal and the login)."""

from __future__ import annotations

import re

import pytest

from core.contracts import SecondFactorDecision
from core.pages import translations
from plugins.quotes.tests import test_quotes_twofactor as quotes_2fa
from plugins.quotes.tests.conftest import make_quote, send_quote
from plugins.twofactor.services import TwoFactorRefusal
from tests.pages.helpers import post_form

BODY = {"name": "Typed Name", "email": "karin@example.se"}


# A contact person with a mobile phone, described by a test plugin (the quotes tests' own).
real_plugins = quotes_2fa.real_plugins
pytestmark = pytest.mark.usefixtures("real_plugins")


async def _quote_link(admin_client) -> str:  # type: ignore[no-untyped-def]
    for path, body in (
        ("/api/twofactor/settings", {"sms_active": True, "sender": "Gallra"}),
        ("/api/twofactor/contexts/quotes", {"enabled": True}),
    ):
        r = await admin_client.put(path, json=body)
        assert r.status_code == 200, r.text
    quote = await make_quote(admin_client, contact_person_id=quotes_2fa.KARIN)
    return f"/quotes/public/{await send_quote(admin_client, quote['id'])}"


def test_a_decision_keeps_the_code_params_and_status_of_the_refusal():
    exc = TwoFactorRefusal(
        "A code was sent less than a minute ago. Wait %(seconds)s seconds before asking for a new one.",
        429, code="twofactor.send_gap", seconds=42,
    )
    decision = SecondFactorDecision.refused(exc)
    assert decision.required and decision.code == "twofactor.send_gap" and decision.params == {"seconds": 42}
    assert "%(seconds)s" in (decision.error or "")  # a message id, not finished text
    refusal = decision.refusal()
    assert refusal is not None and refusal.status == 429 and refusal.code == "twofactor.send_gap"
    assert refusal.text() == exc.text() and "Wait 42 seconds" in refusal.text()
    assert decision.error_text(translations("sv")) == (
        "En kod skickades för mindre än en minut sedan. Vänta 42 sekunder innan du ber om en ny."
    )
    assert SecondFactorDecision(required=False).refusal() is None
    sent = SecondFactorDecision(
        required=True, message="A code was sent by SMS to %(phone)s; it is valid for 5 minutes.",
        params={"phone": "+46 70•••••67"},
    )
    assert sent.message_text() == "A code was sent by SMS to +46 70•••••67; it is valid for 5 minutes."
    assert sent.message_text(translations("sv")) == (
        "En kod har skickats med SMS till +46 70•••••67; den gäller i 5 minuter."
    )


async def test_the_api_answers_the_refusal_with_its_code_and_params(admin_client, anon_client):
    url = f"/api{await _quote_link(admin_client)}/accept"
    r = await anon_client.post(url, json=BODY)
    assert r.status_code == 202, r.text
    assert "+46 70•••••67" in r.json()["second_factor"]["message"]
    # Asking again at once: too soon for another SMS.
    r = await anon_client.post(url, json=BODY, headers={"accept-language": "sv"})
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "twofactor.send_gap" and problem["type"].endswith("/twofactor.send_gap")
    seconds = problem["params"]["seconds"]
    assert isinstance(seconds, int) and 1 <= seconds <= 60
    assert f"Vänta {seconds} sekunder" in problem["detail"]
    r = await anon_client.post(url, json=BODY)
    assert r.status_code == 429 and r.json()["code"] == "twofactor.send_gap"
    assert f"Wait {r.json()['params']['seconds']} seconds" in r.json()["detail"]


async def test_a_swedish_page_shows_the_refusal_in_swedish_with_its_number(admin_client, anon_client):
    page = await _quote_link(admin_client)
    r = await post_form(anon_client, f"{page}/accept", BODY, token_from=page)
    assert r.status_code == 200 and 'name="challenge_id"' in r.text, r.text
    r = await post_form(anon_client, f"{page}/accept", BODY, token_from=page)
    assert r.status_code == 429, r.text
    assert re.search(r"Vänta \d+ sekunder innan du ber om en ny", r.text), r.text
    assert "Wait" not in r.text and "%(seconds)s" not in r.text
