"""Helpers for the two-factor tests: SMS activation, people with phones, reading codes.

Codes are read from the outbox row the SMS was queued in (the default provider keeps
messages there), exactly as an administrator without a gateway would see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.contracts import (
    ModuleInfo,
    PartyFound,
    PersonContact,
    PersonKind,
    SecondFactorDecision,
    SecondFactorRequest,
    TwoFactorContext,
)
from core.plugins import get_host, hookimpl
from core.tables import Employee, Outbox
from core.users import create_employee_with_password
from tests.stand_in import standing_in
from tests.support import TEST_PASSWORD, TenantInfo, login

MOBILE = "+46701234567"
MOBILE_MASKED = "+46 70•••••67"
PRIVATE = "+46731112233"
PRIVATE_MASKED = "+46 73•••••33"
WORK = "+46812345678"
WORK_MASKED = "+46 81•••••78"

CODE_RE = re.compile(r"\b(\d{6})\b")


async def activate_sms(client: Any, **extra: Any) -> None:
    r = await client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra", **extra})
    assert r.status_code == 200, r.text


async def switch(client: Any, key: str, enabled: bool = True, confirm: bool = True) -> None:
    """Switch a context as the logged-in administrator; ``confirm`` accepts that people
    without a phone are locked out (never enough when every administrator would be: give
    the administrator recovery codes first, :func:`make_recovery_codes`)."""
    r = await client.put(f"/api/twofactor/contexts/{key}", json={"enabled": enabled, "confirm": confirm})
    assert r.status_code == 200, r.text


async def make_recovery_codes(client: Any) -> list[str]:
    """The logged-in employee's new recovery codes (shown once)."""
    r = await client.post("/api/twofactor/recovery-codes")
    assert r.status_code == 201, r.text
    return list(r.json()["codes"])


async def set_phones(
    employee_id: int, mobile: str | None = None, private: str | None = None, work: str | None = None
) -> None:
    await Employee.update(
        {Employee.mobile_phone: mobile, Employee.private_phone: private, Employee.work_phone: work}
    ).where(Employee.id == employee_id)


async def add_employee(tenant: TenantInfo, name: str, mobile: str | None = MOBILE) -> tuple[int, str]:
    email = f"{name.lower().replace(' ', '.')}@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, name, email, "user", TEST_PASSWORD, mobile=mobile)
    row = await Employee.select(Employee.id).where(
        (Employee.tenant_id == tenant.id) & (Employee.email == email)
    ).first()
    return int(row["id"]), email


async def sms_rows(tenant_id: int) -> list[dict]:
    return await Outbox.select().where(
        (Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms")
    ).order_by(Outbox.id)


async def last_code(tenant_id: int) -> str:
    rows = await sms_rows(tenant_id)
    assert rows, "no SMS was queued"
    match = CODE_RE.search(rows[-1]["body"])
    assert match, "the last SMS holds no code"
    return match.group(1)


async def forget_last_send(tenant_id: int) -> None:
    """Sends are 60 seconds apart: let a test send again without waiting."""
    from plugins.twofactor.tables import TwoFactorPerson

    await TwoFactorPerson.update({TwoFactorPerson.last_send_at: None}).where(
        TwoFactorPerson.tenant_id == tenant_id
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def start_login(client: Any, tenant: TenantInfo, email: str) -> Any:
    return await login(client, tenant, email=email, api=True)


async def setup_login_2fa(client: Any, tenant: TenantInfo, *contexts: str) -> None:
    """As the tenant's administrator: activate SMS, make the administrator's recovery codes
    (the administrator has no phone, and switching on login codes must not lock out every
    administrator) and switch the contexts on."""
    r = await login(client, tenant, api=True)
    assert r.status_code == 200, r.text
    await activate_sms(client)
    await make_recovery_codes(client)
    for key in contexts or ("employee_login",):
        await switch(client, key)


class FakePeople:
    """A module owning customers and contacts, as the customers plugin is: it describes them
    (standing in front of the customers plugin's ``PersonKind``s, tests/stand_in.py) and
    declares a signing context."""

    name = "fakepeople"

    def __init__(self) -> None:
        self.people: dict[tuple[int, str, int], PersonContact] = {}

    @hookimpl
    def describe_module(self) -> ModuleInfo:
        return ModuleInfo(self.name, "Testkunder", "Test customers")

    async def describe(self, tenant_id: int, kind: str, person_id: int) -> PersonContact | None:
        return self.people.get((tenant_id, kind, person_id))

    def kinds(self) -> list[PersonKind]:
        async def customer(tenant_id: int, person_id: int) -> PersonContact | None:
            return await self.describe(tenant_id, "customer", person_id)

        async def contact(tenant_id: int, person_id: int) -> PersonContact | None:
            return await self.describe(tenant_id, "contact", person_id)

        return [PersonKind("customer", describe=customer), PersonKind("contact", describe=contact)]

    @hookimpl
    def declare_two_factor_contexts(self) -> list[TwoFactorContext]:
        return [
            TwoFactorContext(
                "test_signing", "Testavtal – SMS-signering", "Test contracts – SMS signing",
                module=self.name, order=75,
            )
        ]


@pytest.fixture
def register_plugin() -> Iterator[Callable[[Any, str], None]]:
    """Register a test plugin on the process's plugin host for one test."""
    host = get_host()
    added: list[str] = []

    def add(plugin: Any, name: str) -> None:
        host.add(plugin, name=name)
        added.append(name)

    yield add
    for name in added:
        host.pm.unregister(name=name)
        host.records.pop(name, None)


@pytest.fixture
def fake_people(register_plugin: Callable[[Any, str], None]) -> Iterator[FakePeople]:
    people = FakePeople()
    register_plugin(people, people.name)
    with standing_in(people.name, *people.kinds()):
        yield people


class FakeTwoFactor:
    """Stands in for the two-factor plugin in one context: every request of ``context`` needs
    a code until its challenge id is in ``verified``; ``error`` refuses every request."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.requests: list[SecondFactorRequest] = []
        self.verified: set[str] = set()
        self.error: str | None = None

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> SecondFactorDecision | None:
        if request.context != self.context:
            return None
        self.requests.append(request)
        if self.error:
            return SecondFactorDecision(required=True, error=self.error)
        if request.challenge_id and request.challenge_id in self.verified:
            return SecondFactorDecision(required=False, masked_phone=MOBILE_MASKED)
        return SecondFactorDecision(
            required=True, challenge_id=f"ch-{len(self.requests)}", masked_phone=MOBILE_MASKED,
            message="A code was sent by SMS.",
        )


def fake_two_factor(context: str) -> Any:
    """A ``two_factor`` fixture for a module's conftest: a :class:`FakeTwoFactor` of
    ``context`` on the process's host for one test (``two_factor = fake_two_factor("quotes")``)."""

    @pytest.fixture
    def two_factor() -> Iterator[FakeTwoFactor]:
        fake = FakeTwoFactor(context)
        name = f"fake-two-factor-{context}"
        get_host().pm.register(fake, name=name)
        try:
            yield fake
        finally:
            get_host().pm.unregister(name=name)

    return two_factor


class _Contacts:
    """A test plugin whose contact persons (fixed ids) may be named with any customer."""

    def __init__(self, people: dict[int, PersonContact]) -> None:
        self.people = people

    @hookimpl
    def look_up_party(self, tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
        """Its contact persons may be named with any customer (core.references)."""
        ours = contact_person_id in self.people
        return PartyFound(customer=False, contact_customer_id=customer_id if ours else None)


def contacts_with_real_two_factor(name: str, people: dict[int, PersonContact]) -> Any:
    """A fixture for tests of SMS signing with the real two-factor plugin: a test plugin
    ``name`` describes the contact persons ``people`` (id: contact), standing in front of
    the plugin that owns contacts (tests/stand_in.py). Skips where the two-factor plugin is
    not installed."""

    @pytest.fixture
    def real_plugins() -> Iterator[None]:
        if get_host().plugin("twofactor") is None:
            pytest.skip("the two-factor plugin is not installed")
        host = get_host()
        host.add(_Contacts(people), name=name, distribution="gallra-tests")

        async def describe(tenant_id: int, person_id: int) -> PersonContact | None:
            return people.get(person_id)  # None: the customers plugin's contact persons

        try:
            with standing_in(name, PersonKind("contact", describe=describe)):
                yield
        finally:
            host.pm.unregister(name=name)
            host.records.pop(name, None)

    return real_plugins
