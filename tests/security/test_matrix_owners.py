"""The isolation matrix knows which plugin owns a route from the plugin host, so a plugin
installed from outside ``plugins/`` (gallra-contracts) has its ids looked up in its own
tables, not core's."""

from __future__ import annotations

from core.plugins import PluginHost, get_host
from tests.security import matrix


def test_a_plugin_outside_plugins_owns_its_routes_and_their_tables() -> None:
    import tests.conformance.kit_fake as fake

    host = PluginHost(load_entry_points=False)
    host.add(fake, name="kit_fake")
    assert matrix.owner_of(host, "tests.conformance.kit_fake.routes") == ("kit_fake", ("kit_fake",))
    assert matrix.owner_of(host, "tests.conformance.kit_fake") == ("kit_fake", ("kit_fake",))
    # A package boundary, not a string prefix; modules of no plugin are core's.
    assert matrix.owner_of(host, "tests.conformance.kit_fakery.routes") == ("core", ("core",))
    assert matrix.owner_of(host, "core.gdpr.settings") == ("core", ("core",))
    # A plugin this host does not have owns nothing.
    assert matrix.owner_of(host, "plugins.cases.routes") == ("core", ("core",))


def test_built_in_plugins_own_their_routes() -> None:
    host = get_host()
    assert matrix.owner_of(host, "plugins.cases.routes") == ("cases", ("cases",))
    assert matrix.owner_of(host, "plugins.workorders.routes") == ("workorders", ("workorders",))
    assert matrix.owner_of(host, "core.routes.admin") == ("core", ("core",))
    # An id of a cases route points into the cases app's tables only.
    tables = {t._meta.tablename for t in matrix.tables_for("case_id", ("cases",))}
    assert "case_record" in tables and all(t.startswith("case") for t in tables)
