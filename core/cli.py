"""The ``gallra`` command."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import sys
from typing import Any

import click

from core.config import get_settings


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@click.group(help="Gallra: a plugin-based business platform with GDPR built in.")
@click.version_option(package_name="gallra")
def cli() -> None:
    from core.metrics import configure_logging

    configure_logging(os.environ.get("GALLRA_LOG_LEVEL", "INFO"), os.environ.get("GALLRA_LOG_FORMAT"))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@cli.command(help="Apply every pending database migration (core and all plugins).")
def migrate() -> None:
    from core.migrate import migrate as do_migrate

    applied = run(do_migrate())
    click.echo(f"Applied {len(applied)} migration(s)." if applied else "Nothing to migrate.")
    if not get_settings().is_sqlite:
        from core.rls import check

        report = run(check())
        click.echo(f"Row-level security: {report.tables} tenant tables, {len(report.problems)} problem(s).")
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        if report.role_bypasses or report.role_owns_tables:
            click.echo(
                f"Warning: the application's role {report.role!r} "
                + ("is a superuser or has BYPASSRLS" if report.role_bypasses else "owns the tables")
                + ", so the policies do not protect it. Give GALLRA_DATABASE_URL a role that owns "
                "nothing and GALLRA_DATABASE_OWNER_URL the owner (README: Running at scale).",
                err=True,
            )
        if report.problems:
            raise SystemExit(1)


@cli.command(help="Serve the web application (and, with no broker configured, the worker and scheduler).")
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address to listen on (0.0.0.0 for every interface).",
)
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port to listen on.")
@click.option(
    "--demo/--no-demo", default=False,
    help="Migrate, then create a demo tenant and administrator on first start.",
)
@click.option(
    "--workers", default=1, show_default=True,
    help="Web processes (needs a broker and PostgreSQL when more than 1).",
)
def serve(host: str, port: int, demo: bool, workers: int) -> None:
    from core.serve import serve as do_serve

    do_serve(host=host, port=port, demo=demo, workers=workers)


@cli.command(help="Run Dramatiq worker processes against GALLRA_BROKER_URL.")
@click.option("--processes", default=2, show_default=True, help="Worker processes to start.")
@click.option("--threads", default=4, show_default=True, help="Worker threads per process.")
def worker(processes: int, threads: int) -> None:
    settings = get_settings()
    if not settings.broker_url:
        raise click.ClickException(
            "Set GALLRA_BROKER_URL (redis://… or amqp://…) to run separate workers; "
            "without it `gallra serve` runs the worker in-process."
        )
    from dramatiq.cli import main as dramatiq_main

    sys.argv = ["dramatiq", "core.worker_entry", "--processes", str(processes), "--threads", str(threads)]
    raise SystemExit(dramatiq_main())


@cli.command(help="Run the periodic schedule (only one of several started schedulers acts).")
def scheduler() -> None:
    from core.scheduler import run_forever

    run(run_forever())


@cli.group(help="Tenants (organizations).")
def tenant() -> None:
    pass


@tenant.command("create", help="Create a tenant, optionally with an administrator.")
@click.argument("slug")
@click.option("--name", required=True, help="The organization's name.")
@click.option(
    "--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
    help="Language of the user interface and of the anonymization word.",
)
@click.option("--modules", default=None, help="Comma-separated modules to enable (default: every module's default).")
@click.option("--admin-email", default=None, help="Create an administrator with this e-mail.")
@click.option(
    "--admin-name", default="Administratör", show_default=True,
    help="Name of the administrator made with --admin-email.",
)
def tenant_create(
    slug: str, name: str, language: str, modules: str | None, admin_email: str | None, admin_name: str
) -> None:
    from core.plugins import get_host
    from core.tenancy import TenancyError, create_tenant

    async def go() -> None:
        mods = [m.strip() for m in modules.split(",") if m.strip()] if modules is not None else None
        try:
            t = await create_tenant(get_host(), slug, name, mods, language)
        except TenancyError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Created tenant {t['slug']} (id {t['id']}).")
        if admin_email:
            from core.users import create_employee_with_password

            password = await create_employee_with_password(int(t["id"]), admin_name, admin_email, "admin")
            click.echo(f"Administrator {admin_email} has the password: {password}")
            click.echo("Change it after the first login.")

    run(go())


@tenant.command("list", help="List tenants.")
def tenant_list() -> None:
    from core.tables import Tenant

    async def go() -> None:
        for t in await Tenant.select().order_by(Tenant.slug):
            click.echo(f"{t['id']}\t{t['slug']}\t{t['name']}\t{t['language']}")

    run(go())


def _set_module(slug: str, module: str, enabled: bool) -> None:
    from litestar.exceptions import NotFoundException

    from core.auth import find_tenant
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    async def go() -> None:
        t = await find_tenant(slug)
        if t is None:
            raise click.ClickException(f"No tenant {slug!r}.")
        try:
            await set_module_enabled(get_host(), int(t["id"]), module, enabled)
        except NotFoundException as exc:
            raise click.ClickException(str(exc.detail)) from exc
        click.echo(f"{module} {'enabled' if enabled else 'disabled'} for {slug}.")

    run(go())


@tenant.command("enable-module", help="Enable a module for a tenant.")
@click.argument("slug")
@click.argument("module")
def tenant_enable(slug: str, module: str) -> None:
    _set_module(slug, module, True)


@tenant.command("disable-module", help="Disable a module for a tenant (its data keeps its retention).")
@click.argument("slug")
@click.argument("module")
def tenant_disable(slug: str, module: str) -> None:
    _set_module(slug, module, False)


@cli.group(help="Employees (users).")
def user() -> None:
    pass


@user.command("create", help="Create an employee; prints a generated password unless --password-stdin.")
@click.argument("tenant_slug")
@click.argument("email")
@click.option("--name", required=True, help="The employee's full name.")
@click.option(
    "--role", type=click.Choice(["admin", "user"]), default="user", show_default=True,
    help="admin may manage the organization; user may not.",
)
@click.option("--mobile", default=None, help="Mobile phone (for SMS two-factor).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(tenant_slug: str, email: str, name: str, role: str, mobile: str | None, password_stdin: bool) -> None:
    from core.auth import AuthError, find_tenant
    from core.users import create_employee_with_password
    from core.validation import FieldError

    async def go() -> None:
        t = await find_tenant(tenant_slug)
        if t is None:
            raise click.ClickException(f"No tenant {tenant_slug!r}.")
        given = sys.stdin.readline().rstrip("\n") if password_stdin else None
        try:
            password = await create_employee_with_password(int(t["id"]), name, email, role, given, mobile)
        except (FieldError, AuthError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Created {role} {email.strip().lower()} in {tenant_slug}.")
        if given is None:
            click.echo(f"Password: {password}")

    run(go())


@user.command("set-password", help="Set an employee's password (read from standard input, or generated).")
@click.argument("tenant_slug")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from standard input (otherwise one is generated and printed).",
)
def user_set_password(tenant_slug: str, email: str, password_stdin: bool) -> None:
    from core.auth import AuthError, find_tenant, set_password
    from core.security import new_token
    from core.tables import Employee

    async def go() -> None:
        t = await find_tenant(tenant_slug)
        if t is None:
            raise click.ClickException(f"No tenant {tenant_slug!r}.")
        e = await Employee.select(Employee.id).where(
            (Employee.tenant_id == t["id"]) & (Employee.email == email.strip().lower()) & Employee.deleted_at.is_null()
        ).first()
        if e is None:
            raise click.ClickException(f"No employee {email!r} in {tenant_slug}.")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else new_token(12)
        try:
            await set_password(int(t["id"]), int(e["id"]), password)
        except AuthError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo("Password set; the person's sessions have ended.")
        if not password_stdin:
            click.echo(f"Password: {password}")

    run(go())


@cli.group(help="Installed plugins.")
def plugins() -> None:
    pass


@plugins.command("list", help="Name, version, distribution and which tenants enable each plugin.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_list(as_json: bool) -> None:
    from core.plugins import get_host
    from core.tenancy import tenants_enabling

    async def go() -> None:
        host = get_host()
        rows: list[dict[str, Any]] = []
        for name, rec in sorted(host.records.items()):
            tenants = await tenants_enabling(host, name) if rec.module else ["(all: service plugin)"]
            rows.append(
                {
                    "name": name,
                    "version": rec.version,
                    "distribution": rec.distribution,
                    "module": rec.module is not None,
                    "tenants": tenants,
                }
            )
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            click.echo("No plugins installed.")
        for r in rows:
            click.echo(f"{r['name']}\t{r['version']}\t{r['distribution']}\t{', '.join(r['tenants']) or '-'}")

    run(go())


@plugins.command("new", help="Create a new plugin distribution NAME: standard layout, migrations, tests.")
@click.argument("name")
@click.option(
    "--dir", "directory", default=None,
    help="Folder to create (default: ./gallra-NAME); must be absent or empty.",
)
@click.option("--label-sv", default=None, help="The module's Swedish name (default: from NAME).")
@click.option("--label-en", default=None, help="The module's English name (default: from NAME).")
def plugins_new(name: str, directory: str | None, label_sv: str | None, label_en: str | None) -> None:
    from pathlib import Path

    from core.scaffold import ScaffoldError, new_plugin

    target = Path(directory or f"gallra-{name.replace('_', '-')}")
    try:
        made = new_plugin(name, target, label_sv, label_en)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created plugin {name!r} in {target} ({len(made.files)} files).")
    click.echo(f"Next: cd {target} && python -m pytest -q   (then pip install -e . and gallra migrate)")


@cli.command(help="Show e-mail and SMS messages in the outbox (newest first).")
@click.option("--tenant", default=None, help="Only this tenant's messages.")
@click.option("--limit", default=20, show_default=True, help="Show at most this many messages.")
@click.option(
    "--status", type=click.Choice(["queued", "sent", "failed"]), default=None,
    help="Only messages with this status.",
)
def outbox(tenant: str | None, limit: int, status: str | None) -> None:
    from core.auth import find_tenant
    from core.tables import Outbox

    async def go() -> None:
        query = Outbox.select().order_by(Outbox.id, ascending=False).limit(limit)
        if tenant:
            t = await find_tenant(tenant)
            if t is None:
                raise click.ClickException(f"No tenant {tenant!r}.")
            query = query.where(Outbox.tenant_id == t["id"])
        if status:
            query = query.where(Outbox.status == status)
        for m in await query:
            click.echo(
                f"#{m['id']} {m['created_at']:%Y-%m-%d %H:%M} {m['channel']} to {m['recipient']} "
                f"[{m['status']}] {m['subject']}"
            )
            click.echo("  " + m["body"].replace("\n", "\n  "))
            if m["error"]:
                click.echo(f"  error: {m['error']}")

    run(go())


from core import builtin as _builtin  # noqa: E402,F401  (the core's own plugin: #18.6)
from core.gdpr.cli import gdpr as _gdpr  # noqa: E402

cli.add_command(_gdpr)

from core.gdpr.search_cli import search as _search  # noqa: E402

cli.add_command(_search)


def build_cli(host: Any = None) -> click.Group:
    """The ``gallra`` command with every installed plugin's sub-commands added.

    Plugins add to a copy of the core's group, so building it twice (or for another
    plugin host, in tests) never leaves one host's commands on the other.
    """
    from core.plugins import get_host

    group = copy.copy(cli)
    group.commands = dict(cli.commands)
    for _ in (host or get_host()).pm.hook.register_commands(cli=group):
        pass
    return group


def main() -> None:
    build_cli()(prog_name="gallra")


if __name__ == "__main__":
    main()
