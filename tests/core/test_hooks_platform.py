"""The platform and authentication hooks, each exercised through a test plugin.

GDPR hooks are tested with the engine (tests/gdpr); delivery hooks in test_delivery.py,
register_jobs in test_scheduler.py and register_commands in test_cli.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get
from piccolo.conf.apps import AppRegistry

from core import auth
from core.app import create_app
from core.contracts import ModuleInfo, SecondFactorDecision, SecondFactorRequest
from core.plugins import get_host, hookimpl
from core.tables import Outbox, Session
from core.tenancy import set_module_enabled
from core.testing.client import AppClient
from tests.core.fake_plugins import alpha, beta, heard, svc
from tests.core.fake_plugins.alpha_app import AlphaThing
from tests.support import login


def app_of(host: Any) -> Any:
    return create_app(host=host, check_migrations=False)


def test_hook_describe_module(make_host):
    host = make_host(alpha, beta, svc)
    assert host.modules() == {
        "alpha": ModuleInfo(name="alpha", label_sv="Alfa", label_en="Alpha", area="workcloud"),
        "beta": ModuleInfo(name="beta", label_sv="Beta", label_en="Beta", enabled_by_default=False),
    }
    assert host.records["svc"].module is None


def test_installed_modules_describe_themselves():
    """Every installed module names itself as its entry point does, in Swedish and English."""
    for name, info in get_host().modules().items():
        assert info.name == name
        assert info.label_sv.strip() and info.label_en.strip(), name


def test_hook_register_piccolo_apps(make_host):
    host = make_host(alpha, svc)
    apps = host.piccolo_apps()
    assert apps[0] == "core.piccolo_app"
    assert apps.count("core.piccolo_app") == 1  # the core's own hook answer is not repeated
    assert "tests.core.fake_plugins.alpha_app" in apps
    registry = AppRegistry(apps=apps)
    assert registry.get_table_classes("alpha") == [AlphaThing]


async def test_installed_piccolo_apps_are_all_migrated():
    from core.migrate import pending_migrations
    from core.piccolo_conf import APP_REGISTRY

    names = {config.app_name for config in APP_REGISTRY.app_configs.values()}
    for dotted in get_host().piccolo_apps():
        assert dotted in APP_REGISTRY.apps
    assert "core" in names
    assert await pending_migrations() == []


class PublicRoutes:
    """A service plugin's routes: no module, so no enablement guard."""

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/api/svc-public/hello", tags=["svc"])
        async def hello() -> dict[str, str]:
            return {"hello": "world"}

        return [hello]


async def test_hook_register_routes(make_host, tenant):
    host = make_host(alpha, svc=PublicRoutes())
    app = app_of(host)
    paths = {route.path for route in app.routes}
    assert {"/api/alpha/ping", "/api/svc-public/hello"} <= paths
    async with AppClient(app=app) as c:
        assert (await c.get("/api/svc-public/hello")).json() == {"hello": "world"}
        assert (await c.get("/api/alpha/ping")).status_code == 401
        await login(c, tenant)
        assert (await c.get("/api/alpha/ping")).json() == {"module": "alpha", "tenant": tenant.slug}
        await set_module_enabled(host, tenant.id, "alpha", False)
        assert (await c.get("/api/alpha/ping")).status_code == 404
        assert (await c.get("/api/svc-public/hello")).status_code == 200
        schema = (await c.get("/schema/openapi.json")).json()
        assert "/api/alpha/ping" in schema["paths"] and "/api/svc-public/hello" in schema["paths"]


async def test_hook_start_up(make_host):
    host = make_host(alpha)
    app = app_of(host)
    assert heard("alpha", "start_up") == []
    async with AppClient(app=app) as c:
        [call] = heard("alpha", "start_up")
        assert call[2]["app"] is app
        assert (await c.get("/health")).status_code == 200
    # Each start of the application calls it once more.
    async with AppClient(app=app):
        assert len(heard("alpha", "start_up")) == 2


class FakeTwoFactor:
    """A module that asks for a second factor at login."""

    NAME = "fake2fa"

    def __init__(self, decision: SecondFactorDecision | None):
        self.decision = decision
        self.requests: list[SecondFactorRequest] = []

    @hookimpl
    def describe_module(self) -> ModuleInfo:
        return ModuleInfo(name=self.NAME, label_sv="Tvåfaktor", label_en="Two-factor")

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> Any:
        if request.context != "employee_login":
            return None
        self.requests.append(request)

        async def decide() -> SecondFactorDecision | None:
            return self.decision

        return decide()


async def test_hook_challenge_second_factor(make_host, tenant):
    plugin = FakeTwoFactor(
        SecondFactorDecision(required=True, challenge_id="ch-1", masked_phone="+46 70 *** ** 67", message="Ange koden")
    )
    host = make_host(fake2fa=plugin)
    async with AppClient(app=app_of(host)) as c:
        c.cookies.set("gallra_device", "device-token-1")
        r = await c.post(
            "/api/auth/login",
            json={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password},
            headers={"user-agent": "pytest-browser"},
        )
        assert r.status_code == 202, r.text
        assert r.json() == {
            "status": "second_factor_required",
            "employee_id": None,
            "name": None,
            "role": None,
            "second_factor": {"challenge_id": "ch-1", "masked_phone": "+46 70 *** ** 67", "message": "Ange koden"},
        }
        assert "gallra_session" not in r.headers.get("set-cookie", "")
        assert (await c.get("/api/auth/me")).status_code == 401
        assert await Session.count().where(Session.employee_id == tenant.admin_id) == 0
        [asked] = plugin.requests
        assert (asked.tenant_id, asked.person_kind, asked.person_id, asked.context) == (
            tenant.id, "employee", tenant.admin_id, "employee_login",
        )
        assert (asked.device_token, asked.user_agent) == ("device-token-1", "pytest-browser")

        # A wrong password never reaches the hook.
        assert (await login(c, tenant, password="wrong-password")).status_code == 401
        assert len(plugin.requests) == 1

        plugin.decision = SecondFactorDecision(required=False, error="Lägg till ett mobilnummer först.")
        r = await login(c, tenant, api=True)
        assert r.status_code == 409 and r.json()["detail"] == "Lägg till ett mobilnummer först."
        assert "gallra_session" not in r.headers.get("set-cookie", "")

        plugin.decision = None  # no second factor needed for this device
        assert (await login(c, tenant, api=True)).status_code == 200
        assert (await c.get("/api/auth/me")).status_code == 200

        # A tenant that turned the module off is not asked.
        plugin.decision = SecondFactorDecision(required=True, challenge_id="ch-2")
        await set_module_enabled(host, tenant.id, "fake2fa", False)
        calls = len(plugin.requests)
        assert (await login(c, tenant, api=True)).status_code == 200
        assert len(plugin.requests) == calls


async def test_hook_password_changed(make_host, tenant, worker):
    host = make_host(alpha, svc)
    await set_module_enabled(host, tenant.id, "alpha", False)
    expected = {"tenant_id": tenant.id, "person_kind": "employee", "person_id": tenant.admin_id}

    await auth.set_password(tenant.id, tenant.admin_id, "set-by-someone-1")
    assert [c[2] for c in heard("svc", "password_changed")] == [expected]

    async with AppClient(app=app_of(host)) as c:
        r = await c.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": tenant.admin_email})
        assert r.status_code == 202
        worker.drain()
        mail = await Outbox.select().where(Outbox.tenant_id == tenant.id).first()
        token = mail["body"].split("token=")[1].split()[0]
        assert len(heard("svc", "password_changed")) == 1  # asking for a link changes nothing
        r = await c.post("/api/auth/password-reset/complete", json={"token": token, "password": "reset-by-link-1"})
        assert r.status_code == 200, r.text
        assert [c_[2] for c_ in heard("svc", "password_changed")] == [expected, expected]

        # A new mobile number: devices trusted for the old one are forgotten too.
        assert (await login(c, tenant, password="reset-by-link-1")).status_code == 200
        r = await c.patch(f"/api/employees/{tenant.admin_id}", json={"mobile_phone": "070-123 45 67"})
        assert r.status_code == 200
        assert len(heard("svc", "password_changed")) == 3
        await c.patch(f"/api/employees/{tenant.admin_id}", json={"mobile_phone": "0701234567", "name": "Same Phone"})
        assert len(heard("svc", "password_changed")) == 3  # the same number written differently
    # The module the tenant turned off heard none of it.
    assert heard("alpha", "password_changed") == []


@pytest.mark.parametrize("enabled", [True, False])
async def test_password_changed_reaches_enabled_modules_only(make_host, tenant, enabled):
    host = make_host(alpha)
    await set_module_enabled(host, tenant.id, "alpha", enabled)
    await auth.set_password(tenant.id, tenant.admin_id, "another-password-1")
    assert len(heard("alpha", "password_changed")) == (1 if enabled else 0)
