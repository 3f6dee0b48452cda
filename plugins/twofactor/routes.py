"""The two-factor API under /api/twofactor.

Administrators: SMS activation and the daily cap (M3), the contexts (M4), a person's
status (where to fix a missing phone, M6), unlocking, and a person's devices. Everyone
logged in: their own trusted devices, and starting an SMS signature. Without login: entering
a code (``verify``) and asking for a new one (``resend``); the challenge id, 256 random bits
handed only to whoever started the step, is what they act on.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import Cookie
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core import auth
from core.auth import find_tenant
from core.errors import GallraError, problem_body
from core.eventlog import log_event, log_system
from core.problems import PROBLEM_JSON, translations_of
from core.records.shapes import out_of
from core.routes.schemas import Id
from core.web import SESSION_COOKIE, AuthUser, client_ip, private_cookie, session_cookie, user_of
from plugins.twofactor import services
from plugins.twofactor.schemas import (
    AppConfirmIn,
    AppEnrolmentOut,
    AppStateOut,
    ChallengeOut,
    ContextIn,
    ContextOut,
    ContextsOut,
    DeviceOut,
    FactorsResetOut,
    PersonStatusOut,
    RecoveryCodesOut,
    RecoveryStateOut,
    ResendIn,
    RevokedOut,
    SettingsIn,
    SettingsOut,
    SignatureOut,
    SignIn,
    StrongRulesIn,
    StrongRulesOut,
    VerifyIn,
    VerifyOut,
)
from plugins.twofactor.services import DEVICE_COOKIE, LockoutRefusal, TwoFactorRefusal

RECOVERY_FORMAT = services.RECOVERY_FORMAT
KindPath = Annotated[str, PathParameter(min_length=1, max_length=16)]
KeyPath = Annotated[str, PathParameter(min_length=1, max_length=63)]
ChallengePath = Annotated[str, PathParameter(min_length=1, max_length=128)]


def _refusal(request: Request[Any, Any, Any], exc: TwoFactorRefusal) -> Response[Any]:
    """Problem details in the request's language, with ``retry_after`` for a throttled send."""
    body = problem_body(exc, translations_of(request), instance=request.url.path)
    headers = {}
    if isinstance(exc, LockoutRefusal):
        # Who would be locked out, and whether ``confirm`` can switch it on anyway.
        body["locked_out"] = [
            {"employee_id": p.employee_id, "name": p.name, "is_admin": p.is_admin} for p in exc.people
        ]
        body["confirmable"] = exc.confirmable
    if exc.retry_after is not None:
        body["retry_after"] = exc.retry_after
        headers["Retry-After"] = str(exc.retry_after)
    return Response(body, status_code=exc.status, headers=headers, media_type=PROBLEM_JSON)


def _text(request: Request[Any, Any, Any], message: str, **params: Any) -> str:
    """A message of an answer in the language the API client asks for (English without)."""
    return GallraError(message, **params).text(translations_of(request))


def _reason(sms_active: bool) -> tuple[str | None, str | None]:
    if sms_active:
        return None, None
    return services.SMS_FIRST_SV, services.SMS_FIRST_EN


async def _settings_out(tenant_id: int) -> SettingsOut:
    cfg = await services.sms_settings(tenant_id)
    reason_sv, reason_en = _reason(cfg.sms_active)
    return SettingsOut(
        sms_active=cfg.sms_active,
        provider=cfg.provider,
        sender=cfg.sender,
        daily_cap=cfg.daily_cap,
        daily_cap_max=services.daily_cap_max(),
        sent_today=await services.sent_today(tenant_id),
        providers=list(services.PROVIDERS),
        can_enable_contexts=cfg.sms_active,
        reason_sv=reason_sv,
        reason_en=reason_en,
    )


def _device_out(row: dict, current_token: str | None) -> DeviceOut:
    from core.security import token_hash

    current = bool(current_token) and len(current_token or "") <= 128
    return out_of(DeviceOut, row, current=current and token_hash(current_token or "") == row["token_hash"])


async def _scope(request: Request[Any, Any, Any], tenant: str | None) -> int | None:
    """The organization a code request must belong to: the one named, else the logged-in
    user's, else none (the unguessable challenge id alone, e.g. a customer's public link)."""
    if tenant:
        row = await find_tenant(tenant)
        if row is None:
            raise TwoFactorRefusal(services.CHALLENGE_NOT_FOUND, 404, code="twofactor.challenge_not_found")
        return int(row["id"])
    user = await user_of(request)
    return user.tenant_id if user is not None else None


def _device_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    return private_cookie(request, DEVICE_COOKIE, token, int(services.DEVICE_TTL.total_seconds()))



async def _devices_of_known_person(tenant_id: int, kind: str, person_id: int) -> list[dict]:
    """The person's devices; 404 for an id that is no person of this organization (another
    organization's ids must not answer differently from ids that do not exist)."""
    services.check_kind(kind)
    rows = await services.list_devices(tenant_id, kind, person_id)
    if not rows and await services.describe_person(tenant_id, kind, person_id) is None:
        raise services.TwoFactorRefusal(services.PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    return rows

class TwoFactorController(Controller):
    path = "/api/twofactor"
    tags: ClassVar[list[str]] = ["twofactor"]
    exception_handlers: ClassVar[dict[Any, Any]] = {TwoFactorRefusal: _refusal}

    # --- settings (M3) -------------------------------------------------------------

    @get("/settings")
    async def get_settings(self, admin: AuthUser) -> SettingsOut:
        """SMS activation, provider, sender name and the daily cap; until SMS is active,
        ``reason_*`` says why no context can be switched on."""
        return await _settings_out(admin.tenant_id)

    @put("/settings")
    async def put_settings(self, admin: AuthUser, data: JSONBody[SettingsIn]) -> SettingsOut:
        """Turn SMS on or off and set the provider, sender name and daily cap."""
        await services.save_sms_settings(
            admin.tenant_id,
            sms_active=data.sms_active,
            provider=data.provider,
            sender=data.sender,
            daily_cap=data.daily_cap,
        )
        return await _settings_out(admin.tenant_id)

    # --- contexts (M4) -------------------------------------------------------------

    @get("/contexts")
    async def list_contexts(self, admin: AuthUser) -> ContextsOut:
        """Every place that can ask for an SMS code, declared by the modules the
        organization has turned on, with its choice."""
        cfg = await services.sms_settings(admin.tenant_id)
        states = await services.context_states(admin.tenant_id)
        strong = (await services.strong_rules(admin.tenant_id)).contexts
        reason_sv, reason_en = _reason(cfg.sms_active)
        return ContextsOut(
            sms_active=cfg.sms_active,
            reason_sv=reason_sv,
            reason_en=reason_en,
            contexts=[
                out_of(
                    ContextOut, c, enabled=states.get(c.key, False), active=states.get(c.key, False) and cfg.sms_active,
                    strong_required=c.key in strong,
                )
                for c in await services.visible_contexts(admin.tenant_id)
            ],
        )

    @put("/contexts/{key:str}")
    async def put_context(self, admin: AuthUser, key: KeyPath, data: JSONBody[ContextIn]) -> ContextOut:
        """Switch one context on or off. On needs SMS to be active (409 says so). Switching
        on a context that asks employees for a code is refused (409
        ``twofactor.locks_out_admins``, with ``locked_out``) when no administrator could
        get a code (no phone, no recovery codes), and needs ``confirm: true`` (409
        ``twofactor.confirm_lockout`` lists them) when anybody else could not."""
        ctx = (await services.switch_contexts(admin.tenant_id, {key: data.enabled}, data.confirm))[0]
        cfg = await services.sms_settings(admin.tenant_id)
        remaining = None
        if data.enabled and ctx.key in services.employee_contexts():
            remaining = await services.recovery_remaining(admin.tenant_id, "employee", admin.employee_id)
        return out_of(
            ContextOut, ctx, enabled=data.enabled, active=data.enabled and cfg.sms_active,
            recovery_codes_remaining=remaining,
            strong_required=ctx.key in (await services.strong_rules(admin.tenant_id)).contexts,
        )

    # --- which factor (#21.3) ------------------------------------------------------------

    @get("/strong")
    async def get_strong(self, admin: AuthUser) -> StrongRulesOut:
        """Where an authenticator app or a passkey is required (never SMS), and whether
        every administrator must use one."""
        rules = await services.strong_rules(admin.tenant_id)
        return StrongRulesOut(contexts=sorted(rules.contexts), admins=rules.admins)

    @put("/strong")
    async def put_strong(self, request: Request[Any, Any, Any], admin: AuthUser,
                         data: JSONBody[StrongRulesIn]) -> StrongRulesOut:
        """Require an app or a passkey in contexts, and/or of every administrator. Switching
        a rule on is refused (409 ``twofactor.locks_out_admins``, with ``locked_out``) when
        no administrator could then log in (no app, no passkey, no recovery codes), and
        needs ``confirm: true`` (409 ``twofactor.confirm_lockout``) when anybody else could
        not. 404 for an unknown context."""
        rules = await services.save_strong_rules(admin.tenant_id, data.contexts, data.admins, data.confirm)
        await log_event(admin.tenant_id, admin, "twofactor.strong_rules_changed", "twofactor",
                        ip=client_ip(request))
        return StrongRulesOut(contexts=sorted(rules.contexts), admins=rules.admins)

    # --- people (M6), for administrators ----------------------------------------------

    @get("/people/{kind:str}/{person_id:int}/status")
    async def person_status(self, admin: AuthUser, kind: KindPath, person_id: Id) -> PersonStatusOut:
        """Whether the person can get codes, on which masked number, and where an
        administrator adds a missing phone number."""
        return PersonStatusOut(**await services.person_status(admin.tenant_id, kind, person_id))

    @post("/people/{kind:str}/{person_id:int}/unlock", status_code=HTTP_200_OK)
    async def unlock(self, admin: AuthUser, kind: KindPath, person_id: Id) -> PersonStatusOut:
        """Reset the person's count of wrong codes (only an administrator or a right code
        does; time does not)."""
        await services.person_status(admin.tenant_id, kind, person_id)  # 404 for strangers
        await services.unlock(admin.tenant_id, kind, person_id)
        return PersonStatusOut(**await services.person_status(admin.tenant_id, kind, person_id))

    @post("/people/{kind:str}/{person_id:int}/reset-factors", status_code=HTTP_200_OK)
    async def reset_factors(
        self, request: Request[Any, Any, Any], admin: AuthUser, kind: KindPath, person_id: Id
    ) -> FactorsResetOut:
        """Remove every second factor of the person (authenticator app, passkeys, recovery
        codes, remembered devices): recorded in the event log, and the person is told by
        e-mail. 404 for a person who is not this organization's."""
        removed = await services.reset_factors(admin.tenant_id, admin, kind, person_id, ip=client_ip(request))
        return FactorsResetOut(removed=removed)

    @get("/people/{kind:str}/{person_id:int}/devices")
    async def person_devices(self, admin: AuthUser, kind: KindPath, person_id: Id) -> list[DeviceOut]:
        """The person's trusted devices (browsers that skip the SMS code), and until when."""
        rows = await _devices_of_known_person(admin.tenant_id, kind, person_id)
        return [_device_out(r, None) for r in rows]

    @delete("/people/{kind:str}/{person_id:int}/devices", status_code=HTTP_200_OK)
    async def revoke_person_devices(self, admin: AuthUser, kind: KindPath, person_id: Id) -> RevokedOut:
        """Forget every trusted device of the person: their next login asks for a code."""
        await _devices_of_known_person(admin.tenant_id, kind, person_id)
        return RevokedOut(revoked=await services.forget_devices(admin.tenant_id, kind, person_id))

    @delete("/people/{kind:str}/{person_id:int}/devices/{device_id:int}", status_code=HTTP_200_OK)
    async def revoke_person_device(
        self, admin: AuthUser, kind: KindPath, person_id: Id, device_id: Id
    ) -> RevokedOut:
        """Forget one trusted device of the person."""
        services.check_kind(kind)
        await services.revoke_device(admin.tenant_id, kind, person_id, device_id)
        return RevokedOut(revoked=1)

    # --- own devices (M7) --------------------------------------------------------------

    @get("/devices")
    async def my_devices(self, request: Request[Any, Any, Any], user: AuthUser) -> list[DeviceOut]:
        """The browsers where I skip the SMS code, and until when."""
        rows = await services.list_devices(user.tenant_id, "employee", user.employee_id)
        current = request.cookies.get(DEVICE_COOKIE)
        return [_device_out(r, current) for r in rows]

    @delete("/devices", status_code=HTTP_200_OK)
    async def revoke_my_devices(self, user: AuthUser) -> RevokedOut:
        """Forget all my trusted devices: my next login asks for a code everywhere."""
        return RevokedOut(revoked=await services.forget_devices(user.tenant_id, "employee", user.employee_id))

    @delete("/devices/{device_id:int}", status_code=HTTP_200_OK)
    async def revoke_my_device(self, user: AuthUser, device_id: Id) -> RevokedOut:
        """Forget one of my trusted devices."""
        await services.revoke_device(user.tenant_id, "employee", user.employee_id, device_id)
        return RevokedOut(revoked=1)

    # --- own recovery codes -----------------------------------------------------------

    @get("/recovery-codes")
    async def my_recovery_codes(self, user: AuthUser) -> RecoveryStateOut:
        """How many of my recovery codes are unused (the codes themselves are never shown again)."""
        return RecoveryStateOut(**await services.recovery_state(user.tenant_id, "employee", user.employee_id))

    @post("/recovery-codes", status_code=HTTP_201_CREATED)
    async def new_recovery_codes(self, request: Request[Any, Any, Any], user: AuthUser) -> Response[RecoveryCodesOut]:
        """Make a new set of 10 one-time recovery codes, replacing the old set. Each can be
        entered once instead of an SMS code. Shown in this answer only: keep them safe."""
        codes = await services.generate_recovery_codes(user.tenant_id, "employee", user.employee_id)
        await log_event(user.tenant_id, user, "twofactor.recovery_codes_generated", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return Response(
            RecoveryCodesOut(codes=codes, remaining=len(codes)),
            status_code=HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    # --- own authenticator app (TOTP) ----------------------------------------------------

    @get("/app")
    async def my_app(self, user: AuthUser) -> AppStateOut:
        """Whether I have an authenticator app (active, or pending its first code)."""
        return AppStateOut(**await services.app_state(user.tenant_id, "employee", user.employee_id))

    @post("/app", status_code=HTTP_201_CREATED)
    async def start_my_app(self, request: Request[Any, Any, Any], user: AuthUser) -> Response[AppEnrolmentOut]:
        """Start setting up an authenticator app: a new secret, as a QR code and as text,
        shown in this answer. It works only after ``POST /app/confirm`` with a current code."""
        enrolment = await services.start_app_enrolment(user.tenant_id, "employee", user.employee_id)
        await log_event(user.tenant_id, user, "twofactor.app_enrolment_started", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return Response(
            AppEnrolmentOut(status="pending", secret=enrolment.secret, secret_groups=enrolment.secret_groups,
                            otpauth_uri=enrolment.uri, qr_svg=enrolment.qr_svg),
            status_code=HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @post("/app/confirm", status_code=HTTP_200_OK)
    async def confirm_my_app(
        self, request: Request[Any, Any, Any], user: AuthUser, data: JSONBody[AppConfirmIn]
    ) -> AppStateOut:
        """Activate my pending app with the code it shows now."""
        await services.confirm_app(user.tenant_id, "employee", user.employee_id, data.code)
        await log_event(user.tenant_id, user, "twofactor.app_confirmed", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return AppStateOut(**await services.app_state(user.tenant_id, "employee", user.employee_id))

    @delete("/app", status_code=HTTP_200_OK)
    async def remove_my_app(self, request: Request[Any, Any, Any], user: AuthUser) -> RevokedOut:
        """Remove my authenticator app: codes come by SMS again."""
        await services.remove_app(user.tenant_id, "employee", user.employee_id)
        await log_event(user.tenant_id, user, "twofactor.app_removed", "twofactor", "employee",
                        user.employee_id, ip=client_ip(request))
        return RevokedOut(revoked=1)

    @delete("/people/{kind:str}/{person_id:int}/app", status_code=HTTP_200_OK)
    async def remove_person_app(
        self, request: Request[Any, Any, Any], admin: AuthUser, kind: KindPath, person_id: Id
    ) -> RevokedOut:
        """Remove a person's authenticator app (administrators; recorded in the event log)."""
        await services.remove_app(admin.tenant_id, kind, person_id)
        await log_event(admin.tenant_id, admin, "twofactor.app_removed", "twofactor", kind, person_id,
                        ip=client_ip(request))
        return RevokedOut(revoked=1)

    # --- signing (M4 6-9) --------------------------------------------------------------

    @post("/sign", status_code=HTTP_202_ACCEPTED)
    async def sign(
        self, request: Request[Any, Any, Any], user: AuthUser, data: JSONBody[SignIn]
    ) -> Response[ChallengeOut]:
        """Send a signing code for a signing context (extra costs, payment plans, quotes,
        GDPR inventory...). A person signs for themselves; only an administrator may ask
        another person, with a ``reason`` that is recorded (the event log names who asked
        whom; the challenge keeps the reason), and wrong codes then count against the
        administrator, never the person asked. The module's step is then re-submitted with
        the challenge id, and the module gets the signature from ``challenge_second_factor``."""
        ctx = await services.find_context(user.tenant_id, data.context)
        if ctx.purpose != "sign":
            raise TwoFactorRefusal(
                "This is not a signing step; its code is asked for by its own flow.",
                400,
                field="context",
                code="twofactor.not_a_signing_step",
            )
        myself = data.person_kind == "employee" and data.person_id == user.employee_id
        reason = (data.reason or "").strip()
        if not myself:
            # Asking someone else sends them an SMS: administrators only, for a stated reason.
            if not user.is_admin:
                raise TwoFactorRefusal(
                    "You can only start a signing for yourself; an administrator can ask another "
                    "person, with a reason.",
                    403,
                    code="twofactor.sign_for_others",
                )
            if not reason:
                raise TwoFactorRefusal(
                    "Say why you ask this person for a signature (reason).",
                    400,
                    field="reason",
                    code="twofactor.reason_required",
                )
        if await services.active_context(user.tenant_id, ctx.key) is None:
            return Response(
                ChallengeOut(required=False, message="SMS signing is not switched on for this step."),
                status_code=HTTP_200_OK,
            )
        if myself and await services.strong_required(user.tenant_id, ctx.key, "employee", user.employee_id):
            # An app or a passkey is required here: the app's code (or a recovery code), no SMS.
            from core.contracts import SecondFactorRequest

            decision = await services.decide_strong(
                SecondFactorRequest(tenant_id=user.tenant_id, person_kind="employee", person_id=user.employee_id,
                                    context=ctx.key, device_token=None, user_agent=""),
                ctx, 0,
            )
            if (refusal := decision.refusal()) is not None:
                raise refusal
            return Response(
                ChallengeOut(required=True, challenge_id=decision.challenge_id, masked_phone="",
                             message=decision.message_text(translations_of(request))),
                status_code=HTTP_202_ACCEPTED,
            )
        started = await services.start_challenge(
            user.tenant_id,
            data.person_kind,
            data.person_id,
            ctx,
            requested_by=user.employee_id,
            reason=reason,
        )
        if not myself:
            await log_event(
                user.tenant_id,
                user,
                "twofactor.signing_requested",
                "twofactor",
                data.person_kind,
                data.person_id,
                ip=client_ip(request),
            )
        return Response(
            ChallengeOut(
                required=True,
                challenge_id=started.challenge_id,
                masked_phone=started.masked_phone,
                expires_at=started.expires_at,
                message=started.text(translations_of(request)),
            ),
            status_code=HTTP_202_ACCEPTED,
        )

    # --- codes, without login ----------------------------------------------------------

    @post("/challenges/{challenge_id:str}/verify", status_code=HTTP_200_OK)
    async def verify(
        self, request: Request[Any, Any, Any], challenge_id: ChallengePath, data: JSONBody[VerifyIn]
    ) -> Response[VerifyOut]:
        """Enter the code. An employee login is then complete (session and a remembered
        device); any other step is re-submitted with the challenge id."""
        scope = await _scope(request, data.tenant)
        ua = request.headers.get("user-agent", "")
        given = [v for v in (data.code, data.recovery_code, data.app_code, data.passkey, data.factor) if v is not None]
        if len(given) != 1:
            raise TwoFactorRefusal(
                "Give either the SMS code or a recovery code.", 400, field="code", code="twofactor.code_or_recovery"
            )
        if (data.factor is None) != (data.answer is None):
            raise TwoFactorRefusal(services.FACTOR_AND_ANSWER, 400, field="answer", code="twofactor.factor_and_answer")
        if data.factor is not None:
            result = await services.verify_factor(scope, challenge_id, data.factor, data.answer or "", ua)
        elif data.passkey is not None:
            from plugins.twofactor.passkeys import verify_passkey

            result = await verify_passkey(scope, challenge_id, data.passkey, ua)
        elif data.app_code is not None:
            result = await services.verify_code(scope, challenge_id, data.app_code, ua, app=True)
        elif data.recovery_code is not None:
            if services.normalize_recovery_code(data.recovery_code) is None:
                raise TwoFactorRefusal(RECOVERY_FORMAT, 400, field="recovery_code", code="twofactor.recovery_format")
            result = await services.verify_code(scope, challenge_id, data.recovery_code, ua, recovery=True)
        else:
            result = await services.verify_code(scope, challenge_id, data.code or "", ua)
        cookies: list[Cookie] = []
        out = VerifyOut(
            status="verified",
            context=result.context,
            purpose=result.purpose,
            message=_text(request, services.CODE_RIGHT),
        )
        if result.device_token and result.device_expires_at:
            cookies.append(_device_cookie(request, result.device_token))
            out.device_remembered_until = result.device_expires_at
            out.device_remembered_days = services.DEVICE_DAYS
            out.message = _text(
                request,
                services.CODE_RIGHT_DEVICE,
                date=result.device_expires_at.date().isoformat(),
                days=services.DEVICE_DAYS,
            )
        if await services.completes_employee_login(result):
            # A new session id at every login, as at a login without a second factor.
            await auth.logout(request.cookies.get(SESSION_COOKIE))
            token = await auth.create_session(result.tenant_id, result.person_id, client_ip(request), ua)
            cookies.append(session_cookie(request, token))
            how = services.login_how(result)
            await log_system(result.tenant_id, "login", 200, how, employee_id=result.person_id)
            out.logged_in = True
            out.employee_id = result.person_id
        if result.purpose == "sign":
            out.signature = SignatureOut(
                name=result.signer_name, masked_phone=result.masked_phone, signed_at=result.verified_at
            )
        return Response(out, cookies=cookies)

    @post("/challenges/{challenge_id:str}/resend", status_code=HTTP_202_ACCEPTED)
    async def resend(
        self, request: Request[Any, Any, Any], challenge_id: ChallengePath, data: JSONBody[ResendIn]
    ) -> ChallengeOut:
        """A new code for the same step (60 seconds apart, 5 an hour)."""
        scope = await _scope(request, data.tenant)
        started = await services.resend(scope, challenge_id)
        return ChallengeOut(
            required=True,
            challenge_id=started.challenge_id,
            masked_phone=started.masked_phone,
            expires_at=started.expires_at,
            message=started.text(translations_of(request)),
        )


ROUTES = [TwoFactorController]
