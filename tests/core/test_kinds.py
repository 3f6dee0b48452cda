"""Dispatch by kind (#18.5): ``declare_kinds`` declarations looked up in one dictionary, one
owner per kind, enablement per tenant; and hooks that are no hook stop start-up."""

from __future__ import annotations

import pytest

from core.approvals import PortalDecisionRequest, PortalPerson, decide, list_for
from core.config import load_settings
from core.contracts import ApprovalKind, PersonContact, PersonKind
from core.plugins import PluginError, PluginHost
from core.secondfactor import describe_person
from core.tenancy import set_module_enabled
from tests.core.fake_plugins.kinds import People

KINDS = "tests.core.fake_plugins.kinds"


def host_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    for key in ("GALLRA_PLUGINS", "GALLRA_DISABLE_PLUGINS"):
        monkeypatch.delenv(key, raising=False)
    return PluginHost(settings=load_settings())


def request_for(person: PortalPerson, kind: str, item_id: int = 1) -> PortalDecisionRequest:
    return PortalDecisionRequest(
        person=person, kind=kind, item_id=item_id, approve=True, signer_name="P",
        signer_email="p@example.org", challenge_id=None, user_agent="pytest",
    )


async def test_hook_declare_kinds(make_host, tenant):
    people = People("people")
    host = make_host(people=people)
    assert list(host.kinds(PersonKind)) == ["customer"]
    assert list(host.kinds(ApprovalKind)) == ["contract"]
    spec = host.pm.hook.declare_kinds.spec
    assert list(spec.argnames) == [] and not spec.opts["firstresult"]

    # The one owner of the kind answers, with the tenant and the person's id.
    assert await describe_person(tenant.id, "customer", 7) == PersonContact(name="Kund 7")
    assert await describe_person(tenant.id, "customer", 8) is None
    assert people.calls == [("describe", (tenant.id, 7)), ("describe", (tenant.id, 8))]
    # A kind nobody declared: no answer, and nobody is asked.
    assert await describe_person(tenant.id, "employee", 7) is None
    assert len(people.calls) == 2

    person = PortalPerson(tenant_id=tenant.id, customer_id=3, person_kind="customer", person_id=3)
    [item] = await list_for(person)
    assert (item.kind, item.item_id) == ("contract", 1)
    assert (await decide(request_for(person, "contract"))).status == "approved"
    refused = await decide(request_for(person, "contract", item_id=2))
    assert (refused.status, refused.status_code) == ("refused", 404)
    refused = await decide(request_for(person, "quote"))  # no module owns quotes here
    assert (refused.status, refused.status_code) == ("refused", 404)

    # A tenant that turned the module off reaches none of its kinds.
    await set_module_enabled(host, tenant.id, "people", False)
    people.calls.clear()
    assert await describe_person(tenant.id, "customer", 7) is None
    assert await list_for(person) == []
    assert (await decide(request_for(person, "contract"))).status_code == 404
    assert people.calls == []


def test_two_owners_of_one_kind_stop_start_up(fake_entry_points, monkeypatch):
    fake_entry_points(owner=f"{KINDS}:owner", rival=f"{KINDS}:rival")
    with pytest.raises(PluginError, match="'owner' and 'rival' both declare the PersonKind 'customer'"):
        host_from_entry_points(monkeypatch)


def test_one_owner_per_kind_starts(fake_entry_points, monkeypatch):
    fake_entry_points(owner=f"{KINDS}:owner")
    host = host_from_entry_points(monkeypatch)
    assert list(host.kinds(PersonKind)) == ["customer"]
    # A plugin added later that claims an owned kind is refused where the kind is looked up.
    host.add(People("late"), name="late")
    with pytest.raises(PluginError, match="'owner' and 'late' both declare"):
        host.kinds(PersonKind)


def test_a_misspelt_hook_stops_start_up_naming_the_plugin(fake_entry_points, monkeypatch):
    fake_entry_points(typo=f"{KINDS}:typo")
    with pytest.raises(PluginError) as failed:
        host_from_entry_points(monkeypatch)
    message = str(failed.value)
    assert "plugin 'typo' implements 'declare_kind'" in message
    assert "not a Gallra hook" in message


def test_an_answer_that_is_no_kind_declaration_stops_start_up(fake_entry_points, monkeypatch):
    fake_entry_points(stranger=f"{KINDS}:stranger")
    with pytest.raises(PluginError, match="plugin 'stranger': declare_kinds answered str"):
        host_from_entry_points(monkeypatch)


def test_a_kind_is_a_short_lowercase_name_with_functions():
    async def describe(tenant_id: int, person_id: int) -> None:
        return None

    with pytest.raises(ValueError, match="kind 'Customer' must be"):
        PersonKind("Customer", describe=describe)
    with pytest.raises(ValueError, match="describe must be a function"):
        PersonKind("customer", describe=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decide must be a function"):
        ApprovalKind("contract", pending=describe, decide="no")  # type: ignore[arg-type]
