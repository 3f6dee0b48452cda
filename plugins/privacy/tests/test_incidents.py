"""The personal-data breach log (article 33) and its 72-hour notification deadline.

Time is frozen: an incident discovered at T0 is due at T0 + 72 h. At exactly 72 hours it
is still in time; one second later the deadline has passed and the incident is flagged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from plugins.privacy.tests.conftest import make_incident
from tests.support import each_answers

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=72)


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def incident_at(client, moment: datetime, incident_id: int) -> dict:  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        r = await client.get(f"/api/privacy/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def overdue_numbers(client, moment: datetime, overdue: bool = True) -> list[int]:  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        r = await client.get(f"/api/privacy/incidents/?overdue={str(overdue).lower()}")
    assert r.status_code == 200, r.text
    return [i["number"] for i in r.json()["items"]]


async def test_deadline_runs_72_hours_from_discovery(admin_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
    assert datetime.fromisoformat(inc["deadline"]["due_at"]) == DUE
    assert inc["deadline"]["state"] == "pending" and inc["deadline"]["hours_left"] == 71.0

    d = (await incident_at(admin_client, DUE - timedelta(minutes=30), inc["id"]))["deadline"]
    assert (d["state"], d["passed"], d["hours_left"], d["late_reason_missing"]) == ("pending", False, 0.5, False)
    d = (await incident_at(admin_client, DUE, inc["id"]))["deadline"]
    assert (d["state"], d["passed"], d["hours_left"]) == ("pending", False, 0.0)
    assert await overdue_numbers(admin_client, DUE) == []
    assert await overdue_numbers(admin_client, DUE, overdue=False) == [inc["number"]]

    d = (await incident_at(admin_client, DUE + timedelta(seconds=1), inc["id"]))["deadline"]
    assert (d["state"], d["passed"], d["late_reason_missing"]) == ("overdue", True, True)
    assert await overdue_numbers(admin_client, DUE + timedelta(seconds=1)) == [inc["number"]]
    assert await overdue_numbers(admin_client, DUE + timedelta(seconds=1), overdue=False) == []
    d = (await incident_at(admin_client, DUE + timedelta(hours=10), inc["id"]))["deadline"]
    assert d["hours_left"] == -10.0


async def test_notified_in_time_is_never_flagged(admin_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        r = await admin_client.post(
            f"/api/privacy/incidents/{inc['id']}/notify-authority", json={"reference": "IMY-2026-123"}
        )
    assert r.status_code == 200, r.text
    got = r.json()
    assert datetime.fromisoformat(got["authority_notified_at"]) == T0 + timedelta(hours=30)
    assert (got["authority_decision"], got["authority_reference"]) == ("yes", "IMY-2026-123")
    d = (await incident_at(admin_client, DUE + timedelta(days=30), inc["id"]))["deadline"]
    assert (d["state"], d["passed"], d["late_reason_missing"]) == ("notified", True, False)
    assert await overdue_numbers(admin_client, DUE + timedelta(days=30)) == []
    # Notifying twice is a mistake, not a new fact.
    with time_machine.travel(T0 + timedelta(hours=31), tick=False):
        r = await admin_client.post(f"/api/privacy/incidents/{inc['id']}/notify-authority", json={})
    assert r.status_code == 409


async def test_late_notification_asks_for_the_reason(admin_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
    with time_machine.travel(T0 + timedelta(hours=100), tick=False):
        r = await admin_client.post(
            f"/api/privacy/incidents/{inc['id']}/notify-authority",
            json={"notified_at": iso(DUE + timedelta(seconds=1))},
        )
        assert r.status_code == 200, r.text
        d = r.json()["deadline"]
        assert (d["state"], d["late_reason_missing"]) == ("notified_late", True)
        r = await admin_client.patch(
            f"/api/privacy/incidents/{inc['id']}",
            json={"authority_reason": "Omfattningen var okänd förrän leverantören svarat."},
        )
        assert r.status_code == 200, r.text
        assert r.json()["deadline"]["late_reason_missing"] is False
        assert r.json()["deadline"]["state"] == "notified_late"


async def test_decided_not_to_report_is_not_overdue(admin_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(
            admin_client, discovered_at=iso(T0), authority_decision="no",
            authority_reason="Krypterad disk, ingen risk för de registrerade",
        )
    d = (await incident_at(admin_client, DUE + timedelta(days=1), inc["id"]))["deadline"]
    assert (d["state"], d["passed"]) == ("not_required", True)
    assert await overdue_numbers(admin_client, DUE + timedelta(days=1)) == []
    # Changing the decision back starts flagging again.
    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        r = await admin_client.patch(f"/api/privacy/incidents/{inc['id']}", json={"authority_decision": "pending"})
    assert r.json()["deadline"]["state"] == "overdue"


async def test_full_report_round_trip(admin_client):
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        inc = await make_incident(
            admin_client,
            discovered_at="2026-03-02T09:00:00+01:00",  # = T0 in UTC
            occurred_at=iso(T0 - timedelta(days=1)),
            data_affected="Namn och telefonnummer",
            people_affected="Cirka 40 kunder",
            subjects_count=40,
            consequences="Risk för oönskade samtal",
            measures="Fjärrlåsning av datorn",
        )
        r = await admin_client.post(f"/api/privacy/incidents/{inc['id']}/notify-subjects", json={})
        assert r.status_code == 200, r.text
    assert datetime.fromisoformat(inc["discovered_at"]) == T0
    got = r.json()
    assert got["subjects_decision"] == "yes" and got["subjects_notified_at"] is not None
    assert (got["subjects_count"], got["measures"], got["reported_by"] > 0) == (40, "Fjärrlåsning av datorn", True)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        r = await admin_client.patch(f"/api/privacy/incidents/{inc['id']}", json={"clear": ["subjects_count"]})
    assert r.json()["subjects_count"] is None and r.json()["people_affected"] == "Cirka 40 kunder"


async def test_closing_needs_a_decision_about_the_authority(admin_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
        r = await admin_client.post(f"/api/privacy/incidents/{inc['id']}/close")
        assert r.status_code == 409 and "authority_decision" in r.json()["detail"]
        await admin_client.patch(f"/api/privacy/incidents/{inc['id']}", json={"authority_decision": "no"})
        r = await admin_client.post(f"/api/privacy/incidents/{inc['id']}/close")
        assert r.status_code == 200 and r.json()["status"] == "closed"
        assert (await admin_client.post(f"/api/privacy/incidents/{inc['id']}/close")).status_code == 409
        listed = (await admin_client.get("/api/privacy/incidents/?status=open")).json()
        assert listed["total"] == 0
        r = await admin_client.post(f"/api/privacy/incidents/{inc['id']}/reopen")
        assert r.status_code == 200 and r.json()["closed_at"] is None
        r = await admin_client.delete(f"/api/privacy/incidents/{inc['id']}")
        assert r.status_code == 200 and r.json()["deleted_at"] is not None
        r = await admin_client.patch(f"/api/privacy/incidents/{inc['id']}", json={"title": "Ny"})
        assert r.status_code == 409
        assert (await admin_client.get("/api/privacy/incidents/")).json()["total"] == 0


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"discovered_at": iso(T0 + timedelta(days=2))}, "discovered_at"),  # in the future
        ({"occurred_at": iso(T0 + timedelta(minutes=1))}, "occurred_at"),  # after discovery
        ({"authority_notified_at": iso(T0 - timedelta(minutes=1))}, "authority_notified_at"),
        ({"subjects_notified_at": iso(T0 - timedelta(minutes=1))}, "subjects_notified_at"),
        ({"authority_decision": "no", "authority_notified_at": iso(T0)}, "authority_decision"),
        ({"title": "   "}, "title"),
    ],
)
async def test_impossible_times_are_400_naming_the_field(admin_client, fields, field):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        r = await admin_client.post(
            "/api/privacy/incidents/", json={"title": "Incident", "discovered_at": iso(T0), **fields}
        )
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert (await admin_client.get("/api/privacy/incidents/?include_deleted=true")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"title": "No zone", "discovered_at": "2026-03-02T08:00:00"},  # the deadline needs a zone
        {"title": "Bad", "discovered_at": "yesterday"},
        {"title": "Bad", "discovered_at": iso(T0), "authority_decision": "maybe"},
        {"title": "Bad", "discovered_at": iso(T0), "subjects_count": -1},
        {"discovered_at": iso(T0)},
        {"title": "Bad", "discovered_at": iso(T0), "extra": True},
    ],
)
async def test_malformed_incidents_are_refused(admin_client, body):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        r = await admin_client.post("/api/privacy/incidents/", json=body)
    assert r.status_code == 400, r.text


async def test_an_edit_must_keep_the_story_possible(admin_client):
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
        await admin_client.post(f"/api/privacy/incidents/{inc['id']}/notify-authority", json={})
        # Moving discovery after the notification would make it come before the breach.
        r = await admin_client.patch(
            f"/api/privacy/incidents/{inc['id']}", json={"discovered_at": iso(T0 + timedelta(hours=5, minutes=1))}
        )
        assert r.status_code == 400 and r.json()["field"] == "authority_notified_at"
        stored = (await admin_client.get(f"/api/privacy/incidents/{inc['id']}")).json()
        assert datetime.fromisoformat(stored["discovered_at"]) == T0


async def test_another_tenants_incident_is_not_found(admin_client, other_client):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        inc = await make_incident(admin_client, discovered_at=iso(T0))
        await each_answers(other_client, 404, (
            ("get", "", None),
            ("patch", "", {"title": "x"}),
            ("delete", "", None),
            ("post", "/close", None),
            ("post", "/reopen", None),
            ("post", "/notify-authority", {}),
            ("post", "/notify-subjects", {}),
        ), under=f"/api/privacy/incidents/{inc['id']}")
        got = (await admin_client.get(f"/api/privacy/incidents/{inc['id']}")).json()
    assert got["title"] == inc["title"] and got["authority_notified_at"] is None and got["deleted_at"] is None
