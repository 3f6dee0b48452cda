"""The core's layers (#18.6): kernel < domain < http < cli, held by import-linter in .ci/run
(pyproject.toml, [tool.importlinter]). These tests hold what the layers contract cannot:
every core module is in a layer, and no import cycle is left inside a layer either. Imports
inside functions and under TYPE_CHECKING count, as they do for import-linter.

A lower layer reaches a higher one only through registries it offers and the higher one
fills at start-up; the two of them are tested here too."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

import grimp
import pytest

from core import db, plugins
from core.db import atomic, raw

ROOT = Path(__file__).resolve().parents[2]
# Packages whose __init__ only gathers its own modules: the contract names those modules.
CONTAINERS = {"core", "core.activity", "core.gdpr"}


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _declared_layers() -> list[set[str]]:
    (contract,) = [c for c in _contracts() if c["type"] == "layers"]
    layers = []
    for layer in contract["layers"]:
        names = {n.strip().strip("()") for part in layer.split("|") for n in part.split(":")}
        layers.append(names)
    return layers


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("core", cache_dir=None)


def test_every_core_module_is_in_a_layer(graph: grimp.ImportGraph) -> None:
    declared = set().union(*_declared_layers())
    missing = sorted(
        m
        for m in graph.modules
        if m not in CONTAINERS and not any(m == d or m.startswith(d + ".") for d in declared)
    )
    assert not missing, f"put these modules in a layer of [tool.importlinter]: {missing}"


def test_the_four_layers_and_the_plugin_rules_are_declared() -> None:
    layers = _declared_layers()
    assert len(layers) == 4
    cli, http, domain, kernel = layers
    assert "core.cli" in cli and "core.app" in http and "core.web" in http
    assert {"core.tenancy", "core.auth", "core.gdpr.search"} <= domain
    assert {"core.config", "core.db", "core.contracts", "core.hookspecs", "core.plugins"} <= kernel
    assert "core.errors" in kernel  # reserved (optional until it exists)
    types = {c["type"]: c for c in _contracts()}
    assert types["forbidden"]["source_modules"] == ["core"]
    assert types["forbidden"]["forbidden_modules"] == ["plugins"]
    assert types["independence"]["modules"] == ["plugins.*"]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    mods = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in mods:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            if i < len(edges[v]):
                work.append((v, i + 1))
                w = edges[v][i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return found


def test_no_import_cycle_in_core(graph: grimp.ImportGraph) -> None:
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    g = grimp.ImportGraph()
    for m in ("a", "b", "c", "d"):
        g.add_module(m)
    g.add_import(importer="a", imported="b")
    g.add_import(importer="b", imported="c")
    g.add_import(importer="c", imported="a")
    g.add_import(importer="c", imported="d")
    assert _cycles(g) == [["a", "b", "c"]]


# -- the registries the kernel offers ---------------------------------------------------


def test_the_search_index_subscribes_to_commits() -> None:
    from core.gdpr.search import flush

    assert flush in db._before_commit


async def test_before_commit_runs_once_in_the_outermost_transaction(
    monkeypatch: pytest.MonkeyPatch, tenant
) -> None:
    calls: list[str] = []

    async def before() -> None:
        calls.append("before")

    monkeypatch.setattr(db, "_before_commit", [*db._before_commit])
    db.on_before_commit(before)
    db.on_before_commit(before)  # twice is once
    async with atomic():
        async with atomic():
            pass
        assert calls == []
    assert calls == ["before"]

    with pytest.raises(RuntimeError):
        async with atomic():
            raise RuntimeError("the body failed")
    assert calls == ["before"]  # no commit, no callback


async def test_a_failing_before_commit_rolls_the_transaction_back(
    monkeypatch: pytest.MonkeyPatch, tenant
) -> None:
    async def refuse() -> None:
        raise RuntimeError("refused before commit")

    monkeypatch.setattr(db, "_before_commit", [*db._before_commit, refuse])
    word = "layers-" + uuid.uuid4().hex[:8]
    with pytest.raises(RuntimeError):
        async with atomic():
            await raw(
                "UPDATE tenant SET anonymization_word = {} WHERE id = {}", word, tenant.id
            )
    rows = await raw("SELECT anonymization_word FROM tenant WHERE id = {}", tenant.id)
    assert rows[0]["anonymization_word"] != word


def test_a_host_without_the_core_plugin_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "_core_plugins", {})
    with pytest.raises(RuntimeError, match=r"core\.builtin"):
        plugins.PluginHost(load_entry_points=False)


def test_every_host_starts_with_the_core_plugins(make_host) -> None:
    host = make_host()
    assert host.pm.has_plugin("core") and host.pm.has_plugin("core-smtp")
    assert "core" not in host.records  # the core is no module a tenant can switch off
