"""Fixtures of the core tests: fresh plugin hosts with test plugins, settings from env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

import pytest

from tests.core import fake_plugins


@pytest.fixture(autouse=True)
def _forget_fake_calls() -> Iterator[None]:
    fake_plugins.CALLS.clear()
    yield
    fake_plugins.CALLS.clear()


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Set GALLRA_* variables and re-read the settings; both are restored afterwards."""
    from core.config import get_settings

    def apply(**env: str | None) -> Any:
        for key, value in env.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def make_host(stub_broker: Any) -> Iterator[Callable[..., Any]]:
    """Build a fresh PluginHost holding the given plugins and make it the process's host.

    ``make_host(alpha, svc=obj)``: modules are added under their NAME, keyword plugins under
    the keyword. The previous host comes back after the test.
    """
    from core import plugins

    previous = plugins._host

    def build(*modules: Any, **named: Any) -> plugins.PluginHost:
        host = plugins.PluginHost(load_entry_points=False)
        for module in modules:
            host.add(module, name=module.NAME, version="1.2.3", distribution="gallra-tests")
        for name, plugin in named.items():
            host.add(plugin, name=name, version="1.2.3", distribution="gallra-tests")
        plugins.set_host(host)
        return host

    yield build
    plugins.set_host(previous)


class FakeDistribution(metadata.Distribution):
    """An installed distribution as importlib.metadata describes it, without installing one."""

    def __init__(self, name: str, version: str):
        self._text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"

    def read_text(self, filename: str) -> str | None:
        return self._text if filename == "METADATA" else None

    def locate_file(self, path: Any) -> Any:
        return path


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[metadata.EntryPoint]]:
    """Make importlib.metadata answer the gallra.plugins group with these entry points.

    ``fake_entry_points(alpha="tests.core.fake_plugins.alpha", ...)``; every other group is
    answered by the real function.
    """
    from core import plugins

    real = metadata.entry_points
    dist = FakeDistribution("gallra-fake-plugins", "4.5.6")

    def install(**targets: str) -> list[metadata.EntryPoint]:
        eps = [
            metadata.EntryPoint(name=n, value=v, group=plugins.ENTRY_POINT_GROUP)._for(dist)
            for n, v in targets.items()
        ]

        def entry_points(**params: Any) -> Any:
            if params.get("group") == plugins.ENTRY_POINT_GROUP:
                return list(eps)
            return real(**params)

        monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)
        return eps

    return install


FAKE_TARGETS = {
    "alpha": "tests.core.fake_plugins.alpha",
    "beta": "tests.core.fake_plugins.beta",
    "svc": "tests.core.fake_plugins.svc",
}


@pytest.fixture
async def clients(request: pytest.FixtureRequest) -> Any:
    """``await clients(app=None)``: another logged-out test client (each keeps its cookies).

    Several people in one test each get a client; they are closed in reverse order.
    """
    from core.testing.client import AppClient

    made: list[Any] = []

    async def make(app: Any = None) -> Any:
        client = AppClient(app=app if app is not None else request.getfixturevalue("app"))
        await client.__aenter__()
        made.append(client)
        return client

    yield make
    for client in reversed(made):
        await client.__aexit__(None, None, None)


_hash_cache: dict[str, str] = {}


async def add_employee(
    tenant: Any, role: str = "user", name: str = "Plain Person", email: str | None = None
) -> tuple[int, str]:
    """An employee of ``tenant`` with the test password, inserted directly (hashing once)."""
    from core import auth
    from core.tables import Employee
    from tests.support import TEST_PASSWORD, unique_slug

    if TEST_PASSWORD not in _hash_cache:
        _hash_cache[TEST_PASSWORD] = await auth.hash_password(TEST_PASSWORD)
    email = email or f"{unique_slug('e')}@{tenant.slug}.example"
    rows = await Employee.insert(
        Employee(tenant_id=tenant.id, name=name, email=email, role=role, password_hash=_hash_cache[TEST_PASSWORD])
    ).returning(Employee.id)
    return int(rows[0]["id"]), email
