"""The plugin conformance kit (core/testing/conformance.py) run on every first-party plugin.

First-party plugins are those the ``gallra`` distribution itself registers in the
``gallra.plugins`` entry-point group: exactly the contract a third party is held to.
"""

from __future__ import annotations

from core.plugins import get_host
from core.testing.conformance import PluginConformance


def first_party() -> list[str]:
    return sorted(n for n, r in get_host().records.items() if r.distribution == "gallra")


def test_first_party_plugins_are_found():
    names = first_party()
    assert {"cases", "customers", "vault", "workorders"} <= set(names), names


class TestFirstPartyConformance(PluginConformance):
    plugin = first_party()
    not_searchable = {
        # Encrypted values: search cannot read them and must not decrypt to try.
        "vault_entry.secret_values": "encrypted",
        # Plain values are guarded by the form's access lists; the index is readable by every
        # GDPR searcher. An entry is found through its customer (#17.4).
        "vault_entry.plain_values": "guarded by the form's access lists",
    }
