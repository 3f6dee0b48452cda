"""Every customer / contact person a record names is checked (issue #17.13).

Derived from the record types, not written per module: a record type whose create route
(``POST`` on its ``link`` without the id) takes ``customer_id`` is a record that names a
customer; if the route also takes ``contact_person_id``, it names a contact person too. For
each, a body the route accepts is taken from a record of the type (its own ``GET``), and
then every bad reference is sent on create and on update (``PATCH`` on ``link``):
another organization's customer, a customer that does not exist, a contact person of
another customer or of another organization, a contact person without its customer. Each
is a 400 naming the field, and nothing is written. The same bad customer posted through the
module's page form (``/<module>/new``) shows the field's error, translated, not a 500.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.gdpr.registry import get_declarations
from core.references import NO_CONTACT, NO_CUSTOMER, NOT_THEIR_CONTACT
from core.testing.client import AppClient
from tests.pages.helpers import page_login, post_form
from tests.security import matrix
from tests.security.seed import seed
from tests.support import add_party, login

MISSING = 2**31 - 1
SWEDISH_NO_CUSTOMER = "Det finns ingen sådan kund i organisationen."


def _ref_types(app: Any) -> list[tuple[str, Any, matrix.Operation]]:
    """(record type, its declaration, its create operation) of every type naming a customer."""
    posts = {
        op.openapi_path.rstrip("/"): op for op in matrix.operations(app) if op.method == "POST"
    }
    found = []
    for (plugin, key), rt in get_declarations().record_types.items():
        if rt.link is None:
            continue
        op = posts.get(rt.link(1).rsplit("/", 1)[0])
        if op and op.body_schema and "customer_id" in op.body_schema.get("properties", {}):
            found.append((f"{plugin}/{key}", rt, op))
    return found


async def _baseline(
    client: AppClient, rt: Any, op: matrix.Operation, tenant: Any, good: dict[str, int]
) -> dict[str, Any] | None:
    """A create body the route accepts, built from a stored record of the type (the
    employee it names being the logged-in administrator, whose own records they then are)."""
    props = op.body_schema.get("properties", {})
    required = set(op.body_schema.get("required", []))
    good = {**good, **({"employee_id": tenant.admin_id} if "employee_id" in props else {})}
    candidates = []
    for record_id in await matrix.ids_of(tenant.id, [rt.table]):
        record = (await client.get(rt.link(record_id))).json()
        candidates.append({k: record[k] for k in props if k in record and k != "number"})
        candidates.append({k: record[k] for k in required | set(good) if k in record})
    # else the smallest bodies the route's schema accepts
    candidates += [dict(op.body or {}), dict(op.full_body or {})]
    for candidate in candidates:
        body = {**candidate, **{k: v for k, v in good.items() if k in props}}
        r = await client.post(op.openapi_path, json=body)
        if r.status_code == 201:
            return {"body": body, "created": r.json()}
    return None


@pytest.mark.slow
async def test_every_customer_reference_is_checked_on_create_and_update(
    app: Any, client: AppClient, tenant: Any, other_tenant: Any, stub_broker: Any
) -> None:
    assert (await login(client, tenant)).status_code == 200
    await seed(app, client, tenant)
    mine, (my_contact,) = await add_party(tenant.id)
    another, (their_contact,) = await add_party(tenant.id)
    foreign, (foreign_contact,) = await add_party(other_tenant.id)
    types = _ref_types(app)
    names = {name for name, _, _ in types}
    # the modules whose records name a customer (issue #17.13's list), found from the routes
    for expected in (
        "cases/case", "workorders/work_order", "orders/order", "quotes/quote",
        "projects/project", "time/time_report", "time/expense", "vault/vault_entry",
    ):
        assert expected in names, names
    failures: list[str] = []
    for name, rt, op in types:
        has_contact = "contact_person_id" in op.body_schema.get("properties", {})
        good = {"customer_id": mine, **({"contact_person_id": my_contact} if has_contact else {})}
        base = await _baseline(client, rt, op, tenant, good)
        if base is None:
            failures.append(f"{name}: no create body accepted with a valid customer")
            continue
        bad: list[tuple[dict[str, int], str, str]] = [
            ({"customer_id": foreign}, "customer_id", NO_CUSTOMER),
            ({"customer_id": MISSING}, "customer_id", NO_CUSTOMER),
        ]
        if has_contact:
            bad += [
                ({"customer_id": mine, "contact_person_id": their_contact}, "contact_person_id",
                 NOT_THEIR_CONTACT),
                ({"customer_id": mine, "contact_person_id": foreign_contact}, "contact_person_id",
                 NO_CONTACT),
                ({"customer_id": 0, "contact_person_id": my_contact}, "contact_person_id",
                 NOT_THEIR_CONTACT),
                ({"customer_id": mine, "contact_person_id": MISSING}, "contact_person_id",
                 NO_CONTACT),
            ]
        record_id = int(base["created"]["id"])
        before_rows = await matrix.ids_of(tenant.id, [rt.table])
        before = (await client.get(rt.link(record_id))).json()
        for change, field, message in bad:
            for method, url, body in (
                ("POST", op.openapi_path, {**base["body"], **change}),
                ("PATCH", rt.link(record_id), change),
            ):
                r = await client.request(method, url, json=body)
                json_answer = "json" in r.headers.get("content-type", "")
                answer = r.json() if json_answer else {}
                got = (r.status_code, answer.get("field"), answer.get("detail"))
                if got != (400, field, message):
                    failures.append(f"{name}: {method} {change}: {r.status_code} {r.text[:160]}")
        if await matrix.ids_of(tenant.id, [rt.table]) != before_rows:
            failures.append(f"{name}: a refused create wrote a record")
        if (await client.get(rt.link(record_id))).json() != before:
            failures.append(f"{name}: a refused update changed the record")
        # And a good change still goes through.
        r = await client.patch(rt.link(record_id), json={"customer_id": another, **(
            {"contact_person_id": their_contact} if has_contact else {})})
        if r.status_code != 200:
            failures.append(f"{name}: PATCH to another customer of the tenant: {r.status_code}")
    assert not failures, "\n".join(failures)


async def test_page_forms_show_the_field_error(
    app: Any, client: AppClient, tenant: Any, other_tenant: Any, stub_broker: Any
) -> None:
    """Every module page form that has a customer field (``/<module>/new`` of a record type
    naming a customer) answers another organization's customer with the field's error."""
    foreign, _ = await add_party(other_tenant.id)
    mine, _ = await add_party(tenant.id)
    assert (await page_login(client, tenant)).status_code == 303
    checked = []
    for name, rt, _op in _ref_types(app):
        page = rt.link(1).removeprefix("/api").rsplit("/", 1)[0] + "/new"
        form = await client.get(page)
        if form.status_code != 200 or 'name="customer_id"' not in form.text:
            continue
        fields = {"title": "Ny post", "kind": "case", "customer_id": str(foreign)}
        r = await post_form(client, page, fields, page)
        assert r.status_code == 400, (page, r.status_code, r.text[:300])
        assert 'id="e-customer_id"' in r.text and SWEDISH_NO_CUSTOMER in r.text, page
        # the same form with the organization's own customer is not refused for it
        r = await post_form(client, page, {**fields, "customer_id": str(mine)}, page)
        assert SWEDISH_NO_CUSTOMER not in r.text, page
        checked.append(name)
    expected = {"cases/case", "orders/order", "projects/project", "quotes/quote",
                "workorders/work_order"}
    assert expected <= set(checked), checked
