"""``gallra serve``: the web application, plus worker and scheduler in the embedded default."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import uvicorn

from core.config import get_settings

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger(__name__)


async def _prepare_demo() -> None:
    from core.migrate import migrate
    from core.plugins import get_host
    from core.tables import Tenant
    from core.tenancy import create_tenant
    from core.users import create_employee_with_password

    applied = await migrate()
    if applied:
        print(f"Applied {len(applied)} migration(s).")
    if await Tenant.exists().where(Tenant.slug == "demo"):
        return
    tenant = await create_tenant(get_host(), "demo", "Demo AB")
    password = await create_employee_with_password(
        int(tenant["id"]), "Demo Administratör", "admin@demo.example", "admin"
    )
    print("\n" + "=" * 64)
    print("Demo organization 'demo' created. Log in with")
    print("  organization: demo")
    print("  e-mail:       admin@demo.example")
    print(f"  password:     {password}")
    print("This is shown only once.")
    print("=" * 64 + "\n", flush=True)


def serve(host: str, port: int, demo: bool, workers: int) -> None:
    settings = get_settings()
    if demo:
        asyncio.run(_prepare_demo())
    _refuse_pending_migrations()
    embedded = not settings.broker_url
    if embedded and workers > 1:
        raise SystemExit("Several web processes need GALLRA_BROKER_URL and a shared database.")
    if embedded:
        # The embedded default: an in-process Dramatiq worker and the scheduler.
        from core import tasks  # noqa: F401
        from core.worker import get_broker, start_embedded_worker

        start_embedded_worker(get_broker(), threads=2)
        threading.Thread(target=_scheduler_thread, daemon=True, name="gallra-scheduler").start()
    from core.app import PendingMigrations

    # GALLRA_LOG_FORMAT=json: uvicorn's loggers go through the root's JSON handler.
    json_logs = os.environ.get("GALLRA_LOG_FORMAT", "").lower() == "json"
    logging_options: dict[str, Any] = {"log_config": None} if json_logs else {}
    try:
        uvicorn.run(
            "core.asgi:app" if workers > 1 else _app(),
            host=host,
            port=port,
            workers=workers if workers > 1 else None,
            log_level="info",
            proxy_headers=settings.trust_proxy,
            **logging_options,
        )
    except PendingMigrations as exc:
        raise SystemExit(str(exc)) from None


def _refuse_pending_migrations() -> None:
    from core.migrate import pending_migrations

    pending = asyncio.run(pending_migrations())
    if pending:
        raise SystemExit(
            f"{len(pending)} database migration(s) have not been applied "
            f"({', '.join(pending[:5])}). Run: gallra migrate"
        )


def _app() -> Litestar:
    from core.app import create_app

    return create_app()


def _scheduler_thread() -> None:
    from core.scheduler import Scheduler

    async def main() -> None:
        scheduler = Scheduler()
        await scheduler.start()
        while True:
            await asyncio.sleep(3600)

    asyncio.run(main())
