"""Retention rules M14 (customers), M15 (contact persons), M16 (customer contact).

Each rule is checked column by column with one record just inside and one just outside
the cutoff, with time frozen; immediate mode within the delete request; a repeated sweep
changes nothing and is audited with zero records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from core.activity.service import add_activity, list_activity
from core.db import as_owner, utcnow
from core.gdpr.engine import sweep
from core.gdpr.tables import GdprRun
from core.tables import Tenant
from plugins.customers.tables import ContactPerson, Customer, CustomerContact
from plugins.customers.tests.conftest import ORG, PNR, make_contact, make_customer, make_log
from plugins.customers.tests.linkplugin import CustLink, LinkPlugin
from tests.modules import set_rule

DAY = timedelta(days=1)
SEC = timedelta(seconds=1)
WORD = "Borttagen"

CUSTOMER_FIELDS = {
    "email": "kund@example.org",
    "mobile_phone": "070-123 45 67",
    "private_phone": "070-765 43 21",
    "work_phone": "08-123 456 78",
    "postal_street": "Box 1",
    "postal_postcode": "111 22",
    "postal_city": "Storstad",
    "visiting_street": "Storgatan 1",
    "visiting_postcode": "111 23",
    "visiting_city": "Lillstad",
    "notes": "Ring efter lunch",
}
CONTACT_FIELDS = {
    "title": "Inköpschef",
    "email": "karin@example.org",
    "mobile_phone": "070-111 22 33",
    "private_phone": "070-444 55 66",
    "work_phone": "08-765 432 10",
}


@pytest.fixture
async def link_plugin() -> AsyncIterator[None]:
    """Install a plugin that references customers and contacts, for this test only."""
    from core.plugins import get_host

    async with as_owner():  # DDL: the tables' owner
        await CustLink.create_table(if_not_exists=True)
    host = get_host()
    host.add(LinkPlugin(), name="customerstestlinks", distribution="gallra-tests")
    yield
    host.pm.unregister(name="customerstestlinks")
    host.records.pop("customerstestlinks", None)


@pytest.fixture
async def word(tenant) -> str:  # type: ignore[no-untyped-def]
    """The tenant's own anonymization word (not the default), to prove it is the one used."""
    await Tenant.update({Tenant.anonymization_word: WORD}).where(Tenant.id == tenant.id)
    return WORD


async def row_of(table: Any, record_id: int) -> dict:
    row = await table.select().where(table.id == record_id).first()
    assert row is not None
    return row


async def mark(table: Any, record_id: int, **values: Any) -> None:
    await table.update({table._meta.get_column_by_name(k): v for k, v in values.items()}).where(
        table.id == record_id
    )


async def link(tenant_id: int, customer_id: int, contact_id: int | None) -> int:
    rows = await CustLink.insert(
        CustLink(tenant_id=tenant_id, customer_id=customer_id, contact_id=contact_id)
    ).returning(CustLink.id)
    return int(rows[0]["id"])


async def runs(tenant_id: int, rule: str) -> list[dict]:
    return await (
        GdprRun.select()
        .where((GdprRun.tenant_id == tenant_id) & (GdprRun.rule_key == rule))
        .order_by(GdprRun.id, ascending=False)
    )


async def customer_with_everything(client: Any, tenant_id: int, name: str, **extra: Any) -> dict:
    """A customer with every field, two contact persons, two log entries and activity."""
    customer = await make_customer(
        client, name=name, org_number=ORG, confirm_duplicate=True, **CUSTOMER_FIELDS, **extra
    )
    karin = await make_contact(client, customer["id"], name=f"Karin på {name}", **CONTACT_FIELDS)
    olle = await make_contact(client, customer["id"], name=f"Olle på {name}")
    first = await make_log(
        client, customer["id"], contact_person_id=karin["id"], comment="Om fakturan"
    )
    second = await make_log(client, customer["id"], comment="Om offerten")
    for kind, text in (("comment", "Trevlig"), ("note", "Vill ha rabatt")):
        await add_activity(tenant_id, "customers", "customer", customer["id"], kind, text, None, "")
    return {
        "customer": customer,
        "contacts": [karin, olle],
        "log": [first, second],
        "link": await link(tenant_id, customer["id"], karin["id"]),
    }


async def snapshot(made: dict) -> tuple:
    return (
        await row_of(Customer, made["customer"]["id"]),
        [await row_of(ContactPerson, c["id"]) for c in made["contacts"]],
        [await row_of(CustomerContact, e["id"]) for e in made["log"]],
        await row_of(CustLink, made["link"]),
    )


# --- M14 customers ----------------------------------------------------------------------


async def test_customers_rule_column_by_column(admin_client, tenant, word, link_plugin):
    await set_rule(admin_client, "customers", "customers", "days", 30)
    now = utcnow().replace(microsecond=0)
    cutoff = now - 30 * DAY
    inside = await customer_with_everything(admin_client, tenant.id, "Inne AB")
    outside = await customer_with_everything(admin_client, tenant.id, "Ute AB")
    alive = await customer_with_everything(admin_client, tenant.id, "Levande AB")
    await mark(Customer, inside["customer"]["id"], deleted_at=cutoff - SEC)
    await mark(Customer, outside["customer"]["id"], deleted_at=cutoff + SEC)
    kept_outside, kept_alive = await snapshot(outside), await snapshot(alive)

    with time_machine.travel(now, tick=False):
        results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["customers"].records == 1 and results["customers"].outcome == "ok"

    c = await row_of(Customer, inside["customer"]["id"])
    replaced = ("name", "postal_street", "postal_city", "visiting_street", "visiting_city", "notes")
    for column in replaced:
        assert c[column] == word, column
    nulled = ("org_number", "national_id", "email", "mobile_phone", "private_phone", "work_phone")
    for column in nulled:
        assert c[column] is None, column
    assert c["postal_postcode"] == "" and c["visiting_postcode"] == ""
    # Kept: what is not personal data, and the clock; the marker is set.
    assert c["number"] == inside["customer"]["number"]
    assert c["kind"] == "company"
    assert c["tenant_id"] == tenant.id
    assert c["deleted_at"] == cutoff - SEC
    assert c["anonymized_at"] == now

    # Its contact persons are anonymized with it, and marked.
    for contact in inside["contacts"]:
        p = await row_of(ContactPerson, contact["id"])
        assert p["name"] == word and p["title"] == word
        assert (p["email"], p["mobile_phone"], p["private_phone"], p["work_phone"]) == (None,) * 4
        assert p["customer_id"] == inside["customer"]["id"]  # the parent link stays
        assert p["anonymized_at"] == now
    # Its log entries lose customer, contact person and comment; date and author stay.
    for entry in inside["log"]:
        e = await row_of(CustomerContact, entry["id"])
        assert (e["customer_id"], e["contact_person_id"], e["comment"]) == (0, 0, "")
        assert e["created_by"] == tenant.admin_id
        assert e["date"].isoformat().startswith(entry["date"][:19])
    # Another plugin's references to the customer and its contact person are cleared.
    ref = await row_of(CustLink, inside["link"])
    assert ref["customer_id"] == 0 and ref["contact_id"] is None
    # Activity attached to the customer is cleared.
    total, _ = await list_activity(tenant.id, "customers", "customer", inside["customer"]["id"])
    assert total == 0

    # Just outside the cutoff, and not deleted: untouched, column by column.
    assert await snapshot(outside) == kept_outside
    assert await snapshot(alive) == kept_alive
    total, _ = await list_activity(tenant.id, "customers", "customer", outside["customer"]["id"])
    assert total == 2

    # The API shows the anonymized customer.
    shown = (await admin_client.get(f"/api/customers/{inside['customer']['id']}")).json()
    assert shown["name"] == word and shown["email"] is None

    # A repeated sweep changes nothing and is audited with zero records.
    before = await snapshot(inside), await snapshot(outside)
    with time_machine.travel(now + SEC, tick=False):
        again = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert again["customers"].records == 0 and again["customers"].outcome == "ok"
    assert (await snapshot(inside), await snapshot(outside)) == before
    latest = (await runs(tenant.id, "customers"))[0]
    assert latest["records"] == 0 and latest["outcome"] == "ok" and latest["trigger"] == "sweep"

    # Two seconds later the one just outside is due as well.
    with time_machine.travel(now + 2 * SEC, tick=False):
        later = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert later["customers"].records == 1
    assert (await row_of(Customer, outside["customer"]["id"]))["name"] == word
    assert await snapshot(alive) == kept_alive


async def test_private_customer_national_id_is_removed(admin_client, tenant, word):
    await set_rule(admin_client, "customers", "customers", "days", 1)
    private = await make_customer(admin_client, name="Per Privat", kind="private", national_id=PNR)
    await mark(Customer, private["id"], deleted_at=utcnow() - 2 * DAY)
    await sweep(tenant.id, "customers")
    row = await row_of(Customer, private["id"])
    assert row["national_id"] is None and row["name"] == word and row["kind"] == "private"


async def test_customers_rule_off_keeps_deleted_customers(admin_client, tenant):
    customer = await make_customer(admin_client, email="kvar@example.org")
    await mark(Customer, customer["id"], deleted_at=utcnow() - 3000 * DAY)
    results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["customers"].outcome == "off"
    assert (await row_of(Customer, customer["id"]))["email"] == "kvar@example.org"


async def test_customers_immediately_anonymizes_within_the_delete_request(
    admin_client, tenant, word, link_plugin
):
    await set_rule(admin_client, "customers", "customers", "immediately")
    made = await customer_with_everything(admin_client, tenant.id, "Direkt AB")
    other = await customer_with_everything(admin_client, tenant.id, "Annan AB")
    kept = await snapshot(other)
    response = await admin_client.delete(f"/api/customers/{made['customer']['id']}")
    assert response.status_code == 200
    body = response.json()
    # The answer to the delete request already shows the anonymized customer.
    assert body["name"] == word and body["email"] is None and body["org_number"] is None
    assert body["deleted_at"] is not None and body["anonymized_at"] is not None
    karin = (await admin_client.get(f"/api/customers/contacts/{made['contacts'][0]['id']}")).json()
    assert karin["name"] == word and karin["mobile_phone"] is None
    # An anonymized contact person cannot be given data again.
    response = await admin_client.patch(
        f"/api/customers/contacts/{karin['id']}", json={"name": "Karin igen"}
    )
    assert response.status_code == 409
    entry = await row_of(CustomerContact, made["log"][0]["id"])
    assert (entry["customer_id"], entry["contact_person_id"], entry["comment"]) == (0, 0, "")
    ref = await row_of(CustLink, made["link"])
    assert ref["customer_id"] == 0 and ref["contact_id"] is None
    assert (await runs(tenant.id, "customers"))[0]["trigger"] == "immediate"
    assert await snapshot(other) == kept
    # A later sweep finds nothing more to do.
    results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["customers"].records == 0


async def test_days_mode_does_not_anonymize_on_delete(admin_client, tenant):
    await set_rule(admin_client, "customers", "customers", "days", 30)
    customer = await make_customer(admin_client, email="vanta@example.org")
    body = (await admin_client.delete(f"/api/customers/{customer['id']}")).json()
    assert body["email"] == "vanta@example.org" and body["anonymized_at"] is None


# --- M15 contact persons ----------------------------------------------------------------


async def test_contact_persons_rule_column_by_column(admin_client, tenant, word, link_plugin):
    await set_rule(admin_client, "customers", "contact_persons", "days", 10)
    now = utcnow().replace(microsecond=0)
    cutoff = now - 10 * DAY
    customer = await make_customer(admin_client, email="kund@example.org")
    inside = await make_contact(admin_client, customer["id"], name="Inne", **CONTACT_FIELDS)
    outside = await make_contact(admin_client, customer["id"], name="Ute", **CONTACT_FIELDS)
    alive = await make_contact(admin_client, customer["id"], name="Levande", **CONTACT_FIELDS)
    entry_inside = await make_log(admin_client, customer["id"], contact_person_id=inside["id"])
    entry_outside = await make_log(admin_client, customer["id"], contact_person_id=outside["id"])
    link_inside = await link(tenant.id, customer["id"], inside["id"])
    link_outside = await link(tenant.id, customer["id"], outside["id"])
    await mark(ContactPerson, inside["id"], deleted_at=cutoff - SEC)
    await mark(ContactPerson, outside["id"], deleted_at=cutoff + SEC)
    kept = [await row_of(ContactPerson, outside["id"]), await row_of(ContactPerson, alive["id"])]
    kept_customer = await row_of(Customer, customer["id"])

    with time_machine.travel(now, tick=False):
        results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["contact_persons"].records == 1

    p = await row_of(ContactPerson, inside["id"])
    assert p["name"] == word and p["title"] == word
    assert (p["email"], p["mobile_phone"], p["private_phone"], p["work_phone"]) == (None,) * 4
    assert p["customer_id"] == customer["id"] and p["deleted_at"] == cutoff - SEC
    assert p["anonymized_at"] == now
    # References to the contact person are cleared; the entry keeps its customer.
    e = await row_of(CustomerContact, entry_inside["id"])
    assert e["contact_person_id"] == 0 and e["customer_id"] == customer["id"]
    assert e["comment"] == entry_inside["comment"]
    assert (await row_of(CustLink, link_inside))["contact_id"] is None
    assert (await row_of(CustLink, link_inside))["customer_id"] == customer["id"]
    # Untouched: the one just outside, the one not deleted, the customer, their references.
    assert await row_of(ContactPerson, outside["id"]) == kept[0]
    assert await row_of(ContactPerson, alive["id"]) == kept[1]
    assert await row_of(Customer, customer["id"]) == kept_customer
    untouched_entry = await row_of(CustomerContact, entry_outside["id"])
    assert untouched_entry["contact_person_id"] == outside["id"]
    assert (await row_of(CustLink, link_outside))["contact_id"] == outside["id"]

    with time_machine.travel(now + SEC, tick=False):
        again = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert again["contact_persons"].records == 0
    assert (await row_of(ContactPerson, outside["id"])) == kept[0]
    assert (await runs(tenant.id, "contact_persons"))[0]["records"] == 0


async def test_contact_person_immediately_within_the_delete_request(admin_client, tenant, word):
    await set_rule(admin_client, "customers", "contact_persons", "immediately")
    customer = await make_customer(admin_client)
    contact = await make_contact(admin_client, customer["id"], **CONTACT_FIELDS)
    entry = await make_log(admin_client, customer["id"], contact_person_id=contact["id"])
    body = (await admin_client.delete(f"/api/customers/contacts/{contact['id']}")).json()
    assert body["name"] == word and body["title"] == word
    assert body["email"] is None and body["mobile_phone"] is None
    assert body["anonymized_at"] is not None
    assert (await row_of(CustomerContact, entry["id"]))["contact_person_id"] == 0
    # The customer itself is untouched.
    assert (await admin_client.get(f"/api/customers/{customer['id']}")).json()["name"] == "Acme AB"


# --- M16 customer contact ---------------------------------------------------------------


async def test_customer_contacts_rule_column_by_column(admin_client, tenant):
    await set_rule(admin_client, "customers", "customer_contacts", "days", 365)
    now = datetime(2026, 6, 15, 12, 0, 0, tzinfo=utcnow().tzinfo)
    cutoff = now - 365 * DAY
    with time_machine.travel(now, tick=False):
        customer = await make_customer(admin_client)
        karin = await make_contact(admin_client, customer["id"])
        inside = await make_log(
            admin_client, customer["id"], contact_person_id=karin["id"],
            date=(cutoff - SEC).isoformat(), comment="Gammalt samtal",
        )
        outside = await make_log(
            admin_client, customer["id"], contact_person_id=karin["id"],
            date=(cutoff + SEC).isoformat(), comment="Nyare samtal",
        )
    for entry in (inside, outside):
        for kind in ("comment", "note"):
            await add_activity(
                tenant.id, "customers", "customer_contact", entry["id"], kind, "K", None, ""
            )
    kept = await row_of(CustomerContact, outside["id"])
    kept_customer = await row_of(Customer, customer["id"])
    kept_contact = await row_of(ContactPerson, karin["id"])

    with time_machine.travel(now, tick=False):
        results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["customer_contacts"].records == 1

    e = await row_of(CustomerContact, inside["id"])
    assert (e["customer_id"], e["contact_person_id"], e["comment"]) == (0, 0, "")
    assert e["date"] == cutoff - SEC and e["created_by"] == tenant.admin_id
    assert e["anonymized_at"] == now
    # Its comments are gone; other kinds of activity are not the rule's business.
    _, acts = await list_activity(tenant.id, "customers", "customer_contact", inside["id"])
    assert [a["kind"] for a in acts] == ["note"]
    # The entry just outside, the customer and the contact person are untouched.
    assert await row_of(CustomerContact, outside["id"]) == kept
    total, _ = await list_activity(tenant.id, "customers", "customer_contact", outside["id"])
    assert total == 2
    assert await row_of(Customer, customer["id"]) == kept_customer
    assert await row_of(ContactPerson, karin["id"]) == kept_contact
    # An anonymized entry no longer shows under the customer and cannot be edited.
    listed = (await admin_client.get(f"/api/customers/{customer['id']}/log")).json()
    assert [x["id"] for x in listed["items"]] == [outside["id"]]
    response = await admin_client.patch(f"/api/customers/log/{inside['id']}", json={"comment": "x"})
    assert response.status_code == 409

    with time_machine.travel(now + SEC, tick=False):
        again = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert again["customer_contacts"].records == 0
    assert await row_of(CustomerContact, outside["id"]) == kept
    assert (await runs(tenant.id, "customer_contacts"))[0]["records"] == 0
    with time_machine.travel(now + 2 * SEC, tick=False):
        later = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert later["customer_contacts"].records == 1


# --- settings ---------------------------------------------------------------------------


async def test_module_settings_show_the_three_rules_and_refuse_bad_values(admin_client):
    response = await admin_client.get("/api/customers/settings")
    assert response.status_code == 200
    rows = {r["key"]: r for r in response.json()}
    assert set(rows) == {"customers", "contact_persons", "customer_contacts"}
    assert rows["customers"]["label_sv"] == "Kunder"
    assert rows["customer_contacts"]["allowed_modes"] == ["days", "off"]
    for bad in (
        {"key": "customer_contacts", "mode": "immediately"},
        {"key": "customers", "mode": "days", "days": 0},
        {"key": "customers", "mode": "days", "days": 3651},
        {"key": "customers", "mode": "sometimes"},
    ):
        response = await admin_client.put("/api/customers/settings", json=[bad])
        assert 400 <= response.status_code < 500, (bad, response.text)
    rows_after = {r["key"]: r for r in (await admin_client.get("/api/customers/settings")).json()}
    assert rows_after == rows
    await set_rule(admin_client, "customers", "customers", "days", 90)
    # The same stored value, seen from Settings > GDPR.
    gdpr_view = await admin_client.get("/api/gdpr/retention")
    assert gdpr_view.status_code == 200, gdpr_view.text
    mine = [r for r in gdpr_view.json() if r["key"] == "customers"]
    assert mine[0]["mode"] == "days" and mine[0]["days"] == 90


async def test_every_personal_data_column_is_declared_searchable_and_valid():
    from core.gdpr.registry import get_declarations
    from core.plugins import get_host

    decl = get_declarations()  # raises if the engine cannot run a declaration
    assert {"customers", "contact_persons", "customer_contacts"} <= {
        k for k, r in decl.rules.items() if r.owner == "customers"
    }
    fields = [f.field for f in decl.fields if f.owner == "customers"]
    refs = {"customer_ref", "contact_ref", "employee_ref"}
    declared_sources = get_host().collect_by_plugin("declare_search_sources")["customers"]
    sources = {(s.table, s.column): s for s in declared_sources}
    for f in fields:
        if f.category in refs or f.column == "account_key":  # a hash: never searched
            continue
        if f.column == "password_hash":
            # A hash is never a search source (#17.4; the core refuses one).
            assert (f.table, f.column) not in sources
            continue
        source = sources.get((f.table, f.column))
        assert source is not None, f"{f.table._meta.tablename}.{f.column} is not searchable"
        assert source.area == "workcloud" and source.place_sv == "Kundregister"
        assert source.link is not None and source.link(7).endswith("/7")
    # Every column of the customer that can hold personal data is declared for rule M14.
    declared = {f.column for f in fields if f.table is Customer and f.rule == "customers"}
    personal = {c._meta.name for c in Customer._meta.columns} - {
        "id", "tenant_id", "number", "kind", "created_at", "deleted_at", "anonymized_at"
    }
    assert declared == personal
    # The contact person's parent link is not a reference the engine would clear.
    assert not [f for f in fields if f.table is ContactPerson and f.column == "customer_id"]
