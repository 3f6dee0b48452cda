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
from litestar.params import QueryParameter

from core.activity.service import add_activity, list_activity
from core.auth import AuthError
from core.db import atomic
from core.pages import PageController, page_get, page_post, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.routes import second_factor_context
from core.validation import FieldError
from core.worker import enqueue
from plugins.customers import portal
from plugins.customers.portal import DEVICE_COOKIE, PORTAL_COOKIE, RESET_TASK, SecondFactorRequired
from plugins.customers.portal_routes import portal_cookie

PUBLIC = {"public": True}
Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]


def _(message: str) -> str:
    return message


MESSAGES = [
    _("Wrong organization, e-mail or password."),
    _("This invitation link is invalid, used or expired. Ask for a new invitation."),
    _("This link has already been used. Ask for a new one."),
    _("This portal account is closed. Ask for a new invitation."),
]


class LoginFirst(HTTPException):
    status_code = 401


async def _portal_user(request: Request[Any, Any, Any]) -> portal.PortalUser | None:
    return await portal.authenticate(request.cookies.get(PORTAL_COOKIE))


async def _page(request: Request[Any, Any, Any], template: str, ctx: dict[str, Any], status: int = 200,
                who: portal.PortalUser | None = None) -> Response[Any]:
    return await render(request, template, {"portal_user": who, **ctx}, status_code=status, user=None)


class PortalPages(PageController):
    path = "/portal"

    @page_get("/", opt=PUBLIC)
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        who = await _portal_user(request)
        if who is None:
            return redirect("/portal/login")
        return await self._home(request, who)

    async def _home(self, request: Request[Any, Any, Any], who: portal.PortalUser,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        _total, messages = await list_activity(
            who.tenant_id, "customers", "customer", who.customer_id, ["conversation"], limit=500
        )
        return await _page(request, "customers/portal/home.html",
                           {"messages": messages, "errors": errors or {}}, status, who)

    @page_post("/messages", opt=PUBLIC)
    async def write(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        who = await _portal_user(request)
        if who is None:
            return redirect("/portal/login")
        t = t_for(request, None)
        body = form.get("body", "")
        if not body.strip():
            return await self._home(request, who, {"body": t.gettext("Write something first.")}, 400)
        if len(body) > 20_000:
            return await self._home(request, who, {"body": t.gettext("At most 20,000 characters.")}, 400)
        async with atomic():
            await add_activity(who.tenant_id, "customers", "customer", who.customer_id, "conversation",
                               body, None, who.name)
        return redirect("/portal#messages", t.gettext("Your message is sent."))

    # --- login ------------------------------------------------------------------------

    @page_get("/login", opt=PUBLIC)
    async def login_form(self, request: Request[Any, Any, Any], tenant: Text = None) -> Response[Any]:
        return await _page(request, "customers/portal/login.html", {"values": {"tenant": tenant or ""}})

    @page_post("/login", opt=PUBLIC)
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {k: form.get(k, "").strip() for k in ("tenant", "email")}
        errors: dict[str, str] = {}
        for key, message in (("tenant", _("Write your organization's short name.")),
                             ("email", _("Write your e-mail address.")), ("password", _("Write your password."))):
            if not (values.get(key) if key != "password" else form.get("password")):
                errors[key] = t.gettext(message)
        if errors:
            return await _page(request, "customers/portal/login.html", {"values": values, "errors": errors}, 400)
        try:
            _account, token = await portal.login(
                values["tenant"][:63], values["email"][:254], form.get("password", "")[:256],
                form.get("challenge_id") or None, request.cookies.get(DEVICE_COOKIE),
                request.headers.get("user-agent", ""), request.cookies.get(PORTAL_COOKIE),
            )
        except SecondFactorRequired as required:
            return await _page(request, "second_factor.html", second_factor_context(
                required.decision, "/portal/login",
                {"tenant": values["tenant"], "email": values["email"], "password": form.get("password", "")},
                "login", t.gettext("Customer portal"),
            ))
        except (AuthError, HTTPException) as exc:
            message = exc.message if isinstance(exc, AuthError) else exc.detail
            status = exc.status if isinstance(exc, AuthError) else exc.status_code
            return await _page(request, "customers/portal/login.html",
                               {"values": values, "errors": {"password": t.gettext(message)}}, status)
        response = redirect("/portal")
        response.cookies.append(portal_cookie(request, token))
        return response

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
        ctx = {"tenant": tenant, "token": token, "step": step}
        if password != form.get("password2", ""):
            return await _page(request, "customers/portal/password.html",
                               {**ctx, "errors": {"password2": t.gettext("The two passwords are not the same.")}}, 400)
        action = portal.activate if step == "activate" else portal.complete_reset
        try:
            await action(tenant, token, password, form.get("challenge_id") or None,
                         request.headers.get("user-agent", ""))
        except SecondFactorRequired as required:
            return await _page(request, "second_factor.html", second_factor_context(
                required.decision, f"/portal/{step}",
                {"tenant": tenant, "token": token, "password": password, "password2": password},
                "reset", t.gettext("Choose your password"),
            ))
        except (FieldError, ClientException, AuthError) as exc:
            # A short password is named beside its field; a bad link above the form.
            errors = error_of(exc, t)
            return await _page(request, "customers/portal/password.html", {**ctx, "errors": errors}, 400)
        return redirect(f"/portal/login?tenant={tenant}", t.gettext("Your password is set. Log in with it."))

    @page_get("/activate", opt=PUBLIC)
    async def activate_form(self, request: Request[Any, Any, Any], tenant: Text = None, token: Text = None) -> Response[Any]:
        return await _page(request, "customers/portal/password.html",
                           {"tenant": tenant or "", "token": token or "", "step": "activate"})

    @page_post("/activate", opt=PUBLIC)
    async def activate(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._password_step(request, "activate")

    @page_get("/password-reset", opt=PUBLIC)
    async def reset_request_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _page(request, "customers/portal/reset_request.html", {})

    @page_post("/password-reset", opt=PUBLIC)
    async def reset_request(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        tenant, email = form.get("tenant", "").strip()[:63], form.get("email", "").strip()[:254]
        if tenant and email:
            enqueue(RESET_TASK, tenant, email)
        return await _page(request, "customers/portal/reset_request.html", {"sent": True})

    @page_get("/reset", opt=PUBLIC)
    async def reset_form(self, request: Request[Any, Any, Any], tenant: Text = None, token: Text = None) -> Response[Any]:
        return await _page(request, "customers/portal/password.html",
                           {"tenant": tenant or "", "token": token or "", "step": "reset"})

    @page_post("/reset", opt=PUBLIC)
    async def reset(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._password_step(request, "reset")


def pages() -> list[Any]:
    return [PortalPages]
