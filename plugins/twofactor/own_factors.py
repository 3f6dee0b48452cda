"""A person's own authenticator app and passkeys through core hooks (#21): what another
module's pages (the customer portal's security page) call, for any kind of person this
plugin keeps factors for. Each answer is a core contract; refusals are this plugin's coded
``TwoFactorRefusal`` (a ``GallraError``), which the caller's edge translates.

The work is done by the same services as the employees' "My devices" page
(``services.start_app_enrolment`` and friends, ``passkeys.start_registration`` and
friends): nothing is copied, only the answers are shaped for the hooks.
"""

from __future__ import annotations

from core.contracts import AppSetup, OwnFactors, PasskeyInfo, PasskeyRegistration
from plugins.twofactor import passkeys, services


async def own_factors(tenant_id: int, kind: str, person_id: int) -> OwnFactors:
    services.check_kind(kind)
    app = await services.app_state(tenant_id, kind, person_id)
    pending = None
    if app["status"] == "pending":
        pending = await services.pending_app_enrolment(tenant_id, kind, person_id)
    rows = await passkeys.list_passkeys(tenant_id, kind, person_id)
    return OwnFactors(
        app_status=app["status"],
        app_confirmed_at=app["confirmed_at"],
        app_last_used_at=app["last_used_at"],
        app_setup=pending,
        passkeys=[PasskeyInfo(int(r["id"]), r["name"], r["created_at"], r["last_used_at"]) for r in rows],
    )


async def start_app(tenant_id: int, kind: str, person_id: int) -> AppSetup:
    return await services.start_app_enrolment(tenant_id, kind, person_id)


async def confirm_app(tenant_id: int, kind: str, person_id: int, code: str) -> bool:
    await services.confirm_app(tenant_id, kind, person_id, code)
    return True


async def remove_app(tenant_id: int, kind: str, person_id: int) -> bool:
    await services.remove_app(tenant_id, kind, person_id)
    return True


async def start_passkey(tenant_id: int, kind: str, person_id: int) -> PasskeyRegistration:
    challenge_id, options = await passkeys.start_registration(tenant_id, kind, person_id)
    return PasskeyRegistration(challenge_id=challenge_id, options=options)


async def finish_passkey(
    tenant_id: int, kind: str, person_id: int, challenge_id: str, credential: str, name: str
) -> PasskeyInfo:
    row = await passkeys.finish_registration(tenant_id, kind, person_id, challenge_id, credential, name)
    return PasskeyInfo(int(row["id"]), row["name"], row["created_at"], row["last_used_at"])


async def remove_passkey(tenant_id: int, kind: str, person_id: int, passkey_id: int) -> bool:
    await passkeys.remove_passkey(tenant_id, kind, person_id, passkey_id)
    return True
