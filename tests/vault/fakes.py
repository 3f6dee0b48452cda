"""Test-only plugins beside the vault: an SMS two-factor answerer and a customer register.

They stand in for plugins/twofactor and plugins/customers (which the vault never imports)
so these tests control exactly what the hooks answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import (
    PersonalDataField,
    RetentionRule,
    SecondFactorDecision,
    SecondFactorRequest,
)
from core.plugins import hookimpl


@dataclass
class FakeTwoFactor:
    """Answers challenge_second_factor for the vault's context like the SMS plugin would:
    a new challenge (with a code "sent" by SMS) until the re-submitted challenge_id is one
    the person verified."""

    requests: list[SecondFactorRequest] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)
    error: str | None = None

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> SecondFactorDecision | None:
        if request.context != "vault_decrypt":
            return None
        self.requests.append(request)
        if self.error:
            return SecondFactorDecision(required=True, error=self.error)
        challenge = getattr(request, "challenge_id", None)
        if challenge is not None and challenge in self.verified:
            self.verified.discard(challenge)  # one use
            return SecondFactorDecision(required=False, masked_phone="+46 70*** **67")
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
