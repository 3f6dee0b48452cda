"""Passkeys on the web: the API under /api/twofactor/passkeys, the pages' endpoints under
/twofactor/passkeys and /twofactor/devices/passkeys, and the small script that calls
``navigator.credentials`` (served from here: no CDN, and ``script-src 'self'``).

Pages work like the authenticator app's: "My devices" lists the person's passkeys (name,
created, last used), each removable with a form; adding one and using one at a step need
the script, which fetches the ceremony's options as JSON (the page's CSRF token in the
form body), asks the browser, and posts the answer with the page's own form. Without
JavaScript the pages say so and offer the SMS code or a recovery code instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.eventlog import log_event
from core.pages import PageController, page_get, page_post, read_form
from core.problems import translations_of
from core.routes.schemas import Id
from core.web import AuthUser, client_ip, user_of
from plugins.twofactor import passkeys, services
from plugins.twofactor.pages import step_tenant
from plugins.twofactor.routes import _refusal, _scope
from plugins.twofactor.schemas import PasskeyIn, PasskeyOptionsIn, PasskeyOptionsOut, PasskeyOut, RevokedOut
from plugins.twofactor.services import TwoFactorRefusal

SCRIPT = Path(__file__).parent / "static" / "passkeys.js"
ChallengePath = Annotated[str, PathParameter(min_length=1, max_length=128)]
KindPath = Annotated[str, PathParameter(min_length=1, max_length=16)]
NO_STORE = {"Cache-Control": "no-store"}


class PasskeyController(Controller):
    """My passkeys (an employee's), and the options of a step's passkey challenge."""

    path = "/api/twofactor/passkeys"
    tags: ClassVar[list[str]] = ["twofactor"]
    exception_handlers: ClassVar[dict[Any, Any]] = {TwoFactorRefusal: _refusal}

    @get("/")
    async def my_passkeys(self, user: AuthUser) -> list[PasskeyOut]:
        """My passkeys: name, when added, when last used."""
        rows = await passkeys.list_passkeys(user.tenant_id, "employee", user.employee_id)
        return [PasskeyOut(**r) for r in rows]

    @post("/options", status_code=HTTP_201_CREATED)
    async def registration_options(self, user: AuthUser) -> Response[PasskeyOptionsOut]:
        """Start adding a passkey: the options for navigator.credentials.create() and the
        registration's single-use ``challenge_id`` (valid 5 minutes)."""
        challenge_id, options = await passkeys.start_registration(user.tenant_id, "employee", user.employee_id)
        return Response(PasskeyOptionsOut(publicKey=options, challenge_id=challenge_id),
                        status_code=HTTP_201_CREATED, headers=NO_STORE)

    @post("/", status_code=HTTP_201_CREATED)
    async def add_passkey(self, request: Request[Any, Any, Any], user: AuthUser,
                          data: JSONBody[PasskeyIn]) -> PasskeyOut:
        """Store a new passkey from the browser's answer to the registration's options."""
        row = await passkeys.finish_registration(
            user.tenant_id, "employee", user.employee_id, data.challenge_id, data.credential, data.name
        )
        await log_event(user.tenant_id, user, "twofactor.passkey_added", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return PasskeyOut(**row)

    @delete("/{passkey_id:int}", status_code=HTTP_200_OK)
    async def remove_passkey(self, request: Request[Any, Any, Any], user: AuthUser, passkey_id: Id) -> RevokedOut:
        """Remove one of my passkeys."""
        await passkeys.remove_passkey(user.tenant_id, "employee", user.employee_id, passkey_id)
        await log_event(user.tenant_id, user, "twofactor.passkey_removed", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return RevokedOut(revoked=1)

    @get("/people/{kind:str}/{person_id:int}")
    async def person_passkeys(self, admin: AuthUser, kind: KindPath, person_id: Id) -> list[PasskeyOut]:
        """A person's passkeys (administrators): name, added, last used."""
        await services.person_status(admin.tenant_id, kind, person_id)  # 404 for strangers
        return [PasskeyOut(**r) for r in await passkeys.list_passkeys(admin.tenant_id, kind, person_id)]

    @delete("/people/{kind:str}/{person_id:int}/{passkey_id:int}", status_code=HTTP_200_OK)
    async def remove_person_passkey(self, request: Request[Any, Any, Any], admin: AuthUser, kind: KindPath,
                                    person_id: Id, passkey_id: Id) -> RevokedOut:
        """Remove one of a person's passkeys (administrators; recorded in the event log)."""
        await passkeys.remove_passkey(admin.tenant_id, kind, person_id, passkey_id)
        await log_event(admin.tenant_id, admin, "twofactor.passkey_removed", "twofactor", kind, person_id,
                        ip=client_ip(request))
        return RevokedOut(revoked=1)

    @post("/challenges/{challenge_id:str}/options", status_code=HTTP_200_OK)
    async def step_options(self, request: Request[Any, Any, Any], challenge_id: ChallengePath,
                           data: JSONBody[PasskeyOptionsIn]) -> Response[PasskeyOptionsOut]:
        """The options for navigator.credentials.get() answering a step's challenge (no
        login needed: the challenge id is what the caller holds). The answer goes to
        ``POST /api/twofactor/challenges/{id}/verify`` as ``passkey``."""
        scope = await _scope(request, data.tenant)
        options = await passkeys.assertion_options(scope, challenge_id)
        return Response(PasskeyOptionsOut(publicKey=options), headers=NO_STORE)


def _json_refusal(request: Request[Any, Any, Any], exc: TwoFactorRefusal) -> Response[Any]:
    return Response({"message": exc.text(translations_of(request)), "code": exc.code},
                    status_code=exc.status, headers=NO_STORE)


class PasskeyStepPages(PageController):
    """The script, and a step's options for the code page (second_factor.html)."""

    path = "/twofactor/passkeys"

    @page_get("/passkeys.js")
    async def script(self) -> Response[bytes]:
        return Response(SCRIPT.read_bytes(), media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})

    @page_post("/options")
    async def options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        user = await user_of(request)
        tenant_id = await step_tenant(form, user)
        try:
            options = await passkeys.assertion_options(tenant_id, form.get("challenge_id", "")[:128])
        except TwoFactorRefusal as exc:
            return _json_refusal(request, exc)
        return Response({"publicKey": options}, status_code=HTTP_200_OK, headers=NO_STORE)


ROUTES = [PasskeyController]
PAGES = [PasskeyStepPages]
