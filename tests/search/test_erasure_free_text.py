"""#17.3: erasure redacts the person in free text and says "nothing remains" only when true.

A person's e-mail address and phone number typed into the free text of records (a case's
title and description, a work order's and a quote's description, an order's description,
a project's title, a time report's comment, an activity entry) must not outlive the
erasure of that person, whether the record is the person's (linked to the customer) or
not; and the audit's "nothing remains" is proven by reading every declared text column of
every row, anonymized or not, not by person search alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.db import raw
from core.gdpr import redact
from tests.search.test_search import make_customer, unique_word

PHONE_TYPED = "070-111 22 33"  # how people write it in free text
PHONE_ASKED = "+46 70 111 22 33"  # how the erasure request gives it


async def private_customer(client: Any) -> dict[str, Any]:
    word = unique_word("Era")
    email = f"{word.lower()}@example.se"
    c = await make_customer(
        client, name=f"Anna {word}", kind="private", email=email, mobile_phone="+46701112233"
    )
    return {"word": word, "email": email, "name": f"Anna {word}", "customer": c}


def mention(p: dict[str, Any]) -> str:
    return f"Ring {p['name']} på {PHONE_TYPED} eller skriv till {p['email']}."


def assert_gone(p: dict[str, Any], text: str) -> None:
    assert p["email"] not in text.lower(), text
    assert PHONE_TYPED not in text and "7011122" not in text.replace(" ", "").replace("-", ""), text


async def erase(client: Any, p: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(
        "/api/gdpr/subjects/erase",
        json={"emails": [p["email"]], "phones": [PHONE_ASKED], "dry_run": False},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def make_records(client: Any, p: dict[str, Any], linked: bool) -> dict[str, str]:
    """One record with the person in its free text per plugin; returns path -> fields."""
    text = mention(p)
    cid = p["customer"]["id"] if linked else 0
    made: dict[str, str] = {}

    async def create(path: str, body: dict[str, Any], fields: str) -> int:
        r = await client.post(path, json=body)
        assert r.status_code == 201, (path, r.text)
        made[f"{path}{r.json()['id']}"] = fields
        return int(r.json()["id"])

    await create(
        "/api/cases/",
        {
            "title": f"Kund {p['email']} {PHONE_TYPED}"[:200],
            "description": text,
            "customer_id": cid,
        },
        "title description",
    )
    await create(
        "/api/cases/",
        {
            "title": f"Service {p['email']}",
            "description": text,
            "kind": "service",
            "customer_id": cid,
        },
        "title description",
    )
    wo = await create(
        "/api/workorders/",
        {"title": "Kran", "description": text, "customer_id": cid},
        "description",
    )
    await create(
        "/api/quotes/",
        {
            "title": "Offert",
            "description": text,
            "customer_id": cid,
            "lines": [
                {"description": f"Arbete hos {p['email']}", "quantity": "1", "unit_price": "100"}
            ],
        },
        "description",
    )
    await create(
        "/api/orders/",
        {
            "title": "Material",
            "description": text,
            "customer_id": cid,
            "lines": [{"description": "Rör", "unit_price": "100"}],
        },
        "description",
    )
    await create(
        "/api/projects/", {"title": f"Bygge för {p['email']}", "customer_id": cid}, "title"
    )
    note = await client.post(
        f"/api/activity/workorders/work_order/{wo}/", json={"kind": "comment", "body": text}
    )
    assert note.status_code == 201, note.text
    made[f"/api/activity/workorders/work_order/{wo}/"] = "body"
    return made


async def fetched(client: Any, path: str) -> str:
    r = await client.get(path)
    assert r.status_code in (200, 404), (path, r.text)
    return r.text


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "unlinked"])
async def test_erasure_redacts_identifiers_in_free_text_of_every_plugin(
    admin_client, tenant, linked
):
    p = await private_customer(admin_client)
    made = await make_records(admin_client, p, linked)
    for path in made:
        assert p["email"] in (await fetched(admin_client, path)).lower(), path
    result = await erase(admin_client, p)
    for path in made:
        assert_gone(p, await fetched(admin_client, path))
    # Verified by reading every declared text column: nothing remains, and it says so.
    assert result["remaining"] == [], result["remaining"]
    assert result["audit"]["outcome"] == "ok"
    assert result["audit"]["summary"].startswith("nothing remains")
    assert "redacted in free text" in result["audit"]["summary"]
    assert p["email"] not in result["audit"]["summary"]
    # Nothing of the person is left in any declared text column of the tenant's rows.
    finder = redact.Finder.of([p["email"]], ["+46701112233"], [])
    assert not (await redact.scan(tenant.id, finder, names_in={})).hits


async def test_the_person_s_name_is_redacted_in_their_own_records_only(admin_client, tenant):
    p = await private_customer(admin_client)
    case = await admin_client.post(
        "/api/cases/",
        json={"title": "Läcka", "description": mention(p), "customer_id": p["customer"]["id"]},
    )
    # Someone else's case that happens to name a person of the same name: left alone.
    other = await admin_client.post(
        "/api/cases/", json={"title": "Annat", "description": f"{p['name']} ringde"}
    )
    assert case.status_code == 201 and other.status_code == 201
    await erase(admin_client, p)
    mine = (await admin_client.get(f"/api/cases/{case.json()['id']}")).json()
    assert p["name"] not in mine["description"] and "Anonymiserad" in mine["description"]
    theirs = (await admin_client.get(f"/api/cases/{other.json()['id']}")).json()
    assert theirs["description"] == f"{p['name']} ringde"


async def test_verification_reports_what_the_erasure_could_not_redact(
    admin_client, tenant, monkeypatch
):
    """The check does not trust the redaction: with redaction broken, the audit names the
    row and column that still hold the person, never the value."""
    p = await private_customer(admin_client)
    case = await admin_client.post(
        "/api/cases/", json={"title": "Läcka", "description": mention(p)}
    )
    assert case.status_code == 201, case.text
    monkeypatch.setattr(redact.Finder, "redact", lambda self, text, word, with_names: text)
    result = await erase(admin_client, p)
    assert result["audit"]["outcome"] == "remains"
    summary = result["audit"]["summary"]
    assert (
        f"case_record#{case.json()['id']}: description holds the person's e-mail address" in summary
    )
    assert "phone number" in summary
    assert p["email"] not in summary and PHONE_TYPED not in summary
    left = [r for r in result["remaining"] if r["table"] == "case_record"]
    assert [r["record_id"] for r in left] == [case.json()["id"]] and left[0]["action"] == "remains"
    runs = await raw("SELECT outcome, error FROM gdpr_run WHERE id = {}", result["audit"]["run_id"])
    assert runs[0]["outcome"] == "remains" and runs[0]["error"] == summary


async def test_verification_names_a_kept_record_that_still_holds_the_person(admin_client, tenant):
    """An invoiced order is kept for bookkeeping (veto): its free text is not redacted, and
    the audit says it remains and why, instead of "nothing remains"."""
    p = await private_customer(admin_client)
    order = await admin_client.post(
        "/api/orders/",
        json={
            "title": "Material",
            "description": mention(p),
            "customer_id": p["customer"]["id"],
            "lines": [{"description": "Rör", "unit_price": "100"}],
        },
    )
    assert order.status_code == 201, order.text
    assert (await admin_client.post(f"/api/orders/{order.json()['id']}/invoice")).status_code == 200
    result = await erase(admin_client, p)
    assert result["audit"]["outcome"] == "remains"
    assert f"sales_order#{order.json()['id']}: kept (invoiced order" in result["audit"]["summary"]
    kept = (await admin_client.get(f"/api/orders/{order.json()['id']}")).json()
    assert p["email"] in kept["description"]


def test_phone_and_identity_numbers_are_found_however_written():
    finder = redact.Finder.of(["anna@example.se"], ["+46701112233"], ["19850709-1238"])
    for text in (
        "070-111 22 33",
        "0701112233",
        "+46 70 111 22 33",
        "0046-70-111 22 33",
        "+46 (0)70 111 22 33",
        "850709-1238",
        "198507091238",
        "ANNA@example.se",
    ):
        assert finder.kinds(f"x {text} y", with_names=False), text
    for text in (
        "0701112234",
        "170701112233",
        "hanna@example.se",
        "anna@example.se.net",
        "2850709-1238",
    ):
        assert not finder.kinds(f"x {text}", with_names=False), text
    assert finder.redact("ring 070-111 22 33!", "X", False) == "ring X!"


async def test_a_redacted_record_kept_by_no_rule_is_not_reported_as_remaining(admin_client, tenant):
    """A row the erasure only redacts (an activity entry on someone else's record, found
    by the e-mail in its text) is not found again by a stale index entry: the check sees
    the redacted text, and the audit says nothing remains."""
    p = await private_customer(admin_client)
    other = await make_customer(admin_client, name=f"Bertil {unique_word()}")
    entry = await admin_client.post(
        f"/api/activity/customers/customer/{other['id']}/",
        json={"kind": "comment", "body": f"Bertil bad oss mejla {p['email']}"},
    )
    assert entry.status_code == 201, entry.text
    result = await erase(admin_client, p)
    assert result["audit"]["outcome"] == "ok", result["audit"]
    listed = await admin_client.get(f"/api/activity/customers/customer/{other['id']}/")
    assert p["email"] not in listed.text and "Bertil bad oss mejla" in listed.text
    assert (await admin_client.get(f"/api/customers/{other['id']}")).json()["anonymized_at"] is None
