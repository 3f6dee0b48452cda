"""Customer-portal accounts of private customers and contact persons (issue 7, M4-M8).

No HTTP here (see routes.py and pages.py). What holds the design together:

* **Who has an account.** A private customer, or a contact person of a customer (a
  company has no portal account of its own: its people are its contact persons). An
  employee invites the person; the invitation e-mail carries a single-use link (7 days)
  where the person chooses the first password (the "conversation invitation link").
* **One login system.** Sessions, invitation and reset links and the throttled password
  check are the core's (core.auth, kind ``"portal"``, the account's id as ``subject_id``),
  shared with the employees' login: this module keeps only the accounts and its SMS steps.
* **Secrets are hashes.** Passwords as Argon2id (core.auth), session and link tokens as
  SHA-256 (core.security.token_hash): a database leak opens no portal account.
* **Two-factor only through hooks.** Steps ask ``challenge_second_factor`` with the
  contexts this module declares: ``portal_login`` (a new device), ``portal_reset`` and
  ``customer_conversations`` (the first password and a reset). Whichever plugin answers
  (plugins/twofactor) sends the code; the client verifies it there and re-submits the
  step with ``challenge_id``. A password set or reset fires the core ``password_changed``
  hook, which makes two-factor forget the person's trusted devices (M8).
* **Same answer for everyone.** Login failures and reset requests answer alike whether
  or not an account exists; failed logins are counted per account key in the database
  (10 per 15 minutes, as for employees), so every web process sees them.
* **Dead people cannot log in.** A deleted or anonymized customer or contact person (or a
  contact of a deleted customer), a disabled account, or a tenant that turned the
  portal module off, or the customer register it requires (404), ends every way in,
  including existing sessions. Who the person is and whether they may still log in is
  asked of the plugin owning the kind (``PersonKind.standing``, core.secondfactor).
* **GDPR.** Accounts are personal data under the customer register's rules "customers"
  and "contact_persons" (declared by :func:`personal_data` as children of the person);
  when the person is anonymized, the engine calls :func:`anonymize` too, which disables
  the account and deletes its sessions and link tokens.
  Expired sessions, tokens and throttling rows go with :func:`purge_expired`.

Nothing here logs or returns a password, a token or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import approvals, auth, pending
from core.approvals import PortalPerson
from core.auth import (
    MAX_PASSWORD_LENGTH,
    MAX_TOKEN_LENGTH,
    MIN_PASSWORD_LENGTH,
    PORTAL,
    AuthError,
    find_tenant,
    fire_password_changed,
    hash_password,
    limit_reset_request,
)
from core.config import get_settings
from core.contracts import (
    DataRequestDesk,
    PersonStanding,
    PortalDataAsk,
    PortalDataRequest,
    SecondFactorDecision,
    SecondFactorRequest,
)
from core.db import atomic, bind_tenant, lock_row, utcnow
from core.delivery import queue_message
from core.errors import Conflict, Invalid, NotFound, TooMany
from core.errors import mark as _
from core.eventlog import log_system
from core.plugins import await_me_maybe, get_host
from core.secondfactor import ask_second_factor, describe_person, person_standing, second_factor_ready
from core.security import token_hash
from core.tables import Tenant
from core.tenancy import enabled_modules, get_scoped
from core.validation import FieldError, normalize_email
from core.worker import enqueue, task
from plugins.portal.tables import (
    PortalAccount,
    PortalApprovalStep,
    PortalPending,
)

MODULE = "portal"
KINDS = ("customer", "contact")

CONTEXT_LOGIN = "portal_login"
CONTEXT_RESET = "portal_reset"
CONTEXT_CONVERSATIONS = "customer_conversations"

PORTAL_COOKIE = "gallra_portal"
# Set by the two-factor plugin when a code is verified; only read here, and handed to
# the challenge_second_factor hook as an opaque value.
DEVICE_COOKIE = "gallra_device"

# The SMS step of the portal's pages: the code form carries a random token of a pending
# step kept in the database (never the password), bound to a cookie of the same browser.
PENDING_COOKIE = "gallra_portal_step"
PENDING_TTL = timedelta(minutes=10)
PENDING_MAX_USES = 5
STEP_EXPIRED = "This step has expired (10 minutes) or is not valid. Start again."
STEP_BLOCKED = "This step was tried too many times. Start again."

INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(minutes=30)
# The name it had under the customer register: reset mails already queued still run.
RESET_TASK = "customers.portal_password_reset"

BAD_INVITE = "This invitation link is invalid, used or expired. Ask for a new invitation."
BAD_RESET = "This reset link is invalid, used or expired. Ask for a new one."
RESET_ANSWER = (
    "If the organization and e-mail address match a customer-portal account, a reset link "
    "is on its way. It is valid for 30 minutes."
)
NOT_AVAILABLE = "The customer portal is not available for this organization."


class SecondFactorRequired(Exception):
    """The step needs an SMS code first: the route answers 202 with the challenge.

    ``pending`` is the token of the pending step the pages keep server-side (set when the
    step was started with a ``binder``, see :func:`start_pending`)."""

    def __init__(self, decision: SecondFactorDecision, pending: str | None = None):
        super().__init__("second factor required")
        self.decision = decision
        self.pending = pending


# --- people ---------------------------------------------------------------------------


async def person_of_account(account: dict) -> dict | None:
    """Name of the account's person while they may use the portal, else None.

    The plugin owning the person's kind answers (``PersonKind.standing``): a customer must
    be a private customer that is neither deleted nor anonymized; a contact person must be
    alive and so must their customer.
    """
    standing = await person_standing(int(account["tenant_id"]), account["person_kind"], int(account["person_id"]))
    if standing is None or standing.refusal is not None:
        return None
    return {"name": standing.name}


async def standing_of(tenant_id: int, kind: str, person_id: int) -> PersonStanding:
    """The person's standing, or 404 when they are not the tenant's customer or contact."""
    standing = await person_standing(tenant_id, kind, person_id)
    if standing is None:
        if kind == "customer":
            raise NotFound("Customer %(id)s was not found.", code="portal.customer_not_found", id=person_id)
        raise NotFound("Contact person %(id)s was not found.", code="portal.contact_not_found", id=person_id)
    return standing


async def portal_enabled(tenant_id: int) -> bool:
    return MODULE in await enabled_modules(get_host(), tenant_id)


async def _require_enabled(tenant_id: int) -> None:
    if not await portal_enabled(tenant_id):
        raise NotFound(NOT_AVAILABLE, code="portal.not_available")


# --- accounts (employees' side) ---------------------------------------------------------


def account_status(row: dict) -> str:
    if row["anonymized_at"] is not None:
        return "anonymized"
    if row["disabled_at"] is not None:
        return "disabled"
    if row["activated_at"] is not None:
        return "active"
    return "invited"


async def get_account(tenant_id: int, account_id: int) -> dict:
    return await get_scoped(PortalAccount, tenant_id, account_id, "Portal account")


async def current_account_of(tenant_id: int, kind: str, person_id: int) -> dict | None:
    """The person's account in use (not disabled), else their latest one, else None."""
    rows = (
        await PortalAccount.select()
        .where(
            (PortalAccount.tenant_id == tenant_id)
            & (PortalAccount.person_kind == kind)
            & (PortalAccount.person_id == person_id)
        )
        .order_by(PortalAccount.id, ascending=False)
    )
    for row in rows:
        if row["disabled_at"] is None:
            return row
    return rows[0] if rows else None


async def invitation_expires_at(tenant_id: int, account_id: int) -> datetime | None:
    return await auth.link_expires_at(PORTAL, tenant_id, account_id, "invite")


async def _invitee(tenant_id: int, kind: str, person_id: int) -> PersonStanding:
    """The person to invite (404 for another tenant's id, 409 for one who may not)."""
    standing = await standing_of(tenant_id, kind, person_id)
    refusal = standing.refusal if kind == "customer" else f"contact_{standing.refusal}"
    if refusal in NOT_INVITABLE:
        message, code = NOT_INVITABLE[refusal]
        raise Conflict(message, code=code)
    return standing


# Why a person may not get a portal account: ``PersonStanding.refusal`` (a contact
# person's prefixed ``contact_``) -> the refusal's message and code.
NOT_INVITABLE = {
    "gone": (
        _("This customer is deleted or anonymized; it cannot get a portal account."), "portal.customer_gone"
    ),
    "company": (
        _("A company has no portal account of its own: invite one of its contact persons."),
        "portal.company_has_no_account",
    ),
    "contact_gone": (
        _("This contact person is deleted or anonymized; they cannot get a portal account."), "portal.contact_gone"
    ),
    "contact_customer_gone": (
        _("The customer of this contact person is deleted; invite nobody there."), "portal.customer_gone"
    ),
}


async def close_accounts(tenant_id: int, account_ids: list[int], now: datetime) -> None:
    """Disable accounts and end everything that lets them in."""
    if not account_ids:
        return
    await PortalAccount.update({PortalAccount.disabled_at: now}).where(
        (PortalAccount.tenant_id == tenant_id)
        & PortalAccount.id.is_in(account_ids)
        & PortalAccount.disabled_at.is_null()
    )
    await auth.end_sessions_of(PORTAL, tenant_id, account_ids)
    await auth.drop_links(PORTAL, tenant_id, account_ids)
    await PortalPending.delete().where(
        (PortalPending.tenant_id == tenant_id) & PortalPending.account_id.is_in(account_ids)
    )
    await PortalApprovalStep.delete().where(
        (PortalApprovalStep.tenant_id == tenant_id) & PortalApprovalStep.account_id.is_in(account_ids)
    )


async def invite(tenant_id: int, kind: str, person_id: int, email: str | None) -> dict:
    """Create (or renew, while no password is chosen) the person's account and e-mail the
    link where they choose the first password. The token exists only in the e-mail."""
    if kind not in KINDS:
        raise FieldError(
            "person_kind", "Only customers and contact persons get portal accounts.", code="portal.bad_kind"
        )
    address = normalize_email(email, "email") if email else None
    settings = get_settings()
    now = utcnow()
    async with atomic():
        person = await _invitee(tenant_id, kind, person_id)
        customer_id, contact_id = person.customer_id, person.contact_id
        address = address or normalize_email(person.email, "email")
        if not address:
            raise FieldError(
                "email",
                "Give the e-mail address the invitation goes to (it becomes the login name); "
                "the card has none.",
                code="portal.email_required",
            )
        # The address must not be another person's login. An account left behind by a
        # deleted or anonymized person is closed instead of blocking the address.
        holders = await PortalAccount.select().where(
            (PortalAccount.tenant_id == tenant_id)
            & (PortalAccount.email == address)
            & PortalAccount.disabled_at.is_null()
        )
        stale = []
        for holder in holders:
            if holder["person_kind"] == kind and int(holder["person_id"]) == person_id:
                continue
            if await person_of_account(holder) is None:
                stale.append(int(holder["id"]))
            else:
                raise Conflict(
                    "This e-mail address is already the login of another portal account in "
                    "the organization; use another address.",
                    code="portal.email_taken",
                )
        await close_accounts(tenant_id, stale, now)
        account = await current_account_of(tenant_id, kind, person_id)
        if account is not None and account["disabled_at"] is None:
            if account["activated_at"] is not None:
                raise Conflict(
                    "This person already has an active portal account. They can reset the "
                    "password from the portal's login page.",
                    code="portal.already_active",
                )
            await PortalAccount.update(
                {PortalAccount.email: address, PortalAccount.invited_at: now}
            ).where((PortalAccount.tenant_id == tenant_id) & (PortalAccount.id == account["id"]))
            await auth.drop_links(PORTAL, tenant_id, [int(account["id"])], "invite")
            account_id = int(account["id"])
        else:
            rows = await PortalAccount.insert(
                PortalAccount(
                    tenant_id=tenant_id,
                    person_kind=kind,
                    person_id=person_id,
                    customer_id=customer_id,
                    contact_id=contact_id,
                    email=address,
                    created_at=now,
                    invited_at=now,
                )
            ).returning(PortalAccount.id)
            account_id = int(rows[0]["id"])
        token = await auth.issue_link(PORTAL, tenant_id, account_id, "invite", INVITE_TTL)
        org = await Tenant.select(Tenant.slug, Tenant.name).where(Tenant.id == tenant_id).first()
        link = f"{settings.base_url}/portal/activate?tenant={org['slug']}&token={token}"
        await queue_message(
            "email",
            address,
            f"Du har bjudits in till kundportalen hos {org['name']}. Öppna länken och välj "
            f"ditt lösenord:\n\n{link}\n\nLänken gäller i 7 dagar och kan användas en gång.\n\n"
            f"You are invited to the customer portal of {org['name']}. Open the link and "
            "choose your password. The link is valid for 7 days and can be used once.",
            subject="Inbjudan till kundportalen / Invitation to the customer portal",
            tenant_id=tenant_id,
        )
        return await get_account(tenant_id, account_id)


async def disable(tenant_id: int, account_id: int) -> dict:
    async with atomic():
        await get_account(tenant_id, account_id)
        await close_accounts(tenant_id, [account_id], utcnow())
        return await get_account(tenant_id, account_id)


# --- passwords and links (the person's side) ---------------------------------------------


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError(
            "password",
            "The password must be at least %(min)s characters.",
            code="portal.password_too_short",
            min=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise FieldError(
            "password",
            "The password must be at most %(max)s characters.",
            code="portal.password_too_long",
            max=MAX_PASSWORD_LENGTH,
        )


async def _tenant_id(slug: str, bad_link: str | None = None) -> int | None:
    """The tenant by its id (slug); 404 when the portal module is off for it. An unknown
    organization is None, or the invalid-link answer for link steps."""
    row = await find_tenant(slug)
    if row is None:
        if bad_link:
            raise Invalid(None, bad_link, code="portal.bad_link")
        return None
    await _require_enabled(int(row["id"]))
    return int(row["id"])


async def _open_account(tenant_id: int, account_id: int) -> dict | None:
    """The tenant's account, while it is open (not disabled or anonymized) and its person
    may use the portal; ``None`` otherwise."""
    account = (
        await PortalAccount.select()
        .where((PortalAccount.tenant_id == tenant_id) & (PortalAccount.id == account_id))
        .first()
    )
    if (
        account is None
        or account["disabled_at"] is not None
        or account["anonymized_at"] is not None
        or await person_of_account(account) is None
    ):
        return None
    return account  # type: ignore[no-any-return]


async def _account_by_email(tenant_id: int, email: str, with_password: bool = False) -> dict | None:
    """The tenant's open account of this login e-mail whose person may use the portal
    (with ``with_password``, only one that has chosen its password); ``None`` otherwise."""
    where = (
        (PortalAccount.tenant_id == tenant_id)
        & (PortalAccount.email == email.strip().lower())
        & PortalAccount.disabled_at.is_null()
        & PortalAccount.anonymized_at.is_null()
    )
    if with_password:
        where = where & PortalAccount.password_hash.is_not_null()
    account = await PortalAccount.select().where(where).first()
    if account is None or await person_of_account(account) is None:
        return None
    return account  # type: ignore[no-any-return]


async def _link(tenant_id: int, token: str, purpose: str, bad_link: str) -> tuple[dict, dict]:
    """A live link token of the tenant and its account (whose person may use the portal)."""
    row = await auth.find_link(PORTAL, token, purpose, tenant_id)
    if row is None:
        raise Invalid(None, bad_link, code="portal.bad_link")
    account = await _open_account(tenant_id, int(row["subject_id"]))
    if account is None:
        raise Invalid(None, bad_link, code="portal.bad_link")
    bind_tenant(tenant_id)  # the rest of the request sees only this tenant's rows
    return row, account


async def _second_factor(
    account: dict,
    contexts: tuple[str, ...],
    challenge_id: str | None,
    device_token: str | None,
    user_agent: str,
) -> None:
    """Ask the contexts in order; the first one a plugin answers for decides.

    Returns when no second factor is needed (none installed, every context off, a trusted
    device, or a verified ``challenge_id``); raises :class:`SecondFactorRequired` (202) or
    the two-factor plugin's refusal with its status (409 missing phone, 429, 423).
    """
    decision = await _first_decision(account, contexts, challenge_id, device_token, user_agent)
    if decision is None:
        return
    if decision.error:
        refused = decision.refusal()
        refused.status = decision.status or 409
        raise refused
    if decision.required:
        raise SecondFactorRequired(decision)


async def _first_decision(
    account: dict,
    contexts: tuple[str, ...],
    challenge_id: str | None,
    device_token: str | None,
    user_agent: str,
    resend: bool = False,
) -> SecondFactorDecision | None:
    """The decision for the account's person of the first context (in order) a plugin
    answers for; ``None`` when none does."""
    for context in contexts:
        decision = await ask_second_factor(
            SecondFactorRequest(
                tenant_id=int(account["tenant_id"]),
                person_kind=account["person_kind"],
                person_id=int(account["person_id"]),
                context=context,
                device_token=device_token,
                user_agent=user_agent[:200],
                challenge_id=challenge_id,
                resend=resend,
            )
        )
        if decision is not None:
            return decision
    return None


async def _set_password(account: dict, token_row: dict, new_hash: str, now: datetime) -> None:
    """Burn the link, store the password, end every session, forget trusted devices (M8).

    Runs in one transaction: the token is claimed in the statement that checks it, so two
    racing requests cannot both use it.
    """
    tenant_id = int(account["tenant_id"])
    if not await auth.claim_link(int(token_row["id"])):
        raise Invalid(None, "This link has already been used. Ask for a new one.", code="portal.link_used")
    values: dict[Any, Any] = {PortalAccount.password_hash: new_hash}
    if account["activated_at"] is None:
        values[PortalAccount.activated_at] = now
    updated = await PortalAccount.update(values).where(
        (PortalAccount.tenant_id == tenant_id)
        & (PortalAccount.id == account["id"])
        & PortalAccount.disabled_at.is_null()
    ).returning(PortalAccount.id)
    if not updated:
        raise Invalid(
            None, "This portal account is closed. Ask for a new invitation.", code="portal.account_closed"
        )
    await auth.end_sessions_of(PORTAL, tenant_id, [int(account["id"])])
    # The used link goes, and every other open link of the account stops working. (The
    # claim above locks the row, so a racing request finds it gone: "already used".)
    await auth.drop_links(PORTAL, tenant_id, [int(account["id"])])
    await PortalPending.delete().where(
        (PortalPending.tenant_id == tenant_id) & (PortalPending.account_id == account["id"])
    )
    await fire_password_changed(tenant_id, account["person_kind"], int(account["person_id"]))


# --- the pages' pending SMS step ----------------------------------------------------------


async def start_pending(
    account: dict,
    purpose: str,
    binder: str,
    link_token_id: int = 0,
    password_hash: str | None = None,
) -> str:
    """Keep a step that waits for its SMS code; returns the token the code form carries.

    Only hashes are stored: of the token, of the browser's binder cookie and (first
    password, reset) of the new password. The step lives :data:`PENDING_TTL` and may be
    re-posted :data:`PENDING_MAX_USES` times.
    """
    return await pending.start_step(
        PortalPending,
        binder,
        PENDING_TTL,
        tenant_id=int(account["tenant_id"]),
        account_id=int(account["id"]),
        purpose=purpose,
        link_token_id=link_token_id,
        password_hash=password_hash,
    )


async def _second_factor_or_pending(
    account: dict,
    contexts: tuple[str, ...],
    challenge_id: str | None,
    user_agent: str,
    binder: str | None,
    purpose: str,
    link_token_id: int,
    password: str,
) -> None:
    try:
        await _second_factor(account, contexts, challenge_id, None, user_agent)
    except SecondFactorRequired as required:
        if binder is None:
            raise
        required.pending = await start_pending(
            account, purpose, binder, link_token_id, await hash_password(password)
        )
        raise


async def _take_pending(slug: str, token: str, purpose: str, binder: str | None) -> tuple[dict, dict]:
    """The live pending step behind ``token`` for this organization, purpose and browser,
    counting one use; 400 when unknown, tampered, of another browser or expired, 429 when
    used up (then it is gone)."""
    tenant = await find_tenant(slug)

    def fits(row: dict) -> bool:
        return tenant is not None and int(row["tenant_id"]) == int(tenant["id"]) and row["purpose"] == purpose

    try:
        row = await pending.take_step(PortalPending, token, binder, PENDING_MAX_USES, fits=fits)
    except pending.StepRefused as exc:
        if exc.used_up:
            raise TooMany(STEP_BLOCKED, code="portal.step_blocked") from None
        raise Invalid(None, STEP_EXPIRED, code="portal.step_expired") from None
    bind_tenant(int(row["tenant_id"]))  # the rest of the request sees only this tenant's rows
    await _require_enabled(int(row["tenant_id"]))
    account = await _open_account(int(row["tenant_id"]), int(row["account_id"]))
    if account is None:
        await PortalPending.delete().where(PortalPending.id == row["id"])
        raise Invalid(None, STEP_EXPIRED, code="portal.step_expired")
    return row, account


# The contexts a step asks its SMS code under, in order: the first one on decides.
PENDING_CONTEXTS = {
    "login": (CONTEXT_LOGIN,),
    "activate": (CONTEXT_CONVERSATIONS,),
    "reset": (CONTEXT_RESET, CONTEXT_CONVERSATIONS),
}


async def finish_pending(
    slug: str,
    token: str,
    purpose: str,
    binder: str | None,
    challenge_id: str | None,
    device_token: str | None,
    user_agent: str,
    old_session: str | None = None,
) -> tuple[dict, str | None]:
    """Complete a pending step with its verified SMS code: a login answers the account and a
    new session token; a first password or reset sets the password kept as a hash (and
    answers no token). The pending step is used once."""
    row, account = await _take_pending(slug, token, purpose, binder)
    if purpose == "login":
        await _second_factor(account, PENDING_CONTEXTS["login"], challenge_id, device_token, user_agent)
        await PortalPending.delete().where(PortalPending.id == row["id"])
        return account, await _open_session(account, old_session)
    bad = BAD_INVITE if purpose == "activate" else BAD_RESET
    link = await auth.link_by_id(int(row["tenant_id"]), int(row["link_token_id"]))
    if link is None or link["kind"] != PORTAL:
        await PortalPending.delete().where(PortalPending.id == row["id"])
        raise Invalid(None, bad, code="portal.bad_link")
    await _second_factor(account, PENDING_CONTEXTS[purpose], challenge_id, None, user_agent)
    async with atomic():
        await _set_password(account, link, row["password_hash"], utcnow())  # deletes the step
    return account, None


async def resend_code(
    slug: str, token: str, purpose: str, binder: str | None, challenge_id: str, user_agent: str
) -> SecondFactorDecision:
    """A new SMS code for a pending step of the pages ("Send a new code"), counted as one of
    the step's uses. The step must be this browser's (its binder cookie), of this
    organization and purpose; the two-factor plugin sends a new code only for a challenge of
    the step's own person, and only after the wait between two codes (its refusal comes back
    as the decision's ``error``, with the masked phone and ``resend_in`` for the wait)."""
    if not challenge_id or len(challenge_id) > MAX_TOKEN_LENGTH:
        raise Invalid(None, STEP_EXPIRED, code="portal.step_expired")
    _row, account = await _take_pending(slug, token, purpose, binder)
    decision = await _first_decision(account, PENDING_CONTEXTS[purpose], challenge_id, None, user_agent, resend=True)
    if decision is None:  # two-factor was switched off meanwhile: the step starts again
        raise Invalid(None, STEP_EXPIRED, code="portal.step_expired")
    return decision


async def activate(
    slug: str,
    token: str,
    password: str,
    challenge_id: str | None,
    user_agent: str,
    binder: str | None = None,
) -> dict:
    """The first password, from the invitation link. With the "customer conversations"
    context on, an SMS code comes first. The person then logs in as usual.

    With ``binder`` (the pages), a step needing a code is kept server-side with the new
    password's hash, and the exception carries its token (:func:`finish_pending`)."""
    return await _new_password(slug, token, password, challenge_id, user_agent, binder, "activate")


async def complete_reset(
    slug: str,
    token: str,
    password: str,
    challenge_id: str | None,
    user_agent: str,
    binder: str | None = None,
) -> dict:
    """A new password from a reset link (M8): sessions end, trusted devices are forgotten,
    nobody is logged in. The SMS code is asked under "portal password reset", or, when
    that is off, under "customer conversations" (which covers reset as well)."""
    return await _new_password(slug, token, password, challenge_id, user_agent, binder, "reset")


async def _new_password(
    slug: str, token: str, password: str, challenge_id: str | None, user_agent: str, binder: str | None, step: str
) -> dict:
    """The password of an invitation link (``step`` "activate") or a reset link ("reset"),
    after the step's SMS code when one is asked for."""
    bad, link_kind = (BAD_INVITE, "invite") if step == "activate" else (BAD_RESET, "reset")
    tenant_id = await _tenant_id(slug, bad)
    assert tenant_id is not None
    check_password(password)
    token_row, account = await _link(tenant_id, token, link_kind, bad)
    await _second_factor_or_pending(
        account, PENDING_CONTEXTS[step], challenge_id, user_agent, binder, step, int(token_row["id"]), password,
    )
    new_hash = await hash_password(password)
    async with atomic():
        await _set_password(account, token_row, new_hash, utcnow())
    return account


async def organization_name(slug: str) -> str | None:
    """The organization's name for the invitation page, while the portal is on for it."""
    tenant = await find_tenant(slug[:63])
    if tenant is None or not await portal_enabled(int(tenant["id"])):
        return None
    return str(tenant["name"] or "") or None


async def session_after_password(account: dict, old_session: str | None) -> str | None:
    """A portal session for a person who just chose their first password, or None when a
    login would ask for an SMS code on a new device (the "portal login" context is on):
    then the person logs in as usual, and the code step is not skipped. Nothing is sent
    here (a code is only sent when a login asks for one)."""
    if await second_factor_ready(int(account["tenant_id"]), CONTEXT_LOGIN):
        return None
    return await _open_session(account, old_session)


async def start_reset(slug: str, email: str) -> str | None:
    """Mail a reset link if the account exists and may log in (an older unused reset link
    of the account stops working); returns the token (tests)."""
    tenant = await find_tenant(slug)
    if tenant is None or not await portal_enabled(int(tenant["id"])):
        return None
    tenant_id = int(tenant["id"])
    account = await _account_by_email(tenant_id, email, with_password=True)
    if account is None:
        return None
    async with atomic():
        # One live reset link per account: a new request replaces the older one (the
        # account's row is held so that two requests handled at once cannot both keep theirs).
        await lock_row("portal_account", int(account["id"]))
        token = await auth.issue_link(PORTAL, tenant_id, int(account["id"]), "reset", RESET_TTL)
        link = f"{get_settings().base_url}/portal/reset?tenant={tenant['slug']}&token={token}"
        await queue_message(
            "email",
            account["email"],
            "Öppna länken för att välja ett nytt lösenord till kundportalen / Open the link to "
            f"choose a new customer-portal password:\n\n{link}\n\n"
            "Länken gäller i 30 minuter och kan användas en gång. / The link is valid for 30 "
            "minutes and can be used once.",
            subject="Återställ lösenord / Reset password",
            tenant_id=tenant_id,
        )
    return token


@task(RESET_TASK, max_retries=3)
async def start_reset_task(slug: str, email: str) -> None:
    """In a worker, so the answer's timing is the same whether or not the account exists."""
    await start_reset(slug, email)


async def request_reset(slug: str, email: str, ip: str) -> None:
    """A reset request from the API or the page: counted against the core's limits per
    account and per client address (AuthError 429 past them, alike whether or not the
    account exists), then mailed by a worker."""
    await limit_reset_request("portal_reset", slug, email, ip)
    enqueue(RESET_TASK, slug, email)


# --- login and sessions ----------------------------------------------------------------


def login_key(slug: str, email: str) -> str:
    """The portal login throttle's key (:mod:`core.throttle`): the same for existing and
    unknown accounts, and apart from the employees' key of the same address."""
    return auth.login_key(slug, email, PORTAL)


async def check_credentials(slug: str, email: str, password: str) -> dict:
    """The account for these credentials, or AuthError (401 uniform, 429 throttled). An
    attempt is reserved atomically before the password is checked, so parallel guesses
    get no more checks than the limit; a right password gives it back."""
    tenant_id = await _tenant_id(slug)

    async def find() -> dict | None:
        if tenant_id is None:
            return None
        return await _account_by_email(tenant_id, email)

    async def store_hash(account: dict, new_hash: str) -> None:
        await PortalAccount.update({PortalAccount.password_hash: new_hash}).where(
            PortalAccount.id == account["id"]
        )

    try:
        return await auth.check_login(
            login_key(slug, email), password, find, store_hash, code="portal."
        )
    except AuthError as refused:
        detail = "throttled" if refused.status == 429 else "wrong organization, e-mail or password"
        await log_system(tenant_id or 0, "login_failed", refused.status, f"customer portal: {detail}")
        raise


async def login(
    slug: str,
    email: str,
    password: str,
    challenge_id: str | None,
    device_token: str | None,
    user_agent: str,
    old_session: str | None,
    binder: str | None = None,
) -> tuple[dict, str]:
    """Check the password, then the second factor for a new device; returns the account
    and a new session token (raises SecondFactorRequired for the 202). With ``binder``
    (the pages) a step needing a code is kept server-side: the exception carries the
    pending step's token, and :func:`finish_pending` completes it without the password."""
    account = await check_credentials(slug, email, password)
    try:
        await _second_factor(account, PENDING_CONTEXTS["login"], challenge_id, device_token, user_agent)
    except SecondFactorRequired as required:
        if binder is None:
            raise
        required.pending = await start_pending(account, "login", binder)
        raise
    return account, await _open_session(account, old_session)


async def _open_session(account: dict, old_session: str | None) -> str:
    # A new session id at every login: a token planted before login is worthless.
    token = await auth.open_session(
        PORTAL, int(account["tenant_id"]), int(account["id"]), replaces=old_session
    )
    await log_system(int(account["tenant_id"]), "login", 200, "customer portal")
    return token


@dataclass
class PortalUser:
    session_id: int
    tenant_id: int
    tenant_slug: str
    account_id: int
    person_kind: str
    person_id: int
    customer_id: int
    name: str
    email: str


async def authenticate(token: str | None) -> PortalUser | None:
    """The portal person behind a cookie token, or None (unknown, idle, expired, or the
    account or person may no longer use the portal). 404 when the portal module is off for
    the tenant."""
    row = await auth.live_session(PORTAL, token)
    if row is None:
        return None
    tenant_id = int(row["tenant_id"])
    bind_tenant(tenant_id)  # this request now sees only its tenant's rows
    await _require_enabled(tenant_id)
    account = (
        await PortalAccount.select()
        .where((PortalAccount.tenant_id == tenant_id) & (PortalAccount.id == row["subject_id"]))
        .first()
    )
    person = None
    if account is not None and account["disabled_at"] is None and account["anonymized_at"] is None:
        person = await person_of_account(account)
    if account is None or person is None:
        await auth.drop_session(int(row["id"]))
        return None
    tenant = await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first()
    return PortalUser(
        session_id=int(row["id"]),
        tenant_id=tenant_id,
        tenant_slug=tenant["slug"] if tenant else "",
        account_id=int(account["id"]),
        person_kind=account["person_kind"],
        person_id=int(account["person_id"]),
        customer_id=int(account["customer_id"]),
        name=person["name"],
        email=account["email"] or "",
    )


async def logout(token: str | None) -> int | None:
    """End the session behind the token; returns its tenant (for the system log)."""
    return await auth.end_session(PORTAL, token)


# --- housekeeping ---------------------------------------------------------------


async def purge_expired(now: datetime | None = None) -> int:
    """Delete ended portal sessions, used or expired link tokens (core.auth.purge_logins),
    and the portal's ended SMS and approval steps. (The login throttle's counters are the
    core's, purged by core.auth.purge_expired.)"""
    now = now or utcnow()
    gone = await auth.purge_logins(PORTAL, now)
    async with atomic():
        gone += len(
            await PortalApprovalStep.delete()
            .where(PortalApprovalStep.expires_at <= now)
            .returning(PortalApprovalStep.id)
        )
        gone += len(
            await PortalPending.delete()
            .where(PortalPending.expires_at <= now)
            .returning(PortalPending.id)
        )
    return gone


def portal_person(user: PortalUser) -> PortalPerson:
    """The portal person as the modules see it (core/approvals.py)."""
    kind = "contact" if user.person_kind == "contact" else "customer"
    return PortalPerson(
        tenant_id=user.tenant_id, customer_id=user.customer_id, person_kind=kind, person_id=user.person_id
    )


# --- approving in the portal ------------------------------------------------------------------

APPROVAL_STEP_TTL = timedelta(minutes=20)  # the code's 5 minutes and the verified 10, with room
OTHER_ITEM = (
    "This SMS code was sent for another item or another answer. Start again to get a new code."
)


async def decide_approval(
    user: PortalUser, kind: str, item_id: int, approve: bool, challenge_id: str | None, user_agent: str,
    language: str = "sv",
) -> approvals.PortalDecisionResult:
    """Approve or decline one item through the module that declared its kind
    (``core.approvals.decide``).

    A code is sent for one decision: the challenge id the module answers with is noted
    with (kind, item, approve or decline), and a re-submission with a challenge id noted for
    anything else is refused (409) before the module sees it, so a code verified for one
    quote cannot approve another one, nor decline the quote it was sent to approve.
    """
    if challenge_id:
        if len(challenge_id) > MAX_TOKEN_LENGTH:
            return approvals.refused(OTHER_ITEM)
        bound = await PortalApprovalStep.select().where(
            (PortalApprovalStep.tenant_id == user.tenant_id)
            & (PortalApprovalStep.account_id == user.account_id)
            & (PortalApprovalStep.challenge_hash == token_hash(challenge_id))
            & (PortalApprovalStep.expires_at > utcnow())
        ).first()
        if bound is None or (bound["kind"], int(bound["item_id"]), bool(bound["approve"])) != (
            kind, item_id, approve
        ):
            return approvals.refused(OTHER_ITEM)
    result = await approvals.decide(
        approvals.PortalDecisionRequest(
            person=portal_person(user),
            kind=kind,
            item_id=item_id,
            approve=approve,
            signer_name=user.name,
            signer_email=user.email,
            challenge_id=challenge_id,
            user_agent=user_agent,
            language="en" if language == "en" else "sv",
        )
    )
    decision = result.second_factor
    if result.status == "second_factor_required" and decision is not None and decision.challenge_id:
        await PortalApprovalStep.insert(
            PortalApprovalStep(
                tenant_id=user.tenant_id,
                account_id=user.account_id,
                challenge_hash=token_hash(decision.challenge_id),
                kind=kind[:32],
                item_id=item_id,
                approve=approve,
                expires_at=utcnow() + APPROVAL_STEP_TTL,
            )
        )
    elif challenge_id and result.status in ("approved", "declined"):
        await PortalApprovalStep.delete().where(
            (PortalApprovalStep.tenant_id == user.tenant_id)
            & (PortalApprovalStep.challenge_hash == token_hash(challenge_id))
        )
    return result


# --- "My personal data": data-subject requests of the portal person ---------------------------

NO_DATA_REQUESTS = "There is no such page."


async def data_desk(user: PortalUser) -> DataRequestDesk | None:
    """What the person may ask for and their own requests, from the plugin keeping the
    organization's data-subject requests (hook ``data_requests_of``); ``None`` when no
    module the tenant has on keeps them."""
    hooks = await get_host().for_tenant(user.tenant_id)
    desk: DataRequestDesk | None = await await_me_maybe(hooks.data_requests_of(person=portal_person(user)))
    return desk


async def ask_about_data(user: PortalUser, kind: str, details: str, language: str) -> PortalDataRequest:
    """The person's request under articles 15-21 (hook ``ask_as_portal_person``), answered
    at the login's e-mail address and found by it and the person's phone: verified at once,
    since the portal login proved who they are. 404 when no module keeps requests."""
    hooks = await get_host().for_tenant(user.tenant_id)
    contact = await describe_person(user.tenant_id, user.person_kind, user.person_id)
    phone = (contact.mobile_phone or contact.private_phone or "") if contact is not None else ""
    ask = PortalDataAsk(
        person=portal_person(user), name=user.name, email=user.email, phone=phone or "",
        kind=kind, details=details, language=language,
    )
    made: PortalDataRequest | None = await await_me_maybe(hooks.ask_as_portal_person(ask=ask))
    if made is None:
        raise NotFound(NO_DATA_REQUESTS, code="portal.no_data_requests")
    return made
