"""The customer portal's pages, with their own login (the ``gallra_portal`` cookie, never an
employee session): the first password from the invitation link, login with the SMS step
for a new device, password reset, and the customer's conversations with the organization.

Every handler is public to the module guard (``opt={"public": True}``: the guard looks at
employee sessions) and checks the portal's own tenant, as the portal API does.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException
from litestar.params import PathParameter, QueryParameter

from core import approvals
from core.activity.service import add_activity, list_activity
from core.auth import AuthError
from core.db import atomic
from core.errors import GallraError, Invalid, NotFound
from core.errors import mark as _
from core.eventlog import log_event
from core.pages import (
    LoginRequired,
    PageController,
    language_of,
    page_get,
    page_post,
    page_user,
    read_form,
    redirect,
    render,
    t_for,
)
from core.pages.forms import error_of
from core.pages.routes import second_factor_context
from core.records import portal as records
from core.routes.schemas import Id
from core.secondfactor import recovery_codes
from core.security import new_token
from core.web import client_ip, private_cookie
from plugins.portal import services as portal
from plugins.portal.routes import portal_cookie
from plugins.portal.services import (
    DEVICE_COOKIE,
    PENDING_COOKIE,
    PORTAL_COOKIE,
    SecondFactorRequired,
)

PUBLIC = {"public": True}
RESEND_ACTION = "/portal/code/resend"
# The pending steps' pages: where the code form goes on, and what the step is.
STEP_OF_PAGE = {"/portal/login": "login", "/portal/activate": "activate", "/portal/reset": "reset"}
Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]
Kind = Annotated[str, PathParameter(max_length=32)]
Slug = Annotated[str, PathParameter(min_length=1, max_length=63)]
MAX_DETAILS = 5000
LOGIN_FIRST = _("Log in to the customer portal first.")




MESSAGES = [
    _("This step has expired (10 minutes) or is not valid. Start again."),
    _("This SMS code was sent for another item or another answer. Start again to get a new code."),
    _(
        "The SMS code for this step has not been entered, was for another step or person, was already used, "
        "or was entered more than 10 minutes ago. Start again to get a new code."
    ),
    _("This step was tried too many times. Start again."),
    _("This item was not found, or it is not yours to approve."),
    _("This quote is already accepted."),
    _("This quote is already declined."),
    _("This quote can no longer be answered (it is closed or past its validity date)."),
    _("This quote was answered or changed a moment ago; reload the page."),
    _("This extra cost is already approved."),
    _("This extra cost is already declined."),
    _("This extra cost was answered a moment ago; reload the page."),
    _("This payment plan is already approved."),
    _("This payment plan is already declined."),
    _("This payment plan was answered or changed a moment ago; reload the page."),
    _("Wrong organization, e-mail or password."),
    _("This invitation link is invalid, used or expired. Ask for a new invitation."),
    _("This link has already been used. Ask for a new one."),
    _("This portal account is closed. Ask for a new invitation."),
    _("The customer portal is not available for this organization."),
]


def _text(exc: Exception, t: Any) -> str:
    """A refusal in the page's language."""
    return exc.text(t) if isinstance(exc, GallraError) else t.gettext(str(getattr(exc, "detail", "")))


async def _portal_user(request: Request[Any, Any, Any]) -> portal.PortalUser | None:
    return await portal.authenticate(request.cookies.get(PORTAL_COOKIE))


async def _signed_in(request: Request[Any, Any, Any]) -> portal.PortalUser:
    """The portal person of the cookie; without one, :class:`LoginRequired`: the page
    answers with a redirect to the portal's login."""
    who = await _portal_user(request)
    if who is None:
        raise LoginRequired(LOGIN_FIRST, login_page="/portal/login")
    return who


async def _nav(request: Request[Any, Any, Any], who: portal.PortalUser) -> list[tuple[str, str]]:
    """The portal's menu: conversations, approvals, the records the tenant shows its
    customers (core.records.portal) and "My personal data" when a module keeps requests."""
    t = t_for(request, None)
    lang = language_of(request, None)
    links = [("/portal", t.gettext("Conversations")), ("/portal/approvals", t.gettext("To approve"))]
    links += [(f"/portal/records/{s.slug}", s.label(lang)) for s in await records.sections(who.tenant_id)]
    if await portal.data_desk(who) is not None:
        links.append(("/portal/privacy", t.gettext("My personal data")))
    links.append(("/portal/security", t.gettext("Security")))
    return links


async def _page(
    request: Request[Any, Any, Any],
    template: str,
    ctx: dict[str, Any],
    status: int = 200,
    who: portal.PortalUser | None = None,
) -> Response[Any]:
    nav = await _nav(request, who) if who is not None else []
    return await render(
        request, template, {"portal_user": who, "portal_nav": nav, **ctx}, status_code=status, user=None
    )


async def _code_step(
    request: Request[Any, Any, Any],
    required: SecondFactorRequired,
    binder: str,
    then: str,
    tenant: str,
    purpose: str,
    title: str,
) -> Response[Any]:
    """The SMS code form of a pending step: it carries the organization and the step's
    token; the browser gets the binder cookie the step is tied to."""
    assert required.pending is not None
    response = await _page(
        request,
        "second_factor.html",
        second_factor_context(
            required.decision, then, {"tenant": tenant, "pending": required.pending}, purpose, title, RESEND_ACTION
        ),
    )
    response.cookies.append(
        private_cookie(request, PENDING_COOKIE, binder, int(portal.PENDING_TTL.total_seconds()), path="/portal")
    )
    return response


class PortalPages(PageController):
    path = "/portal"

    @page_get("/", opt=PUBLIC)
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        who = await _signed_in(request)
        return await self._home(request, who)

    async def _home(
        self,
        request: Request[Any, Any, Any],
        who: portal.PortalUser,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        _total, messages = await list_activity(
            who.tenant_id, "customers", "customer", who.customer_id, ["conversation"], limit=500
        )
        waiting = len(await approvals.list_for(portal.portal_person(who)))
        return await _page(
            request,
            "portal/home.html",
            {"messages": messages, "errors": errors or {}, "waiting": waiting},
            status,
            who,
        )

    @page_post("/messages", opt=PUBLIC)
    async def write(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        who = await _signed_in(request)
        t = t_for(request, None)
        body = form.get("body", "")
        if not body.strip():
            return await self._home(request, who, {"body": t.gettext("Write something first.")}, 400)
        if len(body) > 20_000:
            return await self._home(request, who, {"body": t.gettext("At most 20,000 characters.")}, 400)
        async with atomic():
            await add_activity(
                who.tenant_id, "customers", "customer", who.customer_id, "conversation", body, None, who.name
            )
        return redirect("/portal#messages", t.gettext("Your message is sent."))

    # --- security: recovery codes (#21.4); the app and passkeys: factor_pages.py ------------

    @page_get("/security", opt=PUBLIC)
    async def security_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        who = await _signed_in(request)
        from plugins.portal.factor_pages import security_page

        return await security_page(request, who)

    @page_post("/security/recovery-codes", opt=PUBLIC)
    async def new_recovery_codes(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """A new set of recovery codes, shown once on this answer (only their hashes are
        kept, by the plugin keeping them); the old set stops working. Audited."""
        await read_form(request)
        who = await _signed_in(request)
        from plugins.portal.factor_pages import security_page

        state = await recovery_codes(who.tenant_id, who.person_kind, who.person_id, renew=True)
        if state is None:
            # No plugin keeps recovery codes here: say so, never pretend codes were made.
            t = t_for(request, None)
            return await security_page(request, who, errors={"_form": t.gettext("Recovery codes are not available.")},
                                       status=409, state=None)
        await log_event(who.tenant_id, None, "portal.recovery_codes_generated", "portal", who.person_kind,
                        who.person_id, ip=client_ip(request))
        response = await security_page(request, who, codes=state.codes, state=state)
        response.headers["Cache-Control"] = "no-store"
        return response

    # --- approving quotes, extra costs and payment plans ----------------------------------

    @page_get("/approvals", opt=PUBLIC)
    async def approvals(self, request: Request[Any, Any, Any]) -> Response[Any]:
        who = await _signed_in(request)
        return await self._approvals(request, who)

    async def _approvals(
        self,
        request: Request[Any, Any, Any],
        who: portal.PortalUser,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        lang = language_of(request, None)
        items = [
            {
                "kind": a.kind,
                "item_id": a.item_id,
                "label": a.label_sv if lang == "sv" else a.label_en,
                "number": a.number,
                "title": a.title,
                "total": a.total,
                "lines": a.lines,
                "valid_until": a.valid_until,
            }
            for a in await approvals.list_for(portal.portal_person(who))
        ]
        return await _page(
            request, "portal/approvals.html", {"items": items, "errors": errors or {}}, status, who
        )

    @page_post("/approvals/{kind:str}/{item_id:int}", opt=PUBLIC)
    async def decide(self, request: Request[Any, Any, Any], kind: Kind, item_id: Id) -> Response[Any]:
        form = await read_form(request)
        who = await _signed_in(request)
        t = t_for(request, None)
        action = form.get("action", "")
        if action not in ("approve", "decline"):
            return await self._approvals(request, who, {"_form": t.gettext("Choose approve or decline.")}, 400)
        result = await portal.decide_approval(
            who,
            kind,
            item_id,
            action == "approve",
            form.get("challenge_id") or None,
            request.headers.get("user-agent", ""),
            language_of(request, None),
        )
        if result.status == "second_factor_required":
            assert result.second_factor is not None
            return await _page(
                request,
                "second_factor.html",
                second_factor_context(
                    result.second_factor,
                    f"/portal/approvals/{kind}/{item_id}",
                    {"tenant": who.tenant_slug, "action": action},
                    "sign",
                    t.gettext("Approve") if action == "approve" else t.gettext("Decline"),
                ),
                who=who,
            )
        if result.status == "refused":
            return await self._approvals(request, who, {"_form": approvals.refusal(result).text(t)}, result.status_code)
        notice = (
            t.gettext("Thank you: it is approved.") if result.status == "approved" else t.gettext("You declined it.")
        )
        return redirect("/portal/approvals", notice)

    # --- the customer's own records, read-only (core.records.portal) ----------------------

    @page_get("/records/{slug:str}", opt=PUBLIC)
    async def record_list(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        who = await _signed_in(request)
        section = await records.section(who.tenant_id, slug)
        rows = await records.list_for(portal.portal_person(who), section)
        return await _page(request, "portal/records.html", {"section": section, "rows": rows}, who=who)

    @page_get("/records/{slug:str}/{record_id:int}", opt=PUBLIC)
    async def record_detail(
        self, request: Request[Any, Any, Any], slug: Slug, record_id: Id
    ) -> Response[Any]:
        who = await _signed_in(request)
        section = await records.section(who.tenant_id, slug)
        row, parts = await records.get_for(portal.portal_person(who), section, record_id)
        return await _page(
            request, "portal/record.html",
            {"section": section, "row": row, "parts": parts, "part_total": records.part_total}, who=who
        )

    # --- "My personal data": asking under articles 15-21 -----------------------------------

    @page_get("/privacy", opt=PUBLIC)
    async def privacy(self, request: Request[Any, Any, Any]) -> Response[Any]:
        who = await _signed_in(request)
        return await self._privacy(request, who)

    async def _privacy(
        self,
        request: Request[Any, Any, Any],
        who: portal.PortalUser,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        desk = await portal.data_desk(who)
        if desk is None:
            raise NotFound(portal.NO_DATA_REQUESTS, code="portal.no_data_requests")
        return await _page(
            request, "portal/privacy.html",
            {"desk": desk, "errors": errors or {}, "values": values or {}}, status, who,
        )

    @page_post("/privacy", opt=PUBLIC)
    async def ask_privacy(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        who = await _signed_in(request)
        t = t_for(request, None)
        values = {"kind": form.get("kind", "")[:16], "details": form.get("details", "")[:MAX_DETAILS + 1]}
        if len(values["details"]) > MAX_DETAILS:
            return await self._privacy(
                request, who, {"details": t.gettext("At most 5,000 characters.")}, values, 400
            )
        try:
            made = await portal.ask_about_data(who, values["kind"], values["details"], language_of(request, None))
        except Invalid as exc:
            return await self._privacy(request, who, error_of(exc, t), values, exc.status)
        return redirect(
            "/portal/privacy#requests",
            t.gettext("Your request is received with number %(number)s.") % {"number": made.number},
        )

    # --- login ------------------------------------------------------------------------

    @page_get("/login", opt=PUBLIC)
    async def login_form(self, request: Request[Any, Any, Any], tenant: Text = None) -> Response[Any]:
        return await _page(request, "portal/login.html", {"values": {"tenant": tenant or ""}})

    @page_post("/login", opt=PUBLIC)
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {k: form.get(k, "").strip() for k in ("tenant", "email")}
        if form.get("pending"):
            return await self._finish_login(request, form, values)
        errors: dict[str, str] = {}
        for key, message in (
            ("tenant", _("Write your organization's short name.")),
            ("email", _("Write your e-mail address.")),
            ("password", _("Write your password.")),
        ):
            if not (values.get(key) if key != "password" else form.get("password")):
                errors[key] = t.gettext(message)
        if errors:
            return await _page(request, "portal/login.html", {"values": values, "errors": errors}, 400)
        binder = new_token()
        try:
            _account, token = await portal.login(
                values["tenant"][:63],
                values["email"][:254],
                form.get("password", "")[:256],
                None,
                request.cookies.get(DEVICE_COOKIE),
                request.headers.get("user-agent", ""),
                request.cookies.get(PORTAL_COOKIE),
                binder,
            )
        except SecondFactorRequired as required:
            # The code form carries the pending step's token, never the password.
            return await _code_step(
                request, required, binder, "/portal/login", values["tenant"], "login", t.gettext("Customer portal")
            )
        except (GallraError, HTTPException) as exc:
            message = exc.text(t) if isinstance(exc, GallraError) else t.gettext(exc.detail)
            status = exc.status if isinstance(exc, GallraError) else exc.status_code
            return await _page(
                request, "portal/login.html", {"values": values, "errors": {"password": message}}, status
            )
        response = redirect("/portal")
        response.cookies.append(portal_cookie(request, token))
        return response

    async def _finish_login(
        self, request: Request[Any, Any, Any], form: dict[str, str], values: dict[str, str]
    ) -> Response[Any]:
        t = t_for(request, None)
        try:
            _account, token = await portal.finish_pending(
                values["tenant"][:63],
                form.get("pending", "")[:200],
                "login",
                request.cookies.get(PENDING_COOKIE),
                form.get("challenge_id") or None,
                request.cookies.get(DEVICE_COOKIE),
                request.headers.get("user-agent", ""),
                request.cookies.get(PORTAL_COOKIE),
            )
        except (GallraError, ClientException, HTTPException) as exc:
            return await _page(
                request,
                "portal/login.html",
                {"values": values, "errors": {"_form": _text(exc, t)}},
                exc.status_code,
            )
        assert token is not None
        response = redirect("/portal")
        response.cookies.append(portal_cookie(request, token))
        response.delete_cookie(PENDING_COOKIE, path="/portal")
        return response

    @page_post("/code/resend", opt=PUBLIC)
    async def resend_code(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """ "Send a new code" on the SMS code step of a login, first password or reset."""
        form = await read_form(request)
        t = t_for(request, None)
        then = form.get("then", "")
        step = STEP_OF_PAGE.get(then, "")
        tenant, token = form.get("tenant", "")[:63], form.get("pending", "")[:200]
        try:
            if not step:
                raise Invalid(None, portal.STEP_EXPIRED, code="portal.step_expired")
            decision = await portal.resend_code(
                tenant,
                token,
                step,
                request.cookies.get(PENDING_COOKIE),
                form.get("challenge_id", "")[:200],
                request.headers.get("user-agent", ""),
            )
            refusal = decision.refusal()
            if refusal is not None and not decision.masked_phone:
                raise refusal  # not this step's challenge: the step starts again
        except (GallraError, ClientException, HTTPException) as exc:
            if step == "login" or not step:
                return await _page(
                    request,
                    "portal/login.html",
                    {"values": {"tenant": tenant}, "errors": {"_form": _text(exc, t)}},
                    exc.status_code,
                )
            return await _page(
                request,
                "portal/password.html",
                {"tenant": tenant, "token": "", "step": step, "errors": {"_form": _text(exc, t)}},
                exc.status_code,
            )
        title = t.gettext("Customer portal") if step == "login" else t.gettext("Choose your password")
        ctx = second_factor_context(
            decision, then, {"tenant": tenant, "pending": token}, "login" if step == "login" else "reset",
            title, RESEND_ACTION,
        )
        if refusal is not None:  # asked too early: the same code form, saying how long to wait
            return await _page(request, "second_factor.html", {**ctx, "errors": {"code": refusal.text(t)}},
                               refusal.status)
        return await _page(request, "second_factor.html", ctx)

    @page_post("/logout", opt=PUBLIC)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        await portal.logout(request.cookies.get(PORTAL_COOKIE))
        t = t_for(request, None)
        response = redirect("/portal/login", t.gettext("You are logged out."))
        response.delete_cookie(PORTAL_COOKIE, path="/")
        return response

    # --- the first password, and password reset ---------------------------------------

    async def _password_step(self, request: Request[Any, Any, Any], step: str) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        tenant, token = form.get("tenant", "")[:63], form.get("token", "")[:128]
        password = form.get("password", "")
        company = await portal.organization_name(tenant) if step == "activate" and tenant else None
        ctx = {"tenant": tenant, "token": token, "step": step, "company": company}
        if form.get("pending"):
            try:
                account, _none = await portal.finish_pending(
                    tenant,
                    form.get("pending", "")[:200],
                    step,
                    request.cookies.get(PENDING_COOKIE),
                    form.get("challenge_id") or None,
                    None,
                    request.headers.get("user-agent", ""),
                )
            except (GallraError, ClientException, HTTPException) as exc:
                return await _page(
                    request,
                    "portal/password.html",
                    {**ctx, "errors": {"_form": _text(exc, t)}},
                    exc.status_code,
                )
            response = await self._password_set(request, step, tenant, account)
            response.delete_cookie(PENDING_COOKIE, path="/portal")
            return response
        if password != form.get("password2", ""):
            return await _page(
                request,
                "portal/password.html",
                {**ctx, "errors": {"password2": t.gettext("The two passwords are not the same.")}},
                400,
            )
        action = portal.activate if step == "activate" else portal.complete_reset
        binder = new_token()
        try:
            account = await action(tenant, token, password, None, request.headers.get("user-agent", ""), binder)
        except SecondFactorRequired as required:
            # The new password stays on the server (hashed) until the code is verified.
            return await _code_step(
                request, required, binder, f"/portal/{step}", tenant, "reset", t.gettext("Choose your password")
            )
        except (Invalid, ClientException, AuthError) as exc:
            # A short password is named beside its field; a bad link above the form.
            errors = error_of(exc, t)
            return await _page(request, "portal/password.html", {**ctx, "errors": errors}, 400)
        return await self._password_set(request, step, tenant, account)

    async def _password_set(
        self, request: Request[Any, Any, Any], step: str, tenant: str, account: dict
    ) -> Response[Any]:
        """After the first password the person is logged in, as a login would do it (unless
        a login would ask for an SMS code on a new device: then they log in as usual). A
        reset logs nobody in."""
        t = t_for(request, None)
        if step == "activate":
            token = await portal.session_after_password(account, request.cookies.get(PORTAL_COOKIE))
            if token is not None:
                response = redirect("/portal", t.gettext("Your password is set. Welcome to the customer portal."))
                response.cookies.append(portal_cookie(request, token))
                return response
        return redirect(f"/portal/login?tenant={tenant}", t.gettext("Your password is set. Log in with it."))

    @page_get("/activate", opt=PUBLIC)
    async def activate_form(
        self, request: Request[Any, Any, Any], tenant: Text = None, token: Text = None
    ) -> Response[Any]:
        company = await portal.organization_name(tenant) if tenant else None
        return await _page(
            request,
            "portal/password.html",
            {"tenant": tenant or "", "token": token or "", "step": "activate", "company": company},
        )

    @page_post("/activate", opt=PUBLIC)
    async def activate(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._password_step(request, "activate")

    @page_get("/password-reset", opt=PUBLIC)
    async def reset_request_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _page(request, "portal/reset_request.html", {})

    @page_post("/password-reset", opt=PUBLIC)
    async def reset_request(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        tenant, email = form.get("tenant", "").strip()[:63], form.get("email", "").strip()[:254]
        if tenant and email:
            try:
                await portal.request_reset(tenant, email, client_ip(request))
            except AuthError as exc:
                t = t_for(request, None)
                return await _page(
                    request,
                    "portal/reset_request.html",
                    {"errors": {"email": t.gettext(exc.message)}, "values": {"tenant": tenant, "email": email}},
                    exc.status,
                )
        return await _page(request, "portal/reset_request.html", {"sent": True})

    @page_get("/reset", opt=PUBLIC)
    async def reset_form(
        self, request: Request[Any, Any, Any], tenant: Text = None, token: Text = None
    ) -> Response[Any]:
        return await _page(
            request, "portal/password.html", {"tenant": tenant or "", "token": token or "", "step": "reset"}
        )

    @page_post("/reset", opt=PUBLIC)
    async def reset(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._password_step(request, "reset")


class InvitePages(PageController):
    """The customer card's "Invite to the customer portal" button posts here (the card
    shows it while this module is on for the tenant)."""

    path = "/customers"

    @page_post("/{customer_id:int}/portal-invite")
    async def invite(self, request: Request[Any, Any, Any], customer_id: Id) -> Response[Any]:
        """Invite the customer to the portal: an e-mail with the link to the first password."""
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        try:
            await portal.invite(user.tenant_id, "customer", customer_id, None)
        except (GallraError, ClientException) as exc:
            error = next(iter(error_of(exc, t).values()))
            return await render(request, "portal/invite_failed.html",
                                {"customer_id": customer_id, "error": error}, exc.status_code, user=user)
        return redirect(f"/customers/{customer_id}", t.gettext("The invitation to the customer portal is sent."))


def pages() -> list[Any]:
    from plugins.portal.factor_pages import PortalFactorPages

    return [PortalPages, PortalFactorPages, InvitePages]
