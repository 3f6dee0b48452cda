"""Plugin discovery through entry points, allow- and block-lists, per-tenant dispatch."""

from __future__ import annotations

import logging
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from core.config import load_settings
from core.plugins import ENTRY_POINT_GROUP, GDPR_HOOKS, PluginHost
from core.tenancy import enabled_modules, set_module_enabled
from tests.core.conftest import FAKE_TARGETS
from tests.core.fake_plugins import alpha, beta, heard, svc

ROOT = Path(__file__).resolve().parents[2]


def host_from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> PluginHost:
    """A host built the way the server builds one: settings read from the environment."""
    for key in ("GALLRA_PLUGINS", "GALLRA_DISABLE_PLUGINS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PluginHost(settings=load_settings())


def test_entry_points_are_discovered_with_version_and_distribution(fake_entry_points, monkeypatch):
    fake_entry_points(**FAKE_TARGETS)
    host = host_from_env(monkeypatch)
    assert host.plugin_names() == ["alpha", "beta", "svc"]
    rec = host.records["alpha"]
    assert (rec.name, rec.version, rec.distribution) == ("alpha", "4.5.6", "gallra-fake-plugins")
    assert rec.module is not None and rec.module.label_sv == "Alfa" and rec.module.label_en == "Alpha"
    assert host.records["svc"].module is None  # a service plugin is no module
    assert sorted(host.modules()) == ["alpha", "beta"]
    # The entry point's object is what was registered with pluggy.
    assert host.plugin("alpha") is alpha
    assert host.plugin("core") is not None  # the core's own defaults are always there


def test_installed_first_party_plugins_are_found_through_real_entry_points():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get(
        "entry-points", {}
    ).get(ENTRY_POINT_GROUP, {})
    installed = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    missing = sorted(set(declared) - set(installed))
    assert not missing, (
        f"pyproject.toml declares {missing} but they are not installed: "
        "run .venv/bin/pip install -q --no-deps -e ."
    )
    host = PluginHost(settings=load_settings())
    version = metadata.version("gallra")
    for name, target in declared.items():
        assert installed[name].value == target
        rec = host.records[name]
        assert (rec.version, rec.distribution) == (version, "gallra"), name
        assert rec.module is None or (rec.module.label_sv and rec.module.label_en), name
    assert set(host.records) == set(installed)


def test_allow_list_loads_only_named_plugins(fake_entry_points, monkeypatch, caplog):
    fake_entry_points(**FAKE_TARGETS)
    host = host_from_env(monkeypatch, GALLRA_PLUGINS="alpha, svc")
    assert host.plugin_names() == ["alpha", "svc"]
    assert host.plugin("beta") is None

    with caplog.at_level(logging.WARNING, logger="core.plugins"):
        host = host_from_env(monkeypatch, GALLRA_PLUGINS="alpha,nosuchplugin")
    assert host.plugin_names() == ["alpha"]
    assert "nosuchplugin" in caplog.text


def test_block_list_skips_plugins_without_importing_them(fake_entry_points, monkeypatch):
    fake_entry_points(**FAKE_TARGETS, broken="tests.core.fake_plugins.broken")
    sys.modules.pop("tests.core.fake_plugins.broken", None)
    host = host_from_env(monkeypatch, GALLRA_DISABLE_PLUGINS="broken,beta")
    assert host.plugin_names() == ["alpha", "svc"]
    assert "tests.core.fake_plugins.broken" not in sys.modules
    # Without the block-list the broken plugin is imported (and its failure is loud).
    with pytest.raises(ImportError, match="broken test plugin"):
        host_from_env(monkeypatch)


def test_block_list_wins_over_allow_list(fake_entry_points, monkeypatch):
    fake_entry_points(**FAKE_TARGETS)
    host = host_from_env(monkeypatch, GALLRA_PLUGINS="alpha,beta", GALLRA_DISABLE_PLUGINS="beta")
    assert host.plugin_names() == ["alpha"]


async def test_plugin_disabled_for_one_tenant_is_not_called_for_it(make_host, tenant_factory):
    host = make_host(alpha, beta, svc)
    a = await tenant_factory()
    b = await tenant_factory()
    await set_module_enabled(host, a.id, "alpha", False)
    assert await enabled_modules(host, a.id) == set()  # beta is off by default
    assert await enabled_modules(host, b.id) == {"alpha"}

    hooks_a = await host.for_tenant(a.id)
    hooks_a.password_changed(tenant_id=a.id, person_kind="employee", person_id=1)
    # (The person-search index reads every plugin's declarations when a write commits: a
    # GDPR hook, which reaches every plugin; only the tenant's own hooks are checked here.)
    assert [c for c in heard("alpha") if c[1] != "declare_personal_data"] == []
    assert heard("beta") == []
    assert len(heard("svc", "password_changed")) == 1  # service plugins hear every tenant

    hooks_b = await host.for_tenant(b.id)
    hooks_b.password_changed(tenant_id=b.id, person_kind="employee", person_id=2)
    assert [c[2]["tenant_id"] for c in heard("alpha", "password_changed")] == [b.id]
    assert heard("beta") == []
    assert len(heard("svc", "password_changed")) == 2

    # Turning beta on for A reaches beta for A only.
    await set_module_enabled(host, a.id, "beta", True)
    (await host.for_tenant(a.id)).password_changed(tenant_id=a.id, person_kind="employee", person_id=1)
    assert [c[2]["tenant_id"] for c in heard("beta", "password_changed")] == [a.id]
    assert [c[2]["tenant_id"] for c in heard("alpha", "password_changed")] == [b.id]


async def test_gdpr_hooks_reach_plugins_a_tenant_disabled(make_host, tenant):
    host = make_host(alpha, svc)
    await set_module_enabled(host, tenant.id, "alpha", False)
    hooks = await host.for_tenant(tenant.id)
    assert "alpha" in hooks.disabled
    before = len(heard("alpha", "declare_personal_data"))  # the search index may have asked
    hooks.declare_personal_data()
    assert len(heard("alpha", "declare_personal_data")) == before + 1
    # Every GDPR hook is dispatched to every installed plugin whatever the tenant chose.
    for name in GDPR_HOOKS:
        assert getattr(hooks, name) is getattr(host.hook, name)
    # A platform hook is not.
    assert hooks.password_changed is not host.hook.password_changed


def test_call_plugin_reaches_exactly_one_plugin(make_host):
    host = make_host(alpha, beta, svc)
    host.call_plugin("beta", "password_changed", tenant_id=9, person_kind="employee", person_id=3)
    assert [c[0] for c in heard("beta") + heard("alpha") + heard("svc")] == ["beta"]


def _manifest_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, toml: str) -> str:
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "module.toml").write_text(toml, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_module_toml_describes_the_module(tmp_path, monkeypatch):
    from core.contracts import ModuleInfo
    from core.plugins import module_hooks

    package = _manifest_package(tmp_path, monkeypatch, "manifest_ok", (
        'name = "meetings"\nlabel_sv = "Möten"\nlabel_en = "Meetings"\narea = "time"\n'
        'enabled_by_default = false\nrequires = ["customers"]\n'
    ))
    describe, apps, _routes = module_hooks(package)
    assert describe() == ModuleInfo(
        name="meetings", label_sv="Möten", label_en="Meetings", area="time",
        enabled_by_default=False, requires=("customers",),
    )
    assert apps() == ["manifest_ok.piccolo_app"]


@pytest.mark.parametrize(
    "toml",
    ['name = "x"\nlabel_sv = "X"\nlabel_en = "X"\nlabel = "typo"\n', 'name = "x"\nlabel_sv = "X"\n'],
    ids=["unknown field", "missing field"],
)
def test_a_wrong_module_toml_fails_at_load(tmp_path, monkeypatch, toml):
    from core.plugins import module_info_of

    package = _manifest_package(tmp_path, monkeypatch, "manifest_bad", toml)
    with pytest.raises(TypeError):
        module_info_of(package)
