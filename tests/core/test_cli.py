"""Every ``gallra`` command: what it does, how it refuses, and that it explains itself."""

from __future__ import annotations

import asyncio
import json
import sys
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from core import auth
from core.cli import build_cli, cli, main
from core.plugins import ENTRY_POINT_GROUP, get_host
from core.tables import Employee, Session, Tenant
from tests.core.fake_plugins import alpha, beta, heard, svc
from tests.support import login, make_tenant, unique_slug

ROOT = Path(__file__).resolve().parents[2]


def sync(awaitable):  # type: ignore[no-untyped-def]
    """Await a coroutine or a Piccolo query from a synchronous test (CLI tests are sync)."""

    async def wait():  # type: ignore[no-untyped-def]
        return await awaitable

    return asyncio.run(wait())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def walk(command: click.Command, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


def test_every_command_has_help(runner):
    group = build_cli()  # with every installed plugin's commands
    seen = []
    for path, command in walk(group):
        assert (command.help or "").strip(), f"gallra {' '.join(path)} has no help text"
        r = runner.invoke(group, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)
        assert "Usage:" in r.output and command.help.split()[0] in r.output
        seen.append(" ".join(path))
    for expected in ("migrate", "serve", "worker", "scheduler", "tenant create", "tenant list",
                     "tenant enable-module", "tenant disable-module", "user create",
                     "user set-password", "plugins list", "outbox"):
        assert expected in seen
    # The options of the core's own commands each say what they are for.
    for path, command in walk(cli):
        if command.callback is None or command.callback.__module__ != "core.cli":
            continue
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "version":
                assert param.help, f"gallra {' '.join(path)} {param.opts[0]} has no help"


def test_scheduler_and_serve_explain_themselves(runner):
    r = runner.invoke(cli, ["scheduler", "--help"])
    assert r.exit_code == 0 and "only one of several started schedulers acts" in r.output
    r = runner.invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output and "--demo" in r.output


def test_migrate_when_nothing_is_pending(runner):
    r = runner.invoke(cli, ["migrate"])
    assert r.exit_code == 0, r.output
    assert "Nothing to migrate." in r.output


def test_worker_refuses_without_a_broker(runner, settings):
    assert settings.broker_url is None
    r = runner.invoke(cli, ["worker"])
    assert r.exit_code != 0
    assert "Set GALLRA_BROKER_URL" in r.output and "gallra serve" in r.output


def test_tenant_create_and_list(runner):
    slug = unique_slug("cli")
    r = runner.invoke(
        cli,
        ["tenant", "create", slug, "--name", "Cli AB", "--language", "en", "--admin-email", f"Boss@{slug}.example"],
    )
    assert r.exit_code == 0, r.output
    assert f"Created tenant {slug}" in r.output
    password = r.output.split("has the password: ")[1].split()[0]
    employee = sync(auth.check_credentials(slug, f"boss@{slug}.example", password))
    assert employee["role"] == "admin"
    row = sync(Tenant.select().where(Tenant.slug == slug).first())
    assert (row["name"], row["language"]) == ("Cli AB", "en")

    r = runner.invoke(cli, ["tenant", "list"])
    assert r.exit_code == 0
    assert f"{row['id']}\t{slug}\tCli AB\ten" in r.output.splitlines()


def test_tenant_create_refusals(runner):
    t = sync(make_tenant())
    for args, message in [
        (["Bad Slug", "--name", "X"], "lower-case letters"),
        ([t.slug, "--name", "X"], "already exists"),
        ([unique_slug("cli"), "--name", "X", "--modules", "nosuchmodule"], "Unknown modules: nosuchmodule"),
        ([unique_slug("cli"), "--name", "X", "--language", "de"], "'de' is not one of"),
        ([unique_slug("cli")], "Missing option '--name'"),
    ]:
        r = runner.invoke(cli, ["tenant", "create", *args])
        assert r.exit_code != 0, args
        assert message in r.output, (args, r.output)


def test_tenant_create_with_modules(runner, make_host):
    from core.tenancy import enabled_modules

    host = make_host(alpha, beta)
    slug = unique_slug("cli")
    r = runner.invoke(cli, ["tenant", "create", slug, "--name", "Mods AB", "--modules", "beta"])
    assert r.exit_code == 0, r.output
    row = sync(Tenant.select(Tenant.id).where(Tenant.slug == slug).first())
    assert sync(enabled_modules(host, row["id"])) == {"beta"}


def test_user_create(runner):
    t = sync(make_tenant())
    r = runner.invoke(
        cli,
        ["user", "create", t.slug, " Eva@Example.org ", "--name", "Eva", "--mobile", "070-123 45 67",
         "--password-stdin"],
        input="eva-has-a-long-password\n",
    )
    assert r.exit_code == 0, r.output
    assert f"Created user eva@example.org in {t.slug}" in r.output
    assert "eva-has-a-long-password" not in r.output
    eva = sync(auth.check_credentials(t.slug, "eva@example.org", "eva-has-a-long-password"))
    assert (eva["role"], eva["mobile_phone"], eva["name"]) == ("user", "+46701234567", "Eva")

    r = runner.invoke(cli, ["user", "create", t.slug, "olle@example.org", "--name", "Olle", "--role", "admin"])
    assert r.exit_code == 0, r.output
    generated = r.output.split("Password: ")[1].strip()
    assert sync(auth.check_credentials(t.slug, "olle@example.org", generated))["role"] == "admin"


def test_user_create_refusals(runner):
    t = sync(make_tenant())
    for args, stdin, message in [
        ([t.slug, "not-an-address", "--name", "X"], None, "email:"),
        ([t.slug, t.admin_email, "--name", "X"], None, "already has this e-mail"),
        ([t.slug, "x@example.org", "--name", "X", "--password-stdin"], "short\n", "at least"),
        ([t.slug, "x@example.org", "--name", "X", "--mobile", "12"], None, "mobile"),
        (["no-such-tenant", "x@example.org", "--name", "X"], None, "No tenant 'no-such-tenant'"),
        ([t.slug, "x@example.org", "--name", "X", "--role", "owner"], None, "'owner' is not one of"),
    ]:
        r = runner.invoke(cli, ["user", "create", *args], input=stdin)
        assert r.exit_code != 0, args
        assert message in r.output, (args, r.output)
    assert sync(Employee.count().where(Employee.tenant_id == t.id)) == 1


def test_user_set_password_ends_sessions(runner, make_host, app):
    make_host(svc)
    t = sync(make_tenant())

    async def open_session() -> str:
        from core.testing.client import AppClient

        async with AppClient(app=app) as c:
            assert (await login(c, t)).status_code == 200
            return c.cookies.get("gallra_session")

    sync(open_session())
    r = runner.invoke(
        cli, ["user", "set-password", t.slug, t.admin_email, "--password-stdin"], input="a-new-long-password\n"
    )
    assert r.exit_code == 0, r.output
    assert "sessions have ended" in r.output and "a-new-long-password" not in r.output
    assert sync(Session.count().where(Session.employee_id == t.admin_id)) == 0
    assert sync(auth.check_credentials(t.slug, t.admin_email, "a-new-long-password"))
    assert [c[2] for c in heard("svc", "password_changed")] == [
        {"tenant_id": t.id, "person_kind": "employee", "person_id": t.admin_id}
    ]

    r = runner.invoke(cli, ["user", "set-password", t.slug, t.admin_email])
    generated = r.output.split("Password: ")[1].strip()
    assert sync(auth.check_credentials(t.slug, t.admin_email, generated))

    for args, stdin, message in [
        ([t.slug, "nobody@example.org"], None, "No employee 'nobody@example.org'"),
        (["no-such-tenant", t.admin_email], None, "No tenant 'no-such-tenant'"),
        ([t.slug, t.admin_email, "--password-stdin"], "short\n", "at least"),
    ]:
        r = runner.invoke(cli, ["user", "set-password", *args], input=stdin)
        assert r.exit_code != 0, args
        assert message in r.output, (args, r.output)
    assert sync(auth.check_credentials(t.slug, t.admin_email, generated))


def test_plugins_list_shows_plugins_and_enabling_tenants(runner, make_host):
    from core.tenancy import set_module_enabled

    host = make_host(alpha, beta, svc)
    on = sync(make_tenant())
    off = sync(make_tenant())
    sync(set_module_enabled(host, off.id, "alpha", False))
    sync(set_module_enabled(host, on.id, "beta", True))
    r = runner.invoke(cli, ["plugins", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.output)}
    assert sorted(rows) == ["alpha", "beta", "svc"]
    row = rows["alpha"]
    assert (row["version"], row["distribution"], row["module"]) == ("1.2.3", "gallra-tests", True)
    assert on.slug in rows["alpha"]["tenants"] and off.slug not in rows["alpha"]["tenants"]
    assert on.slug in rows["beta"]["tenants"] and off.slug not in rows["beta"]["tenants"]  # off by default
    assert rows["svc"]["module"] is False and rows["svc"]["tenants"] == ["(all: service plugin)"]

    r = runner.invoke(cli, ["plugins", "list"])
    assert r.exit_code == 0
    lines = {line.split("\t")[0]: line.split("\t") for line in r.output.splitlines()}
    assert lines["beta"][:3] == ["beta", "1.2.3", "gallra-tests"]
    assert on.slug in lines["beta"][3].split(", ") and off.slug not in lines["beta"][3]
    assert lines["svc"][3] == "(all: service plugin)"


def test_plugins_list_shows_the_installed_first_party_plugins(runner):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get(
        "entry-points", {}
    ).get(ENTRY_POINT_GROUP, {})
    r = runner.invoke(cli, ["plugins", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.output)}
    assert set(declared) <= set(rows)
    assert set(rows) == set(get_host().records)
    for name in declared:
        assert rows[name]["distribution"] == "gallra"


def test_hook_register_commands(runner, make_host, monkeypatch, capsys):
    host = make_host(alpha)
    group = build_cli(host)
    r = runner.invoke(group, ["--help"])
    assert "alpha-hello" in r.output and "Say hello from the alpha plugin." in r.output
    r = runner.invoke(group, ["alpha-hello"])
    assert r.exit_code == 0 and r.output == "hello from alpha\n"
    assert "alpha-hello" not in cli.commands  # the core's group is not changed

    # `gallra` itself (core.cli.main) asks the process's plugins for their commands.
    monkeypatch.setattr(sys, "argv", ["gallra", "--help"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert "alpha-hello" in capsys.readouterr().out
