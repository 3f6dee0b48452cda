"""The three modules' declarations as the core reads them: labels, rules, fields, search."""

from __future__ import annotations

import pytest

from core.gdpr.registry import get_declarations
from core.plugins import get_host

MODULES = {
    "cases": ("Ärenden", "Cases"),
    "workorders": ("Arbetsordrar", "Work orders"),
    "orders": ("Order", "Orders"),
}


def test_modules_are_labelled_in_swedish_and_english():
    modules = get_host().modules()
    for name, (sv, en) in MODULES.items():
        assert (modules[name].label_sv, modules[name].label_en, modules[name].area) == (
            sv,
            en,
            "workcloud",
        )


def test_rules_as_the_brief_says():
    rules = get_declarations().rules
    expect = {
        # key: (owner, clock columns, activity cleared, where, label_sv)
        "cases": (
            "cases",
            ("closed_at", "deleted_at"),
            ("comment", "work_report", "note", "conversation"),
            (("kind", "case"),),
            "Ärenden",
        ),
        "service_cases": (
            "cases",
            ("closed_at", "deleted_at"),
            ("comment", "work_report", "note", "conversation"),
            (("kind", "service"),),
            "Serviceärenden",
        ),
        "work_orders": (
            "workorders",
            ("closed_at", "deleted_at"),
            ("comment", "work_report", "note", "conversation"),
            (),
            "Arbetsordrar",
        ),
        "orders": ("orders", ("invoiced_at", "deleted_at"), ("comment",), (), "Order"),
    }
    for key, (owner, clocks, activity, where, label) in expect.items():
        info = rules[key]
        assert info.owner == owner and info.module == owner
        assert info.rule.clock_columns == clocks
        assert info.rule.clears_activity == activity
        assert info.rule.where == where
        assert info.rule.label_sv == label
        assert info.rule.allowed_modes == ("days", "off")
        assert info.rule.marker_column == "anonymized_at"


@pytest.mark.parametrize("plugin", sorted(MODULES))
def test_every_personal_data_column_is_searched(plugin):
    from core.contracts import PersonalDataField

    answers = get_host().collect_by_plugin("declare_personal_data")[plugin]
    fields = [f for f in answers if isinstance(f, PersonalDataField)]
    sources = get_host().collect_by_plugin("declare_search_sources")[plugin]
    searched = {(s.table, s.column) for s in sources}
    personal = {(f.table, f.column) for f in fields if f.category != "employee_ref"}
    assert personal <= searched, personal - searched
    assert all(s.area == "workcloud" and s.link is not None for s in sources)
    assert all(f.category != "customer_ref" or f.strategy == "zero" for f in fields)
    assert all(f.category != "contact_ref" or f.strategy == "zero" for f in fields)


def test_search_places():
    sources = get_host().collect_by_plugin("declare_search_sources")
    places = {
        plugin: {(s.place_sv, s.place_en, s.where) for s in found}
        for plugin, found in sources.items()
    }
    assert places["cases"] == {
        ("Ärenden", "Cases", (("kind", "case"),)),
        ("Serviceärenden", "Service cases", (("kind", "service"),)),
    }
    assert places["workorders"] == {("Arbetsordrar", "Work orders", ())}
    assert places["orders"] == {("Order", "Orders", ())}


def test_record_types_link_to_the_api():
    types = get_declarations().record_types
    assert types[("cases", "case")].link(7) == "/api/cases/7"
    assert types[("workorders", "work_order")].link(7) == "/api/workorders/7"
    assert types[("orders", "order")].link(7) == "/api/orders/7"
    assert all(
        types[k].number_column == "number"
        for k in (("cases", "case"), ("workorders", "work_order"), ("orders", "order"))
    )


async def test_search_links_resolve_for_the_own_tenant_only(admin_client, other_client):
    wo = (await admin_client.post("/api/workorders/", json={"title": "t"})).json()
    line = (
        await admin_client.post(
            f"/api/workorders/{wo['id']}/extra-costs", json={"description": "d", "amount": 1}
        )
    ).json()
    order = (await admin_client.post("/api/orders/", json={"title": "t"})).json()
    comment = (
        await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "c"})
    ).json()
    order_line = (
        await admin_client.post(
            f"/api/orders/{order['id']}/lines", json={"description": "d", "unit_price": "1"}
        )
    ).json()
    case = (await admin_client.post("/api/cases/", json={"title": "t"})).json()
    for plugin, found in get_host().collect_by_plugin("declare_search_sources").items():
        if plugin not in MODULES:
            continue
        for source in found:
            record_id = {
                "case_record": case["id"],
                "work_order": wo["id"],
                "work_order_extra_cost": line["id"],
                "sales_order": order["id"],
                "sales_order_comment": comment["id"],
                "sales_order_line": order_line["id"],
            }[source.table._meta.tablename]
            assert (await admin_client.get(source.link(record_id))).status_code == 200, source
            assert (await other_client.get(source.link(record_id))).status_code == 404, source
