"""Fill one tenant with a row in every table its administrator can reach through the API.

Generic first: every POST route of the route list is sent with the smallest body its schema
accepts, routes with ids with each of the tenant's ids until one is accepted, in a few
rounds so children find their parents. What a minimal body cannot create (a record whose
body needs a real reference, or rows made by a second step) is in ``SPECIFIC`` below.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from piccolo.columns import Text, Varchar

from core.testing.client import AppClient
from tests.security import matrix

# Sign-in, platform and public-link routes are not a tenant's records.
SKIP_PREFIXES = ("/api/auth/", "/api/platform/", "/api/portal/", "/schema", "/health")


async def _first_accepted(
    client: AppClient, op: matrix.Operation, tenant_id: int, body: Any
) -> Any:
    combos = await matrix.id_combinations(op, tenant_id) if op.params else [{}]
    for values in combos[:6]:
        response = await client.request(
            op.method, op.url(values), json=body, params=op.query_required or None
        )
        if response.status_code < 300:
            return response
        if response.status_code != 404:
            return None  # the body or the record's state is refused: other ids will not help
    return None


async def seed(app: Litestar, client: AppClient, tenant: Any) -> dict[str, Any]:
    tenant_id = tenant.id
    ops = [
        op
        for op in matrix.operations(app)
        if op.method == "POST"
        and not op.public
        and op.openapi_path.startswith("/api/")
        and not op.openapi_path.startswith(SKIP_PREFIXES)
        and (not op.params or op.int_params)
    ]
    created: dict[str, Any] = {}
    for _round in range(3):  # children need their parents from an earlier round
        before = len(created)
        for op in ops:
            if str(op) in created:
                continue
            response = await _first_accepted(client, op, tenant_id, op.body)
            if response is None and op.full_body != op.body:
                response = await _first_accepted(client, op, tenant_id, op.full_body)
            if response is not None:
                created[str(op)] = response.json() if response.content else None
        if len(created) == before:
            break
    await specific(client, tenant)
    created["rows inserted directly"] = await fill_empty_tables(tenant_id)
    return created


async def fill_empty_tables(tenant_id: int) -> list[str]:
    """A row with the columns' defaults in every tenant table the API rounds left empty
    (rows a second step makes: trusted devices, quote views, vault audit, ...). Enough for
    an id to exist; the matrix only needs the row to be the tenant's."""
    filled = []
    for table in matrix.all_tenant_tables():
        tid = table._meta.get_column_by_name("tenant_id")
        if await table.select(table._meta.primary_key).where(tid == tenant_id).limit(1):
            continue
        values: dict[str, Any] = {"tenant_id": tenant_id}
        for column in table._meta.columns:
            if column._meta.unique and isinstance(column, (Varchar, Text)):
                values[column._meta.name] = uuid.uuid4().hex  # not a row of another test's
        try:
            await table.insert(table(**values))
        except Exception:  # a unique or check constraint: leave it empty
            continue
        filled.append(table._meta.tablename)
    return filled


async def specific(client: AppClient, tenant: Any) -> None:
    """Records a minimal body cannot make and a default row does not let the owner read."""
    customers = (await client.get("/api/customers")).json()["items"]
    me = {"users": [tenant.admin_id]}
    form = await client.post(
        "/api/vault/forms",
        json={
            "name": "Inloggningar",
            "purpose": "customer",
            "fields": [
                {"name": "Användarnamn", "type": "text"},
                {"name": "Lösenord", "type": "password", "encrypted": True},
            ],
            "access": {"plain": me, "encrypted": me},
        },
    )
    assert form.status_code == 201, form.text
    fields = {f["name"]: f["id"] for f in form.json()["fields"]}
    entry = await client.post(
        "/api/vault/entries",
        json={
            "form_id": form.json()["id"],
            "customer_id": customers[0]["id"],
            "values": [
                {"field_id": fields["Användarnamn"], "value": "admin@kund.se"},
                {"field_id": fields["Lösenord"], "value": "hemligt"},
            ],
        },
    )
    assert entry.status_code == 201, entry.text
    # The customer portal's accounts (plugins/portal): a private customer's and a contact
    # person's, invited, so the account routes under /api/customers reach real accounts.
    private = await client.post(
        "/api/customers/", json={"name": "Per Privat", "kind": "private", "email": "per@kund.se"}
    )
    assert private.status_code == 201, private.text
    invite = await client.post(f"/api/customers/{private.json()['id']}/portal-invite", json={})
    assert invite.status_code == 201, invite.text
    contact = await client.post(
        f"/api/customers/{customers[0]['id']}/contacts", json={"name": "Karin Kontakt", "email": "karin@kund.se"}
    )
    assert contact.status_code == 201, contact.text
    invite = await client.post(f"/api/customers/contacts/{contact.json()['id']}/portal-invite", json={})
    assert invite.status_code == 201, invite.text
