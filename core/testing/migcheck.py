"""Apply one plugin's migrations to a fresh database and compare the result with its tables.

Run in a subprocess by the conformance kit (a process reads its database settings once)::

    GALLRA_DATABASE_URL=<fresh database> GALLRA_PLUGINS=NAME \\
        python -m core.testing.migcheck NAME [MODULE]

``NAME`` ``core`` applies the core's migrations only (the kit's template database).

Only the core and the plugin are installed in that process: a plugin's migrations must
apply without any other plugin. Prints one JSON object: the migrations applied, and
``problems`` (empty when every table of the plugin's Piccolo apps exists with exactly its
columns, a second run applies nothing and nothing is left pending).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any


async def _db_columns(tablename: str) -> set[str] | None:
    from core.db import is_sqlite, raw

    if is_sqlite():
        rows = await raw(f'PRAGMA table_info("{tablename}")')
        return {r["name"] for r in rows} or None
    rows = await raw(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = {}",
        tablename,
    )
    return {r["column_name"] for r in rows} or None


async def check(name: str, module: str | None) -> dict[str, Any]:
    from piccolo.conf.apps import AppConfig

    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.plugins import get_host

    host = get_host()
    if name == "core":  # a template database: the core's migrations only
        from core.migrate import migrate as migrate_core

        return {"applied": await migrate_core(), "problems": []}
    if name not in host.records:
        if module is None:
            return {"applied": [], "problems": [f"plugin {name!r} is not installed"]}
        host.add(importlib.import_module(module), name=name, distribution="local")
    from core.migrate import migrate, pending_migrations

    problems: list[str] = []
    apps: list[str] = []
    for result in host.call_plugin(name, "register_piccolo_apps"):
        apps.extend(result or ())
    applied = await migrate()
    configs: list[AppConfig] = []
    for path in apps:
        config = importlib.import_module(path).APP_CONFIG
        configs.append(config)
        if not any(a.startswith(f"{config.app_name}:") for a in applied):
            problems.append(f"app {config.app_name!r} ({path}) has no migration")
    for config in configs:
        for table in config.table_classes:
            tablename = table._meta.tablename
            found = await _db_columns(tablename)
            if found is None:
                problems.append(f"table {tablename} was not created by the migrations")
                continue
            wanted = {c._meta.db_column_name for c in table._meta.columns}
            if wanted - found:
                problems.append(
                    f"table {tablename}: columns {sorted(wanted - found)} are in the Table class "
                    "but no migration adds them"
                )
            if found - wanted:
                problems.append(
                    f"table {tablename}: columns {sorted(found - wanted)} are in the database "
                    "but not in the Table class"
                )
    again = await migrate()
    if again:
        problems.append(f"a second run applied migrations again: {again}")
    pending = await pending_migrations()
    if pending:
        problems.append(f"migrations still pending after migrate: {pending}")
    return {"applied": applied, "problems": problems}


def main(argv: list[str]) -> int:
    name = argv[0]
    module = argv[1] if len(argv) > 1 else None
    result = asyncio.run(check(name, module))
    print("GALLRA-MIGCHECK " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
