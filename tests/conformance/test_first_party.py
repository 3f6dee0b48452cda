"""The plugin conformance kit (core/testing/conformance.py) run on every first-party plugin.

First-party plugins are those the ``gallra`` distribution itself registers in the
``gallra.plugins`` entry-point group: exactly the contract a third party is held to.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from core import builtin  # noqa: F401  (the core's own plugin: first_party() builds the host at collection)
from core.plugins import get_host
from core.testing.conformance import PluginConformance, postgres_url


def first_party() -> list[str]:
    return sorted(n for n, r in get_host().records.items() if r.distribution == "gallra")


def test_first_party_plugins_are_found():
    names = first_party()
    assert {"cases", "customers", "vault", "workorders"} <= set(names), names


class TestFirstPartyConformance(PluginConformance):
    plugin = first_party()
    not_searchable: ClassVar[Mapping[str, str]] = {
        # Encrypted values: search cannot read them and must not decrypt to try.
        "vault_entry.secret_values": "encrypted",
        # Kept free text about processing, not about a person (the processing activities'
        # descriptions, and the signed inventory's content, a snapshot of them): declared so
        # that erasure redacts and verifies it, but not a place a person is looked up by.
        **{
            f"privacy_activity.{column}": "organisational text about processing, not a person"
            for column in (
                "name", "purpose", "legal_basis_note", "data_subjects", "personal_data",
                "recipients", "transfers", "retention", "security_measures",
            )
        },
        "privacy_inventory_version.content": "a machine-made snapshot of the inventory",
        # Plain values are guarded by the form's access lists; the index is readable by every
        # GDPR searcher. An entry is found through its customer (#17.4).
        "vault_entry.plain_values": "guarded by the form's access lists",
    }

    def test_migrations_sqlite(self, gallra_plugin_name: str, tmp_path: Path) -> None:
        """The SQLite check makes a SQLite file of its own whatever the suite's database
        is, so it is the same check on the same files in both of the suite's runs
        (.ci/run); the run on SQLite makes it, the run on PostgreSQL makes the PostgreSQL
        one (a third party's suite, run on one database, makes both)."""
        if postgres_url() is not None:
            pytest.skip("checked by the suite's run on SQLite; this run checks PostgreSQL")
        super().test_migrations_sqlite(gallra_plugin_name, tmp_path)


def test_every_text_column_of_the_core_is_declared():
    """#17.3: the core's own tables obey the rule the kit holds plugins to."""
    from core.gdpr.registry import build, plugin_tables, undeclared_text_columns

    host = get_host()
    tables = plugin_tables(host, "core")
    assert {t._meta.tablename for t in tables} >= {"employee", "activity", "outbox", "system_log"}
    assert not undeclared_text_columns(build(host), tables)
