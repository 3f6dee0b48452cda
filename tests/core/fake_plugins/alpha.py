"""A module plugin with a page of API, a command, a job and a start-up hook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from litestar import get

from core.contracts import ModuleInfo, ScheduledJob
from core.plugins import hookimpl
from core.web import AuthUser
from tests.core.fake_plugins import CALLS

NAME = "alpha"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, label_sv="Alfa", label_en="Alpha", area="workcloud")


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["tests.core.fake_plugins.alpha_app"]


@get("/api/alpha/ping", tags=["alpha"])
async def ping(user: AuthUser) -> dict[str, Any]:
    """Answers only for tenants that have the alpha module turned on."""
    return {"module": NAME, "tenant": user.tenant_slug}


@hookimpl
def register_routes() -> Sequence[Any]:
    return [ping]


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("alpha-hello", help="Say hello from the alpha plugin.")
    def alpha_hello() -> None:
        click.echo("hello from alpha")


async def alpha_job() -> None:
    CALLS.append((NAME, "job", {}))


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    return [ScheduledJob(id="alpha.job", func=alpha_job, minutes=7)]


@hookimpl
def start_up(app: Any) -> Any:
    async def go() -> None:
        CALLS.append((NAME, "start_up", {"app": app}))

    return go()


@hookimpl
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> None:
    CALLS.append((NAME, "password_changed", dict(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)))


@hookimpl
def declare_personal_data() -> Sequence[Any]:
    # A GDPR duty: it must reach this plugin even for tenants that turned it off.
    CALLS.append((NAME, "declare_personal_data", {}))
    return []
