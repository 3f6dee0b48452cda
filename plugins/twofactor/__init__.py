"""SMS two-factor authentication with remembered devices (M3-M8).

A service plugin: it is not a module a tenant turns off; Settings > Two-factor decides
what it does for a tenant (SMS activation, then each context on or off). It answers
``challenge_second_factor`` for every context any plugin declares, finds people's phones
through ``describe_person`` (employees here; customers and contacts by their plugin),
forgets trusted devices on ``password_changed`` and sends SMS through 46elks or Twilio
behind ``send_sms``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import (
    OutgoingMessage,
    PersonalDataField,
    PersonContact,
    RetentionRule,
    ScheduledJob,
    SearchSource,
    SecondFactorDecision,
    SecondFactorRequest,
    TwoFactorContext,
)
from core.plugins import hookimpl

NAME = "twofactor"

EMPLOYEE_LOGIN = "employee_login"
EMPLOYEE_RESET = "employee_reset"


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.twofactor.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.twofactor.routes import ROUTES

    return ROUTES


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from plugins.twofactor.services import purge_expired

    return [ScheduledJob(id="twofactor.purge_expired", func=purge_expired, minutes=15)]


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    # Only the employee contexts live here; every other module declares its own (the
    # customer portal, extra costs, payment plans, quotes, the GDPR inventory, the vault).
    return [
        TwoFactorContext(
            EMPLOYEE_LOGIN,
            "Användare – inloggning från ny enhet",
            "Users – login from a new device",
            order=10,
            purpose="login",
        ),
        TwoFactorContext(
            EMPLOYEE_RESET,
            "Användare – återställning av lösenord",
            "Users – password reset",
            order=20,
            purpose="reset",
        ),
    ]


@hookimpl
def challenge_second_factor(request: SecondFactorRequest) -> Awaitable[SecondFactorDecision | None]:
    from plugins.twofactor.services import decide

    return decide(request)


@hookimpl
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[None] | None:
    """M8: a new password (or phone number) ends every trusted device of the person."""
    from plugins.twofactor.services import KINDS, forget_devices

    if person_kind not in KINDS:
        return None
    return forget_devices(tenant_id, person_kind, person_id)


@hookimpl
def describe_person(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[PersonContact | None] | None:
    if person_kind != "employee":
        return None  # synchronously: a coroutine would count as an answer
    from plugins.twofactor.services import describe_employee

    return describe_employee(tenant_id, person_id)


@hookimpl(trylast=True)
def send_sms(message: OutgoingMessage) -> Awaitable[str] | None:
    """The tenant's provider (46elks, Twilio) or the outbox. Runs after any third-party
    gateway (trylast) and before the core's outbox default."""
    if message.tenant_id is None:
        return None
    from plugins.twofactor.gateways import send

    return send(message)


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField]:
    from plugins.twofactor.gdpr import personal_data

    return personal_data()


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from plugins.twofactor.gdpr import retention_rules

    return retention_rules()


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.twofactor.gdpr import search_sources

    return search_sources()
