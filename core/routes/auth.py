"""Login, logout, the current user and password reset for employees."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from core import auth
from core.auth import AuthError
from core.contracts import SecondFactorRequest
from core.eventlog import log_system
from core.problems import translations_of
from core.routes.schemas import (
    LoginIn,
    LoginOut,
    MeOut,
    MessageOut,
    ResetCompleteIn,
    ResetCompleteOut,
    ResetRequestIn,
    SecondFactorOut,
)
from core.secondfactor import ask_second_factor
from core.web import (
    SESSION_COOKIE,
    AuthUser,
    clear_session_cookie,
    client_ip,
    session_cookie,
    user_of,
)
from core.worker import enqueue, task

RESET_TASK = "core.start_password_reset"
RESET_ANSWER = (
    "If the organization and e-mail address match an account, a reset link is on its way. "
    "It is valid for 30 minutes."
)


@task(RESET_TASK, max_retries=3)
async def start_password_reset_task(tenant: str, email: str) -> None:
    await auth.start_password_reset(tenant, email)


async def request_reset(tenant: str, email: str, ip: str) -> None:
    """A reset request from the API or the page: counted against the limits (429 past
    them, alike for every address), then mailed by a worker, so the answer and its timing
    do not tell whether the account exists."""
    await auth.limit_reset_request("employee_reset", tenant, email, ip)
    enqueue(RESET_TASK, tenant, email)


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post("/login", status_code=HTTP_200_OK)
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> Response[LoginOut]:
        """Log in with organization, e-mail and password.

        A device the person has not used before may need an SMS code first: then the answer
        says so and no session is opened until the code is given.
        """
        ip = client_ip(request)
        ua = request.headers.get("user-agent", "")
        try:
            employee = await auth.check_credentials(data.tenant, data.email, data.password)
        except AuthError as exc:
            # The system log (M24) notes the failure, never the address or the password.
            await auth.log_failed_login(data.tenant, data.email, exc)
            raise
        tenant_id = int(employee["tenant_id"])
        decision = await auth.ask_login_second_factor(
            tenant_id, int(employee["id"]), request.cookies.get("gallra_device"), ua
        )
        if decision is not None and (refusal := decision.refusal()) is not None:
            raise refusal
        if decision is not None and decision.required:
            return Response(
                LoginOut(
                    status="second_factor_required",
                    second_factor=SecondFactorOut(
                        challenge_id=decision.challenge_id,
                        masked_phone=decision.masked_phone,
                        message=decision.message_text(translations_of(request)),
                    ),
                ),
                status_code=HTTP_202_ACCEPTED,
            )
        # A new session id at every login: a token planted before login is worthless.
        token = await auth.sign_in(tenant_id, int(employee["id"]), ip, ua, request.cookies.get(SESSION_COOKIE))
        return Response(
            LoginOut(
                status="logged_in",
                employee_id=int(employee["id"]),
                name=employee["name"],
                role=employee["role"],
            ),
            cookies=[session_cookie(request, token)],
        )

    @post("/logout", status_code=HTTP_200_OK)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[MessageOut]:
        """End the session and clear its cookie (answers 200 without a session too)."""
        who = await user_of(request)
        await auth.logout(request.cookies.get(SESSION_COOKIE))
        if who is not None:
            await log_system(who.tenant_id, "logout", 200, "", employee_id=who.employee_id)
        response = Response(MessageOut(message="Logged out."))
        clear_session_cookie(response)
        return response

    @get("/me")
    async def me(self, user: AuthUser) -> MeOut:
        """The logged-in employee: organization, role, language and group permissions."""
        return MeOut(
            employee_id=user.employee_id,
            tenant=user.tenant_slug,
            name=user.name,
            email=user.email,
            role=user.role,
            language=user.language,
            permissions=sorted(user.permissions),
        )

    @post("/password-reset", status_code=HTTP_202_ACCEPTED)
    async def request_reset(
        self, request: Request[Any, Any, Any], data: JSONBody[ResetRequestIn]
    ) -> MessageOut:
        """Ask for a reset link. The answer and its timing are the same for every address.
        At most 3 requests an hour per organization and e-mail, and 20 per client address
        (``GALLRA_RESET_MAX_PER_ACCOUNT``, ``_PER_ADDRESS``, ``GALLRA_RESET_WINDOW_MINUTES``):
        429 after that, whether or not the account exists. A new link replaces the older."""
        await request_reset(data.tenant, data.email, client_ip(request))
        return MessageOut(message=RESET_ANSWER)

    @post("/password-reset/complete", status_code=HTTP_200_OK)
    async def complete_reset(
        self, request: Request[Any, Any, Any], data: JSONBody[ResetCompleteIn]
    ) -> Response[ResetCompleteOut]:
        """Choose the new password. Every session of the person ends; log in again after.

        When the organization wants an SMS code at password reset, the first call answers
        202 with the challenge (the link stays valid); enter the code, then send the same
        body again with ``challenge_id``.
        """
        auth.check_password_rules(data.password)
        row = await auth.check_reset_token(data.token)
        decision = await ask_second_factor(
            SecondFactorRequest(
                tenant_id=int(row["tenant_id"]),
                person_kind="employee",
                person_id=int(row["employee_id"]),
                context="employee_reset",
                device_token=None,
                user_agent=request.headers.get("user-agent", "")[:200],
                challenge_id=data.challenge_id,
            )
        )
        if decision is not None and (refusal := decision.refusal()) is not None:
            raise refusal
        if decision is not None and decision.required:
            return Response(
                ResetCompleteOut(
                    message=decision.message_text(translations_of(request)) or "Enter the SMS code first.",
                    status="second_factor_required",
                    second_factor=SecondFactorOut(
                        challenge_id=decision.challenge_id,
                        masked_phone=decision.masked_phone,
                        message=decision.message_text(translations_of(request)),
                    ),
                ),
                status_code=HTTP_202_ACCEPTED,
            )
        await auth.complete_password_reset(data.token, data.password)
        return Response(
            ResetCompleteOut(message="The password is changed. Log in with the new password.")
        )
