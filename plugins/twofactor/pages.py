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

from typing import Any, ClassVar

from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect

from core import auth
from core.auth import find_tenant
from core.contracts import AppSetup
from core.errors import mark as _
from core.eventlog import log_event, log_system
from core.pages import (
    PageController,
    page_admin,
    page_get,
    page_post,
    page_user,
    read_form,
    read_form_lists,
    redirect,
    render,
    safe_next,
    t_for,
)
from core.pages.own_factors import OwnFactorPages, OwnPerson
from core.pages.routes import SECOND_FACTOR_ACTION
from core.web import SESSION_COOKIE, client_ip, session_cookie, user_of
from plugins.twofactor import passkeys, services
from plugins.twofactor.routes import _device_cookie
from plugins.twofactor.services import LockoutRefusal, TwoFactorRefusal

_OWN_FIELDS = ("challenge_id", "code", "recovery_code", "app_code", "passkey", "send_sms", "then")


async def step_tenant(form: dict[str, str], user: Any) -> int | None:
    """The organization of a step's form: the one it names (-1 for an unknown name, where
    no challenge is found), else the logged-in user's, else none (the challenge id alone)."""
    if form.get("tenant"):
        row = await find_tenant(form["tenant"][:63])
        return int(row["id"]) if row else -1
    return user.tenant_id if user is not None else None


class TwoFactorPages(PageController):
    path = "/twofactor"

    @page_post("/code")
    async def code(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        user = await user_of(request)
        t = t_for(request, user)
        challenge_id = form.get("challenge_id", "")[:128]
        code = form.get("code", "").strip().replace(" ", "")
        recovery_code = form.get("recovery_code", "").strip()[:40]
        app_code = form.get("app_code", "").strip().replace(" ", "")[:12]
        then = safe_next(form.get("then"))
        hidden = {k: v for k, v in form.items() if k not in _OWN_FIELDS}
        tenant_id = await step_tenant(form, user)

        async def again(message: str, status: int, field: str | None = "code") -> Response[Any]:
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
                    "title": _title(t, challenge_id, masked),
                    "action": SECOND_FACTOR_ACTION,
                    "errors": {field: message} if field else {},
                },
                status_code=status,
            )

        ua = request.headers.get("user-agent", "")
        if form.get("send_sms"):
            # An SMS code instead of the app's: the same challenge, now with an SMS code.
            try:
                await services.resend(tenant_id, challenge_id)
            except TwoFactorRefusal as exc:
                return await again(exc.text(t), exc.status, "app_code")
            return await again("", 200, None)
        app = False
        passkey = form.get("passkey", "")
        if passkey and not recovery_code:
            entered, recovery, field = passkey, False, "passkey"
        elif recovery_code:
            if services.normalize_recovery_code(recovery_code) is None:
                return await again(t.gettext(services.RECOVERY_FORMAT), 400, "recovery_code")
            entered, recovery, field = recovery_code, True, "recovery_code"
        elif app_code or (challenge_id.startswith(services.APP_CHALLENGE_PREFIX) and not code):
            if not app_code.isdigit() or len(app_code) != services.APP_DIGITS:
                return await again(t.gettext(services.APP_FORMAT), 400, "app_code")
            entered, recovery, field, app = app_code, False, "app_code", True
        elif challenge_id.startswith(services.STRONG_PREFIX):
            # An app or a passkey is required and the person has no app: a recovery code only.
            return await again(t.gettext(services.RECOVERY_FORMAT), 400, "recovery_code")
        elif challenge_id.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX) and not code:
            return await again(t.gettext(passkeys.PASSKEY_ASKED), 400, "passkey")
        elif not code.isdigit() or len(code) != services.CODE_DIGITS:
            return await again(t.gettext("Write the 6 digits of the code in the SMS."), 400)
        else:
            entered, recovery, field = code, False, "code"
        try:
            if field == "passkey":
                result = await passkeys.verify_passkey(tenant_id, challenge_id, entered, ua)
            else:
                result = await services.verify_code(tenant_id, challenge_id, entered, ua, recovery=recovery, app=app)
            employee_login = await services.completes_employee_login(result)
        except TwoFactorRefusal as exc:
            return await again(exc.text(t), exc.status, field)

        if employee_login:
            await auth.logout(request.cookies.get(SESSION_COOKIE))
            token = await auth.create_session(result.tenant_id, result.person_id, client_ip(request), ua)
            how = services.login_how(result)
            await log_system(result.tenant_id, "login", 200, how, employee_id=result.person_id)
            notice = t.gettext("You are logged in.")
            if result.by_recovery_code:
                left = await services.recovery_remaining(result.tenant_id, "employee", result.person_id)
                notice += " " + t.gettext(
                    "You used a recovery code; %(left)s are left (My recovery codes)."
                ) % {"left": left}
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


def _title(t: Any, challenge_id: str, masked: str) -> str:
    """The code page's title: the factor being asked for."""
    if masked:
        return str(t.gettext("SMS code"))
    if challenge_id.startswith(services.APP_CHALLENGE_PREFIX):
        return str(t.gettext("Authenticator app"))
    if challenge_id.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX):
        return str(t.gettext("Passkey"))
    return str(t.gettext("Recovery code"))


class TwoFactorSettingsPages(PageController):
    """Settings > Two-factor: SMS activation first (M3), then each context on or off (M4)."""

    path = "/twofactor/settings"

    async def _page(self, request: Request[Any, Any, Any], user: Any, errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None, status: int = 200,
                    lockout: LockoutRefusal | None = None, wanted: set[str] | None = None,
                    strong_lockout: LockoutRefusal | None = None,
                    strong_wanted: tuple[set[str], bool] | None = None) -> Response[Any]:
        from core.pages import language_of
        from core.tables import Employee

        lang = language_of(request, user)
        cfg = await services.sms_settings(user.tenant_id)
        states = await services.context_states(user.tenant_id)
        contexts = sorted(await services.visible_contexts(user.tenant_id), key=lambda c: (c.order, c.key))
        rules = await services.strong_rules(user.tenant_id)
        strong_keys, admins_strong = strong_wanted if strong_wanted is not None else (rules.contexts, rules.admins)
        employees = await Employee.select(Employee.id, Employee.name).where(
            (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null()
        ).order_by(Employee.name)
        return await render(
            request, "twofactor/settings.html",
            {"cfg": cfg, "sent_today": await services.sent_today(user.tenant_id),
             "cap_max": services.daily_cap_max(),
             "providers": services.PROVIDERS,
             "reason": None if cfg.sms_active else (services.SMS_FIRST_SV if lang == "sv" else services.SMS_FIRST_EN),
             "contexts": [{"key": c.key, "label": c.label_sv if lang == "sv" else c.label_en,
                           "enabled": (c.key in wanted) if wanted is not None else states.get(c.key, False),
                           "strong": c.key in strong_keys}
                          for c in contexts],
             "admins_strong": admins_strong,
             "strong_lockout": strong_lockout,
             "employees": employees,
             "lockout": lockout,
             "my_recovery": await services.recovery_state(user.tenant_id, "employee", user.employee_id),
             "errors": errors or {},
             "values": values or {"provider": cfg.provider, "sender": cfg.sender, "daily_cap": cfg.daily_cap}},
            status_code=status, user=user,
        )

    @page_get("/")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._page(request, await page_admin(request))

    @page_post("/sms")
    async def save_sms(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form(request)
        t = t_for(request, user)
        cap_raw = form.get("daily_cap", "").strip()
        if not cap_raw.isdigit():
            return await self._page(request, user, {"daily_cap": t.gettext("Write a whole number.")}, form, 400)
        try:
            await services.save_sms_settings(
                user.tenant_id, sms_active=form.get("sms_active") == "on", provider=form.get("provider", "outbox"),
                sender=form.get("sender", ""), daily_cap=int(cap_raw),
            )
        except TwoFactorRefusal as exc:
            return await self._page(request, user, {exc.field or "_form": exc.text(t)}, form, exc.status)
        return redirect("/twofactor/settings", t.gettext("The settings are saved."))

    @page_post("/contexts")
    async def save_contexts(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form_lists(request)
        t = t_for(request, user)
        wanted = set(form.get("enabled", []))
        confirm = form.get("confirm", [""])[0] == "yes"
        states = await services.context_states(user.tenant_id)
        changes = {
            c.key: c.key in wanted
            for c in await services.visible_contexts(user.tenant_id)
            if (c.key in wanted) != states.get(c.key, False)
        }
        try:
            await services.switch_contexts(user.tenant_id, changes, confirm)
        except LockoutRefusal as exc:
            return await self._page(request, user, {"contexts": exc.text(t)}, None, exc.status, exc, wanted)
        except TwoFactorRefusal as exc:
            return await self._page(request, user, {"contexts": exc.text(t)}, None, exc.status)
        turned_on = [k for k, on in changes.items() if on and k in services.employee_contexts()]
        if turned_on and not await services.recovery_remaining(user.tenant_id, "employee", user.employee_id):
            # Offer the administrator who switched it on codes to get in without SMS.
            return redirect("/twofactor/recovery", t.gettext(
                "The settings are saved. Make your recovery codes now: with them you can log in "
                "even when no SMS code reaches you."))
        return redirect("/twofactor/settings", t.gettext("The settings are saved."))

    @page_post("/strong")
    async def save_strong(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """"Passkey or app required" per context, and for administrators (#21.3)."""
        user = await page_admin(request)
        form = await read_form_lists(request)
        t = t_for(request, user)
        wanted = set(form.get("strong", []))
        admins = form.get("admins_strong", [""])[0] == "on"
        confirm = form.get("confirm", [""])[0] == "yes"
        current = await services.strong_rules(user.tenant_id)
        changes = {
            c.key: c.key in wanted
            for c in await services.visible_contexts(user.tenant_id)
            if (c.key in wanted) != (c.key in current.contexts)
        }
        try:
            await services.save_strong_rules(user.tenant_id, changes, admins, confirm)
        except LockoutRefusal as exc:
            return await self._page(request, user, {"strong": exc.text(t)}, None, exc.status,
                                    strong_lockout=exc, strong_wanted=(wanted, admins))
        except TwoFactorRefusal as exc:
            return await self._page(request, user, {"strong": exc.text(t)}, None, exc.status,
                                    strong_wanted=(wanted, admins))
        await log_event(user.tenant_id, user, "twofactor.strong_rules_changed", "twofactor", ip=client_ip(request))
        return redirect("/twofactor/settings#strong-h", t.gettext("The settings are saved."))

    @page_post("/reset")
    async def reset_factors(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """An administrator resets an employee's second factors (#21.4), audited, and the
        employee is told by e-mail."""
        from litestar.exceptions import NotFoundException

        user = await page_admin(request)
        form = await read_form(request)
        t = t_for(request, user)
        raw_id = form.get("employee_id", "").strip()
        if not raw_id.isdigit() or not 1 <= int(raw_id) <= 2_147_483_647:
            return await self._page(request, user, {"employee_id": t.gettext("Choose a person.")}, None, 400)
        try:
            await services.reset_factors(user.tenant_id, user, "employee", int(raw_id), ip=client_ip(request))
        except TwoFactorRefusal as exc:
            if exc.status == 404:
                raise NotFoundException(exc.text(t)) from exc
            return await self._page(request, user, {"employee_id": exc.text(t)}, None, exc.status)
        return redirect("/twofactor/settings#reset-h", t.gettext(
            "The person's two-factor sign-in is reset, and they were told by e-mail."))


MY_DEVICES = _("My devices")


class MyDevicesPages(OwnFactorPages):
    """A person's own remembered browsers (where the SMS code is skipped until a date), and
    forgetting one or all of them; their authenticator app and passkeys, with the forms
    every such page shares (core.pages.own_factors). Linked beside the person's name on
    every page."""

    path = "/twofactor/devices"
    module = "twofactor"
    events: ClassVar[dict[str, str]] = {
        "app_started": "twofactor.app_enrolment_started",
        "app_added": "twofactor.app_confirmed",
        "app_removed": "twofactor.app_removed",
        "passkey_added": "twofactor.passkey_added",
        "passkey_removed": "twofactor.passkey_removed",
    }
    code_field = "code"
    start_shows_page = True

    async def _person(self, request: Request[Any, Any, Any]) -> OwnPerson:
        user = await page_user(request)
        return OwnPerson(user.tenant_id, "employee", user.employee_id, actor=user)

    async def _show(
        self,
        request: Request[Any, Any, Any],
        person: OwnPerson,
        errors: dict[str, str] | None = None,
        status: int = 200,
        setup: AppSetup | None = None,
    ) -> Response[Any]:
        return await self._page(request, person.actor, enrolment=setup, errors=errors, status=status)

    @page_get("/", opt={"account_menu": MY_DEVICES})
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        from core.security import token_hash
        from plugins.twofactor.services import DEVICE_COOKIE

        user = await page_user(request)
        rows = await services.list_devices(user.tenant_id, "employee", user.employee_id)
        current = request.cookies.get(DEVICE_COOKIE) or ""
        mine = token_hash(current) if current and len(current) <= 128 else None
        devices = [{**r, "current": mine is not None and r["token_hash"] == mine} for r in rows]
        return await self._page(request, user, devices)

    async def _page(self, request: Request[Any, Any, Any], user: Any, devices: list[dict] | None = None,
                    enrolment: Any = None, errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        if devices is None:
            devices = await services.list_devices(user.tenant_id, "employee", user.employee_id)
        app = await services.app_state(user.tenant_id, "employee", user.employee_id)
        if enrolment is None and app["status"] == "pending":
            enrolment = await services.pending_app_enrolment(user.tenant_id, "employee", user.employee_id)
        recovery = await services.recovery_state(user.tenant_id, "employee", user.employee_id)
        mine = await passkeys.list_passkeys(user.tenant_id, "employee", user.employee_id)
        response = await render(request, "twofactor/devices.html",
                                {"devices": devices, "app": app, "enrolment": enrolment, "recovery": recovery,
                                 "errors": errors or {}, "passkeys": mine},
                                status_code=status, user=user)
        if enrolment is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    @page_post("/{device_id:int}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        from litestar.exceptions import NotFoundException

        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        try:
            await services.revoke_device(user.tenant_id, "employee", user.employee_id, device_id)
        except TwoFactorRefusal as exc:
            raise NotFoundException("This device was not found.") from exc
        return redirect("/twofactor/devices", t.gettext("The device is forgotten: it will ask for an SMS code again."))

    @page_post("/revoke-all")
    async def revoke_all(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        count = await services.forget_devices(user.tenant_id, "employee", user.employee_id)
        return redirect("/twofactor/devices", t.gettext("Devices forgotten: %(num)d.") % {"num": count})


MY_RECOVERY_CODES = _("My recovery codes")


class MyRecoveryCodesPages(PageController):
    """A person's own one-time recovery codes: how many are left, and making a new set,
    shown once on the answer to that POST (never again: only their hashes are kept)."""

    path = "/twofactor/recovery"

    @page_get("/", opt={"account_menu": MY_RECOVERY_CODES})
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        state = await services.recovery_state(user.tenant_id, "employee", user.employee_id)
        return await render(request, "twofactor/recovery.html", {"state": state, "codes": None}, user=user)

    @page_post("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        codes = await services.generate_recovery_codes(user.tenant_id, "employee", user.employee_id)
        await log_event(user.tenant_id, user, "twofactor.recovery_codes_generated", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        state = await services.recovery_state(user.tenant_id, "employee", user.employee_id)
        response = await render(request, "twofactor/recovery.html", {"state": state, "codes": codes}, user=user)
        response.headers["Cache-Control"] = "no-store"
        return response


PAGES = [TwoFactorPages, TwoFactorSettingsPages, MyDevicesPages, MyRecoveryCodesPages]
