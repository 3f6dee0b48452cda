"""Every hook is documented in docs/hooks.md (with its exact signature) and has a test.

A hook's test is a function named ``test_hook_<name>`` anywhere under tests/.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs
from core.hookspecs import HOOK_NAMES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "hooks.md"


def docs_text() -> str:
    assert DOCS.exists(), "docs/hooks.md is missing"
    return DOCS.read_text(encoding="utf-8")


def section(name: str) -> str | None:
    match = re.search(rf"^## `{re.escape(name)}`[ \t]*\n(.*?)(?=^## |\Z)", docs_text(), re.S | re.M)
    return match.group(1) if match else None


def spec_signature(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {name}({params}) -> {sig.return_annotation}"


def documented_signature(text: str, name: str) -> str | None:
    match = re.search(rf"```python\n(def {re.escape(name)}\(.*?)\n```", text, re.S)
    if not match:
        return None
    flat = " ".join(match.group(1).split())
    flat = re.sub(r"\(\s+", "(", flat)
    flat = re.sub(r",?\s*\)", ")", flat)
    return flat.rstrip(":")


def test_hook_names_are_found():
    assert len(HOOK_NAMES) >= 17
    assert "describe_module" in HOOK_NAMES and "send_email" in HOOK_NAMES


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hook_is_documented_with_its_exact_signature(name):
    text = section(name)
    assert text is not None, f"docs/hooks.md has no section '## `{name}`'"
    assert documented_signature(text, name) == spec_signature(name), (
        f"docs/hooks.md shows another signature for {name} than core/hookspecs.py"
    )
    assert "@hookimpl" in text, f"docs/hooks.md has no example implementing {name}"


def hook_test_names() -> set[str]:
    names: set[str] = set()
    paths = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "plugins").glob("*/tests/**/*.py")]
    for path in paths:
        names.update(re.findall(r"^\s*(?:async\s+)?def (test_hook_\w+)\(", path.read_text(encoding="utf-8"), re.M))
    return names


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hook_has_a_test(name):
    assert f"test_hook_{name}" in hook_test_names(), (
        f"no test function named test_hook_{name} under tests/ or plugins/*/tests/"
    )


def test_no_documented_hook_is_missing_from_the_contract():
    documented = set(re.findall(r"^## `(\w+)`", docs_text(), re.M))
    assert documented - set(HOOK_NAMES) == set(), "docs/hooks.md documents hooks that do not exist"
