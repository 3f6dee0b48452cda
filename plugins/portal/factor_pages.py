"""The portal's security page, part two (#21): a portal person sets up their own
authenticator app and passkeys, with the same forms as the employees' "My devices"
(core.pages.own_factors.OwnFactorPages; the sections are core's blocks).

The portal never imports the two-factor plugin: every step goes through the core hooks
(``core.secondfactor.own_second_factors``, ``start_authenticator_app`` ...), for the person
of the portal cookie only (``_signed_in``), never an id from the form.
"""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Request, Response

from core import secondfactor
from core.contracts import AppSetup
from core.pages.own_factors import OwnFactorPages, OwnPerson
from plugins.portal import services as portal
from plugins.portal.pages import LOGIN_FIRST, _page, _signed_in

PUBLIC = {"public": True}
SECURITY = "/portal/security"


async def security_page(
    request: Request[Any, Any, Any],
    who: portal.PortalUser,
    codes: list[str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    state: Any = "fetch",
) -> Response[Any]:
    """/portal/security: recovery codes, the authenticator app and passkeys."""
    if state == "fetch":
        state = await secondfactor.recovery_codes(who.tenant_id, who.person_kind, who.person_id)
    factors = await secondfactor.own_second_factors(who.tenant_id, who.person_kind, who.person_id)
    response = await _page(
        request,
        "portal/security.html",
        {"state": state, "codes": codes, "factors": factors, "errors": errors or {}},
        status,
        who,
    )
    if codes or (factors is not None and factors.app_setup is not None):
        response.headers["Cache-Control"] = "no-store"  # a key or codes shown once
    return response


class PortalFactorPages(OwnFactorPages):
    """The app's and the passkeys' forms of /portal/security (core.pages.own_factors)."""

    path = SECURITY
    opt = PUBLIC
    module = "portal"
    events: ClassVar[dict[str, str]] = {
        "app_added": "portal.app_added",
        "app_removed": "portal.app_removed",
        "passkey_added": "portal.passkey_added",
        "passkey_removed": "portal.passkey_removed",
    }
    login_first = (LOGIN_FIRST, "portal.login_required")
    not_available_code = "portal.factors_not_available"

    async def _person(self, request: Request[Any, Any, Any]) -> OwnPerson:
        who = await _signed_in(request)
        return OwnPerson(who.tenant_id, who.person_kind, who.person_id, login=who)

    async def _show(
        self,
        request: Request[Any, Any, Any],
        person: OwnPerson,
        errors: dict[str, str] | None = None,
        status: int = 200,
        setup: AppSetup | None = None,
    ) -> Response[Any]:
        return await security_page(request, person.login, errors=errors, status=status)
