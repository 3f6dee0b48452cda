"""Answering: access and portability with the subject-access export behind an expiring
link and a new code; erasure with the existing erasure (the open request kept as proof, an
earlier answered one erased); reminders to the assignee a week and a day before."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import time_machine

from core.db import utcnow
from plugins.dsr import services
from plugins.dsr.tests.conftest import mails_to
from plugins.dsr.tests.test_public import KNOWN, a_customer, ask
from tests.pages.helpers import post_form


async def verified_request(admin_client, anon_client, tenant, kind: str = "access") -> dict:  # type: ignore[no-untyped-def]
    """A request asked on the public page and confirmed with the e-mail's link."""
    await ask(anon_client, tenant.slug, email=KNOWN, kind=kind)
    token = re.search(r"token=(\S+)", (await mails_to(KNOWN, tenant.id))[-1]["body"]).group(1)
    page = f"/dsr/ask/{tenant.slug}"
    r = await post_form(anon_client, f"{page}/confirm", {"ticket": token}, page)
    assert r.status_code == 200, r.text
    items = (await admin_client.get("/api/dsr/")).json()["items"]
    return next(i for i in items if i["kind"] == kind and i["status"] == "verified")


async def open_answer(anon_client, tenant, kind: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Follow the answer's link, get a code and enter it: the ticket and the ready page."""
    mail = [m for m in await mails_to(KNOWN, tenant.id) if "/answer?token=" in m["body"]][-1]
    link = re.search(r"(/dsr/ask/\S+/answer\?token=\S+)", mail["body"]).group(1)
    ticket = link.split("token=")[1]
    r = await anon_client.get(link)
    assert r.status_code == 200 and "/answer/send" in r.text
    page = f"/dsr/ask/{tenant.slug}"
    r = await post_form(anon_client, f"{page}/answer/send", {"ticket": ticket}, link)
    assert r.status_code == 200 and 'id="dsr-code-sent"' in r.text
    code = re.search(r": (\d{6})\.", (await mails_to(KNOWN, tenant.id))[-1]["body"]).group(1)
    r = await post_form(anon_client, f"{page}/answer/code", {"ticket": ticket, "code": code}, link)
    assert r.status_code == 200 and 'id="dsr-ready"' in r.text
    return ticket, r.text


async def test_portability_answer_is_downloaded_after_a_new_code(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    req = await verified_request(admin_client, anon_client, tenant, "portability")
    r = await admin_client.post(f"/api/dsr/{req['id']}/answer", json={"text": "Här är dina uppgifter."})
    assert r.status_code == 200 and r.json()["status"] == "answered", r.text
    mail = (await mails_to(KNOWN, tenant.id))[-1]
    assert "Här är dina uppgifter." in mail["body"] and "/answer?token=" in mail["body"]
    base = f"/dsr/ask/{tenant.slug}/answer"
    ticket = re.search(r"answer\?token=(\S+)", mail["body"]).group(1)
    # before the code: no download
    r = await anon_client.get(f"{base}/export.json?token={ticket}")
    assert r.status_code == 400 and "application/json" not in r.headers["content-type"]
    ticket, page = await open_answer(anon_client, tenant, "portability")
    assert 'id="dsr-json"' in page
    r = await anon_client.get(f"{base}/export.json?token={ticket}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    document = json.loads(r.text)
    values = [f["value"] for rec in document["records"] for f in rec["fields"]]
    assert "Karin Kund" in values and KNOWN in values
    r = await anon_client.get(f"{base}/export.html?token={ticket}")
    assert r.status_code == 200 and "Karin Kund" in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    # another organization's page does not open it, nor a tampered token
    assert (await anon_client.get(f"/dsr/ask/{tenant.slug}/answer/export.json?token=x{ticket}")).status_code == 404


async def test_the_download_ends_with_its_window_and_a_wrong_code_opens_nothing(
    admin_client, anon_client, tenant
) -> None:
    await a_customer(admin_client, email=KNOWN)
    req = await verified_request(admin_client, anon_client, tenant, "access")
    assert (await admin_client.post(f"/api/dsr/{req['id']}/answer", json={"text": ""})).status_code == 200
    mail = (await mails_to(KNOWN, tenant.id))[-1]
    link = re.search(r"(/dsr/ask/\S+/answer\?token=\S+)", mail["body"]).group(1)
    ticket = link.split("token=")[1]
    page = f"/dsr/ask/{tenant.slug}"
    await post_form(anon_client, f"{page}/answer/send", {"ticket": ticket}, link)
    r = await post_form(anon_client, f"{page}/answer/code", {"ticket": ticket, "code": "abc"}, link)
    assert r.status_code == 400 and 'id="e-code"' in r.text
    assert (await anon_client.get(f"{page}/answer/export.html?token={ticket}")).status_code == 400
    ticket, ready = await open_answer(anon_client, tenant, "access")
    assert 'id="dsr-json"' not in ready  # access: the readable page
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        assert (await anon_client.get(f"{page}/answer/export.html?token={ticket}")).status_code == 400
    with time_machine.travel(utcnow() + timedelta(days=8), tick=False):  # the export's week is over
        assert (await anon_client.get(link)).status_code == 404


async def test_access_without_an_address_cannot_be_delivered(admin_client) -> None:
    r = await admin_client.post("/api/dsr/", json={"kind": "access", "requester_name": "Per Post"})
    url = f"/api/dsr/{r.json()['id']}"
    await admin_client.patch(url, json={"status": "verified"})
    r = await admin_client.post(f"{url}/answer", json={"text": ""})
    assert r.status_code == 409 and r.json()["code"] == "dsr.no_address"


async def test_erasure_erases_the_person_keeps_this_request_and_tells_them(admin_client, anon_client, tenant) -> None:
    await a_customer(admin_client, email=KNOWN)
    # an earlier request of the same person, answered: the erasure covers it
    earlier = await verified_request(admin_client, anon_client, tenant, "access")
    await admin_client.post(f"/api/dsr/{earlier['id']}/refuse", json={"reason": "Dubblett"})
    req = await verified_request(admin_client, anon_client, tenant, "erasure")
    preview = (await admin_client.get(f"/api/dsr/{req['id']}/erasure")).json()
    actions = {(p["table"], p["record_id"]): p["action"] for p in preview["records"]}
    assert actions[("dsr_request", req["id"])] == "keep"
    assert actions[("dsr_request", earlier["id"])] == "anonymize"
    assert (await admin_client.get(f"/api/dsr/{req['id']}")).json()["status"] == "verified"  # preview changes nothing

    r = await admin_client.post(f"/api/dsr/{req['id']}/erase")
    assert r.status_code == 200 and r.json()["status"] == "answered", r.text
    assert "raderade" in r.json()["answer"]
    customers = (await admin_client.get("/api/customers/?q=Karin")).json()
    assert customers["total"] == 0
    assert (await admin_client.get(f"/api/dsr/{earlier['id']}")).json()["anonymized_at"] is not None
    kept = (await admin_client.get(f"/api/dsr/{req['id']}")).json()
    assert kept["requester_email"] == KNOWN and kept["anonymized_at"] is None
    assert "raderade" in (await mails_to(KNOWN, tenant.id))[-1]["body"]
    # answered: a second erasure is refused
    assert (await admin_client.post(f"/api/dsr/{req['id']}/erase")).status_code == 409


async def test_erasure_needs_an_erasure_request_and_verification(admin_client) -> None:
    r = await admin_client.post("/api/dsr/", json={"kind": "erasure", "requester_email": "x@example.se"})
    rid = r.json()["id"]
    assert (await admin_client.post(f"/api/dsr/{rid}/erase")).json()["code"] == "dsr.not_verified"
    r = await admin_client.post("/api/dsr/", json={"kind": "access", "requester_email": "x@example.se"})
    assert (await admin_client.get(f"/api/dsr/{r.json()['id']}/erasure")).json()["code"] == "dsr.not_erasure"


async def test_reminders_a_week_and_a_day_before_the_deadline(admin_client, tenant) -> None:
    with time_machine.travel(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        r = await admin_client.post("/api/dsr/", json={"kind": "objection", "assignee_id": tenant.admin_id})
    req = r.json()
    assert req["deadline"]["due_on"] == "2026-02-28"
    sent = []
    for day in (20, 21, 21, 22, 26, 27, 27, 28):
        with time_machine.travel(datetime(2026, 2, day, 8, 0, tzinfo=UTC), tick=False):
            sent.append(await services.remind())
    mine = [m for m in await mails_to(tenant.admin_email, tenant.id) if "Påminnelse" in m["subject"]]
    assert [m["subject"] for m in mine] == [
        f"Påminnelse: begäran {req['number']} ska besvaras senast 2026-02-28",
        f"Påminnelse: begäran {req['number']} ska besvaras senast 2026-02-28",
    ]
    assert "om 7 dag" in mine[0]["body"] and "om 1 dag" in mine[1]["body"]
    assert sent[1] >= 1 and sent[5] >= 1  # (the job counts every organization's reminders)


async def test_reminders_skip_answered_requests(admin_client, tenant) -> None:
    with time_machine.travel(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        r = await admin_client.post("/api/dsr/", json={"kind": "objection", "assignee_id": tenant.admin_id})
        await admin_client.post(f"/api/dsr/{r.json()['id']}/refuse", json={"reason": "Ingen grund"})
    with time_machine.travel(datetime(2026, 2, 21, 8, 0, tzinfo=UTC), tick=False):
        await services.remind()
    assert [m for m in await mails_to(tenant.admin_email, tenant.id) if "Påminnelse" in m["subject"]] == []
