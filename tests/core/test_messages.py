"""Every refusal a person can see is a translatable message with a code (core/errors.py).

Walks the source of core and every plugin: a message handed to ``Invalid``, ``FieldError``,
``NotFound``, ``Conflict``, ``Forbidden``, ``TooMany``, ``AuthError`` or ``GallraError`` is a
literal (or a constant holding one), never an f-string or a string built at run time, so
the catalogs can hold it; and each such message has a Swedish text in the catalogs the
pages and the API translate with. Services raise these, never Litestar's exceptions.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

import pytest

from core.pages.catalog import KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
RAISERS = {name: spec[0] for name, spec in KEYWORDS.items() if isinstance(spec, tuple) and name[0].isupper()}


def _sources() -> list[Path]:
    files = [*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]
    return sorted(f for f in files if "migrations" not in f.parts and "scaffold" not in f.parts)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        position = RAISERS.get(name)
        if position is None or len(node.args) < position:
            continue
        yield name, node.lineno, node.args[position - 1]


@functools.cache
def _messages() -> tuple[list[str], list[tuple[str, str]]]:
    built: list[str] = []
    found: list[tuple[str, str]] = []
    for path in _sources():
        where = str(path.relative_to(ROOT))
        for name, line, arg in _calls(path):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((f"{where}:{line}", arg.value))
            elif isinstance(arg, ast.Name):
                value = getattr(importlib.import_module(_module_name(path)), arg.id, None)
                if isinstance(value, str):
                    found.append((f"{where}:{line}", value))
                # a parameter passing a message through (a helper's argument) is checked
                # where the helper is called
            elif isinstance(arg, ast.Attribute):
                pass  # a constant of another module (errors.RECORD_DELETED), checked there
            else:
                built.append(f"{where}:{line}: {name}(...) with a message built at run time")
    return built, found


def test_no_message_is_built_at_run_time():
    built, _found = _messages()
    assert built == [], "use a literal with %(name)s parameters:\n" + "\n".join(built)


@pytest.mark.parametrize("lang", ["sv"])
def test_every_raised_message_has_a_translation(lang):
    from core.pages import translations

    t = translations(lang)
    _built, found = _messages()
    missing = sorted({f"{where}: {msg!r}" for where, msg in found if t.gettext(msg) == msg})
    assert missing == [], "add the Swedish text (python -m core.pages.catalog update <folder>):\n" + "\n".join(missing)


def test_services_import_no_litestar():
    """Services raise core.errors; only the edge (routes, pages) knows HTTP."""
    assert _litestar_in_services() == []


def _litestar_in_services() -> list[str]:
    offenders = []
    for path in _sources():
        if path.name != "services.py" and "services" not in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "litestar" or n.startswith("litestar.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    return offenders


def test_a_refusal_reads_in_swedish_and_carries_its_code():
    from core.errors import Conflict, Label, problem_body
    from core.pages import translations

    exc = Conflict("%(what)s %(number)s has already been closed.", code="case.already_closed",
                   what=Label("Case"), number=7)
    assert exc.text() == "Case 7 has already been closed."
    assert exc.text(translations("sv")) == "Ärende 7 har redan stängts."
    body = problem_body(exc, translations("sv"), instance="/api/cases/3/close")
    assert body["status"] == 409 and body["code"] == "case.already_closed"
    assert body["detail"] == "Ärende 7 har redan stängts." and body["params"] == {"what": "Case", "number": 7}
