"""The public page "Mina personuppgifter": a person asks, proves the address with the link
or the SMS code, and the request enters the queue verified. The page answers the same for
known and unknown addresses; links expire, codes are counted, tenants are apart."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from core.db import utcnow
from core.tables import Outbox
from core.testing.client import AppClient
from plugins.dsr import public
from plugins.dsr.tests.conftest import mails_to
from tests.pages.helpers import post_form

KNOWN = "kund@example.se"
PHONE = "070-123 45 67"
E164 = "+46701234567"


async def a_customer(admin_client, **reach) -> None:  # type: ignore[no-untyped-def]
    r = await admin_client.post("/api/customers/", json={"name": "Karin Kund", "kind": "private", **reach})
    assert r.status_code == 201, r.text


async def ask(client: AppClient, slug: str, **form: str):  # type: ignore[no-untyped-def]
    page = f"/dsr/ask/{slug}"
    return await post_form(client, page, {"kind": "access", "details": "Vad har ni om mig?", **form}, page)


def visible(html: str) -> str:
    """The page without its per-request parts (CSRF token, the code page's ticket)."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    return re.sub(r'name="ticket" value="[^"]*"', "", html)


async def test_the_page_is_swedish_and_english(anon_client, tenant) -> None:
    r = await anon_client.get(f"/dsr/ask/{tenant.slug}")
    assert r.status_code == 200 and "Mina personuppgifter" in r.text and "Radering (art. 17)" in r.text
    anon_client.cookies.set("gallra_lang", "en")
    r = await anon_client.get(f"/dsr/ask/{tenant.slug}")
    assert "My personal data" in r.text and "Erasure (art. 17)" in r.text
    assert (await anon_client.get("/dsr/ask/no-such-organization")).status_code == 404


async def test_email_link_confirms_and_the_request_is_verified(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    r = await ask(anon_client, tenant.slug, email=KNOWN.upper())
    assert r.status_code == 200 and 'id="dsr-sent"' in r.text
    (mail,) = await mails_to(KNOWN, tenant.id)
    link = re.search(r"(/dsr/ask/\S+/confirm\?token=\S+)", mail["body"]).group(1)
    assert (await admin_client.get("/api/dsr/")).json()["total"] == 0  # nothing before the confirmation
    page = await anon_client.get(link)
    assert page.status_code == 200 and "Bekräfta begäran" in page.text
    token = link.split("token=")[1]
    r = await post_form(anon_client, f"/dsr/ask/{tenant.slug}/confirm", {"ticket": token}, link)
    assert r.status_code == 200 and 'id="dsr-done"' in r.text
    (req,) = (await admin_client.get("/api/dsr/")).json()["items"]
    assert (req["status"], req["channel"], req["requester_email"], req["kind"]) == (
        "verified", "public", KNOWN, "access")
    assert req["verified_at"] and req["details"] == "Vad har ni om mig?"
    assert "nummer" in (await mails_to(KNOWN, tenant.id))[-1]["body"]
    # used once
    r = await post_form(anon_client, f"/dsr/ask/{tenant.slug}/confirm", {"ticket": token}, f"/dsr/ask/{tenant.slug}")
    assert r.status_code == 404 and 'id="dsr-gone"' in r.text
    assert (await admin_client.get("/api/dsr/")).json()["total"] == 1


async def test_unknown_address_gets_the_same_answer_and_nothing_is_sent(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN, mobile_phone=PHONE)
    known = await ask(anon_client, tenant.slug, email=KNOWN)
    unknown = await ask(anon_client, tenant.slug, email="okand@example.se")
    assert known.status_code == unknown.status_code == 200
    assert visible(known.text) == visible(unknown.text)
    known = await ask(anon_client, tenant.slug, phone=PHONE)
    unknown = await ask(anon_client, tenant.slug, phone="070-999 99 99")
    assert known.status_code == unknown.status_code == 200
    assert visible(known.text) == visible(unknown.text) and 'name="code"' in unknown.text
    assert await mails_to("okand@example.se", tenant.id) == [] and await mails_to("+46709999999", tenant.id) == []
    # the unknown number's code page accepts no code
    ticket = re.search(r'name="ticket" value="([^"]+)"', unknown.text).group(1)
    for code in ("000000", "123456"):
        r = await post_form(anon_client, f"/dsr/ask/{tenant.slug}/code", {"ticket": ticket, "code": code},
                            f"/dsr/ask/{tenant.slug}")
        assert r.status_code == 400 and 'id="e-code"' in r.text


async def test_sms_code_wrong_then_right_and_counted(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, mobile_phone=PHONE)
    r = await ask(anon_client, tenant.slug, phone=PHONE, kind="erasure")
    ticket = re.search(r'name="ticket" value="([^"]+)"', r.text).group(1)
    (sms,) = await mails_to(E164, tenant.id)
    code = re.search(r": (\d{6})\.", sms["body"]).group(1)
    assert code not in r.text
    wrong = "000000" if code != "000000" else "111111"
    url, page = f"/dsr/ask/{tenant.slug}/code", f"/dsr/ask/{tenant.slug}"
    r = await post_form(anon_client, url, {"ticket": ticket, "code": wrong}, page)
    assert r.status_code == 400 and 'id="e-code"' in r.text
    r = await post_form(anon_client, url, {"ticket": ticket, "code": code}, page)
    assert r.status_code == 200 and 'id="dsr-done"' in r.text
    (req,) = (await admin_client.get("/api/dsr/")).json()["items"]
    assert (req["kind"], req["requester_phone"], req["status"]) == ("erasure", E164, "verified")


async def test_five_wrong_codes_end_the_confirmation(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, mobile_phone=PHONE)
    r = await ask(anon_client, tenant.slug, phone=PHONE)
    ticket = re.search(r'name="ticket" value="([^"]+)"', r.text).group(1)
    code = re.search(r": (\d{6})\.", (await mails_to(E164, tenant.id))[0]["body"]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    url, page = f"/dsr/ask/{tenant.slug}/code", f"/dsr/ask/{tenant.slug}"
    for _ in range(public.MAX_CODE_TRIES):
        assert (await post_form(anon_client, url, {"ticket": ticket, "code": wrong}, page)).status_code == 400
    r = await post_form(anon_client, url, {"ticket": ticket, "code": code}, page)
    assert r.status_code == 429
    assert (await admin_client.get("/api/dsr/")).json()["total"] == 0


async def test_expired_link_is_refused(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    await ask(anon_client, tenant.slug, email=KNOWN)
    token = re.search(r"token=(\S+)", (await mails_to(KNOWN, tenant.id))[0]["body"]).group(1)
    with time_machine.travel(utcnow() + public.TTL + timedelta(seconds=1), tick=False):
        r = await anon_client.get(f"/dsr/ask/{tenant.slug}/confirm?token={token}")
        assert r.status_code == 404 and 'id="dsr-gone"' in r.text
    r = await anon_client.get(f"/dsr/ask/{tenant.slug}/confirm?token=tampered{token}")
    assert r.status_code == 404
    assert (await admin_client.get("/api/dsr/")).json()["total"] == 0


async def test_another_tenants_link_does_not_confirm_here(admin_client, anon_client, tenant, other_tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    await ask(anon_client, tenant.slug, email=KNOWN)
    token = re.search(r"token=(\S+)", (await mails_to(KNOWN, tenant.id))[0]["body"]).group(1)
    r = await anon_client.get(f"/dsr/ask/{other_tenant.slug}/confirm?token={token}")
    assert r.status_code == 404
    # and tenant B's page does not know tenant A's customer: nothing is sent
    await ask(anon_client, other_tenant.slug, email=KNOWN)
    assert len(await mails_to(KNOWN, tenant.id)) == 1


async def test_rate_limited_per_address_alike_for_known_and_unknown(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    for address in (KNOWN, "okand@example.se"):
        for _ in range(public.MAX_PER_ADDRESS):
            assert (await ask(anon_client, tenant.slug, email=address)).status_code == 200
        r = await ask(anon_client, tenant.slug, email=address)
        assert r.status_code == 429, address
    assert len(await mails_to(KNOWN, tenant.id)) == public.MAX_PER_ADDRESS


async def test_rate_limited_per_client(anon_client, tenant, monkeypatch) -> None:
    monkeypatch.setattr(public, "MAX_PER_CLIENT", 3)
    for i in range(3):
        assert (await ask(anon_client, tenant.slug, email=f"p{i}@example.se")).status_code == 200
    assert (await ask(anon_client, tenant.slug, email="p9@example.se")).status_code == 429


async def test_bad_input_is_shown_beside_the_field(anon_client, tenant) -> None:
    r = await ask(anon_client, tenant.slug, kind="everything", email=KNOWN)
    assert r.status_code == 400 and 'id="e-kind"' in r.text
    r = await ask(anon_client, tenant.slug)
    assert r.status_code == 400 and 'id="e-email"' in r.text
    r = await ask(anon_client, tenant.slug, email="inte-en-adress")
    assert r.status_code == 400 and 'id="e-email"' in r.text
    assert await Outbox.count().where(Outbox.tenant_id == tenant.id) == 0


async def test_no_page_where_the_module_is_off(admin_client, anon_client, tenant) -> None:
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    await set_module_enabled(get_host(), tenant.id, "dsr", False)
    assert (await anon_client.get(f"/dsr/ask/{tenant.slug}")).status_code == 404
    r = await ask(anon_client, tenant.slug, email=KNOWN)
    assert r.status_code in (403, 404)
