"""Declarations are checked loudly when the application starts."""

from __future__ import annotations

import pytest

from core.contracts import PersonalDataField, RetentionRule
from core.gdpr.registry import DeclarationError, build, get_declarations
from core.plugins import hookimpl
from tests.gdpr import plugin as tp


class Declares:
    def __init__(self, rules=(), fields=()):
        self._rules, self._fields = list(rules), list(fields)

    @hookimpl
    def declare_retention_rules(self):
        return self._rules

    @hookimpl
    def declare_personal_data(self):
        return self._fields


def rule(key: str = "x.rule", **kw) -> RetentionRule:
    base = dict(
        key=key,
        label_sv="X",
        label_en="X",
        clock="deleted",
        table=tp.GTCustomer,
        clock_columns=("deleted_at",),
    )
    base.update(kw)
    return RetentionRule(**base)


def try_plugin(host, plugin) -> str:
    host.add(plugin, name="bad")
    try:
        with pytest.raises(DeclarationError) as info:
            build(host)
        return str(info.value)
    finally:
        host.pm.unregister(name="bad")
        host.records.pop("bad", None)


@pytest.mark.parametrize(
    ("plugin", "words"),
    [
        (
            Declares([rule(key=tp.CUSTOMERS)]),
            ["gdprtest.customers", "'gdprtest'", "'bad'", "unique"],
        ),
        (Declares([rule(table=tp.GTContact, clock_columns=("customer_id",))]), ["marker column"]),
        (Declares([rule(clock_columns=("nope",))]), ["clock column 'nope'"]),
        (Declares([rule(where=(("nope", 1),))]), ["where column"]),
        (
            Declares([rule(default_mode="immediately", allowed_modes=("days", "off"))]),
            ["default_mode"],
        ),
        (Declares([rule(default_days=0)]), ["default_days"]),
        (Declares([rule(clears_activity=("comment",))]), ["record_type"]),
        (
            Declares(fields=[PersonalDataField(tp.GTCustomer, "nope", "name", "null")]),
            ["no such column"],
        ),
        (Declares(fields=[PersonalDataField(tp.GTCustomer, "name", "name", "null")]), ["nullable"]),
        (
            Declares(fields=[PersonalDataField(tp.GTCustomer, "score", "other", "replace")]),
            ["text column"],
        ),
        (
            Declares(fields=[PersonalDataField(tp.GTCustomer, "name", "name", "zero")]),
            ["number column"],
        ),
        (
            Declares(
                fields=[PersonalDataField(tp.GTCustomer, "email", "email", "null", rule="no.rule")]
            ),
            ["no.rule"],
        ),
        (
            Declares(
                fields=[
                    PersonalDataField(tp.GTContact, "email", "email", "null", rule=tp.CUSTOMERS)
                ]
            ),
            ["parent_column"],
        ),
    ],
)
def test_bad_declarations_fail_loudly(gdpr_host, plugin, words):
    message = try_plugin(gdpr_host, plugin)
    for w in words:
        assert w in message, message


def test_declarations_are_rebuilt_when_plugins_change(gdpr_host):
    before = get_declarations(gdpr_host)
    assert tp.CUSTOMERS in before.rules and before.rules[tp.CUSTOMERS].owner == "gdprtest"
    assert get_declarations(gdpr_host) is before  # cached
    gdpr_host.add(
        Declares([rule(key="extra.rule", table=tp.GTNote, clock_columns=("dated_at",))]),
        name="extra",
    )
    try:
        assert "extra.rule" in get_declarations(gdpr_host).rules
    finally:
        gdpr_host.pm.unregister(name="extra")
        gdpr_host.records.pop("extra", None)
    assert "extra.rule" not in get_declarations(gdpr_host).rules


async def test_app_start_refuses_bad_declarations(gdpr_host):
    from core.app import create_app
    from core.testing.client import AppClient

    gdpr_host.add(Declares([rule(key=tp.CUSTOMERS)]), name="bad")
    try:
        with pytest.raises(BaseException) as info:
            async with AppClient(app=create_app(gdpr_host)):
                pass
        assert info.errisinstance(DeclarationError) or (
            isinstance(info.value, BaseExceptionGroup) and info.group_contains(DeclarationError)
        )
    finally:
        gdpr_host.pm.unregister(name="bad")
        gdpr_host.records.pop("bad", None)
