"""The conformance kit fails a plugin that breaks the contract, and says what is wrong.

Each check of core/testing/conformance.py is run on tests/conformance/kit_fake, a plugin
with one fault per check, registered on the process's host for the test only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from core.db import as_owner
from core.plugins import get_host
from core.testing.conformance import PluginConformance, fresh_sqlite, run_migration_check
from tests.conformance import kit_fake


class Kit(PluginConformance):
    plugin = "kit_fake"


@pytest.fixture
def fake() -> Iterator[Any]:
    host = get_host()
    host.add(kit_fake, name=kit_fake.NAME, distribution="local")
    try:
        yield host
    finally:
        host.pm.unregister(name=kit_fake.NAME)
        host.records.pop(kit_fake.NAME, None)


@pytest.fixture
def misbehaving() -> Iterator[Any]:
    host = get_host()
    host.add(kit_fake.Misbehaving(), name="kit_misbehaving", distribution="local")
    try:
        yield host
    finally:
        host.pm.unregister(name="kit_misbehaving")
        host.records.pop("kit_misbehaving", None)


async def test_a_strategy_undone_by_the_anonymize_hook_fails_retention(fake, tenant):
    async with as_owner():  # DDL: the tables' owner
        await kit_fake.Thing.create_table(if_not_exists=True)
    with pytest.raises(AssertionError) as failed:
        await Kit().test_retention("kit_fake", kit_fake.RULE, tenant)
    message = str(failed.value)
    assert "kit_fake_thing.name (replace) holds 'still here', expected 'Anonymiserad'" in message
    assert "note" not in message  # the column that did get its strategy is not blamed


def test_personal_data_without_a_search_source_fails_declarations(fake):
    with pytest.raises(AssertionError) as failed:
        Kit().test_declarations("kit_fake")
    assert "kit_fake_thing.name (name) has no search source" in str(failed.value)
    assert "kit_fake_thing.note (free_text) has no search source" in str(failed.value)


def test_listing_a_field_in_not_searchable_accepts_it(fake):
    class Excused(Kit):
        not_searchable: ClassVar[Mapping[str, str]] = {"kit_fake_thing.name": "test", "kit_fake_thing.note": "test"}

    Excused().test_declarations("kit_fake")


def test_an_undeclared_text_column_fails(fake):
    """#17.3: a text column declared neither as personal data nor as NotPersonal fails the
    kit, and a NotPersonal declaration is the way out."""
    with pytest.raises(AssertionError) as failed:
        Kit().test_text_columns_declared("kit_fake")
    message = str(failed.value)
    assert "kit_fake_thing.status" in message
    assert "kit_fake_thing.name" not in message and "kit_fake_thing.note" not in message

    from core.contracts import NotPersonal
    from core.plugins import hookimpl

    class Declares:
        @hookimpl
        def declare_personal_data(self) -> list[NotPersonal]:
            return [NotPersonal(kit_fake.Thing, ("status",), "a state from a fixed list")]

    fake.add(Declares(), name="kit_fake_np", distribution="local")
    try:
        Kit().test_text_columns_declared("kit_fake")
    finally:
        fake.pm.unregister(name="kit_fake_np")
        fake.records.pop("kit_fake_np", None)


def test_a_column_declared_both_ways_is_refused(fake):
    from core.contracts import NotPersonal
    from core.gdpr.registry import DeclarationError, build
    from core.plugins import hookimpl

    class Both:
        @hookimpl
        def declare_personal_data(self) -> list[NotPersonal]:
            return [NotPersonal(kit_fake.Thing, ("note",), "it is only a note")]

    fake.add(Both(), name="kit_fake_both", distribution="local")
    try:
        with pytest.raises(DeclarationError, match=r"kit_fake_thing\.note is declared personal"):
            build(fake)
    finally:
        fake.pm.unregister(name="kit_fake_both")
        fake.records.pop("kit_fake_both", None)


def test_bad_hook_implementations_are_named(misbehaving):
    with pytest.raises(AssertionError) as failed:
        Kit().test_hook_implementations("kit_misbehaving")
    message = str(failed.value)
    assert "'declare_personal_dat' is not a Gallra hook" in message
    assert "declare_search_sources must answer synchronously" in message
    assert "declare_kinds declares the PersonKind 'customer', which plugin 'customers' owns" in message
    assert "register_commands failed: RuntimeError: boom" in message


def test_an_uninstalled_plugin_is_reported():
    with pytest.raises(AssertionError, match="'nobody' is not installed"):
        Kit().test_hook_implementations("nobody")


def test_a_column_no_migration_adds_is_reported(tmp_path):
    url = fresh_sqlite(tmp_path / "fresh.sqlite")
    result = run_migration_check("kit_fake", "tests.conformance.kit_fake", url)
    assert result["applied"] == ["kit_fake:2026-11-28T00:00:00:000000"]
    assert result["problems"] == [
        "table kit_fake_thing: columns ['note'] are in the Table class but no migration adds them"
    ]
