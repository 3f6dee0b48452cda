"""One test per GDPR hook: the core hears each declaration and calls `anonymize`.

The engine's behaviour is tested in depth beside this file; these tests pin the hook
contract itself: what the core collects from each hook, from which plugin, and when.
"""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.gdpr.engine import sweep
from core.gdpr.registry import get_declarations
from core.plugins import get_host
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_customer, customer


def test_hook_declare_personal_data():
    decl = get_declarations(get_host())
    mine = [(f.field.table, f.field.column, f.owner) for f in decl.fields if f.owner == "gdprtest"]
    assert (tp.GTCustomer, "name", "gdprtest") in mine
    assert (tp.GTCustomer, "email", "gdprtest") in mine
    # The other plugin's reference column is collected under its own name.
    links = [f for f in decl.fields if f.owner == "gdprlinks"]
    assert {f.field.category for f in links} >= {"customer_ref"}


def test_hook_declare_retention_rules():
    decl = get_declarations(get_host())
    assert decl.rules[tp.CUSTOMERS].owner == "gdprtest"
    assert decl.rules[tp.CUSTOMERS].rule.table is tp.GTCustomer
    assert decl.rules[tp.NOTES].rule.module == "gdprother"
    # The core's own fixed rules sit beside the plugins' rules.
    assert any(i.rule.fixed for i in decl.rules.values())


def test_hook_declare_record_types():
    decl = get_declarations(get_host())
    assert decl.record_types[("gdprtest", "customer")].table is tp.GTCustomer
    assert decl.record_types[("gdprtest", "note")].table is tp.GTNote


def test_hook_declare_records():
    """One record spec stands for four declarations, under the plugin that gave it."""
    from core.contracts import Field, RecordSpec, RetentionRule, any_employee
    from core.plugins import hookimpl

    class Records:
        @hookimpl
        def declare_records(self):
            return [
                RecordSpec(
                    name="memo", table=tp.GTNote, label_sv="Notering", label_en="Memo",
                    plural_sv="Noteringar", plural_en="Memos", path="/memos",
                    fields=(Field("text", "free_text", "empty", "Text", "Text", rule="memos"),),
                    rules=(RetentionRule(key="memos", label_sv="Noteringar", label_en="Memos",
                                         clock="dated", clock_columns=("dated_at",)),),
                    can_open=any_employee,
                )
            ]

    host = get_host()
    host.add(Records(), name="recordstest")
    try:
        fields = host.collect_by_plugin("declare_personal_data")["recordstest"]
        assert [(f.table, f.column, f.rule) for f in fields] == [(tp.GTNote, "text", "memos")]
        (rule,) = host.collect_by_plugin("declare_retention_rules")["recordstest"]
        assert rule.table is tp.GTNote and rule.record_type == "memo"
        (rtype,) = host.collect_by_plugin("declare_record_types")["recordstest"]
        assert rtype.key == "memo" and rtype.link(7) == "/api/memos/7" and rtype.can_open is any_employee
        (source,) = host.collect_by_plugin("declare_search_sources")["recordstest"]
        assert (source.column, source.place_sv, source.record_type) == ("text", "Noteringar", "memo")
        # the flattened answer of every plugin carries the derived ones too
        assert "memo" in [t.key for t in host.collect("declare_record_types")]
    finally:
        host.pm.unregister(name="recordstest")
        host.records.pop("recordstest", None)


def test_hook_declare_search_sources():
    from core.contracts import SearchSource
    from core.plugins import hookimpl

    class Source:
        @hookimpl
        def declare_search_sources(self):
            return [
                SearchSource(
                    table=tp.GTCustomer, column="email", category="email", area="workcloud",
                    place_sv="Testkunder", place_en="Test customers", record_type="customer",
                )
            ]

    host = get_host()
    host.add(Source(), name="searchsourcetest")
    try:
        by_plugin = host.collect_by_plugin("declare_search_sources")
        assert [s.column for s in by_plugin["searchsourcetest"]] == ["email"]
    finally:
        host.pm.unregister(name="searchsourcetest")
        host.records.pop("searchsourcetest", None)


async def test_hook_anonymize(tenant):
    now = utcnow()
    due = await add_customer(tenant.id, deleted_at=now - timedelta(days=31))
    not_due = await add_customer(tenant.id, deleted_at=now - timedelta(days=29))
    await sweep(tenant.id, "gdprtest")
    calls = [c for c in tp.HOOK_CALLS if c.tenant_id == tenant.id and c.rule == tp.CUSTOMERS]
    assert len(calls) == 1
    assert calls[0].record_ids == [due]
    assert calls[0].plugin == "gdprtest"
    assert calls[0].word == "Anonymiserad"
    # Called after the declared strategies: the row the hook saw was already anonymized.
    assert (await customer(due))["name"] == "Anonymiserad"
    assert (await customer(not_due))["name"] == "Kalle Anka"
