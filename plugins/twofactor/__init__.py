"""SMS two-factor authentication with remembered devices (M3-M8).

A service plugin: it is not a module a tenant turns off; Settings > Two-factor decides
what it does for a tenant (SMS activation, then each context on or off). It answers
``challenge_second_factor`` for every context any plugin declares, finds people's phones
through the declared kinds of person (``PersonKind``: employees here; customers and
contacts by their plugin), forgets trusted devices on ``password_changed`` and sends SMS
through 46elks or Twilio behind ``send_sms``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Sequence
from typing import Any

from core.contracts import (
    OutgoingMessage,
    PersonContact,
    PersonKind,
    ScheduledJob,
    SecondFactorDecision,
    SecondFactorRequest,
    TwoFactorContext,
)
from core.plugins import answer_from, hookimpl, piccolo_app_of

NAME = "twofactor"

EMPLOYEE_LOGIN = "employee_login"
EMPLOYEE_RESET = "employee_reset"


register_piccolo_apps = piccolo_app_of(__name__)


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.twofactor.pages import PAGES
    from plugins.twofactor.passkey_routes import PAGES as PASSKEY_PAGES
    from plugins.twofactor.passkey_routes import ROUTES as PASSKEY_ROUTES
    from plugins.twofactor.routes import ROUTES

    return [*ROUTES, *PASSKEY_ROUTES, *PAGES, *PASSKEY_PAGES]


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
def second_factor_ready(tenant_id: int, context: str) -> Awaitable[bool]:
    from plugins.twofactor.services import active_context

    async def ready() -> bool:
        return await active_context(tenant_id, context) is not None

    return ready()


@hookimpl
def second_factors_of(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[list[str]] | None:
    """The person's factors here: "sms" (SMS active and a usable phone), "app" (an active
    authenticator app), "passkey" (at least one passkey), "recovery" (unused recovery codes)."""
    from plugins.twofactor.services import KINDS, factors_of

    if person_kind not in KINDS:
        return None
    return factors_of(tenant_id, person_kind, person_id)


@hookimpl
def recovery_codes(tenant_id: int, person_kind: str, person_id: int, renew: bool) -> Awaitable[Any] | None:
    """A person's recovery codes (any kind of person, e.g. the customer portal's), a new
    set with ``renew``, shown once by the caller."""
    from plugins.twofactor.services import KINDS, recovery_codes_answer

    if person_kind not in KINDS:
        return None
    return recovery_codes_answer(tenant_id, person_kind, person_id, renew)


# A person's own app and passkeys, for another module's pages (the customer portal's
# security page): plugins/twofactor/own_factors.py. Any kind of person kept here.


def _own(name: str, person_kind: str, *args: Any) -> Awaitable[Any] | None:
    from plugins.twofactor import own_factors
    from plugins.twofactor.services import KINDS

    if person_kind not in KINDS:
        return None
    func = getattr(own_factors, name)
    return func(*args[:1], person_kind, *args[1:])  # type: ignore[no-any-return]


@hookimpl
def own_second_factors(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[Any] | None:
    return _own("own_factors", person_kind, tenant_id, person_id)


@hookimpl
def start_authenticator_app(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[Any] | None:
    return _own("start_app", person_kind, tenant_id, person_id)


@hookimpl
def confirm_authenticator_app(tenant_id: int, person_kind: str, person_id: int, code: str) -> Awaitable[Any] | None:
    return _own("confirm_app", person_kind, tenant_id, person_id, code)


@hookimpl
def remove_authenticator_app(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[Any] | None:
    return _own("remove_app", person_kind, tenant_id, person_id)


@hookimpl
def start_passkey_registration(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[Any] | None:
    return _own("start_passkey", person_kind, tenant_id, person_id)


@hookimpl
def finish_passkey_registration(
    tenant_id: int, person_kind: str, person_id: int, challenge_id: str, credential: str, name: str
) -> Awaitable[Any] | None:
    return _own("finish_passkey", person_kind, tenant_id, person_id, challenge_id, credential, name)


@hookimpl
def remove_passkey(tenant_id: int, person_kind: str, person_id: int, passkey_id: int) -> Awaitable[Any] | None:
    return _own("remove_passkey", person_kind, tenant_id, person_id, passkey_id)


@hookimpl
def remove_second_factors(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[int] | None:
    """An administrator's reset: the person's app, passkeys, recovery codes, remembered
    devices and wrong-code counts go."""
    from plugins.twofactor.services import KINDS, remove_own_factors

    if person_kind not in KINDS:
        return None
    return remove_own_factors(tenant_id, person_kind, person_id)


@hookimpl
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[None] | None:
    """M8: a new password (or phone number) ends every trusted device of the person."""
    from plugins.twofactor.services import KINDS, forget_devices

    if person_kind not in KINDS:
        return None
    return forget_devices(tenant_id, person_kind, person_id)


@hookimpl
def declare_kinds() -> Sequence[PersonKind]:
    """Employees are the core's, but their phones are this plugin's business (customers
    and contact persons: their plugin declares them)."""
    return [PersonKind("employee", describe=_describe_employee)]


async def _describe_employee(tenant_id: int, person_id: int) -> PersonContact | None:
    from plugins.twofactor.services import describe_employee

    return await describe_employee(tenant_id, person_id)


@hookimpl(wrapper=True)
def send_sms(message: OutgoingMessage) -> Generator[None, Any, Awaitable[str] | None]:
    """The tenant's provider when it chose 46elks or Twilio; otherwise whatever answered
    (another gateway plugin, or the core's outbox default). A wrapper, because which one
    applies is only known after reading the tenant's setting."""
    answer = yield
    if message.tenant_id is None:
        return answer  # type: ignore[no-any-return]
    from plugins.twofactor.gateways import send

    return send(message, answer)


# Challenges, trusted devices, sends and wrong-code counters (plugins/twofactor/gdpr.py): their
# personal data, fixed rules and places in person search.
declare_records = answer_from(f"{__name__}.gdpr", "records")
# Only the organization's SMS settings, contexts and daily count: no records, nobody's data,
# declared so that every text column is.
declare_personal_data = answer_from(f"{__name__}.gdpr", "not_records")
