"""An install of before #18.6 upgrades: the customer register's portal tables, with rows,
become the portal app's, rows and ids kept. Run in a fresh process (a process reads its
database settings once) by test_migrations.py::

    GALLRA_DATABASE_URL=<database with the core's tables> GALLRA_PLUGINS=customers,portal \\
        python -m plugins.portal.tests.upgrade

Prints one JSON object: ``problems`` (empty when the upgrade kept everything).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

# The customer register's last migration before it handed the portal's tables over.
BEFORE = "2026-12-06T03:10:02:000000"


async def _tables(name: str) -> bool:
    from core.db import is_sqlite, raw

    if is_sqlite():
        return bool(await raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = {}", name))
    return (await raw("SELECT to_regclass({}) IS NOT NULL AS found", name))[0]["found"]


async def check() -> dict[str, Any]:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.db import as_owner, raw, utcnow
    from core.migrate import migrate
    from core.plugins import get_host

    get_host()
    problems: list[str] = []
    now = utcnow()
    async with as_owner():
        result = await run_forwards(app_name="core")
        result = await run_forwards(app_name="customers", migration_id=BEFORE)
        if not result.success:
            return {"problems": [f"the old migrations failed: {result.message}"]}
        columns = (
            "id, tenant_id, person_kind, person_id, customer_id, contact_id, email, password_hash, "
            "created_at, invited_at, activated_at, disabled_at, anonymized_at"
        )
        for account_id, kind, person, email in ((5, "customer", 11, "per@example.org"), (9, "contact", 12, "k@x.se")):
            await raw(
                f"INSERT INTO portal_account ({columns}) VALUES "
                "({}, 1, {}, {}, 11, {}, {}, 'hash', {}, {}, {}, NULL, NULL)",
                account_id, kind, person, 12 if kind == "contact" else 0, email, now, now, now,
            )
        await raw(
            "INSERT INTO portal_pending (id, token_hash, binder_hash, tenant_id, account_id, purpose, "
            "link_token_id, password_hash, uses, created_at, expires_at) "
            "VALUES (3, 'tok', 'bind', 1, 5, 'login', 0, NULL, 1, {}, {})",
            now, now + timedelta(minutes=10),
        )
        await raw(
            "INSERT INTO portal_approval_step (id, tenant_id, account_id, challenge_hash, kind, item_id, "
            "approve, expires_at) VALUES (4, 1, 9, 'ch', 'quote', 77, {}, {})",
            True, now + timedelta(minutes=20),
        )
    await migrate()
    async with as_owner():
        accounts = await raw("SELECT id, person_kind, email, password_hash FROM portal_account ORDER BY id")
        if [(r["id"], r["person_kind"], r["email"]) for r in accounts] != [
            (5, "customer", "per@example.org"), (9, "contact", "k@x.se")
        ]:
            problems.append(f"accounts after the upgrade: {accounts}")
        pending = await raw("SELECT id, account_id, uses FROM portal_pending")
        if [(r["id"], r["account_id"], r["uses"]) for r in pending] != [(3, 5, 1)]:
            problems.append(f"pending steps after the upgrade: {pending}")
        steps = await raw("SELECT id, account_id, item_id FROM portal_approval_step")
        if [(r["id"], r["account_id"], r["item_id"]) for r in steps] != [(4, 9, 77)]:
            problems.append(f"approval steps after the upgrade: {steps}")
        for name in ("portal_account", "portal_pending", "portal_approval_step"):
            if await _tables(f"{name}_handover"):
                problems.append(f"{name}_handover is left behind")
        from plugins.portal.tables import PortalAccount

        # The next account gets the next id, and an e-mail in use stays unique.
        new = await PortalAccount.insert(
            PortalAccount(tenant_id=1, person_kind="customer", person_id=13, customer_id=13, email="new@x.se")
        ).returning(PortalAccount.id)
        if int(new[0]["id"]) <= 9:
            problems.append(f"a new account got id {new[0]['id']}, not one after the copied ones")
        try:
            await PortalAccount.insert(
                PortalAccount(tenant_id=1, person_kind="customer", person_id=14, customer_id=14, email="k@x.se")
            )
            problems.append("a second account in use with the same e-mail was accepted")
        except Exception:  # the partial unique index refuses it
            pass
    again = await migrate()
    if again:
        problems.append(f"a second run applied migrations again: {again}")
    return {"problems": problems}


def main() -> int:
    print("GALLRA-UPGRADE " + json.dumps(asyncio.run(check()), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
