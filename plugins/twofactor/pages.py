"""The SMS-code page every guarded step of the web pages posts to (``/twofactor/code``).

A page that gets "a code is required" from ``challenge_second_factor`` renders core's
``second_factor.html``: the challenge id, the code field, ``then`` (the step's own URL) and
the step's other fields as hidden inputs. Here the code is checked:

* an employee login is completed at once: a new session, the device remembered for a year
  (the cookie), and a notice saying until which date;
* any other step (password reset, a customer's first password or approval, decryption) is
  sent back to ``then`` with HTTP 307, which makes the browser post the same form again,
  now with the verified ``challenge_id``; the step's own ``challenge_second_factor`` call
  then uses the code once.

A wrong code shows the same form again with the error beside the code field.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.response import Redirect

from core import auth
from core.auth import find_tenant
from core.eventlog import log_system
from core.pages import PageController, page_get, page_post, read_form, redirect, render, safe_next, t_for
from core.pages.routes import SECOND_FACTOR_ACTION
from core.tables import Employee
from core.web import SESSION_COOKIE, client_ip, session_cookie, user_of
from plugins.twofactor import EMPLOYEE_LOGIN, services
from plugins.twofactor.routes import _device_cookie
from plugins.twofactor.services import TwoFactorRefusal

_OWN_FIELDS = ("challenge_id", "code", "then")


class TwoFactorPages(PageController):
    path = "/twofactor"

    @page_post("/code")
    async def code(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        user = await user_of(request)
        t = t_for(request, user)
        challenge_id = form.get("challenge_id", "")[:128]
        code = form.get("code", "").strip().replace(" ", "")
        then = safe_next(form.get("then"))
        hidden = {k: v for k, v in form.items() if k not in _OWN_FIELDS}
        tenant_id: int | None = None
        if form.get("tenant"):
            row = await find_tenant(form["tenant"][:63])
            tenant_id = int(row["id"]) if row else -1
        elif user is not None:
            tenant_id = user.tenant_id

        async def again(message: str, status: int) -> Response[Any]:
            try:
                row = await services.find_challenge(tenant_id, challenge_id)
                masked, purpose = row["phone_masked"], row["purpose"]
            except TwoFactorRefusal:
                masked, purpose = "", ""
            return await render(
                request,
                "second_factor.html",
                {
                    "challenge_id": challenge_id,
                    "masked_phone": masked,
                    "then": then,
                    "hidden": hidden,
                    "purpose": purpose,
                    "title": t.gettext("SMS code"),
                    "action": SECOND_FACTOR_ACTION,
                    "errors": {"code": message},
                },
                status_code=status,
            )

        if not code.isdigit() or len(code) != services.CODE_DIGITS:
            return await again(t.gettext("Write the 6 digits of the code in the SMS."), 400)
        ua = request.headers.get("user-agent", "")
        try:
            result = await services.verify_code(tenant_id, challenge_id, code, ua)
        except TwoFactorRefusal as exc:
            return await again(t.gettext(exc.message), exc.status)

        if result.purpose == "login" and result.person_kind == "employee" and result.context == EMPLOYEE_LOGIN:
            employee = await Employee.select(Employee.id).where(
                (Employee.tenant_id == result.tenant_id)
                & (Employee.id == result.person_id)
                & Employee.deleted_at.is_null()
            ).first()
            if employee is None:
                return await again(t.gettext("This account can no longer log in."), 409)
            await auth.logout(request.cookies.get(SESSION_COOKIE))
            token = await auth.create_session(result.tenant_id, result.person_id, client_ip(request), ua)
            await log_system(result.tenant_id, "login", 200, "with SMS code", employee_id=result.person_id)
            notice = t.gettext("You are logged in.")
            if result.device_expires_at is not None:
                notice += " " + t.gettext(
                    "This browser is remembered until %(date)s (%(days)s days); until then no "
                    "SMS code is asked for here."
                ) % {"date": result.device_expires_at.date().isoformat(), "days": services.DEVICE_DAYS}
            response = redirect(then, notice)
            response.cookies.append(session_cookie(request, token))
            if result.device_token:
                response.cookies.append(_device_cookie(request, result.device_token))
            return response
        # Any other step: the browser posts the same form to the step again (307 keeps the
        # method and the body); the step uses the verified challenge id once.
        response = Redirect(path=then, status_code=307)
        if result.device_token:
            response.cookies.append(_device_cookie(request, result.device_token))
        return response


PAGES = [TwoFactorPages]
