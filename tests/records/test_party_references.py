"""Anonymizing a customer or a contact person sets every record's reference to them to 0
(M14, M15 and each module's rule: "every link to the customer goes").

Derived from the record specs, not written per module: every record with a customer and a
contact person column (``customer_column``, ``contact_column``) and an API is created through
that API naming people of the test-only people plugin (tests/stub_people.py), one record of
each of its kinds. Anonymizing the customer sets the customer column to 0 and leaves the
contact person and the record itself alone; a contact column holding the same number is a
different person and is untouched; anonymizing the contact person then sets the contact
column to 0. Another organization's record holding the same numbers is never touched.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.modules import record_specs
from tests.security import matrix
from tests.stub_people import add_person, anonymize_person

SPECS = record_specs(lambda spec: bool(spec.path and spec.customer_column and spec.contact_column))


def _create_body(app: Any, spec: Any) -> dict[str, Any]:
    """The smallest body the record's create route accepts."""
    for op in matrix.operations(app):
        if op.method == "POST" and op.openapi_path.rstrip("/") == f"/api{spec.path}":
            return dict(op.body or {})
    raise AssertionError(f"{spec.path}: no create route")


@pytest.mark.parametrize(("plugin", "spec"), SPECS)
async def test_customer_and_contact_links_become_zero(
    app, admin_client, other_client, tenant, people, plugin, spec
):
    customer_col, contact_col = spec.customer_column, spec.contact_column
    api = f"/api{spec.path}"
    body = _create_body(app, spec)

    async def create(client: Any, **fields: Any) -> dict:
        r = await client.post(f"{api}/", json={**body, **fields})
        assert r.status_code == 201, r.text
        return r.json()

    async def get(client: Any, record: dict) -> dict:
        r = await client.get(f"{api}/{record['id']}")
        assert r.status_code == 200, r.text
        return r.json()

    customer = await add_person(tenant.id, "customer")
    contact = await add_person(tenant.id, "contact")
    other_customer = await add_person(tenant.id, "customer")
    # One record of each kind the table keeps (cases and service cases).
    mine = [
        await create(admin_client, **{customer_col: customer, contact_col: contact}, **kind)
        for kind in ([{"kind": k} for k in spec.choices_of("kind") or ()] or [{}])
    ]
    unrelated = await create(admin_client, **{customer_col: other_customer, contact_col: customer})
    # Another tenant's record holding the same id numbers (stored before references were
    # checked; a request can no longer name another organization's people) is not ours.
    theirs = await create(other_client)
    table = spec.table
    await table.update(
        {getattr(table, customer_col): customer, getattr(table, contact_col): contact}
    ).where(table.id == theirs["id"])
    theirs = await get(other_client, theirs)

    assert await anonymize_person(tenant.id, "customer", customer) == 1
    for record in mine:
        after = await get(admin_client, record)
        assert after[customer_col] == 0 and after[contact_col] == contact, record
        assert after["anonymized_at"] is None  # the record itself is not anonymized
    # A contact column holding the same number is a different person: untouched.
    assert await get(admin_client, unrelated) == unrelated

    assert await anonymize_person(tenant.id, "contact", contact) == 1
    for record in mine:
        after = await get(admin_client, record)
        assert (after[customer_col], after[contact_col], after["anonymized_at"]) == (0, 0, None)
    assert await get(other_client, theirs) == theirs


def test_the_module_records_are_covered():
    covered = {p.id for p in SPECS}
    assert {"cases/case", "workorders/work_order", "orders/order"} <= covered, covered
