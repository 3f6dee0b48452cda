"""Gallra's conformance suite, switched on for this plugin: hooks, declarations, migrations
on SQLite and PostgreSQL, retention of every declared field, person search, references."""

from core.testing.conformance import PluginConformance


class TestContractsConformance(PluginConformance):
    plugin = "contracts"
