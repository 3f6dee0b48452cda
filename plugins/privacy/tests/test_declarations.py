"""The GDPR module as the core sees it: module, rules, fields, search places, 2FA context."""

from __future__ import annotations

import ast
from pathlib import Path

from core.gdpr.registry import get_declarations
from core.plugins import get_host

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins" / "privacy"


def test_module_is_called_gdpr_in_the_gdpr_area():
    info = get_host().modules()["privacy"]
    assert (info.name, info.label_sv, info.label_en, info.area) == ("privacy", "GDPR", "GDPR", "gdpr")


def test_rules_belong_to_the_module_and_default_to_off():
    rules = {k: r for k, r in get_declarations().rules.items() if r.owner == "privacy"}
    assert set(rules) == {
        "privacy_contacts",
        "privacy_incidents",
        "privacy_inventory_versions",
        "privacy_activities",
    }
    assert all(r.module == "privacy" and r.rule.default_mode == "off" for r in rules.values())
    assert rules["privacy_incidents"].rule.clock_columns == ("closed_at", "deleted_at")
    assert rules["privacy_inventory_versions"].rule.clock_columns == ("superseded_at",)
    assert "immediately" in rules["privacy_contacts"].rule.allowed_modes
    assert "immediately" not in rules["privacy_incidents"].rule.allowed_modes


def test_contact_persons_are_personal_data_and_searchable():
    fields = {
        (f.table._meta.tablename, f.field.column): f.field
        for f in get_declarations().fields
        if f.owner == "privacy"
    }
    assert fields[("privacy_contact", "name")].strategy == "replace"
    assert fields[("privacy_contact", "email")].strategy == "null"
    assert fields[("privacy_contact", "phone")].strategy == "null"
    for ref in (
        ("privacy_incident", "reported_by"),
        ("privacy_inventory_version", "signed_by"),
        ("privacy_activity", "created_by"),
        ("privacy_contact", "employee_id"),
    ):
        assert fields[ref].category == "employee_ref" and fields[ref].strategy == "zero"

    sources = get_host().collect_by_plugin("declare_search_sources")["privacy"]
    places = {(s.table._meta.tablename, s.column): (s.area, s.place_sv, s.place_en) for s in sources}
    for column in ("name", "email", "phone"):
        assert places[("privacy_contact", column)] == ("gdpr", "Kontaktpersoner", "Contact persons")
    assert places[("privacy_incident", "description")][1:] == ("Incidentrapporter", "Incident reports")
    assert places[("privacy_inventory_version", "signer_name")][1:] == ("Förteckning", "Inventory")
    # Employee ids are references, not values a person search could match.
    assert ("privacy_incident", "reported_by") not in places
    assert all(s.link is not None and s.link(7).startswith("/api/privacy/") for s in sources)


def test_two_factor_context_nine_is_declared_by_the_module():
    contexts = get_host().collect_by_plugin("declare_two_factor_contexts")
    mine = {c.key: c for c in contexts["privacy"]}
    ctx = mine["gdpr_inventory"]
    assert (ctx.module, ctx.purpose, ctx.label_sv) == ("privacy", "sign", "GDPR-förteckning – SMS-autentisering")
    others = {c.key for name, cs in contexts.items() if name != "privacy" for c in cs}
    assert "gdpr_inventory" not in others  # declared once


def test_the_plugin_imports_no_other_plugin():
    for path in PLUGIN_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("plugins"):
                    assert name.startswith("plugins.privacy"), f"{path.name} imports {name}"
