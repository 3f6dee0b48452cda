"""Customer-portal API: accounts for employees under /api/customers, and the portal itself
under /api/portal (no employee session; the person's own ``gallra_portal`` cookie).

The portal handlers carry ``opt={"public": True}`` so the module guard, which looks at an
*employee* session, leaves them alone: each checks that the customers module is on for
the portal's own tenant (404 otherwise), whatever employee cookie the browser also holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core import approvals
from core.auth import AuthError, SessionUser
from core.config import get_settings
from core.contracts import SecondFactorDecision
from core.db import atomic
from core.errors import _
from core.eventlog import log_event, log_system
from core.pages import language_of
from core.problems import translations_of
from core.routes.schemas import ChallengeId, Id, MessageOut, SecondFactorOut
from core.web import AuthUser, client_ip, private_cookie
from plugins.portal import services as portal
from plugins.portal.services import (
    DEVICE_COOKIE,
    PORTAL_COOKIE,
    RESET_ANSWER,
    PortalUser,
    SecondFactorRequired,
)

PUBLIC = {"public": True}

KindPath = Annotated[str, PathParameter(max_length=32)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Email = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
AnyRequest = Request[Any, Any, Any]


# --- shapes ------------------------------------------------------------------------------


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    # The login name and where the invitation goes; the card's e-mail when left out.
    email: Email | None = None


class PortalAccountOut(msgspec.Struct):
    id: int
    person_kind: str
    person_id: int
    customer_id: int
    email: str | None
    # "invited" (no password yet), "active", "disabled" or "anonymized".
    status: str
    created_at: datetime
    invited_at: datetime | None
    activated_at: datetime | None
    disabled_at: datetime | None
    invitation_expires_at: datetime | None = None


class PortalStatusOut(msgspec.Struct):
    person_kind: str
    person_id: int
    has_account: bool
    account: PortalAccountOut | None = None


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug
    email: Email
    password: Password
    # After the SMS code was verified at /api/twofactor/challenges/{id}/verify.
    challenge_id: ChallengeId | None = None


class ActivateIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug
    token: Token
    password: Password
    challenge_id: ChallengeId | None = None


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug
    email: Email


class StepOut(msgspec.Struct):
    status: Literal["logged_in", "password_set", "second_factor_required"]
    message: str
    second_factor: SecondFactorOut | None = None


class MeOut(msgspec.Struct):
    tenant: str
    person_kind: str
    person_id: int
    customer_id: int
    name: str
    email: str


class ApprovalLineOut(msgspec.Struct):
    description: str
    amount: Decimal


class ApprovalOut(msgspec.Struct):
    # "quote", "extra_cost" or "payment_plan"; (kind, item_id) names it in the URLs below.
    kind: str
    item_id: int
    module: str
    label_sv: str
    label_en: str
    title: str
    total: Decimal
    number: int | None
    lines: list[ApprovalLineOut]
    sent_at: datetime | None
    valid_until: date | None


class DecideIn(msgspec.Struct, forbid_unknown_fields=True):
    # After the SMS code was verified at /api/twofactor/challenges/{id}/verify.
    challenge_id: ChallengeId | None = None


class DecisionOut(msgspec.Struct):
    status: Literal["approved", "declined", "second_factor_required"]
    message: str
    decided_at: datetime | None = None
    second_factor: SecondFactorOut | None = None


# --- helpers -----------------------------------------------------------------------------


async def account_out(row: dict) -> PortalAccountOut:
    expires = None
    if row["activated_at"] is None and row["disabled_at"] is None:
        expires = await portal.invitation_expires_at(int(row["tenant_id"]), int(row["id"]))
    return PortalAccountOut(
        id=row["id"],
        person_kind=row["person_kind"],
        person_id=row["person_id"],
        customer_id=row["customer_id"],
        email=row["email"],
        status=portal.account_status(row),
        created_at=row["created_at"],
        invited_at=row["invited_at"],
        activated_at=row["activated_at"],
        disabled_at=row["disabled_at"],
        invitation_expires_at=expires,
    )


async def status_out(tenant_id: int, kind: str, person_id: int) -> PortalStatusOut:
    row = await portal.current_account_of(tenant_id, kind, person_id)
    return PortalStatusOut(
        person_kind=kind,
        person_id=person_id,
        has_account=row is not None and row["disabled_at"] is None,
        account=await account_out(row) if row is not None else None,
    )


ENTER_CODE = _("Enter the SMS code, then send the same request again with challenge_id.")
PASSWORD_SET = _("Your password is set. Log in with it.")
LOGGED_IN = _("Logged in to the customer portal.")
LOGGED_OUT = _("Logged out.")
APPROVED = _("Approved.")
DECLINED = _("Declined.")
PASSWORD_CHANGED = _("The password is changed. Log in with the new password.")


def _t(request: AnyRequest, message: str) -> str:
    """A message of the API in the language the request asks for (English by default)."""
    t = translations_of(request)
    return t.gettext(message) if t is not None else message


def challenge_response(
    decision: SecondFactorDecision, request: AnyRequest | None = None, out: Any = None
) -> Response[Any]:
    """``202``: the step waits for the SMS code; the messages in the request's language."""
    t = translations_of(request) if request is not None else None
    return Response(
        (out or StepOut)(
            status="second_factor_required",
            message=decision.message_text(t) or (t.gettext(ENTER_CODE) if t is not None else ENTER_CODE),
            second_factor=SecondFactorOut(
                challenge_id=decision.challenge_id,
                masked_phone=decision.masked_phone,
                message=decision.message_text(t),
            ),
        ),
        status_code=HTTP_202_ACCEPTED,
    )


def portal_cookie(request: AnyRequest, token: str) -> Cookie:
    return private_cookie(request, PORTAL_COOKIE, token, get_settings().session_max_hours * 3600)


async def portal_user(request: AnyRequest) -> PortalUser:
    user = await portal.authenticate(request.cookies.get(PORTAL_COOKIE))
    if user is None:
        raise AuthError(
            "Log in to the customer portal first: no valid portal session (it may have timed out).",
            code="portal.login_first",
        )
    return user


async def _event(request: AnyRequest, user: SessionUser, action: str, account_id: int) -> None:
    await log_event(
        user.tenant_id,
        user,
        action,
        "customers",
        "portal_account",
        account_id,
        ip=client_ip(request),
    )


# --- employees: invitations and account status -------------------------------------------


class PortalAccountsController(Controller):
    path = "/api/customers"
    tags = ("customers",)

    @post("/{customer_id:int}/portal-invite", status_code=HTTP_201_CREATED)
    async def invite_customer(
        self, request: AnyRequest, user: AuthUser, customer_id: Id, data: JSONBody[InviteIn]
    ) -> PortalAccountOut:
        """Invite a private customer to the portal: an e-mail with a link (7 days, single
        use) where they choose their password. Renews a pending invitation."""
        async with atomic():
            row = await portal.invite(user.tenant_id, "customer", customer_id, data.email)
            await _event(request, user, "portal_account.invited", int(row["id"]))
        return await account_out(row)

    @post("/contacts/{contact_id:int}/portal-invite", status_code=HTTP_201_CREATED)
    async def invite_contact(
        self, request: AnyRequest, user: AuthUser, contact_id: Id, data: JSONBody[InviteIn]
    ) -> PortalAccountOut:
        """Invite a contact person to the portal (as for a private customer)."""
        async with atomic():
            row = await portal.invite(user.tenant_id, "contact", contact_id, data.email)
            await _event(request, user, "portal_account.invited", int(row["id"]))
        return await account_out(row)

    @get("/{customer_id:int}/portal-account")
    async def customer_account(self, user: AuthUser, customer_id: Id) -> PortalStatusOut:
        """Whether the customer has a portal account, and its state."""
        await portal.standing_of(user.tenant_id, "customer", customer_id)
        return await status_out(user.tenant_id, "customer", customer_id)

    @get("/contacts/{contact_id:int}/portal-account")
    async def contact_account(self, user: AuthUser, contact_id: Id) -> PortalStatusOut:
        """Whether the contact person has a portal account, and its state."""
        await portal.standing_of(user.tenant_id, "contact", contact_id)
        return await status_out(user.tenant_id, "contact", contact_id)

    @get("/portal-accounts/{account_id:int}")
    async def get_account(self, user: AuthUser, account_id: Id) -> PortalAccountOut:
        """One portal account (person search links here)."""
        return await account_out(await portal.get_account(user.tenant_id, account_id))

    @post("/portal-accounts/{account_id:int}/disable", status_code=HTTP_200_OK)
    async def disable_account(
        self, request: AnyRequest, user: AuthUser, account_id: Id
    ) -> PortalAccountOut:
        """Close the account: its sessions and links end at once. Invite again to reopen."""
        async with atomic():
            row = await portal.disable(user.tenant_id, account_id)
            await _event(request, user, "portal_account.disabled", account_id)
        return await account_out(row)


# --- the portal (customers and contact persons) ------------------------------------------


class PortalController(Controller):
    path = "/api/portal"
    tags = ("portal",)

    @post("/activate", status_code=HTTP_200_OK, opt=PUBLIC)
    async def activate(self, request: AnyRequest, data: JSONBody[ActivateIn]) -> Response[StepOut]:
        """Choose the first password from the invitation link.

        With SMS at "customer conversations" switched on, the first answer is 202 with the
        challenge; enter the code, then send the same body again with ``challenge_id``.
        The person then logs in with the new password.
        """
        return await _password_step(request, data, portal.activate, PASSWORD_SET)

    @post("/login", status_code=HTTP_200_OK, opt=PUBLIC)
    async def login(self, request: AnyRequest, data: JSONBody[LoginIn]) -> Response[StepOut]:
        """Log in with organization, e-mail and password.

        From a device not yet trusted, with SMS at portal login switched on, the answer is
        202 with the challenge: verify the code at /api/twofactor/challenges/{id}/verify
        (with ``tenant``; the device is remembered), then send this body again with
        ``challenge_id``.
        """
        try:
            _, token = await portal.login(
                data.tenant,
                data.email,
                data.password,
                data.challenge_id,
                request.cookies.get(DEVICE_COOKIE),
                request.headers.get("user-agent", ""),
                request.cookies.get(PORTAL_COOKIE),
            )
        except SecondFactorRequired as required:
            return challenge_response(required.decision, request)
        return Response(
            StepOut(status="logged_in", message=_t(request, LOGGED_IN)),
            cookies=[portal_cookie(request, token)],
        )

    @post("/logout", status_code=HTTP_200_OK, opt=PUBLIC)
    async def logout(self, request: AnyRequest) -> Response[MessageOut]:
        """End the portal session and clear its cookie."""
        tenant_id = await portal.logout(request.cookies.get(PORTAL_COOKIE))
        if tenant_id is not None:
            await log_system(tenant_id, "logout", 200, "customer portal")
        response = Response(MessageOut(message=_t(request, LOGGED_OUT)))
        response.delete_cookie(PORTAL_COOKIE, path="/")
        return response

    @get("/me", opt=PUBLIC)
    async def me(self, request: AnyRequest) -> MeOut:
        """Who is logged in to the portal."""
        user = await portal_user(request)
        return MeOut(
            tenant=user.tenant_slug,
            person_kind=user.person_kind,
            person_id=user.person_id,
            customer_id=user.customer_id,
            name=user.name,
            email=user.email,
        )

    @get("/approvals", opt=PUBLIC)
    async def approvals(self, request: AnyRequest) -> list[ApprovalOut]:
        """Quotes, extra costs and payment plans waiting for the logged-in person's answer
        (from the modules the organization has on)."""
        user = await portal_user(request)
        return [
            ApprovalOut(
                kind=a.kind, item_id=a.item_id, module=a.module, label_sv=a.label_sv, label_en=a.label_en,
                title=a.title, total=a.total, number=a.number,
                lines=[ApprovalLineOut(description=line.description, amount=line.amount) for line in a.lines],
                sent_at=a.sent_at, valid_until=a.valid_until,
            )
            for a in await approvals.list_for(portal.portal_person(user))
        ]

    async def _decide(self, request: AnyRequest, kind: str, item_id: int, approve: bool,
                      data: DecideIn) -> Response[DecisionOut]:
        user = await portal_user(request)
        result = await portal.decide_approval(user, kind, item_id, approve, data.challenge_id,
                                              request.headers.get("user-agent", ""), language_of(request, None))
        if result.status == "refused":
            refused = approvals.refusal(result)
            refused.status = result.status_code
            raise refused
        if result.status == "second_factor_required":
            decision = result.second_factor
            assert decision is not None
            return challenge_response(decision, request, DecisionOut)
        return Response(DecisionOut(
            status=result.status,  # type: ignore[arg-type]
            message=_t(request, APPROVED if result.status == "approved" else DECLINED),
            decided_at=result.decided_at,
        ))

    @post("/approvals/{kind:str}/{item_id:int}/approve", status_code=HTTP_200_OK, opt=PUBLIC)
    async def approve(self, request: AnyRequest, kind: KindPath, item_id: Id,
                      data: JSONBody[DecideIn]) -> Response[DecisionOut]:
        """Approve one item. With the module's SMS context on (quotes, extra_costs,
        payment_plans), the first answer is 202 with the challenge: verify the code at
        /api/twofactor/challenges/{id}/verify (with ``tenant``), then send this again with
        ``challenge_id``. 404: not yours (or unknown); 409: already answered."""
        return await self._decide(request, kind, item_id, True, data)

    @post("/approvals/{kind:str}/{item_id:int}/decline", status_code=HTTP_200_OK, opt=PUBLIC)
    async def decline(self, request: AnyRequest, kind: KindPath, item_id: Id,
                      data: JSONBody[DecideIn]) -> Response[DecisionOut]:
        """Decline one item, with the same SMS step as approving."""
        return await self._decide(request, kind, item_id, False, data)

    @post("/password-reset", status_code=HTTP_202_ACCEPTED, opt=PUBLIC)
    async def request_reset(
        self, request: AnyRequest, data: JSONBody[ResetRequestIn]
    ) -> MessageOut:
        """Ask for a reset link. The answer and its timing are the same for every address.
        Limited like the employees' (per organization and e-mail, and per client address):
        429 past the limit, whether or not the account exists. A new link replaces the
        older one."""
        await portal.request_reset(data.tenant, data.email, client_ip(request))
        return MessageOut(message=RESET_ANSWER)

    @post("/password-reset/complete", status_code=HTTP_200_OK, opt=PUBLIC)
    async def complete_reset(
        self, request: AnyRequest, data: JSONBody[ActivateIn]
    ) -> Response[StepOut]:
        """Choose a new password from the reset link (M8): every portal session of the
        person ends and their trusted devices are forgotten; log in again afterwards.

        With SMS at portal password reset (or customer conversations) switched on, the
        first answer is 202 with the challenge, as for activation.
        """
        return await _password_step(request, data, portal.complete_reset, PASSWORD_CHANGED)


async def _password_step(
    request: AnyRequest, data: ActivateIn, action: Callable[..., Awaitable[dict]], done: str
) -> Response[StepOut]:
    """A password from an invitation or reset link (``action``), or the step's 202 asking
    for the SMS code first."""
    try:
        await action(data.tenant, data.token, data.password, data.challenge_id, request.headers.get("user-agent", ""))
    except SecondFactorRequired as required:
        return challenge_response(required.decision, request)
    return Response(StepOut(status="password_set", message=_t(request, done)))


def route_handlers() -> list[Any]:
    return [PortalAccountsController, PortalController]
