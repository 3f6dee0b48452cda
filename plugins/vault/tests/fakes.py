"""Test-only plugins beside the vault: an SMS two-factor answerer and a customer register.

They stand in for plugins/twofactor and plugins/customers (which the vault never imports)
so these tests control exactly what the hooks answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import (
    PartyFound,
    PersonalDataField,
    RetentionRule,
    SecondFactorDecision,
    SecondFactorRequest,
)
from core.plugins import hookimpl


@dataclass(eq=False)  # plugin objects must stay hashable for pluggy
class FakeTwoFactor:
    """Answers challenge_second_factor for the vault's context like plugins/twofactor: a
    new challenge (a code "sent" by SMS) for a first request; for a re-submission with a
    challenge_id, "not required" once if that challenge was verified, else an error."""

    requests: list[SecondFactorRequest] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)
    error: str | None = None
    status: int = 409

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> SecondFactorDecision | None:
        if request.context != "vault_decrypt":
            return None
        self.requests.append(request)
        if self.error:
            return SecondFactorDecision(required=True, error=self.error, status=self.status)
        challenge = getattr(request, "challenge_id", None)
        if challenge is not None:
            if challenge in self.verified:
                self.verified.discard(challenge)  # one use
                return SecondFactorDecision(required=False, challenge_id=challenge, masked_phone="+46 70*** **67")
            # As plugins/twofactor does: a re-submission needs a verified, unused code.
            return SecondFactorDecision(
                required=True,
                error="The SMS code for this step has not been entered or was already used.",
                status=409,
            )
        challenge_id = secrets.token_urlsafe(16)
        self.codes[challenge_id] = f"{secrets.randbelow(10**6):06d}"
        return SecondFactorDecision(
            required=True,
            challenge_id=challenge_id,
            masked_phone="+46 70*** **67",
            message="Ange koden i SMS:et / Enter the code from the SMS.",
        )

    def verify(self, challenge_id: str, code: str) -> bool:
        """What the SMS plugin's verify endpoint does when the person types the code."""
        if self.codes.get(challenge_id) == code:
            self.verified.add(challenge_id)
            return True
        return False


class VTCustomer(Table, tablename="vaulttest_customer"):
    tenant_id = Integer()
    name = Varchar(length=200)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class FakeCustomers:
    """A customer register whose rule has subject "customer": anonymizing or erasing a
    customer makes the core apply every plugin's customer_ref declarations."""

    @hookimpl
    def declare_retention_rules(self) -> list[RetentionRule]:
        return [
            RetentionRule(
                key="vaulttest_customers",
                label_sv="Kunder (test)",
                label_en="Customers (test)",
                clock="deleted",
                table=VTCustomer,
                clock_columns=("deleted_at",),
                allowed_modes=("immediately", "days", "off"),
                default_mode="off",
                subject="customer",
            )
        ]

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        return [PersonalDataField(VTCustomer, "name", "name", "replace", rule="vaulttest_customers")]

    @hookimpl
    def look_up_party(self, tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
        """Like plugins/customers: a live customer of the tenant may be named by an entry."""

        async def answer() -> PartyFound:
            found = bool(customer_id) and await VTCustomer.exists().where(
                (VTCustomer.tenant_id == tenant_id)
                & (VTCustomer.id == customer_id)
                & VTCustomer.deleted_at.is_null()
                & VTCustomer.anonymized_at.is_null()
            )
            return PartyFound(customer=bool(found), contact_customer_id=None)

        return answer()


async def add_customer(tenant_id: int, name: str = "Kund AB") -> int:
    """A customer of the fake register: what a vault entry of a customer form names."""
    rows = await VTCustomer.insert(VTCustomer(tenant_id=tenant_id, name=name)).returning(VTCustomer.id)
    return int(rows[0]["id"])
