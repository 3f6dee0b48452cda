"""Person search and the data subjects' export name the same places for every kind of person.

Derived from the declarations: for each kind of person (customer, contact person, employee,
portal person), a row referencing them is written in every table with a declared reference
of their kind (``*_ref`` personal-data fields and search sources), and searching the person's
e-mail address must name exactly the records the export of that address names.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.db import atomic
from core.gdpr import search as gs
from core.gdpr import subjects
from core.gdpr.registry import SUBJECT_CATEGORY, get_declarations
from core.plugins import get_host
from tests.search.test_search import make_customer, unique_word


async def _insert(table: Any, values: dict[str, Any]) -> int:
    """A row of ``table`` with these values; unique columns get fresh values."""
    for col in table._meta.columns:
        name = col._meta.name
        if name in values or name == "id":
            continue
        if name == "email":
            values[name] = f"{uuid.uuid4().hex}@example.invalid"
        elif name == "number":
            values[name] = 10_000_000 + uuid.uuid4().int % 10_000_000
        elif col._meta.unique:
            values[name] = uuid.uuid4().hex
    rows = await table.insert(table(**values)).returning(table.id)
    return int(rows[0]["id"])


async def _refer_everywhere(tenant_id: int, category: str, person_id: int) -> set[tuple[str, int]]:
    """One row per declared reference of ``category`` (personal data or search source),
    pointing at the person; returns (table, id) of each."""
    decl = get_declarations(get_host())
    refs = {(f.table, f.field.column) for f in decl.reference_fields(category)}
    refs |= {
        (s.source.table, s.source.column)
        for s in gs.registry(get_host()).sources
        if s.source.category == category
    }
    wheres = {
        (s.source.table, s.source.column): dict(s.source.where)
        for s in gs.registry(get_host()).sources
    }
    out: set[tuple[str, int]] = set()
    async with atomic():
        for table, column in sorted(refs, key=lambda r: (r[0]._meta.tablename, r[1])):
            values = {"tenant_id": tenant_id, **wheres.get((table, column), {}), column: person_id}
            out.add((table._meta.tablename, await _insert(table, values)))
    return out


async def _places(tenant_id: int, email: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    found = {(h.table, h.record_id) for h in await gs.find(tenant_id, email)}
    ids = subjects.Identifiers.parse([email], [], [], [])
    export = await subjects.build_export(tenant_id, ids)
    return found, {(r["table"], r["record_id"]) for r in export["records"]}


async def test_search_and_export_name_the_same_places_for_every_kind_of_person(
    admin_client, tenant
):
    word = unique_word().lower()
    customer = await make_customer(
        admin_client, name=f"Kund {word}", kind="private", email=f"kund.{word}@example.se"
    )
    r = await admin_client.post(
        f"/api/customers/{customer['id']}/contacts",
        json={"name": f"Kontakt {word}", "email": f"kontakt.{word}@example.se"},
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    r = await admin_client.post(
        "/api/employees/",
        json={
            "name": f"Anställd {word}",
            "email": f"anstalld.{word}@example.se",
            "password": "a-long-password-1",
        },
    )
    assert r.status_code == 201, r.text
    employee = r.json()
    people = {
        "customer": (customer["id"], f"kund.{word}@example.se"),
        "contact": (contact["id"], f"kontakt.{word}@example.se"),
        "employee": (employee["id"], f"anstalld.{word}@example.se"),
    }
    written: dict[str, set[tuple[str, int]]] = {}
    for kind, (person_id, _) in people.items():
        written[kind] = await _refer_everywhere(tenant.id, SUBJECT_CATEGORY[kind], person_id)
        assert written[kind], kind
    # A portal person: the contact person's login, under its own e-mail address.
    from plugins.portal.tables import PortalAccount

    portal_email = f"portal.{word}@example.se"
    async with atomic():
        account = await _insert(
            PortalAccount,
            {
                "tenant_id": tenant.id,
                "person_kind": "contact",
                "person_id": contact["id"],
                "customer_id": customer["id"],
                "contact_id": contact["id"],
                "email": portal_email,
            },
        )
    people["portal"] = (account, portal_email)
    for kind, (_, email) in people.items():
        in_search, in_export = await _places(tenant.id, email)
        assert written.get(kind, set()) <= in_search, (kind, written[kind] - in_search)
        assert in_search == in_export, (kind, in_search - in_export, in_export - in_search)
    # The employee's time reports, expenses, deviations, shifts and groups are among them.
    tables = {t for t, _ in (await _places(tenant.id, people["employee"][1]))[0]}
    assert {
        "time_report",
        "time_expense",
        "time_deviation",
        "time_shift",
        "group_member",
    } <= tables, tables
    # The customer's contact person and the portal account are named with the customer.
    in_search, _ = await _places(tenant.id, people["customer"][1])
    assert ("contact_person", contact["id"]) in in_search and (
        "portal_account",
        account,
    ) in in_search
