"""A person's own authenticator app and passkeys, set up on their own page: the forms'
handlers, once, for every page that offers them (an employee's "My devices" under
two-factor, a portal person's "Security").

Every step goes through the core hooks (``core.secondfactor.start_authenticator_app`` and
friends), for the person the page's own login names (:meth:`OwnFactorPages._person`),
never an id from the form. A refusal is the keeping plugin's coded error, shown beside its
field in the page's language; no plugin answering is a 409 saying the factor is not
available. The page shows the factors with the blocks ``authenticator_app.html`` and
``passkeys.html`` of core's templates; the passkey's options are fetched by the two-factor
plugin's script (``passkeys.js``) with the page's CSRF token, and its answer posted back
with the page's own form.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from core import secondfactor
from core.contracts import AppSetup
from core.errors import GallraError
from core.errors import mark as _
from core.eventlog import log_event
from core.pages import LoginRequired, PageController, page_post, read_form, redirect, t_for
from core.web import client_ip

NO_STORE = {"Cache-Control": "no-store"}
NOT_AVAILABLE = _("The authenticator app and passkeys are not available.")
APP_ADDED = _("The authenticator app is set up: from now on its code is asked for first.")
APP_REMOVED = _("The authenticator app is removed.")
PASSKEY_ADDED = _("The passkey is added: from now on it is asked for first.")
PASSKEY_REMOVED = _("The passkey is removed.")


@dataclass(frozen=True)
class OwnPerson:
    """Whose factors a page handles: the person of the page's own login, who the event log
    names as the actor (the employee's session, or ``None`` for a portal person), and the
    login's own answer for the page to show (``login``)."""

    tenant_id: int
    kind: str
    person_id: int
    actor: Any = None
    login: Any = None


class OwnFactorPages(PageController):
    """``POST <path>/app/start|confirm|remove``, ``<path>/passkeys/options|add`` and
    ``<path>/passkeys/{id}/remove`` for the page at ``path``. A subclass says who the person
    is (:meth:`_person`), how its page is shown (:meth:`_show`) and what it records."""

    # The event log: its module, and the action of each step (a step not named is not logged).
    module: ClassVar[str]
    events: ClassVar[dict[str, str]] = {}
    # The field a refused app code is shown beside.
    code_field: ClassVar[str] = "app"
    # A new app's key on the answer to "Set up" itself (no-store), or on the page it goes back to.
    start_shows_page: ClassVar[bool] = False
    # The passkey options' JSON answer without a login: (message, code); None: the login page.
    login_first: ClassVar[tuple[str, str] | None] = None
    # The code of the options' JSON answer when no plugin keeps the factors.
    not_available_code: ClassVar[str] = "secondfactor.not_available"

    async def _person(self, request: Request[Any, Any, Any]) -> OwnPerson:
        """The person of the page's login, or :class:`LoginRequired`."""
        raise NotImplementedError

    async def _show(
        self,
        request: Request[Any, Any, Any],
        person: OwnPerson,
        errors: dict[str, str] | None = None,
        status: int = 200,
        setup: AppSetup | None = None,
    ) -> Response[Any]:
        """The page, with ``errors`` beside their fields (and a just-started app's ``setup``)."""
        raise NotImplementedError

    async def _refused(
        self, request: Request[Any, Any, Any], person: OwnPerson, field: str, exc: GallraError | None
    ) -> Response[Any]:
        t = t_for(request, person.actor)
        if exc is None:
            return await self._show(request, person, {field: t.gettext(NOT_AVAILABLE)}, 409)
        return await self._show(request, person, {field: exc.text(t)}, exc.status)

    async def _attempt(
        self, request: Request[Any, Any, Any], person: OwnPerson, field: str, step: Awaitable[Any]
    ) -> Any:
        """The step's answer; or, when it refuses (or is not available: None), the page with
        the refusal beside ``field``, a :class:`Response` the handler returns as it is."""
        try:
            answer = await step
        except GallraError as exc:
            return await self._refused(request, person, field, exc)
        if answer is None:
            return await self._refused(request, person, field, None)
        return answer

    async def _done(
        self, request: Request[Any, Any, Any], person: OwnPerson, step: str, anchor: str, message: str
    ) -> Response[Any]:
        """Record the step, and back to the page's section with its notice."""
        await self._event(request, person, step)
        return redirect(f"{self.path}#{anchor}", t_for(request, person.actor).gettext(message))

    async def _event(self, request: Request[Any, Any, Any], person: OwnPerson, step: str) -> None:
        action = self.events.get(step)
        if action is not None:
            await log_event(person.tenant_id, person.actor, action, self.module, person.kind, person.person_id,
                            ip=client_ip(request))

    # --- the authenticator app ---------------------------------------------------------------

    @page_post("/app/start")
    async def app_start(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        person = await self._person(request)
        setup = await self._attempt(request, person, "app", secondfactor.start_authenticator_app(
            person.tenant_id, person.kind, person.person_id))
        if isinstance(setup, Response):
            return setup
        await self._event(request, person, "app_started")
        if self.start_shows_page:
            return await self._show(request, person, setup=setup)
        return redirect(f"{self.path}#app")

    @page_post("/app/confirm")
    async def app_confirm(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        person = await self._person(request)
        done = await self._attempt(request, person, self.code_field, secondfactor.confirm_authenticator_app(
            person.tenant_id, person.kind, person.person_id, form.get("code", "")[:20]))
        if isinstance(done, Response):
            return done
        return await self._done(request, person, "app_added", "app", APP_ADDED)

    @page_post("/app/remove")
    async def app_remove(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        person = await self._person(request)
        done = await self._attempt(request, person, "app", secondfactor.remove_authenticator_app(
            person.tenant_id, person.kind, person.person_id))
        if isinstance(done, Response):
            return done
        return await self._done(request, person, "app_removed", "app", APP_REMOVED)

    # --- passkeys ----------------------------------------------------------------------------

    @page_post("/passkeys/options")
    async def passkey_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for the script: the registration's options and single-use challenge id."""
        await read_form(request)
        t = t_for(request, None)
        try:
            person = await self._person(request)
        except LoginRequired:
            if self.login_first is None:
                raise
            message, code = self.login_first
            return Response({"message": t.gettext(message), "code": code}, status_code=401, headers=NO_STORE)
        t = t_for(request, person.actor)
        try:
            started = await secondfactor.start_passkey_registration(person.tenant_id, person.kind, person.person_id)
        except GallraError as exc:
            return Response({"message": exc.text(t), "code": exc.code}, status_code=exc.status, headers=NO_STORE)
        if started is None:
            return Response({"message": t.gettext(NOT_AVAILABLE), "code": self.not_available_code},
                            status_code=409, headers=NO_STORE)
        return Response({"publicKey": started.options, "challenge_id": started.challenge_id},
                        status_code=HTTP_200_OK, headers=NO_STORE)

    @page_post("/passkeys/add")
    async def passkey_add(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        person = await self._person(request)
        try:
            added = await secondfactor.finish_passkey_registration(
                person.tenant_id, person.kind, person.person_id, form.get("passkey_challenge", "")[:128],
                form.get("passkey", ""), form.get("name", "")[:200],
            )
        except GallraError as exc:
            return await self._refused(request, person, "name" if exc.field == "name" else "passkey", exc)
        if added is None:
            return await self._refused(request, person, "passkey", None)
        return await self._done(request, person, "passkey_added", "passkeys", PASSKEY_ADDED)

    @page_post("/passkeys/{passkey_id:int}/remove")
    async def passkey_remove(self, request: Request[Any, Any, Any], passkey_id: FromPath[int]) -> Response[Any]:
        await read_form(request)
        person = await self._person(request)
        try:
            done = await secondfactor.remove_passkey(person.tenant_id, person.kind, person.person_id, passkey_id)
        except GallraError as exc:
            if exc.status == 404:
                raise NotFoundException("This passkey was not found.") from exc
            return await self._refused(request, person, "passkey", exc)
        if done is None:
            return await self._refused(request, person, "passkey", None)
        return await self._done(request, person, "passkey_removed", "passkeys", PASSKEY_REMOVED)
