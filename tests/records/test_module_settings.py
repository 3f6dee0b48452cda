"""Each module's own retention settings (``/api/<module>/settings``, core.gdpr.routes) list
exactly the module's declared rules and refuse what a rule does not allow (M17-M22).

Derived from the record specs: every module whose records declare retention rules. The
rows show the declared labels, clocks and modes; a mode the rule does not offer, a mode
that does not exist, a number of days out of range and another module's rule are each a
400 that changes nothing; a change shows in Settings > GDPR (``/api/gdpr/retention``).
"""

from __future__ import annotations

import pytest

from core.gdpr.registry import get_declarations
from tests.modules import record_specs, set_rule

MODULES = sorted({p.values[0] for p in record_specs(lambda spec: bool(spec.rules))} - {"core"})

# What the brief names, word for word, beside what the declarations say.
STATED = {
    "cases": {"label_sv": "Ärenden", "allowed_modes": ["days", "off"], "clock": ["closed", "deleted"]},
    "service_cases": {"label_en": "Service cases"},
    "work_orders": {"label_sv": "Arbetsordrar", "allowed_modes": ["days", "off"]},
    "orders": {"label_sv": "Order", "clock": ["invoiced", "deleted"]},
}


@pytest.mark.parametrize("module", MODULES)
async def test_settings_list_the_rules_and_refuse_what_they_do_not_allow(app, admin_client, module):
    url = f"/api/{module}/settings"
    if f"{module}-settings-get" not in {r.name for route in app.routes for r in route.route_handlers}:
        pytest.skip(f"{module} keeps its retention settings in Settings > GDPR only")
    infos = {i.key: i for i in get_declarations().rules_of_module(module)}
    r = await admin_client.get(url)
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()}
    assert set(rows) == set(infos)
    for key, row in rows.items():
        rule = infos[key].rule
        assert (row["label_sv"], row["label_en"]) == (rule.label_sv, rule.label_en), key
        assert row["allowed_modes"] == list(rule.allowed_modes), key
        for name, value in STATED.get(key, {}).items():
            assert row[name] == value, (key, name)

    before = r.json()
    others = [i.key for i in get_declarations().rules.values() if i.module != module]
    for key, info in infos.items():
        bad = [{"key": key, "mode": "sometimes"}, {"key": others[0], "mode": "off"}]
        if "immediately" not in info.rule.allowed_modes:
            bad.append({"key": key, "mode": "immediately"})
        if "days" in info.rule.allowed_modes:
            bad += [{"key": key, "mode": "days", "days": 0}, {"key": key, "mode": "days", "days": 4000}]
        for item in bad:
            r = await admin_client.put(url, json=[item])
            assert r.status_code == 400, (item, r.text)
            if item["mode"] == "immediately" and not info.rule.fixed:
                assert "immediately" in r.text
    assert (await admin_client.get(url)).json() == before

    # The same value shows in Settings > GDPR.
    key = next((k for k, i in infos.items() if "days" in i.rule.allowed_modes and not i.rule.fixed), None)
    if key is not None:
        await set_rule(admin_client, module, key, "days", 90)
        overview = {r["key"]: r for r in (await admin_client.get("/api/gdpr/retention")).json()}
        assert (overview[key]["mode"], overview[key]["days"]) == ("days", 90)


def test_the_module_rules_are_covered():
    assert {"cases", "workorders", "orders"} <= set(MODULES), MODULES
