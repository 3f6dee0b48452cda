"""Core pages: login (with the second-factor step), logout, password reset, the start page
and the language choice. Module pages come from the plugins (``plugins/<name>/pages.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core import auth
from core.auth import AuthError
from core.contracts import SecondFactorRequest
from core.eventlog import log_system
from core.pages import (
    HERE,
    LANG_COOKIE,
    LANGUAGES,
    PageController,
    page_get,
    page_post,
    page_user,
    read_form,
    redirect,
    render,
    safe_next,
    t_for,
)
from core.routes.auth import request_reset
from core.secondfactor import ask_second_factor
from core.web import SESSION_COOKIE, clear_session_cookie, client_ip, session_cookie, user_of

# The page of the plugin answering ``challenge_second_factor`` that checks an SMS code: it
# completes an employee login itself, and re-posts any other step's form (HTTP 307) to the
# step's own URL with the verified ``challenge_id`` (docs/pages.md).
SECOND_FACTOR_ACTION = "/twofactor/code"

Next = Annotated[str | None, QueryParameter(name="next", required=False, max_length=2000)]
Token = Annotated[str | None, QueryParameter(required=False, max_length=200)]


def second_factor_context(
    decision: Any,
    then: str,
    fields: dict[str, str],
    purpose: str,
    title: str,
    resend_action: str | None = None,
) -> dict[str, Any]:
    """What ``second_factor.html`` needs: the challenge, where to go on, the step's fields.

    With ``resend_action`` an SMS code step offers "Send a new code" (posted there with the
    step's fields), once ``decision.resend_in`` seconds have passed."""
    return {
        "resend_action": resend_action,
        "resend_in": getattr(decision, "resend_in", None) or 0,
        "challenge_id": decision.challenge_id,
        "masked_phone": decision.masked_phone,
        "then": then,
        "hidden": {k: v for k, v in fields.items() if k not in ("code", "challenge_id")},
        "purpose": purpose,
        "title": title,
        "action": SECOND_FACTOR_ACTION,
    }


class CorePages(PageController):
    path = "/"

    @page_get("/")
    async def start(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The start page: the organization's modules."""
        user = await page_user(request)
        return await render(request, "start.html", user=user)

    # --- login -----------------------------------------------------------------------

    @page_get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next_: Next = None) -> Response[Any]:
        if await user_of(request) is not None:
            return redirect(safe_next(next_))
        return await render(request, "login.html", {"next": safe_next(next_)})

    @page_post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {k: form.get(k, "").strip() for k in ("tenant", "email")}
        next_ = safe_next(form.get("next"))
        errors: dict[str, str] = {}
        if not values["tenant"]:
            errors["tenant"] = t.gettext("Write your organization's short name.")
        if not values["email"]:
            errors["email"] = t.gettext("Write your e-mail address.")
        if not form.get("password"):
            errors["password"] = t.gettext("Write your password.")
        if errors:
            return await render(
                request, "login.html", {"errors": errors, "values": values, "next": next_}, 400
            )
        try:
            employee = await auth.check_credentials(
                values["tenant"][:63], values["email"][:254], form["password"][:256]
            )
        except AuthError as exc:
            await auth.log_failed_login(values["tenant"][:63], values["email"][:254], exc)
            errors["password"] = t.gettext(exc.message)
            return await render(
                request,
                "login.html",
                {"errors": errors, "values": values, "next": next_},
                exc.status if exc.status in (401, 429) else 400,
            )
        tenant_id = int(employee["tenant_id"])
        ua = request.headers.get("user-agent", "")
        decision = await auth.ask_login_second_factor(
            tenant_id, int(employee["id"]), request.cookies.get("gallra_device"), ua
        )
        if decision is not None and decision.error:
            errors["password"] = decision.error_text(t) or ""  # error set: a refusal, so its text
            return await render(
                request, "login.html", {"errors": errors, "values": values, "next": next_},
                decision.status if 400 <= decision.status < 500 else 409,
            )
        if decision is not None and decision.required:
            return await render(
                request,
                "second_factor.html",
                second_factor_context(
                    decision,
                    next_,
                    {"tenant": values["tenant"], "next": next_},
                    "login",
                    t.gettext("Log in"),
                ),
            )
        token = await auth.sign_in(
            tenant_id, int(employee["id"]), client_ip(request), ua, request.cookies.get(SESSION_COOKIE)
        )
        response = redirect(next_)
        response.cookies.append(session_cookie(request, token))
        return response

    @page_post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        who = await user_of(request)
        await auth.logout(request.cookies.get(SESSION_COOKIE))
        if who is not None:
            await log_system(who.tenant_id, "logout", 200, "", employee_id=who.employee_id)
        t = t_for(request, who)
        response = redirect("/login", t.gettext("You are logged out."))
        clear_session_cookie(response)
        return response

    # --- password reset ---------------------------------------------------------------

    @page_get("/password-reset")
    async def reset_request_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await render(request, "reset_request.html")

    @page_post("/password-reset")
    async def reset_request(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {k: form.get(k, "").strip() for k in ("tenant", "email")}
        errors = {}
        if not values["tenant"]:
            errors["tenant"] = t.gettext("Write your organization's short name.")
        if not values["email"]:
            errors["email"] = t.gettext("Write your e-mail address.")
        if errors:
            return await render(
                request, "reset_request.html", {"errors": errors, "values": values}, 400
            )
        # The same answer, at the same speed, whether or not the account exists.
        try:
            await request_reset(values["tenant"][:63], values["email"][:254], client_ip(request))
        except AuthError as exc:
            errors["email"] = t.gettext(exc.message)
            return await render(
                request, "reset_request.html", {"errors": errors, "values": values}, exc.status
            )
        return await render(request, "reset_request.html", {"sent": True})

    @page_get("/reset")
    async def reset_form(self, request: Request[Any, Any, Any], token: Token = None) -> Response[Any]:
        t = t_for(request, None)
        try:
            await auth.check_reset_token(token or "")
        except AuthError as exc:
            return await render(
                request, "reset.html", {"link_error": t.gettext(exc.message)}, 400
            )
        return await render(request, "reset.html", {"token": token})

    @page_post("/reset")
    async def reset(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """A new password from the reset link. With SMS at "Users – password reset" on, the
        code comes first and the password is asked for after it: the code form carries only
        the link's token, never a password, and nothing is kept in between but the
        two-factor plugin's verified challenge (10 minutes, used once)."""
        form = await read_form(request)
        t = t_for(request, None)
        token = form.get("token", "")[:200]
        challenge_id = form.get("challenge_id", "")[:128] or None
        try:
            row = await auth.check_reset_token(token)
        except AuthError as exc:
            return await render(request, "reset.html", {"link_error": t.gettext(exc.message)}, 400)
        if challenge_id and "password" not in form:
            # Back from the code page (HTTP 307): the code is right, now the password.
            return await render(request, "reset.html", {"token": token, "challenge_id": challenge_id})
        password = form.get("password", "")
        ctx = {"token": token, "challenge_id": challenge_id or ""}
        errors: dict[str, str] = {}
        try:
            auth.check_password_rules(password)
        except AuthError as exc:
            errors["password"] = t.gettext(exc.message)
        if not errors and password != form.get("password2", ""):
            errors["password2"] = t.gettext("The two passwords are not the same.")
        if errors:
            return await render(request, "reset.html", {**ctx, "errors": errors}, 400)
        decision = await ask_second_factor(
            SecondFactorRequest(
                tenant_id=int(row["tenant_id"]),
                person_kind="employee",
                person_id=int(row["employee_id"]),
                context="employee_reset",
                device_token=None,
                user_agent=request.headers.get("user-agent", "")[:200],
                challenge_id=challenge_id,
            )
        )
        if decision is not None and decision.error:
            # A used, stale (over 10 minutes) or made-up challenge: start the step again.
            return await render(
                request, "reset.html",
                {"token": token, "errors": {"_form": decision.error_text(t)}},
                decision.status if 400 <= decision.status < 500 else 409,
            )
        if decision is not None and decision.required:
            # The password typed so far is dropped here; it is asked for after the code.
            return await render(
                request,
                "second_factor.html",
                second_factor_context(
                    decision, "/reset", {"token": token}, "reset", t.gettext("Choose a new password")
                ),
            )
        try:
            await auth.complete_password_reset(token, password)
        except AuthError as exc:
            return await render(request, "reset.html", {"link_error": t.gettext(exc.message)}, 400)
        return redirect(
            "/login", t.gettext("The password is changed. Log in with the new password.")
        )

    # --- language ----------------------------------------------------------------------

    @page_post("/language")
    async def language(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        lang = form.get("lang", "")
        response: Response[Any] = Redirect(path=safe_next(form.get("next")), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/"
            )
        return response


# Litestar adds "; charset=utf-8" to a text/* type itself (given here too, it came twice).
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}


@page_get("/static/{name:str}", name="core-static")
async def static_file(name: FromPath[str]) -> Response[bytes]:
    """The pages' style sheet and scripts (one folder, no sub-folders, no build step)."""
    path = (HERE / "static" / name).resolve()
    kind = _STATIC_TYPES.get(path.suffix)
    if kind is None or path.parent != (HERE / "static").resolve() or not path.is_file():
        raise NotFoundException("No such file.")
    return Response(
        path.read_bytes(), media_type=kind, headers={"Cache-Control": "public, max-age=3600"}
    )


@page_get("/favicon.ico", name="core-favicon")
async def favicon() -> Response[bytes]:
    """Browsers ask for /favicon.ico on their own: the same icon as the pages' link."""
    return Response(
        (HERE / "static" / "favicon.svg").read_bytes(), media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def page_routers() -> list[Any]:
    from core.pages.people import PAGES as PEOPLE_PAGES
    from core.pages.pickers import PAGES as PICKER_PAGES
    from core.pages.settings import PAGES as SETTINGS_PAGES

    return [CorePages, *SETTINGS_PAGES, *PEOPLE_PAGES, *PICKER_PAGES, static_file, favicon]
