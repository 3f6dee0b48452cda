"""The tenant's queue: recording requests, the deadline as article 12(3) counts it (frozen
time, across month ends), extension, answer, refusal, and tenant isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from plugins.dsr import deadline
from plugins.dsr.tests.conftest import mails_to, make_request
from tests.support import each_answers


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2027, 1, 31), date(2027, 2, 28)),  # a shorter month: its last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2027, 1, 30), date(2027, 2, 28)),
        (date(2027, 3, 31), date(2027, 4, 30)),
        (date(2027, 2, 28), date(2027, 3, 28)),  # the same date, not the month's end
        (date(2027, 12, 15), date(2028, 1, 15)),  # over the year's end
        (date(2027, 12, 31), date(2028, 1, 31)),
    ],
)
def test_one_month_is_the_same_date_or_the_last_day_of_a_shorter_month(received: date, due: date) -> None:
    assert deadline.due_on(received) == due


def test_extension_counts_from_the_day_of_receipt() -> None:
    assert deadline.due_on(date(2027, 1, 31), 1) == date(2027, 3, 31)
    assert deadline.due_on(date(2027, 1, 31), 2) == date(2027, 4, 30)
    assert deadline.due_on(date(2027, 11, 30), 2) == date(2028, 2, 29)


def test_the_day_of_receipt_is_the_swedish_calendar_day() -> None:
    assert deadline.local_date(datetime(2027, 1, 31, 23, 30, tzinfo=UTC)) == date(2027, 2, 1)
    assert deadline.local_date(datetime(2027, 1, 31, 22, 59, tzinfo=UTC)) == date(2027, 1, 31)


async def test_a_request_received_on_31_january_is_due_28_february(admin_client) -> None:
    with time_machine.travel(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        req = await make_request(admin_client)
    assert (req["received_on"], req["status"], req["article"]) == ("2026-01-31", "received", 15)
    assert req["deadline"]["due_on"] == "2026-02-28"

    with time_machine.travel(datetime(2026, 2, 28, 12, 0, tzinfo=UTC), tick=False):
        d = (await admin_client.get(f"/api/dsr/{req['id']}")).json()["deadline"]
        assert (d["days_left"], d["overdue"]) == (0, False)
        listed = (await admin_client.get("/api/dsr/?status=received")).json()
        assert [i["id"] for i in listed["items"]] == [req["id"]]
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        d = (await admin_client.get(f"/api/dsr/{req['id']}")).json()["deadline"]
        assert (d["days_left"], d["overdue"]) == (-1, True)


async def test_extension_needs_a_reason_is_at_most_two_months_and_tells_the_person(admin_client, tenant) -> None:
    with time_machine.travel(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        req = await make_request(admin_client, requester_email="ext@example.se")
    url = f"/api/dsr/{req['id']}/extend"
    with time_machine.travel(datetime(2026, 2, 10, 10, 0, tzinfo=UTC), tick=False):
        r = await admin_client.post(url, json={"months": 1, "reason": "   "})
        assert r.status_code == 400 and r.json()["code"] == "dsr.reason_required"
        r = await admin_client.post(url, json={"months": 3, "reason": "Många begäranden"})
        assert r.status_code == 400
        r = await admin_client.post(url, json={"months": 1, "reason": "Många begäranden"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["deadline"]["due_on"]) == ("extended", "2026-03-31")
        r = await admin_client.post(url, json={"months": 2, "reason": "Ännu fler"})
        assert r.status_code == 409 and r.json()["code"] == "dsr.extended_too_much"
        r = await admin_client.post(url, json={"months": 1, "reason": "Komplicerad begäran"})
        assert r.status_code == 200
        assert r.json()["deadline"] == {"due_on": "2026-04-30", "days_left": 79, "overdue": False,
                                        "extension_months": 2}
    mails = await mails_to("ext@example.se", tenant.id)
    assert len(mails) == 2
    assert "2026-03-31" in mails[0]["body"] and "Många begäranden" in mails[0]["body"]
    assert "2026-04-30" in mails[1]["body"]


async def test_extension_after_the_first_month_is_refused(admin_client) -> None:
    with time_machine.travel(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), tick=False):
        req = await make_request(admin_client)
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        r = await admin_client.post(f"/api/dsr/{req['id']}/extend", json={"months": 1, "reason": "Sent"})
    assert r.status_code == 409 and r.json()["code"] == "dsr.extended_too_late"
    assert (await admin_client.get(f"/api/dsr/{req['id']}")).json()["deadline"]["extension_months"] == 0


async def test_answer_needs_verification_and_closes_the_request(admin_client, tenant) -> None:
    req = await make_request(admin_client, kind="correction", requester_email="fix@example.se",
                             assignee_id=tenant.admin_id)
    url = f"/api/dsr/{req['id']}"
    r = await admin_client.post(f"{url}/answer", json={"text": "Adressen är rättad."})
    assert r.status_code == 409 and r.json()["code"] == "dsr.not_verified"
    r = await admin_client.patch(url, json={"status": "verified"})
    assert r.status_code == 200 and r.json()["verified_at"] is not None
    r = await admin_client.patch(url, json={"status": "in_progress"})
    assert r.json()["status"] == "in_progress"
    r = await admin_client.post(f"{url}/answer", json={"text": "Adressen är rättad."})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["answer"]) == ("answered", "Adressen är rättad.")
    assert r.json()["closed_at"] is not None
    # answered is final
    r = await admin_client.patch(url, json={"details": "mer"})
    assert r.status_code == 409 and r.json()["code"] == "dsr.not_open"
    r = await admin_client.post(f"{url}/refuse", json={"reason": "nej"})
    assert r.status_code == 409
    mails = await mails_to("fix@example.se", tenant.id)
    assert len(mails) == 1 and "Adressen är rättad." in mails[0]["body"] and "rättelse" in mails[0]["body"]


async def test_refusal_needs_a_reason_and_mentions_imy(admin_client, tenant) -> None:
    req = await make_request(admin_client, kind="erasure", requester_email="no@example.se", language="en")
    url = f"/api/dsr/{req['id']}/refuse"
    r = await admin_client.post(url, json={"reason": ""})
    assert r.status_code == 400 and r.json()["code"] == "dsr.reason_required"
    r = await admin_client.post(url, json={"reason": "The records must be kept under the Accounting Act."})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    (mail,) = await mails_to("no@example.se", tenant.id)
    assert "Accounting Act" in mail["body"] and "IMY" in mail["body"] and "erasure" in mail["body"]


async def test_bad_input_is_a_clear_4xx(admin_client, other_tenant) -> None:
    for body in ({"kind": "everything"}, {"kind": "access", "requester_email": "not-an-address"},
                 {"kind": "access", "assignee_id": other_tenant.admin_id},
                 {"kind": "access", "received_on": "2999-01-01"}, {"kind": "access", "extra": 1}):
        r = await admin_client.post("/api/dsr/", json=body)
        assert r.status_code == 400, (body, r.text)
    assert (await admin_client.get("/api/dsr/")).json()["total"] == 0
    r = await admin_client.post("/api/dsr/999999/answer", json={"text": ""})
    assert r.status_code == 404


async def test_another_tenants_request_is_not_found(admin_client, other_client) -> None:
    req = await make_request(admin_client)
    assert (await other_client.get("/api/dsr/")).json()["total"] == 0
    await each_answers(other_client, 404, (
        ("get", "", None), ("patch", "", {"status": "verified"}), ("delete", "", None),
        ("post", "/extend", {"months": 1, "reason": "x"}), ("post", "/answer", {"text": "x"}),
        ("post", "/refuse", {"reason": "x"}),
    ), under=f"/api/dsr/{req['id']}")
    assert (await admin_client.get(f"/api/dsr/{req['id']}")).json()["status"] == "received"


async def test_only_gdpr_administrators_see_the_queue(admin_client, app, tenant) -> None:
    from core.testing.client import AppClient
    from core.users import create_employee_with_password
    from tests.support import TEST_PASSWORD, login

    req = await make_request(admin_client)
    await create_employee_with_password(tenant.id, "Ulla", "ulla@example.se", role="user", password=TEST_PASSWORD)
    async with AppClient(app=app) as c:
        assert (await login(c, tenant, "ulla@example.se", TEST_PASSWORD)).status_code == 200
        assert (await c.get("/api/dsr/")).status_code == 403
        assert (await c.get(f"/api/dsr/{req['id']}")).status_code == 404
        assert (await c.post("/api/dsr/", json={"kind": "access"})).status_code == 403
        assert (await c.post(f"/api/dsr/{req['id']}/refuse", json={"reason": "x"})).status_code == 403


async def test_a_new_address_must_be_verified_again(admin_client) -> None:
    req = await make_request(admin_client, requester_email="first@example.se")
    url = f"/api/dsr/{req['id']}"
    assert (await admin_client.patch(url, json={"status": "verified"})).json()["verified_at"]
    r = await admin_client.patch(url, json={"details": "mer text"})
    assert r.json()["verified_at"] is not None  # other changes keep it
    r = await admin_client.patch(url, json={"requester_email": "other@example.se"})
    assert (r.json()["verified_at"], r.json()["status"]) == (None, "received")
    r = await admin_client.post(f"{url}/answer", json={"text": "x"})
    assert r.status_code == 409 and r.json()["code"] == "dsr.not_verified"
