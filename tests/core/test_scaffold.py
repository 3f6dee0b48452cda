"""``gallra plugins new NAME``: the generated distribution has the standard layout, refuses
bad names and folders, and its own tests (Gallra's conformance suite included) pass."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import pytest

from core.pages.catalog import check as catalog_problems
from core.scaffold import ScaffoldError, new_plugin

LAYOUT = {
    "pyproject.toml",
    "README.md",
    "gallra_meetings/__init__.py",
    "gallra_meetings/module.toml",
    "gallra_meetings/tables.py",
    "gallra_meetings/piccolo_app.py",
    "gallra_meetings/migrations/__init__.py",
    "gallra_meetings/schemas.py",
    "gallra_meetings/services.py",
    "gallra_meetings/routes.py",
    "gallra_meetings/records.py",
    "gallra_meetings/pages.py",
    "gallra_meetings/templates/meetings/detail.html",
    "gallra_meetings/locale/sv/LC_MESSAGES/messages.po",
    "gallra_meetings/locale/sv/LC_MESSAGES/messages.mo",
    "tests/test_api.py",
    "tests/test_conformance.py",
}


def test_standard_layout_with_names_filled_in(tmp_path):
    target = tmp_path / "gallra-meetings"
    made = new_plugin("meetings", target, label_sv="Möten", label_en="Meetings")
    files = {p.relative_to(target).as_posix() for p in made.files}
    migrations = sorted(f for f in files if re.fullmatch(r"gallra_meetings/migrations/meetings_\d{4}_.*\.py", f))
    assert files == LAYOUT | set(migrations) and len(migrations) == 2
    for path in made.files:
        if path.suffix == ".mo":
            continue
        text = path.read_text(encoding="utf-8")
        assert "${" not in text, f"{path} has a placeholder left"
        if path.suffix == ".py":
            compile(text, str(path), "exec")
    pyproject = (target / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "gallra-meetings"' in pyproject
    assert '[project.entry-points."gallra.plugins"]\nmeetings = "gallra_meetings"' in pyproject
    assert 'gallra_plugins = ["meetings = gallra_meetings"]' in pyproject
    manifest = (target / "gallra_meetings/module.toml").read_text(encoding="utf-8")
    assert 'name = "meetings"\nlabel_sv = "Möten"\nlabel_en = "Meetings"' in manifest
    init = (target / "gallra_meetings/__init__.py").read_text(encoding="utf-8")
    assert "module_hooks(__name__)" in init and "ModuleInfo" not in init
    # the pages are the record layer's, with the core's way of marking a message
    pages = (target / "gallra_meetings/pages.py").read_text(encoding="utf-8")
    assert "(RecordPages)" in pages and "from core.errors import mark as _" in pages and "def _(" not in pages
    # The table migration sorts before the index migration (raw steps run before tables).
    first, second = (target / m for m in migrations)
    assert 'app_name="meetings"' in first.read_text() and "add_table" in first.read_text()
    assert "CREATE INDEX" in second.read_text()
    # every message of the plugin has its Swedish text, compiled
    assert catalog_problems(target / "gallra_meetings") == []


@pytest.mark.parametrize(
    "name", ["", "x", "Meetings", "1meetings", "meet-ings", "meet__ings", "meetings_", "core", "class"]
)
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(ScaffoldError):
        new_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_with_files_is_never_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not an empty folder"):
        new_plugin("meetings", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert new_plugin("meetings", empty).files


def test_labels_that_would_break_the_code_are_refused(tmp_path):
    with pytest.raises(ScaffoldError, match="Swedish label"):
        new_plugin("meetings", tmp_path / "a", label_sv='Mö"ten')
    with pytest.raises(ScaffoldError, match="English label"):
        new_plugin("meetings", tmp_path / "b", label_en="")


@pytest.mark.slow
def test_generated_plugin_passes_its_tests_and_the_conformance_suite(tmp_path):
    """Run the generated distribution's tests in their own pytest process, with the package
    on the path (not pip-installed: the ``NAME = module`` form of gallra_plugins)."""
    target = tmp_path / "gallra-meetings"
    new_plugin("meetings", target, label_sv="Möten", label_en="Meetings")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALLRA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), *(p for p in sys.path if p)])
    drop = None
    from core.testing.conformance import _pg_admin, fresh_postgres, postgres_url

    base = postgres_url()
    if base is not None:
        # Its own database: other tests' rows (the vault's encrypted entries) are not its.
        env["GALLRA_TEST_DATABASE_URL"], drop = fresh_postgres(base)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
            cwd=target, env=env, capture_output=True, text=True, timeout=600,
        )
    finally:
        if drop is not None:
            asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for check in (
        "test_hook_implementations[meetings] PASSED",
        "test_declarations[meetings] PASSED",
        "test_migrations_sqlite[meetings] PASSED",
        "test_retention[meetings:meetings.closed] PASSED",
        "test_references[meetings] PASSED",
        "test_create_read_and_delete PASSED",
        "test_the_pages_list_and_show_the_record_in_swedish PASSED",
        "test_a_record_made_on_the_pages PASSED",
    ):
        assert check in out, out[-4000:]
    if base is not None:
        assert "test_migrations_postgresql[meetings] PASSED" in out, out[-4000:]


def test_cli_plugins_new(tmp_path):
    from click.testing import CliRunner

    from core.cli import build_cli

    runner = CliRunner()
    target = tmp_path / "out"
    result = runner.invoke(build_cli(), ["plugins", "new", "service_log", "--dir", str(target),
                                         "--label-sv", "Serviceloggar"])
    assert result.exit_code == 0, result.output
    assert f"Created plugin 'service_log' in {target}" in result.output
    assert 'label_sv = "Serviceloggar"\nlabel_en = "Service log"' in (
        target / "gallra_service_log/module.toml"
    ).read_text()
    again = runner.invoke(build_cli(), ["plugins", "new", "service_log", "--dir", str(target)])
    assert again.exit_code == 1 and "not an empty folder" in again.output
    bad = runner.invoke(build_cli(), ["plugins", "new", "Bad-Name", "--dir", str(tmp_path / "x")])
    assert bad.exit_code == 1 and "cannot name a plugin" in bad.output
    assert not (tmp_path / "x").exists()
