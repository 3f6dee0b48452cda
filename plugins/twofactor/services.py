"""Two-factor logic: settings, contexts, challenges and codes, trusted devices. No HTTP.

Rules of the product (issue 7, M3-M8) and where they are enforced:

* no context works until SMS is activated for the tenant (:func:`set_context`,
  :func:`active_context`);
* the code goes to the mobile, else private, else work phone (:func:`choose_phone`);
* codes: 6 digits from ``secrets``, 5 minutes, single use, stored as an HMAC under the
  installation's key, compared in constant time, never logged (:func:`verify_code`);
* 5 wrong entries end a challenge; wrong entries also count per person across
  challenges and lock the person at :data:`PERSON_MAX_FAILURES` until a right code or an
  administrator resets them, never by time;
* per person 60 seconds between sends and 5 per hour, per tenant a daily cap
  (:func:`_reserve_send`); all counters live in the database (several web processes);
* trusted devices: SHA-256 of a 256-bit cookie token, fixed expiry 365 days after the
  first 2FA login on that device (:func:`create_device`);
* recovery codes (:func:`generate_recovery_codes`): 10 per person, 80 random bits each,
  shown once, stored as an HMAC under the installation's key, used once by one
  conditional UPDATE, entered instead of an SMS code against the same counters;
* switching on a context that asks employees for a code first says who could no longer
  get one (no usable phone, no recovery codes): refused when that is every
  administrator, confirmed with the list otherwise (:func:`switch_contexts`);
* which factor (#21.3, :func:`decide_strong`): a person with an app is asked for it first
  and may choose SMS instead, unless the context requires "app or passkey" or the person is
  an administrator and the tenant requires it of administrators: then no SMS code is sent,
  offered or accepted (:func:`refuse_sms_if_strong` guards every send and every SMS code),
  a person without an app or passkey gets a recovery-code step (the last resort) or a coded
  refusal, and switching such a rule on is checked like a context (:func:`save_strong_rules`).
  Remembered devices skip the step whatever the factor;
* an administrator's reset of a person's factors (:func:`reset_factors`) removes every
  plugin's factors through ``remove_second_factors``, audited, and e-mails the person.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from piccolo.table import Table

from core.approvals import code_sms
from core.contracts import (
    AppSetup,
    FactorAnswer,
    PersonContact,
    SecondFactor,
    SecondFactorDecision,
    SecondFactorRequest,
    SignedItem,
    TwoFactorContext,
)
from core.db import atomic, is_sqlite, raw, raw_query, request_cache, utcnow
from core.delivery import queue_message
from core.errors import GallraError
from core.errors import mark as _
from core.eventlog import log_event
from core.plugins import get_host
from core.secondfactor import describe_person, second_factor, strong_second_factors
from core.security import keyed_hash, new_token, token_hash
from core.tables import Employee
from core.tenancy import enabled_modules
from plugins.twofactor.tables import (
    TrustedDevice,
    TwoFactorApp,
    TwoFactorChallenge,
    TwoFactorContextSetting,
    TwoFactorDailyCount,
    TwoFactorPerson,
    TwoFactorRecoveryCode,
    TwoFactorSend,
    TwoFactorSettings,
)

log = logging.getLogger(__name__)

KINDS = ("employee", "customer", "contact")
# The purposes of steps (TwoFactorContext.purpose); other challenges (a passkey's
# registration) are never completed by verify_code.
PURPOSES = ("login", "reset", "sign")
KIND_COLUMN = {"employee": "employee_id", "customer": "customer_id", "contact": "contact_id"}
PROVIDERS = ("outbox", "46elks", "twilio")
PHONE_SOURCES = ("mobile_phone", "private_phone", "work_phone")

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PERSON_MAX_FAILURES = 10
SEND_GAP = timedelta(seconds=60)
SENDS_PER_HOUR = 5
DEFAULT_DAILY_CAP = 500
# The operator's ceiling on any tenant's daily cap (GALLRA_SMS_DAILY_CAP_MAX): the SMS go
# out on the installation's gateway account, so no tenant setting may pass it.
DEFAULT_DAILY_CAP_MAX = 1000
CAP_MAX_ENV = "GALLRA_SMS_DAILY_CAP_MAX"
DEVICE_DAYS = 365
DEVICE_TTL = timedelta(days=DEVICE_DAYS)
# A verified code of a reset or signing step must be used by the step within this time.
VERIFIED_TTL = timedelta(minutes=10)
DEVICE_COOKIE = "gallra_device"
SENDER_RE = re.compile(r"^[A-Za-z0-9]{1,11}$")
REDACTED_BODY = "[Tvåfaktorkod borttagen / two-factor code removed]"




SMS_FIRST_SV = (
    "SMS-utskick måste aktiveras för organisationen (Inställningar > Tvåfaktorsautentisering) "
    "innan tvåfaktorsautentisering kan slås på."
)
SMS_FIRST_EN = _(
    "SMS sending must be activated for the organization first (Settings > Two-factor) "
    "before two-factor authentication can be switched on."
)


NO_PHONE = _("The phone number is missing, so no SMS code can be sent. Contact an administrator.")
LOCKED = _("Too many wrong codes. An administrator must unlock two-factor authentication for you.")
REQUESTER_LOCKED = _(
    "Too many wrong codes on code requests you started for other people. An administrator "
    "must unlock you before you can start more."
)
CHALLENGE_NOT_FOUND = _("This code request was not found (or it is not for this organization).")
PERSON_NOT_FOUND = _("This person was not found in the organization.")
CODE_USED = _("This code has already been used. Start again to get a new code.")
CODE_SENT = _("A code was sent by SMS to %(phone)s; it is valid for 5 minutes.")
CODE_VERIFIED = _("The SMS code was verified.")
DEVICE_REMEMBERED = _("This device is remembered.")
NOT_VERIFIED = _(
    "The SMS code for this step has not been entered, was for another step, item or person, "
    "was already used, or was entered more than 10 minutes ago. Start again to get a new code."
)
UNKNOWN_KIND = _("Unknown kind of person.")
CODE_RIGHT = _("The code is right. Send the step again with its challenge_id.")
CODE_RIGHT_DEVICE = _("The code is right. This device is remembered until %(date)s (%(days)s days).")


class TwoFactorRefusal(GallraError):
    """A refusal safe to show (it never holds a code, a phone or a name), with the HTTP
    ``status`` the edge answers and, for a throttled send, ``retry_after`` seconds."""

    default_code = "twofactor.refused"
    title = "Refused"

    def __init__(
        self,
        message: str,
        /,
        status: int = 409,
        retry_after: int | None = None,
        field: str | None = None,
        *,
        code: str | None = None,
        **params: Any,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message, code=code, field=field, **params)


def _not_found() -> TwoFactorRefusal:
    return TwoFactorRefusal(CHALLENGE_NOT_FOUND, 404, code="twofactor.challenge_not_found")


# --- people ---------------------------------------------------------------------------


def check_kind(kind: str) -> str:
    return one_of(kind, KINDS, "kind", _("The kind of person must be one of %(choices)s."))


def one_of(value: str, choices: tuple[str, ...], field: str, message: str) -> str:
    """``value`` when it is one of ``choices``, else a 400 naming them (code ``twofactor.<field>``)."""
    if value not in choices:
        raise TwoFactorRefusal(message, 400, field=field, code=f"twofactor.{field}", choices=", ".join(choices))
    return value


def person_values(kind: str, person_id: int) -> dict[str, Any]:
    return {
        "person_kind": kind,
        "employee_id": person_id if kind == "employee" else 0,
        "customer_id": person_id if kind == "customer" else 0,
        "contact_id": person_id if kind == "contact" else 0,
    }


def person_where(table: type[Table], tenant_id: int, kind: str, person_id: int) -> Any:
    column = table._meta.get_column_by_name(KIND_COLUMN[kind])
    return (
        (table._meta.get_column_by_name("tenant_id") == tenant_id)
        & (table._meta.get_column_by_name("person_kind") == kind)
        & (column == person_id)
    )


def person_of(row: dict) -> tuple[str, int]:
    kind = row["person_kind"]
    return kind, int(row[KIND_COLUMN[kind]])


async def describe_employee(tenant_id: int, employee_id: int) -> PersonContact | None:
    """The declared ``PersonKind("employee")`` (customers and contacts: their plugin)."""
    row = (
        await Employee.select(
            Employee.name, Employee.mobile_phone, Employee.private_phone, Employee.work_phone
        )
        .where(
            (Employee.tenant_id == tenant_id)
            & (Employee.id == employee_id)
            & Employee.deleted_at.is_null()
        )
        .first()
    )
    if row is None:
        return None
    return PersonContact(
        name=row["name"],
        mobile_phone=row["mobile_phone"],
        private_phone=row["private_phone"],
        work_phone=row["work_phone"],
        fix_hint_sv="Inställningar > Användare",
        fix_hint_en="Settings > Employees",
    )


def _e164(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    raw_value = value.strip()
    if raw_value.startswith("00"):
        raw_value = "+" + raw_value[2:]
    try:
        number = phonenumbers.parse(raw_value, "SE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def choose_phone(person: PersonContact) -> tuple[str, str] | None:
    """M5: mobile, else private, else work phone. A number that is not a valid phone
    number counts as missing, so the next one is tried."""
    for source in PHONE_SOURCES:
        number = _e164(getattr(person, source))
        if number:
            return number, source
    return None


def mask_phone(e164: str) -> str:
    """+46701234567 -> "+46 70•••••67": recognisable to its owner, useless to others."""
    number = phonenumbers.parse(e164, None)
    national = str(number.national_number)
    if len(national) <= 4:
        return f"+{number.country_code} {'•' * len(national)}"
    return f"+{number.country_code} {national[:2]}{'•' * (len(national) - 4)}{national[-2:]}"


# --- tenant settings (M3) ---------------------------------------------------------------


@dataclass
class SmsSettings:
    sms_active: bool = False
    provider: str = "outbox"
    sender: str = ""
    daily_cap: int = DEFAULT_DAILY_CAP


@dataclass
class _TenantConfig:
    """A tenant's two-factor settings and its contexts' choices, as one read gives them."""

    settings: SmsSettings
    states: dict[str, bool]
    strong: StrongRules


def _config_key(tenant_id: int) -> tuple[str, int]:
    return ("twofactor.config", int(tenant_id))


def forget_config(tenant_id: int) -> None:
    """Drop the request's copy of the tenant's settings: every writer of them calls it."""
    cache = request_cache()
    if cache is not None:
        cache.pop(_config_key(tenant_id), None)


async def _tenant_config(tenant_id: int) -> _TenantConfig:
    """The tenant's settings row and every context's row in one statement, read once per
    request: a login that sends a code asks for the SMS settings, the contexts switched on
    and the strong-factor rules, each more than once (four statements before, three of
    them on every login; its code's check asks for the rules again)."""
    cache = request_cache()
    cached = cache.get(_config_key(tenant_id)) if cache is not None else None
    if cached is None:
        s_tbl, c_tbl = TwoFactorSettings._meta.tablename, TwoFactorContextSetting._meta.tablename
        rows = await raw(
            "SELECT s.id AS settings_id, s.sms_active, s.provider, s.sender, s.daily_cap, s.admins_strong, "
            'c.id AS context_id, c."key" AS context_key, c.enabled, c.strong_required '
            f'FROM (SELECT 1 AS one) o LEFT JOIN "{s_tbl}" s ON s.tenant_id = {{}} '
            f'LEFT JOIN "{c_tbl}" c ON c.tenant_id = {{}}',
            int(tenant_id), int(tenant_id),
        )
        first = rows[0] if rows else {}
        settings = SmsSettings() if first.get("settings_id") is None else SmsSettings(
            sms_active=bool(first["sms_active"]),
            provider=first["provider"],
            sender=first["sender"],
            daily_cap=int(first["daily_cap"]),
        )
        contexts = [r for r in rows if r.get("context_id") is not None]
        cached = _TenantConfig(
            settings,
            {r["context_key"]: bool(r["enabled"]) for r in contexts},
            StrongRules(
                {r["context_key"] for r in contexts if r["strong_required"]},
                bool(first.get("settings_id") is not None and first["admins_strong"]),
            ),
        )
        if cache is not None:
            cache[_config_key(tenant_id)] = cached
    # Copies: a caller may change what it is given.
    return _TenantConfig(
        replace(cached.settings), dict(cached.states),
        StrongRules(set(cached.strong.contexts), cached.strong.admins),
    )


async def sms_settings(tenant_id: int) -> SmsSettings:
    """The tenant's SMS settings, read once per request (:func:`_tenant_config`)."""
    return (await _tenant_config(tenant_id)).settings


def provider_configured(provider: str) -> str | None:
    """Why the server cannot use this provider (missing credentials), or None."""
    import os

    if provider == "46elks" and not (
        os.environ.get("GALLRA_46ELKS_USERNAME") and os.environ.get("GALLRA_46ELKS_PASSWORD")
    ):
        return "46elks needs GALLRA_46ELKS_USERNAME and GALLRA_46ELKS_PASSWORD on the server"
    if provider == "twilio" and not (
        os.environ.get("GALLRA_TWILIO_ACCOUNT_SID") and os.environ.get("GALLRA_TWILIO_AUTH_TOKEN")
    ):
        return "Twilio needs GALLRA_TWILIO_ACCOUNT_SID and GALLRA_TWILIO_AUTH_TOKEN on the server"
    return None


def daily_cap_max() -> int:
    """The operator's ceiling: GALLRA_SMS_DAILY_CAP_MAX, else :data:`DEFAULT_DAILY_CAP_MAX`.
    A value that is not a positive whole number counts as the default (never unlimited)."""
    import os

    raw_value = os.environ.get(CAP_MAX_ENV, "").strip()
    if raw_value.isdigit() and int(raw_value) > 0:
        return int(raw_value)
    if raw_value:
        log.warning("%s=%r is not a positive whole number; using %s", CAP_MAX_ENV, raw_value,
                    DEFAULT_DAILY_CAP_MAX)
    return DEFAULT_DAILY_CAP_MAX


def effective_daily_cap(tenant_cap: int) -> int:
    """What a tenant may send today: its own cap, never above the operator's ceiling."""
    return max(0, min(tenant_cap, daily_cap_max()))


async def save_sms_settings(
    tenant_id: int,
    *,
    sms_active: bool | None,
    provider: str | None,
    sender: str | None,
    daily_cap: int | None,
) -> SmsSettings:
    current = await sms_settings(tenant_id)
    new = SmsSettings(
        sms_active=current.sms_active if sms_active is None else sms_active,
        provider=current.provider if provider is None else provider.strip().lower(),
        sender=current.sender if sender is None else sender.strip(),
        daily_cap=current.daily_cap if daily_cap is None else daily_cap,
    )
    one_of(new.provider, PROVIDERS, "provider", _("Unknown SMS provider; choose one of %(choices)s."))
    if new.sender and not SENDER_RE.match(new.sender):
        raise TwoFactorRefusal(
            "The sender name must be 1-11 letters (A-Z, a-z) or digits, without spaces.",
            400,
            field="sender",
            code="twofactor.sender",
        )
    if new.sms_active and not new.sender:
        raise TwoFactorRefusal(
            "Give a sender name (1-11 letters or digits) to activate SMS sending.",
            400,
            field="sender",
            code="twofactor.sender_required",
        )
    ceiling = daily_cap_max()
    if daily_cap is not None and not 1 <= new.daily_cap <= ceiling:
        raise TwoFactorRefusal(
            "The daily SMS limit must be 1-%(max)s (the installation's ceiling).",
            400,
            field="daily_cap",
            code="twofactor.daily_cap",
            max=ceiling,
        )
    if new.sms_active:
        problem = provider_configured(new.provider)
        if problem:
            raise TwoFactorRefusal(
                "This provider cannot be used yet: %(problem)s.",
                400,
                field="provider",
                code="twofactor.provider_not_configured",
                problem=problem,
            )
    async with atomic():
        if current.sms_active and not new.sms_active:
            states = await context_states(tenant_id)
            on = [c.label_en for c in await visible_contexts(tenant_id) if states.get(c.key)]
            if on:
                raise TwoFactorRefusal(
                    "Switch off two-factor for these parts first, then deactivate SMS: %(parts)s.",
                    409,
                    code="twofactor.contexts_on",
                    parts="; ".join(on),
                )
        values = {
            TwoFactorSettings.sms_active: new.sms_active,
            TwoFactorSettings.provider: new.provider,
            TwoFactorSettings.sender: new.sender,
            TwoFactorSettings.daily_cap: new.daily_cap,
            TwoFactorSettings.updated_at: utcnow(),
        }
        done = await TwoFactorSettings.update(values).where(
            TwoFactorSettings.tenant_id == tenant_id
        ).returning(TwoFactorSettings.id)
        if not done:
            await TwoFactorSettings.insert(
                TwoFactorSettings(
                    tenant_id=tenant_id,
                    sms_active=new.sms_active,
                    provider=new.provider,
                    sender=new.sender,
                    daily_cap=new.daily_cap,
                    updated_at=utcnow(),
                )
            )
        forget_config(tenant_id)
    return new


async def sent_today(tenant_id: int) -> int:
    row = await TwoFactorDailyCount.select(TwoFactorDailyCount.count).where(
        (TwoFactorDailyCount.tenant_id == tenant_id)
        & (TwoFactorDailyCount.day == utcnow().date().isoformat())
    ).first()
    return int(row["count"]) if row else 0


# --- contexts (M4) ----------------------------------------------------------------------


async def visible_contexts(tenant_id: int) -> list[TwoFactorContext]:
    """Every declared context, except those whose module the tenant turned off (or that
    name a module that is not installed). A context without ``module`` belongs to the
    plugin declaring it when that plugin is a module."""
    host = get_host()
    modules = host.modules()
    enabled = await enabled_modules(host, tenant_id)
    found: dict[str, TwoFactorContext] = {}
    for plugin_name, contexts in host.collect_by_plugin("declare_two_factor_contexts").items():
        for ctx in contexts:
            module = ctx.module or (plugin_name if plugin_name in modules else None)
            if module is not None and module not in enabled:
                continue
            found.setdefault(ctx.key, ctx)
    return sorted(found.values(), key=lambda c: (c.order, c.key))


async def context_states(tenant_id: int) -> dict[str, bool]:
    """Each context's switch (a context without a row is off), read once per request."""
    return (await _tenant_config(tenant_id)).states


async def find_context(tenant_id: int, key: str) -> TwoFactorContext:
    for ctx in await visible_contexts(tenant_id):
        if ctx.key == key:
            return ctx
    raise TwoFactorRefusal(
        "There is no such two-factor context for this organization.", 404, code="twofactor.context_not_found"
    )


async def set_context(tenant_id: int, key: str, enabled: bool) -> TwoFactorContext:
    ctx = await find_context(tenant_id, key)
    async with atomic():
        if enabled and not (await sms_settings(tenant_id)).sms_active:
            raise TwoFactorRefusal(SMS_FIRST_EN, 409, code="twofactor.sms_not_active")
        done = await TwoFactorContextSetting.update(
            {TwoFactorContextSetting.enabled: enabled, TwoFactorContextSetting.changed_at: utcnow()}
        ).where(
            (TwoFactorContextSetting.tenant_id == tenant_id) & (TwoFactorContextSetting.key == key)
        ).returning(TwoFactorContextSetting.id)
        if not done:
            await TwoFactorContextSetting.insert(
                TwoFactorContextSetting(tenant_id=tenant_id, key=key, enabled=enabled, changed_at=utcnow())
            )
        forget_config(tenant_id)
    return ctx


async def active_context(tenant_id: int, key: str) -> TwoFactorContext | None:
    """The context if it is visible, switched on, and SMS is active; else None."""
    states = await context_states(tenant_id)
    if not states.get(key):
        return None
    if not (await sms_settings(tenant_id)).sms_active:
        return None
    for ctx in await visible_contexts(tenant_id):
        if ctx.key == key:
            return ctx
    return None


# --- codes and challenges ---------------------------------------------------------------


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(id_hash: str, code: str) -> str:
    """The code bound to its challenge, under the installation's secret key."""
    return keyed_hash(f"twofactor-code:{id_hash}:{code}")


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


async def _person_state(tenant_id: int, kind: str, person_id: int) -> dict:
    """The person's counter row, created on first use (unique per person)."""
    where = person_where(TwoFactorPerson, tenant_id, kind, person_id)
    row = await TwoFactorPerson.select().where(where).first()
    if row is None:
        made = await TwoFactorPerson.insert(
            TwoFactorPerson(tenant_id=tenant_id, failed_count=0, **person_values(kind, person_id))
        ).on_conflict(action="DO NOTHING").returning(*TwoFactorPerson.all_columns())
        # Nothing returned: another request made the row first; read theirs.
        row = made[0] if made else await TwoFactorPerson.select().where(where).first()
    return row


async def _reserve_send(
    tenant_id: int, kind: str, person_id: int, daily_cap: int, now: datetime, requested_by: int = 0
) -> None:
    """Take one SMS from the person's and the tenant's allowance, or refuse (429/423).

    Call inside the transaction that sends: a refusal rolls the reservation back. The
    60-second rule is a conditional UPDATE of the person's row, which also locks that row
    on PostgreSQL until commit, so two requests cannot both pass the hourly count either.
    """
    state = await _person_state(tenant_id, kind, person_id)
    if int(state["failed_count"]) >= PERSON_MAX_FAILURES:
        raise TwoFactorRefusal(LOCKED, 423, code="twofactor.locked")
    if requested_by:
        requester = await _person_state(tenant_id, "employee", requested_by)
        if int(requester["others_failed_count"]) >= PERSON_MAX_FAILURES:
            raise TwoFactorRefusal(REQUESTER_LOCKED, 423, code="twofactor.requester_locked")
    claimed = await TwoFactorPerson.update({TwoFactorPerson.last_send_at: now}).where(
        (TwoFactorPerson.id == state["id"])
        & (TwoFactorPerson.last_send_at.is_null() | (TwoFactorPerson.last_send_at <= now - SEND_GAP))
    ).returning(TwoFactorPerson.id)
    if not claimed:
        fresh = await TwoFactorPerson.select(TwoFactorPerson.last_send_at).where(
            TwoFactorPerson.id == state["id"]
        ).first()
        wait = _seconds(fresh["last_send_at"] + SEND_GAP - now) if fresh and fresh["last_send_at"] else 60
        raise TwoFactorRefusal(
            "A code was sent less than a minute ago. Wait %(seconds)s seconds before asking for a new one.",
            429,
            retry_after=wait,
            code="twofactor.send_gap",
            seconds=wait,
        )
    recent = await TwoFactorSend.select(TwoFactorSend.sent_at).where(
        person_where(TwoFactorSend, tenant_id, kind, person_id)
        & (TwoFactorSend.sent_at > now - timedelta(hours=1))
    ).order_by(TwoFactorSend.sent_at)
    if len(recent) >= SENDS_PER_HOUR:
        wait = _seconds(recent[0]["sent_at"] + timedelta(hours=1) - now)
        raise TwoFactorRefusal(
            "At most %(per_hour)s codes an hour can be sent to one person. "
            "Wait %(minutes)s min before asking for a new one.",
            429,
            retry_after=wait,
            code="twofactor.hourly_limit",
            per_hour=SENDS_PER_HOUR,
            minutes=math.ceil(wait / 60),
        )
    day = now.date().isoformat()
    # One conditional upsert (atomic on both engines): the day's first SMS makes the row
    # with 1, each later one adds 1 while under the cap; nothing returned is a refusal.
    counted = await raw(
        "INSERT INTO twofactor_daily_count (tenant_id, day, count) SELECT {}, {}, 1 WHERE {} > 0 "
        "ON CONFLICT (tenant_id, day) DO UPDATE SET count = twofactor_daily_count.count + 1 "
        "WHERE twofactor_daily_count.count < {} RETURNING id",
        int(tenant_id), day, int(daily_cap), int(daily_cap),
    )
    if not counted:
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        raise TwoFactorRefusal(
            "The organization has sent its daily maximum of %(cap)s SMS codes. Try again "
            "tomorrow, or ask an administrator to raise the limit (Settings > Two-factor).",
            429,
            retry_after=_seconds(tomorrow - now),
            code="twofactor.daily_limit",
            cap=daily_cap,
        )


def _sms_body(code: str, ctx_label_sv: str, item: SignedItem | None = None) -> str:
    """The code's SMS: what it signs when the step names it (core.approvals.code_sms: kind,
    number and amount in the person's language), else the context, in both languages."""
    if item is not None:
        return code_sms(item, code, int(CODE_TTL.total_seconds() // 60))
    return (
        f"{code} är din engångskod ({ctx_label_sv}). Den gäller i 5 minuter. "
        f"/ {code} is your one-time code, valid for 5 minutes."
    )


async def _send_code(
    tenant_id: int,
    kind: str,
    person_id: int,
    challenge_row_id: int,
    phone: str,
    code: str,
    sender: str,
    ctx_label_sv: str,
    now: datetime,
    item: SignedItem | None = None,
) -> None:
    outbox_id = await queue_message(
        "sms", phone, _sms_body(code, ctx_label_sv, item), tenant_id=tenant_id, sender=sender or None
    )
    await TwoFactorSend.insert(
        TwoFactorSend(
            tenant_id=tenant_id,
            challenge_id=challenge_row_id,
            outbox_id=outbox_id,
            sent_at=now,
            **person_values(kind, person_id),
        )
    )


@dataclass
class Started:
    challenge_id: str
    masked_phone: str
    expires_at: datetime

    @property
    def params(self) -> dict[str, Any]:
        return {"phone": self.masked_phone}

    def text(self, t: Any = None) -> str:
        """"A code was sent ..." in the language of ``t`` (English without)."""
        return GallraError(CODE_SENT, **self.params).text(t)


async def _phone_of(tenant_id: int, kind: str, person_id: int) -> tuple[PersonContact, str]:
    person = await describe_person(tenant_id, kind, person_id)
    if person is None:
        raise TwoFactorRefusal(PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    choice = choose_phone(person)
    if choice is None:
        raise TwoFactorRefusal(NO_PHONE, 409, code="twofactor.no_phone")
    return person, choice[0]


def subject_digest(subject: str) -> str:
    """What a challenge stores of the step's subject: its SHA-256, or "" for none."""
    return token_hash(subject) if subject else ""


def requester_of(kind: str, person_id: int, requested_by: int) -> int:
    """Who started a step for someone else: 0 when nobody did (or the person themself)."""
    if requested_by <= 0 or (kind == "employee" and requested_by == person_id):
        return 0
    return requested_by


async def start_challenge(
    tenant_id: int,
    kind: str,
    person_id: int,
    ctx: TwoFactorContext,
    subject: str = "",
    requested_by: int = 0,
    reason: str = "",
    item: SignedItem | None = None,
) -> Started:
    """Send a new code for this person and step (throttled), or refuse. ``subject`` binds
    the code to one decision (see SecondFactorRequest.subject); ``requested_by`` is the
    employee starting the step for someone else (their wrong codes count against them)."""
    check_kind(kind)
    requested_by = requester_of(kind, person_id, requested_by)
    await refuse_sms_if_strong(tenant_id, ctx.key, kind, person_id)
    cfg = await sms_settings(tenant_id)
    _, phone = await _phone_of(tenant_id, kind, person_id)
    masked = mask_phone(phone)
    challenge_id = new_token(32)
    id_hash = token_hash(challenge_id)
    code = new_code()
    now = utcnow()
    async with atomic():
        await _reserve_send(
            tenant_id, kind, person_id, effective_daily_cap(cfg.daily_cap), now, requested_by
        )
        rows = await TwoFactorChallenge.insert(
            challenge_row(
                tenant_id, kind, person_id, ctx.key, ctx.purpose, id_hash, now, CODE_TTL,
                code_hmac=code_digest(id_hash, code),
                phone_masked=masked,
                subject_hash=subject_digest(subject),
                requested_by=requested_by,
                reason=reason.strip()[:200],
            )
        ).returning(TwoFactorChallenge.id)
        await _send_code(
            tenant_id, kind, person_id, int(rows[0]["id"]), phone, code, cfg.sender, ctx.label_sv, now, item
        )
    return Started(challenge_id, masked, now + CODE_TTL)


def challenge_row(tenant_id: int, kind: str, person_id: int, context: str, purpose: str, id_hash: str,
                  now: datetime, ttl: timedelta, **values: Any) -> TwoFactorChallenge:
    """A new pending challenge of the person (not inserted yet), sent ``now`` and valid for
    ``ttl``; ``values`` the rest of its columns (an SMS code's digest and the masked phone,
    the subject's digest, who asked). Without a ``code_hmac`` no SMS code can match it."""
    return TwoFactorChallenge(
        tenant_id=tenant_id,
        id_hash=id_hash,
        context=context,
        purpose=purpose,
        status="pending",
        attempts=0,
        created_at=now,
        sent_at=now,
        expires_at=now + ttl,
        **{"code_hmac": "", "phone_masked": "", **values},
        **person_values(kind, person_id),
    )


async def find_challenge(tenant_id: int | None, challenge_id: str) -> dict:
    """A challenge by its id; with a tenant, only that tenant's (404 for another's)."""
    if not challenge_id or len(challenge_id) > 128:
        raise _not_found()
    query = TwoFactorChallenge.select().where(TwoFactorChallenge.id_hash == token_hash(challenge_id))
    if tenant_id is not None:
        query = query.where(TwoFactorChallenge.tenant_id == tenant_id)
    row = await query.first()
    if row is None:
        raise _not_found()
    return row


def _ended(row: dict, now: datetime) -> TwoFactorRefusal | None:
    if row["status"] in ("verified", "used"):
        return TwoFactorRefusal(CODE_USED, 409, code="twofactor.code_used")
    if row["status"] == "failed" or int(row["attempts"]) >= MAX_ATTEMPTS:
        return TwoFactorRefusal(
            "The code was entered wrongly %(attempts)s times and no longer works. "
            "Start again to get a new code.",
            409,
            code="twofactor.code_failed",
            attempts=MAX_ATTEMPTS,
        )
    if row["expires_at"] <= now:
        return TwoFactorRefusal(
            "The code has expired (codes are valid for 5 minutes). Ask for a new code.",
            409,
            code="twofactor.code_expired",
        )
    return None


async def resend(
    tenant_id: int | None, challenge_id: str, item: SignedItem | None = None, subject: str = ""
) -> Started:
    """A new code for the same step (the old one stops working), within the limits. The SMS
    names ``item`` only when ``subject`` is the one the challenge was started for (else
    it names the context, as a resend through the API does)."""
    row = await find_challenge(tenant_id, challenge_id)
    tid = int(row["tenant_id"])
    kind, person_id = person_of(row)
    now = utcnow()
    if row["status"] != "pending" or int(row["attempts"]) >= MAX_ATTEMPTS:
        problem = _ended(row, now)
        assert problem is not None
        raise problem
    ctx = await active_context(tid, row["context"])
    if ctx is None:
        raise TwoFactorRefusal(
            "Two-factor is no longer switched on for this step; start it again.",
            409,
            code="twofactor.context_off",
        )
    await refuse_sms_if_strong(tid, ctx.key, kind, person_id)
    cfg = await sms_settings(tid)
    _, phone = await _phone_of(tid, kind, person_id)
    masked = mask_phone(phone)
    code = new_code()
    async with atomic():
        await _reserve_send(
            tid, kind, person_id, effective_daily_cap(cfg.daily_cap), now, int(row["requested_by"])
        )
        done = await TwoFactorChallenge.update(
            {
                TwoFactorChallenge.code_hmac: code_digest(row["id_hash"], code),
                TwoFactorChallenge.sent_at: now,
                TwoFactorChallenge.expires_at: now + CODE_TTL,
                TwoFactorChallenge.phone_masked: masked,
            }
        ).where(
            (TwoFactorChallenge.id == row["id"])
            & (TwoFactorChallenge.status == "pending")
            & (TwoFactorChallenge.attempts < MAX_ATTEMPTS)
        ).returning(TwoFactorChallenge.id)
        if not done:
            raise TwoFactorRefusal(
                "This code request has ended. Start again to get a new code.", 409, code="twofactor.ended"
            )
        named = item if item is not None and subject and subject_digest(subject) == row["subject_hash"] else None
        await _send_code(tid, kind, person_id, int(row["id"]), phone, code, cfg.sender, ctx.label_sv, now, named)
    return Started(challenge_id, masked, now + CODE_TTL)


@dataclass
class Verified:
    tenant_id: int
    person_kind: str
    person_id: int
    context: str
    purpose: str
    masked_phone: str
    signer_name: str
    verified_at: datetime
    # Set for login steps: the new trusted device's cookie token and its fixed expiry.
    device_token: str | None = None
    device_expires_at: datetime | None = None
    # Whether a recovery code was used instead of the SMS code.
    by_recovery_code: bool = False
    # Whether the code came from the person's authenticator app.
    by_app: bool = False
    # The factor of a :class:`FactorCheck` that completed the step ("passkey"), else "".
    by: str = ""


@dataclass(frozen=True)
class FactorCheck:
    """A second factor that is not a code compared here (a passkey's assertion): ``check``
    gets (tenant id, person kind, person id, challenge row, now) inside the transaction
    that completes the challenge and answers "ok", "reused" or "wrong"; the attempt is
    counted before, like a code's. ``wrong`` is the refusal's message and ``code``."""

    name: str
    check: Callable[[int, str, int, dict, datetime], Awaitable[str]]
    wrong: str
    code: str


# The factors this plugin checks itself; another plugin cannot declare these names.
OWN_FACTORS = frozenset({"sms", "app", "passkey", "recovery"})
UNKNOWN_FACTOR = _("Unknown second factor: %(factor)s.")
FACTOR_AND_ANSWER = _("Give the second factor's name together with its answer.")
FACTOR_WRONG = _("Wrong answer. Attempts left: %(left)s.")
FACTOR_FAILED = _("The second factor could not check the answer. Try again, or use another factor.")
FACTOR_NOT_STRONG = _(
    "This factor is not accepted for this step: it requires an authenticator app or a passkey."
)


async def verify_factor(
    tenant_id: int | None, challenge_id: str, factor: str, answer: str, user_agent: str = ""
) -> Verified:
    """Check an answer for the factor ``factor`` that another plugin declared
    (``SecondFactor`` in ``declare_kinds``), as :func:`verify_code` checks a code: counted
    first, completed in the transaction that asked the factor. A factor no enabled plugin
    declares (or one of this plugin's own names) is refused with 400 before anything is
    counted."""
    row = await find_challenge(tenant_id, challenge_id)
    declared = None if factor in OWN_FACTORS else await second_factor(int(row["tenant_id"]), factor)
    if declared is None:
        raise TwoFactorRefusal(UNKNOWN_FACTOR, 400, field="factor", code="twofactor.unknown_factor", factor=factor)
    return await verify_code(tenant_id, challenge_id, answer, user_agent, external=declared)


OTHER_FACTOR_ASKED = _(
    "No SMS code can be sent: the phone number is missing. Answer with your other second "
    "factor (%(factors)s) or one of your recovery codes."
)


async def declared_factors_of(tenant_id: int, kind: str, person_id: int) -> list[str]:
    """The person's factors that another plugin enabled for the tenant declared (and so
    checks at a step): ``second_factors_of`` names with a ``SecondFactor`` declaration."""
    names = await all_factors_of(tenant_id, kind, person_id)
    return [n for n in names if n not in OWN_FACTORS and await second_factor(tenant_id, n) is not None]


async def _ask_factor(declared: SecondFactor, tid: int, kind: str, person_id: int, row: dict, answer: str) -> bool:
    """Whether the declared factor accepts ``answer`` for this challenge: only ``True`` is."""
    asked = FactorAnswer(
        tenant_id=tid, person_kind=kind, person_id=person_id, context=row["context"],
        purpose=row["purpose"], challenge=str(row["id_hash"]), answer=answer,
    )
    return (await declared.check(asked)) is True


async def verify_code(
    tenant_id: int | None,
    challenge_id: str,
    code: str,
    user_agent: str = "",
    *,
    recovery: bool = False,
    app: bool = False,
    factor: FactorCheck | None = None,
    external: SecondFactor | None = None,
) -> Verified:
    """Check a code: at most MAX_ATTEMPTS comparisons per challenge, ever.

    The attempt is counted *before* the comparison, in one conditional UPDATE, so parallel
    guesses cannot compare more than MAX_ATTEMPTS times. A right code of a login step also
    makes the device trusted; of an employee login it is used at once (the route opens
    the session); of any other step it stays "verified" until the step is re-submitted.

    With ``recovery`` the code is one of the person's recovery codes instead of the SMS
    code: the same attempts are counted first, and the recovery code is used in the same
    transaction that completes the challenge (a challenge that ended meanwhile keeps it).

    With ``app`` the code is one from the person's active authenticator app, accepted in a
    +-1 step window once per step (:func:`use_app_code`), the same way: counted first, and
    the step used in the transaction that completes the challenge.

    With ``factor`` the answer is checked by that factor (a passkey's assertion), the same
    way again; with ``external`` by another plugin's declared factor (:func:`verify_factor`):
    only an answer of ``True`` completes the step, and a factor that raises refuses it
    (409, counted, nothing completed). Where a strong factor is required, a factor not
    declared ``strong`` is refused before anything is counted.
    """
    row = await find_challenge(tenant_id, challenge_id)
    if row["purpose"] not in PURPOSES:
        raise _not_found()  # a passkey registration's challenge is no step to complete
    tid = int(row["tenant_id"])
    kind, person_id = person_of(row)
    now = utcnow()
    state = await _person_state(tid, kind, person_id)
    if int(state["failed_count"]) >= PERSON_MAX_FAILURES:
        raise TwoFactorRefusal(LOCKED, 423, code="twofactor.locked")
    problem = _ended(row, now)
    if problem is not None:
        raise problem
    if external is not None:
        if not external.strong and await strong_required(tid, row["context"], kind, person_id):
            raise TwoFactorRefusal(FACTOR_NOT_STRONG, 409, field="factor", code="twofactor.factor_not_strong")
    elif not recovery and not app and factor is None:
        # An SMS code is not accepted where a strong factor is required (also one sent
        # before the rule was switched on).
        await refuse_sms_if_strong(tid, row["context"], kind, person_id)
    # Whose allowance a wrong code spends: the person's own, or, for a step someone else
    # started, that requester's (so nobody can lock another person out by asking them).
    requester = int(row["requested_by"] or 0)
    if requester:
        charged = await _person_state(tid, "employee", requester)
        counter, locked = TwoFactorPerson.others_failed_count, REQUESTER_LOCKED
        locked_code = "twofactor.requester_locked"
    else:
        charged, counter, locked = state, TwoFactorPerson.failed_count, LOCKED
        locked_code = "twofactor.locked"
    # The person's (or requester's) attempt is reserved before the comparison, in one
    # conditional UPDATE, like the challenge's own: parallel guesses on several challenges
    # cannot compare more than PERSON_MAX_FAILURES times either.
    reserved = await TwoFactorPerson.update({counter: counter + 1}).where(
        (TwoFactorPerson.id == charged["id"]) & (counter < PERSON_MAX_FAILURES)
    ).returning(counter)
    if not reserved:
        raise TwoFactorRefusal(locked, 423, code=locked_code)
    failures = int(reserved[0][counter._meta.name])
    counted = await TwoFactorChallenge.update(
        {TwoFactorChallenge.attempts: TwoFactorChallenge.attempts + 1}
    ).where(
        (TwoFactorChallenge.id == row["id"])
        & (TwoFactorChallenge.status == "pending")
        & (TwoFactorChallenge.attempts < MAX_ATTEMPTS)
        & (TwoFactorChallenge.expires_at > now)
    ).returning(TwoFactorChallenge.attempts, TwoFactorChallenge.code_hmac)
    if not counted:
        # No comparison took place: the reserved attempt is given back.
        await TwoFactorPerson.update({counter: counter - 1}).where(
            (TwoFactorPerson.id == charged["id"]) & (counter > 0)
        )
        fresh = await find_challenge(tid, challenge_id)
        raise _ended(fresh, now) or TwoFactorRefusal(
            "This code request has ended.", 409, code="twofactor.ended"
        )
    attempts = int(counted[0]["attempts"])
    signer = ""
    if row["purpose"] == "sign":
        person = await describe_person(tid, kind, person_id)
        signer = person.name if person is not None else ""
    finished = "used" if (row["purpose"] == "login" and kind == "employee") else "verified"
    result = Verified(
        tenant_id=tid,
        person_kind=kind,
        person_id=person_id,
        context=row["context"],
        purpose=row["purpose"],
        masked_phone=row["phone_masked"],
        signer_name=signer,
        verified_at=now,
        by_recovery_code=recovery,
        by_app=app,
        by=factor.name if factor else (external.kind if external else ""),
    )

    async def finish() -> None:
        if not is_sqlite():
            # PostgreSQL: the challenge completed, the charged count of wrong codes ended
            # and the SMS's code redacted in one statement (each only if the challenge was
            # still pending: a WITH's UPDATEs see one snapshot, so they key on its RETURNING).
            done = await raw(
                "WITH done AS (UPDATE twofactor_challenge SET status = {}, verified_at = {}, signer_name = {} "
                "WHERE id = {} AND status = 'pending' RETURNING id), "
                f"reset AS (UPDATE twofactor_person SET {counter._meta.db_column_name} = 0 "
                "WHERE id = {} AND EXISTS (SELECT 1 FROM done)), "
                "redacted AS (UPDATE outbox SET body = {} WHERE status <> 'queued' AND body <> {} AND id IN "
                "(SELECT outbox_id FROM twofactor_send WHERE challenge_id IN (SELECT id FROM done))) "
                "SELECT id FROM done",
                finished, now, signer[:200], int(row["id"]), int(charged["id"]), REDACTED_BODY, REDACTED_BODY,
            )
            if not done:
                raise TwoFactorRefusal(CODE_USED, 409, code="twofactor.code_used")
            if row["purpose"] == "login":
                result.device_token, result.device_expires_at = await create_device(
                    tid, kind, person_id, user_agent, now
                )
            return
        done = await TwoFactorChallenge.update(
            {
                TwoFactorChallenge.status: finished,
                TwoFactorChallenge.verified_at: now,
                TwoFactorChallenge.signer_name: signer[:200],
            }
        ).where(
            (TwoFactorChallenge.id == row["id"]) & (TwoFactorChallenge.status == "pending")
        ).returning(TwoFactorChallenge.id)
        if not done:
            raise TwoFactorRefusal(CODE_USED, 409, code="twofactor.code_used")
        # A right code ends the count of wrong ones it was charged to (never time alone).
        await TwoFactorPerson.update({counter: 0}).where(TwoFactorPerson.id == charged["id"])
        if row["purpose"] == "login":
            result.device_token, result.device_expires_at = await create_device(
                tid, kind, person_id, user_agent, now
            )
        await redact_codes(int(row["id"]))

    reused = broken = False
    if external is not None:
        try:
            async with atomic():
                right = not requester and await _ask_factor(external, tid, kind, person_id, row, code)
                if right:
                    await finish()
        except TwoFactorRefusal:
            raise
        except Exception as exc:  # the factor's plugin failed: refuse, never complete
            log.warning("second factor %s failed checking an answer: %s", external.kind, type(exc).__name__)
            right, broken = False, True
    elif recovery:
        # Only the person's own codes, and never on a step someone else started for them.
        async with atomic():
            right = not requester and await use_recovery_code(tid, kind, person_id, code, now)
            if right:
                await finish()
                await log_event(tid, None, "twofactor.recovery_code_used", "twofactor", kind, person_id)
    elif factor is not None:
        async with atomic():
            outcome = "wrong" if requester else await factor.check(tid, kind, person_id, row, now)
            right = outcome == "ok"
            if right:
                await finish()
        reused = outcome == "reused"
    elif app:
        async with atomic():
            outcome = "wrong" if requester else await use_app_code(tid, kind, person_id, code, now)
            right = outcome == "ok"
            if right:
                await finish()
        reused = outcome == "reused"
    else:
        right = bool(counted[0]["code_hmac"]) and hmac.compare_digest(
            code_digest(row["id_hash"], code), counted[0]["code_hmac"]
        )
        if right:
            async with atomic():
                await finish()
    if not right:
        if attempts >= MAX_ATTEMPTS:
            await TwoFactorChallenge.update({TwoFactorChallenge.status: "failed"}).where(
                TwoFactorChallenge.id == row["id"]
            )
        if failures >= PERSON_MAX_FAILURES:
            raise TwoFactorRefusal(locked, 423, code=locked_code)
        if attempts >= MAX_ATTEMPTS:
            raise TwoFactorRefusal(
                "Wrong code. It was entered wrongly %(attempts)s times and no longer works; "
                "start again to get a new code.",
                409,
                code="twofactor.code_failed",
                attempts=MAX_ATTEMPTS,
            )
        left = MAX_ATTEMPTS - attempts
        if broken:
            raise TwoFactorRefusal(FACTOR_FAILED, 409, field="factor", code="twofactor.factor_failed", left=left)
        if external is not None:
            raise TwoFactorRefusal(FACTOR_WRONG, 400, field="answer", code="twofactor.factor_wrong", left=left)
        if factor is not None:
            raise TwoFactorRefusal(factor.wrong, 400, field=factor.name, code=factor.code, left=left)
        if app and reused:
            raise TwoFactorRefusal(APP_CODE_REUSED, 400, field="code", code="twofactor.app_code_reused", left=left)
        raise TwoFactorRefusal(
            "Wrong code. Attempts left: %(left)s.", 400, field="code", code="twofactor.wrong_code", left=left
        )
    return result


def login_how(result: Verified) -> str:
    """How a login's second factor was given, for the system log (never the code)."""
    if result.by:
        return f"with {result.by}"
    if result.by_app:
        return "with authenticator app"
    return "with recovery code" if result.by_recovery_code else "with SMS code"


async def completes_employee_login(result: Verified) -> bool:
    """Whether a verified code completes an employee's login (the edge then opens the
    session); refused (409) when the employee was deleted since the code was sent."""
    from plugins.twofactor import EMPLOYEE_LOGIN

    if (result.purpose, result.person_kind, result.context) != ("login", "employee", EMPLOYEE_LOGIN):
        return False
    employee = await Employee.select(Employee.id).where(
        (Employee.tenant_id == result.tenant_id) & (Employee.id == result.person_id) & Employee.deleted_at.is_null()
    ).first()
    if employee is None:
        raise TwoFactorRefusal("This account can no longer log in.", 409, code="twofactor.account_gone")
    return True


async def redact_codes(challenge_row_id: int) -> None:
    """Remove the code from the challenge's SMS already handed to the gateway: once the
    code is used (or dead) the outbox keeps who got an SMS and when, not the code."""
    await raw(
        "UPDATE outbox SET body = {} WHERE status <> 'queued' AND body <> {} AND id IN "
        "(SELECT outbox_id FROM twofactor_send WHERE challenge_id = {})",
        REDACTED_BODY,
        REDACTED_BODY,
        challenge_row_id,
    )


async def consume(request: SecondFactorRequest, ctx: TwoFactorContext) -> SecondFactorDecision:
    """A guarded step re-submitted with its challenge id: use the verified code once."""
    cid = request.challenge_id or ""
    now = utcnow()
    rows = []
    if len(cid) <= 128:
        rows = await TwoFactorChallenge.update({TwoFactorChallenge.status: "used"}).where(
            person_where(TwoFactorChallenge, request.tenant_id, request.person_kind, request.person_id)
            & (TwoFactorChallenge.id_hash == token_hash(cid))
            & (TwoFactorChallenge.context == ctx.key)
            & (TwoFactorChallenge.subject_hash == subject_digest(request.subject))
            & (TwoFactorChallenge.status == "verified")
            & (TwoFactorChallenge.verified_at > now - VERIFIED_TTL)
        ).returning(
            TwoFactorChallenge.phone_masked, TwoFactorChallenge.signer_name, TwoFactorChallenge.verified_at
        )
    if not rows:
        return SecondFactorDecision.refused(TwoFactorRefusal(NOT_VERIFIED, 409, code="twofactor.not_verified"))
    row = rows[0]
    return SecondFactorDecision(
        required=False,
        challenge_id=cid,
        masked_phone=row["phone_masked"],
        signer_name=row["signer_name"] or None,
        signed_at=row["verified_at"],
        message=CODE_VERIFIED,
    )


async def decide(request: SecondFactorRequest) -> SecondFactorDecision | None:
    """The ``challenge_second_factor`` answer: None when the step needs no code."""
    ctx = await active_context(request.tenant_id, request.context)
    if ctx is None:
        return None
    if request.person_kind not in KINDS:
        return SecondFactorDecision.refused(TwoFactorRefusal(UNKNOWN_KIND, 400, code="twofactor.unknown_kind"))
    if request.challenge_id and getattr(request, "resend", False):
        return await resend_for(request)
    if request.challenge_id:
        return await consume(request, ctx)
    if ctx.purpose == "login" and await device_trusted(
        request.tenant_id, request.person_kind, request.person_id, request.device_token
    ):
        return SecondFactorDecision(required=False, message=DEVICE_REMEMBERED)
    requested_by = requester_of(request.person_kind, request.person_id, getattr(request, "requested_by", 0) or 0)
    if await strong_required(request.tenant_id, ctx.key, request.person_kind, request.person_id):
        # Remembered devices (above) work the same whatever the factor; SMS never here.
        return await decide_strong(request, ctx, requested_by)
    passkey = app = False
    if not requested_by:
        from plugins.twofactor import passkeys

        passkey, app = await has_passkey_or_app(request.tenant_id, request.person_kind, request.person_id)
        if passkey:
            # A passkey first; the page offers an SMS code instead (resend).
            started = await passkeys.start_passkey_challenge(
                request.tenant_id, request.person_kind, request.person_id, ctx, subject=request.subject
            )
            return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                        message=passkeys.PASSKEY_ASKED)
    if app:
        # The app's code first; the page offers an SMS code instead (resend).
        started = await start_app_challenge(
            request.tenant_id, request.person_kind, request.person_id, ctx, subject=request.subject
        )
        return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                    message=APP_CODE_ASKED)
    try:
        started = await start_challenge(
            request.tenant_id,
            request.person_kind,
            request.person_id,
            ctx,
            subject=request.subject,
            requested_by=requested_by,
            item=request.item,
        )
    except TwoFactorRefusal as exc:
        # No phone, but recovery codes of their own or another plugin's factor: the person
        # answers with one of those.
        if exc.code != "twofactor.no_phone" or requested_by:
            return SecondFactorDecision.refused(exc)
        others = await declared_factors_of(request.tenant_id, request.person_kind, request.person_id)
        if not others and not await recovery_remaining(request.tenant_id, request.person_kind, request.person_id):
            return SecondFactorDecision.refused(exc)
        started = await start_recovery_challenge(
            request.tenant_id, request.person_kind, request.person_id, ctx, subject=request.subject
        )
        if others:
            return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                        message=OTHER_FACTOR_ASKED, params={"factors": ", ".join(others)})
        return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                    message=RECOVERY_ONLY)
    return code_sent(started)


def code_sent(started: Started) -> SecondFactorDecision:
    """The decision of a step whose SMS code was just sent: the masked phone, and when a
    new one may be asked for."""
    return SecondFactorDecision(
        required=True,
        challenge_id=started.challenge_id,
        masked_phone=started.masked_phone,
        message=CODE_SENT,
        params=started.params,
        resend_in=int(SEND_GAP.total_seconds()),
    )


async def resend_for(request: SecondFactorRequest) -> SecondFactorDecision:
    """A new SMS code for the request's challenge (``request.resend``), when it is this
    person's in this tenant and context: another person's challenge is not found (404),
    and one asked for before the wait between codes is refused with the seconds left."""
    assert request.challenge_id
    try:
        row = await find_challenge(request.tenant_id, request.challenge_id)
    except TwoFactorRefusal as exc:
        return SecondFactorDecision.refused(exc)
    if person_of(row) != (request.person_kind, request.person_id) or row["context"] != request.context:
        return SecondFactorDecision.refused(_not_found())
    try:
        started = await resend(request.tenant_id, request.challenge_id, request.item, request.subject)
    except TwoFactorRefusal as exc:
        refused = SecondFactorDecision.refused(exc)
        refused.challenge_id = request.challenge_id
        refused.masked_phone = row["phone_masked"] or ""
        if exc.retry_after:  # the wait between codes, or the hourly limit
            refused.resend_in = int(exc.retry_after)
        return refused
    return code_sent(started)


# --- recovery codes ----------------------------------------------------------------------

RECOVERY_COUNT = 10
# Crockford's base32 (no I, L, O, U): 16 characters are 80 random bits, read in groups of 4.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CHARS = 16
RECOVERY_TTL = timedelta(minutes=10)
RECOVERY_RE = re.compile(r"^[0-9A-Z]{16}$")
RECOVERY_FORMAT = _("A recovery code has 16 letters and digits, as in 7K3M-Q9XD-2HPA-W4TB.")
RECOVERY_ONLY = _("No SMS code can be sent: the phone number is missing. Enter one of your recovery codes.")


def new_recovery_code() -> str:
    raw_code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CHARS))
    return "-".join(raw_code[i : i + 4] for i in range(0, RECOVERY_CHARS, 4))


def normalize_recovery_code(value: str) -> str | None:
    """The code as stored (16 characters, no dashes or spaces, upper case; O read as 0 and
    I or L as 1, as Crockford's base32 does), or None when it cannot be a recovery code."""
    if not value or len(value) > 40:
        return None
    cleaned = re.sub(r"[\s-]", "", value).upper().replace("O", "0").replace("I", "1").replace("L", "1")
    return cleaned if RECOVERY_RE.match(cleaned) and "U" not in cleaned else None


def recovery_digest(tenant_id: int, kind: str, person_id: int, code: str) -> str:
    """HMAC-SHA256 of the person and the normalized code under the installation's key.

    A fast keyed hash is enough here (unlike passwords): a code has 80 random bits, so
    there is no dictionary to try, and without the installation's key a leaked table
    cannot even be tried offline. It is also deterministic, which lets one conditional
    UPDATE find and use a code (no per-row salt to try one by one)."""
    return keyed_hash(f"twofactor-recovery:{tenant_id}:{kind}:{person_id}:{code}")


async def recovery_remaining(tenant_id: int, kind: str, person_id: int) -> int:
    return await TwoFactorRecoveryCode.count().where(
        person_where(TwoFactorRecoveryCode, tenant_id, kind, person_id) & TwoFactorRecoveryCode.used_at.is_null()
    )


async def recovery_state(tenant_id: int, kind: str, person_id: int) -> dict[str, Any]:
    """How many unused codes the person has, and when the set was made (None: never)."""
    row = await TwoFactorRecoveryCode.select(TwoFactorRecoveryCode.created_at).where(
        person_where(TwoFactorRecoveryCode, tenant_id, kind, person_id)
    ).first()
    return {
        "remaining": await recovery_remaining(tenant_id, kind, person_id),
        "total": RECOVERY_COUNT if row else 0,
        "created_at": row["created_at"] if row else None,
    }


async def generate_recovery_codes(tenant_id: int, kind: str, person_id: int) -> list[str]:
    """A new set of codes for the person, replacing the old set in one transaction. The
    codes are returned once, to be shown once; only their HMACs are stored."""
    check_kind(kind)
    if await describe_person(tenant_id, kind, person_id) is None:
        raise TwoFactorRefusal(PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    codes = [new_recovery_code() for _ in range(RECOVERY_COUNT)]
    now = utcnow()
    async with atomic():
        await TwoFactorRecoveryCode.delete().where(person_where(TwoFactorRecoveryCode, tenant_id, kind, person_id))
        await TwoFactorRecoveryCode.insert(
            *[
                TwoFactorRecoveryCode(
                    tenant_id=tenant_id,
                    code_hash=recovery_digest(tenant_id, kind, person_id, normalize_recovery_code(code) or ""),
                    created_at=now,
                    used_at=None,
                    **person_values(kind, person_id),
                )
                for code in codes
            ]
        )
    return codes


async def use_recovery_code(tenant_id: int, kind: str, person_id: int, code: str, now: datetime) -> bool:
    """Use one of the person's codes: True once for a right unused code, False otherwise.
    One conditional UPDATE (``used_at IS NULL``) decides, so two parallel uses of the same
    code cannot both succeed."""
    normalized = normalize_recovery_code(code)
    if normalized is None:
        return False
    rows = await TwoFactorRecoveryCode.update({TwoFactorRecoveryCode.used_at: now}).where(
        person_where(TwoFactorRecoveryCode, tenant_id, kind, person_id)
        & (TwoFactorRecoveryCode.code_hash == recovery_digest(tenant_id, kind, person_id, normalized))
        & TwoFactorRecoveryCode.used_at.is_null()
    ).returning(TwoFactorRecoveryCode.id)
    return bool(rows)


async def start_silent_challenge(tenant_id: int, kind: str, person_id: int, ctx: Any, subject: str,
                                 prefix: str, ttl: timedelta) -> Started:
    """A step's challenge for which no SMS is sent (an app, a passkey, a recovery code answers
    it): single use, bound to the person, context and subject like an SMS code's, and no
    SMS code can match it (``code_hmac`` is empty) until one is asked for (:func:`resend`).
    ``prefix`` tells the page which factor to ask for first."""
    challenge_id = prefix + new_token(32)
    now = utcnow()
    await TwoFactorChallenge.insert(
        challenge_row(tenant_id, kind, person_id, ctx.key, ctx.purpose, token_hash(challenge_id), now, ttl,
                      subject_hash=subject_digest(subject))
    )
    return Started(challenge_id, "", now + ttl)


async def start_recovery_challenge(tenant_id: int, kind: str, person_id: int, ctx: TwoFactorContext,
                                   subject: str = "") -> Started:
    """A code request for a person without a phone who has recovery codes: no SMS is sent
    and no SMS code can match (``code_hmac`` is empty); only a recovery code completes it."""
    return await start_silent_challenge(tenant_id, kind, person_id, ctx, subject, "", RECOVERY_TTL)


# --- who a context would lock out --------------------------------------------------------


@dataclass
class LockedOut:
    """An employee who could not pass a context being switched on: no usable phone number
    and no unused recovery code."""

    employee_id: int
    name: str
    is_admin: bool


LOCKS_OUT_ADMINS = _(
    "This would lock out every administrator: none of them has a phone number that can get "
    "SMS codes or any recovery codes (%(names)s). Add a mobile number under Settings > "
    "Employees or make recovery codes first. Nothing was changed."
)
CONFIRM_LOCKOUT = _(
    "These people have no phone number that can get SMS codes and no recovery codes, so they "
    "could not log in or reset their password: %(names)s. Confirm to switch on anyway."
)
LOCKOUT_CHECK_FAILED = _("It could not be checked who would be locked out, so nothing was changed.")


class LockoutRefusal(TwoFactorRefusal):
    """A refused switch, with the people it would lock out (shown as a list)."""

    def __init__(self, message: str, people: list[LockedOut], /, *, code: str, confirmable: bool) -> None:
        self.people = people
        self.confirmable = confirmable
        super().__init__(message, 409, field="contexts", code=code, names=", ".join(p.name for p in people))


def employee_contexts() -> tuple[str, ...]:
    """The contexts that ask the organization's employees themselves for a code on the way in."""
    from plugins.twofactor import EMPLOYEE_LOGIN, EMPLOYEE_RESET

    return (EMPLOYEE_LOGIN, EMPLOYEE_RESET)


async def who_would_be_locked_out(tenant_id: int, keys: Iterable[str],
                                  rules: StrongRules | None = None) -> list[LockedOut]:
    """The employees who could not pass the contexts ``keys`` (those asking employees):
    where a strong factor is required of them (``rules``, else the tenant's), no app, no
    passkey and no recovery code; elsewhere no usable phone, no app and no recovery code."""
    keys = set(keys) & set(employee_contexts())
    if not keys:
        return []
    rules = rules or await strong_rules(tenant_id)
    rows = await Employee.select(
        Employee.id, Employee.name, Employee.role, Employee.mobile_phone, Employee.private_phone, Employee.work_phone
    ).where((Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null()).order_by(Employee.name)
    with_codes = {
        int(r["employee_id"])
        for r in await TwoFactorRecoveryCode.select(TwoFactorRecoveryCode.employee_id).where(
            (TwoFactorRecoveryCode.tenant_id == tenant_id)
            & (TwoFactorRecoveryCode.person_kind == "employee")
            & TwoFactorRecoveryCode.used_at.is_null()
        )
    }
    from plugins.twofactor import passkeys

    # A passkey is asked for first and needs no phone: its holders are not locked out.
    with_codes |= await passkeys.employees_with_passkeys(tenant_id)
    locked: list[LockedOut] = []
    for row in rows:
        employee_id, is_admin = int(row["id"]), row["role"] == "admin"
        if employee_id in with_codes:
            continue
        if any(rules.required(k, is_admin) for k in keys):
            way_in = bool(strong_factors(await all_factors_of(tenant_id, "employee", employee_id),
                                         await strong_second_factors(tenant_id)))
        else:
            contact = PersonContact(name=row["name"], mobile_phone=row["mobile_phone"],
                                    private_phone=row["private_phone"], work_phone=row["work_phone"])
            way_in = choose_phone(contact) is not None or await has_active_app(tenant_id, "employee", employee_id)
        if not way_in:
            locked.append(LockedOut(employee_id, row["name"], is_admin))
    return locked


async def check_lockout(tenant_id: int, keys: Iterable[str], confirm: bool,
                        rules: StrongRules | None = None) -> list[LockedOut]:
    """Refuse switching on ``keys`` when it locks out every administrator; ask to confirm
    (``confirm``) when it locks out anybody else. Returns who is locked out (confirmed).
    Fails closed: when the check itself fails, nothing is switched on."""
    try:
        keys = list(keys)
        rules = rules or await strong_rules(tenant_id)
        locked = await who_would_be_locked_out(tenant_id, keys, rules)
        admins = await Employee.count().where(
            (Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null() & (Employee.role == "admin")
        )
    except Exception as exc:  # fail closed: an unknown answer is a refusal
        log.exception("two-factor lockout check failed for tenant %s", tenant_id)
        raise TwoFactorRefusal(LOCKOUT_CHECK_FAILED, 503, code="twofactor.lockout_check_failed") from exc
    if not locked:
        return []
    locked_admins = [p for p in locked if p.is_admin]
    # Which wording: a strong factor is required in one of these steps (of administrators, or of all).
    strong = rules.admins or bool(set(keys) & rules.contexts)
    if admins and len(locked_admins) >= admins:
        raise LockoutRefusal(LOCKS_OUT_ADMINS_STRONG if strong else LOCKS_OUT_ADMINS, locked_admins,
                             code="twofactor.locks_out_admins", confirmable=False)
    if not confirm:
        raise LockoutRefusal(CONFIRM_LOCKOUT_STRONG if strong else CONFIRM_LOCKOUT, locked,
                             code="twofactor.confirm_lockout", confirmable=True)
    return locked


async def switch_contexts(tenant_id: int, wanted: dict[str, bool], confirm: bool = False) -> list[TwoFactorContext]:
    """Switch contexts on or off as an administrator does (page and API): the ones being
    switched on are checked first (:func:`check_lockout`), then all are saved together."""
    states = await context_states(tenant_id)
    for key in wanted:
        await find_context(tenant_id, key)  # 404 for an unknown context, before anything
    turning_on = [k for k, on in wanted.items() if on and not states.get(k, False)]
    changed: list[TwoFactorContext] = []
    async with atomic():
        if turning_on:
            if not (await sms_settings(tenant_id)).sms_active:
                raise TwoFactorRefusal(SMS_FIRST_EN, 409, code="twofactor.sms_not_active")
            await check_lockout(tenant_id, turning_on, confirm)
        for key, on in wanted.items():
            changed.append(await set_context(tenant_id, key, on))
    return changed


# --- trusted devices (M7, M8) -----------------------------------------------------------


# (what the user-agent string holds, the name shown), the first match wins
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """A coarse label ("Firefox on Windows") instead of the full user-agent string."""
    ua = user_agent or ""
    browser = next((name for needle, name in BROWSERS if needle in ua), "Unknown browser")
    system = next((name for needle, name in SYSTEMS if needle in ua), "")
    return f"{browser} on {system}" if system else browser


async def create_device(
    tenant_id: int, kind: str, person_id: int, user_agent: str, now: datetime
) -> tuple[str, datetime]:
    token = new_token(32)  # 256 random bits; the cookie holds nothing else
    expires = now + DEVICE_TTL
    await TrustedDevice.insert(
        TrustedDevice(
            tenant_id=tenant_id,
            token_hash=token_hash(token),
            label=device_label(user_agent)[:80],
            created_at=now,
            expires_at=expires,
            last_used_at=now,
            **person_values(kind, person_id),
        )
    )
    return token, expires


async def device_trusted(tenant_id: int, kind: str, person_id: int, token: str | None) -> bool:
    """Whether this cookie token is a live device of this very person of this tenant."""
    if not token or len(token) > 128:
        return False
    now = utcnow()
    rows = await TrustedDevice.update({TrustedDevice.last_used_at: now}).where(
        person_where(TrustedDevice, tenant_id, kind, person_id)
        & (TrustedDevice.token_hash == token_hash(token))
        & (TrustedDevice.expires_at > now)
    ).returning(TrustedDevice.id)
    return bool(rows)


async def list_devices(tenant_id: int, kind: str, person_id: int) -> list[dict]:
    return await TrustedDevice.select().where(
        person_where(TrustedDevice, tenant_id, kind, person_id) & (TrustedDevice.expires_at > utcnow())
    ).order_by(TrustedDevice.id)


async def revoke_device(tenant_id: int, kind: str, person_id: int, device_id: int) -> None:
    rows = await TrustedDevice.delete().where(
        person_where(TrustedDevice, tenant_id, kind, person_id) & (TrustedDevice.id == device_id)
    ).returning(TrustedDevice.id)
    if not rows:
        raise TwoFactorRefusal(
            "Device %(id)s was not found.", 404, code="twofactor.device_not_found", id=device_id
        )


async def forget_devices(tenant_id: int, kind: str, person_id: int) -> int:
    rows = await TrustedDevice.delete().where(
        person_where(TrustedDevice, tenant_id, kind, person_id)
    ).returning(TrustedDevice.id)
    return len(rows)


# --- the administrator's view of a person (M6) ------------------------------------------


async def person_status(tenant_id: int, kind: str, person_id: int) -> dict[str, Any]:
    check_kind(kind)
    person = await describe_person(tenant_id, kind, person_id)
    if person is None:
        raise TwoFactorRefusal(PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    choice = choose_phone(person)
    state = await TwoFactorPerson.select(TwoFactorPerson.failed_count).where(
        person_where(TwoFactorPerson, tenant_id, kind, person_id)
    ).first()
    failed = int(state["failed_count"]) if state else 0
    devices = len(await list_devices(tenant_id, kind, person_id))
    missing_sv = missing_en = None
    if choice is None:
        missing_sv = (
            "Telefonnummer saknas: personen kan inte få SMS-koder. Lägg till ett mobilnummer "
            f"under {person.fix_hint_sv or 'personens kort'}."
        )
        card = person.fix_hint_en or "the person\N{RIGHT SINGLE QUOTATION MARK}s card"
        missing_en = (
            "The phone number is missing: this person cannot get SMS codes. Add a mobile "
            f"number under {card}."
        )
    return {
        "kind": kind,
        "id": person_id,
        "name": person.name,
        "has_phone": choice is not None,
        "masked_phone": mask_phone(choice[0]) if choice else None,
        "phone_source": choice[1] if choice else None,
        "message_sv": missing_sv,
        "message_en": missing_en,
        "fix_hint_sv": person.fix_hint_sv,
        "fix_hint_en": person.fix_hint_en,
        "failed_attempts": failed,
        "locked": failed >= PERSON_MAX_FAILURES,
        "devices": devices,
    }


async def unlock(tenant_id: int, kind: str, person_id: int) -> None:
    """An administrator resets the person's count of wrong codes."""
    check_kind(kind)
    await TwoFactorPerson.update(
        {TwoFactorPerson.failed_count: 0, TwoFactorPerson.others_failed_count: 0}
    ).where(person_where(TwoFactorPerson, tenant_id, kind, person_id))


# --- retention (the fixed rules of gdpr.py, also run by the scheduler) -------------------


async def purge_expired(now: datetime | None = None) -> int:
    """Delete what two-factor no longer needs; returns how many rows went.

    Challenges one day after they expired, trusted devices once expired, SMS send records
    after a day, day counters after two days, counters of people with nothing to
    remember. Codes are first removed from the outbox rows of ended challenges.
    """
    now = now or utcnow()
    async with atomic():
        await raw(
            "UPDATE outbox SET body = {} WHERE status <> 'queued' AND body <> {} AND id IN "
            "(SELECT s.outbox_id FROM twofactor_send s JOIN twofactor_challenge c "
            "ON c.id = s.challenge_id WHERE c.status <> 'pending' OR c.expires_at < {})",
            REDACTED_BODY,
            REDACTED_BODY,
            now,
        )
        gone = 0
        gone += len(
            await TwoFactorChallenge.delete()
            .where(TwoFactorChallenge.expires_at < now - timedelta(days=1))
            .returning(TwoFactorChallenge.id)
        )
        gone += len(
            await TrustedDevice.delete().where(TrustedDevice.expires_at <= now).returning(TrustedDevice.id)
        )
        gone += len(
            await TwoFactorSend.delete()
            .where(TwoFactorSend.sent_at < now - timedelta(days=1))
            .returning(TwoFactorSend.id)
        )
        await TwoFactorDailyCount.delete().where(
            TwoFactorDailyCount.day < (now - timedelta(days=2)).date().isoformat()
        )
        gone += len(
            await TwoFactorPerson.delete()
            .where(
                (TwoFactorPerson.failed_count == 0)
                & (TwoFactorPerson.others_failed_count == 0)
                & (
                    TwoFactorPerson.last_send_at.is_null()
                    | (TwoFactorPerson.last_send_at < now - timedelta(days=1))
                )
            )
            .returning(TwoFactorPerson.id)
        )
    return gone



# --- authenticator apps (TOTP, RFC 6238) -------------------------------------------------

APP_DIGITS = 6
APP_STEP_SECONDS = 30
# Codes of the step before and after the current one are accepted too (clock drift).
APP_WINDOW = 1
APP_TTL = timedelta(minutes=10)
APP_ISSUER = "Gallra"
# A challenge id starting with this asks for the app's code first (no SMS was sent); the
# second-factor page reads it from the id, the only thing every step passes it.
APP_CHALLENGE_PREFIX = "app-"
_APP_KEY_INFO = b"gallra-twofactor-app/v1"
_APP_SEALED_PREFIX = "v1:"

APP_CODE_ASKED = _("Enter the 6-digit code your authenticator app shows.")
APP_ALREADY = _("You already have an authenticator app. Remove it first to set up another.")
APP_NO_PENDING = _("No authenticator app is waiting to be confirmed. Start the setup again.")
APP_NOT_FOUND = _("No authenticator app is set up.")
APP_WRONG_CONFIRM = _("The code does not match. Check the time on your phone and enter the code the app shows now.")
APP_FORMAT = _("The app's code has 6 digits.")
APP_CODE_REUSED = _("This app code was already used. Wait for the next code in the app.")


class AppSecretError(Exception):
    """A stored app secret that cannot be decrypted (tampered, moved or another key)."""


def _app_key() -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from core.security import secret_key

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_APP_KEY_INFO).derive(secret_key())


def _app_ad(tenant_id: int, kind: str, person_id: int) -> bytes:
    return f"twofactor-app:{tenant_id}:{kind}:{person_id}".encode()


def seal_secret(tenant_id: int, kind: str, person_id: int, secret: str) -> str:
    """The secret encrypted with AES-256-GCM under a key derived (HKDF) from the
    installation's secret key; the associated data binds it to the tenant and person, so a
    ciphertext copied to another person's row does not decrypt."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_app_key()).encrypt(nonce, secret.encode(), _app_ad(tenant_id, kind, person_id))
    return _APP_SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()


def open_secret(tenant_id: int, kind: str, person_id: int, sealed: str) -> str:
    import base64
    import binascii

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not sealed.startswith(_APP_SEALED_PREFIX):
        raise AppSecretError
    try:
        data = base64.b64decode(sealed[len(_APP_SEALED_PREFIX):], validate=True)
        plain = AESGCM(_app_key()).decrypt(data[:12], data[12:], _app_ad(tenant_id, kind, person_id))
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise AppSecretError from exc
    return plain.decode()


def app_matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (RFC 6238 counter) whose code is ``code``, within +-APP_WINDOW steps
    of ``now``; None when none matches. Every candidate is compared in constant time."""
    import pyotp

    if len(code) != APP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=APP_DIGITS, interval=APP_STEP_SECONDS)
    current = totp.timecode(now)
    found = None
    for step in range(current - APP_WINDOW, current + APP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


# A started enrolment, shown once to the person (never logged): core's AppSetup, which the
# ``start_authenticator_app`` hook answers with too.
AppEnrolment = AppSetup


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code, made here (no outside service)."""
    import segno

    return str(segno.make(uri, error="m", micro=False).svg_inline(scale=4, border=4, dark="#000", light="#fff"))


async def _app_row(tenant_id: int, kind: str, person_id: int) -> dict | None:
    row: dict | None = await TwoFactorApp.select().where(person_where(TwoFactorApp, tenant_id, kind, person_id)).first()
    return row


async def app_state(tenant_id: int, kind: str, person_id: int) -> dict[str, Any]:
    """Whether the person has an app ("active"), one waiting for its first code
    ("pending") or none (None), with its dates; never the secret."""
    row = await _app_row(tenant_id, kind, person_id)
    if row is None:
        return {"status": None, "created_at": None, "confirmed_at": None, "last_used_at": None}
    return {k: row[k] for k in ("status", "created_at", "confirmed_at", "last_used_at")}


def _active_app(tenant_id: int, kind: str, person_id: int) -> Any:
    return TwoFactorApp.exists().where(
        person_where(TwoFactorApp, tenant_id, kind, person_id) & (TwoFactorApp.status == "active")
    )


async def has_active_app(tenant_id: int, kind: str, person_id: int) -> bool:
    return bool(await _active_app(tenant_id, kind, person_id))


async def has_passkey_or_app(tenant_id: int, kind: str, person_id: int) -> tuple[bool, bool]:
    """Whether the person has a passkey, and an active authenticator app: one statement
    (a login without either asked twice)."""
    from piccolo.querystring import QueryString

    from plugins.twofactor import passkeys

    if kind not in KINDS:
        return False, False
    rows = await raw_query(QueryString(
        "SELECT ({}) AS passkey, ({}) AS app",
        passkeys.passkey_exists(tenant_id, kind, person_id).querystrings[0],
        _active_app(tenant_id, kind, person_id).querystrings[0],
    ))
    return bool(rows[0]["passkey"]), bool(rows[0]["app"])


async def start_app_enrolment(tenant_id: int, kind: str, person_id: int) -> AppEnrolment:
    """A new secret for the person's app, pending until :func:`confirm_app`. A pending one
    is replaced; an active one must be removed first (409)."""
    import pyotp

    check_kind(kind)
    person = await describe_person(tenant_id, kind, person_id)
    if person is None:
        raise TwoFactorRefusal(PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret, digits=APP_DIGITS, interval=APP_STEP_SECONDS).provisioning_uri(
        name=person.name or f"{kind}-{person_id}", issuer_name=APP_ISSUER
    )
    async with atomic():
        existing = await _app_row(tenant_id, kind, person_id)
        if existing is not None and existing["status"] == "active":
            raise TwoFactorRefusal(APP_ALREADY, 409, code="twofactor.app_exists")
        await TwoFactorApp.delete().where(
            person_where(TwoFactorApp, tenant_id, kind, person_id) & (TwoFactorApp.status == "pending")
        )
        await TwoFactorApp.insert(
            TwoFactorApp(
                tenant_id=tenant_id,
                secret_enc=seal_secret(tenant_id, kind, person_id, secret),
                status="pending",
                created_at=utcnow(),
                last_step=0,
                **person_values(kind, person_id),
            )
        )
    return AppEnrolment(secret, uri, qr_svg(uri))


async def pending_app_enrolment(tenant_id: int, kind: str, person_id: int) -> AppEnrolment | None:
    """The pending enrolment again (to show the QR code while it waits for a code)."""
    import pyotp

    row = await _app_row(tenant_id, kind, person_id)
    if row is None or row["status"] != "pending":
        return None
    person = await describe_person(tenant_id, kind, person_id)
    try:
        secret = open_secret(tenant_id, kind, person_id, row["secret_enc"])
    except AppSecretError:
        return None
    uri = pyotp.TOTP(secret, digits=APP_DIGITS, interval=APP_STEP_SECONDS).provisioning_uri(
        name=(person.name if person else "") or f"{kind}-{person_id}", issuer_name=APP_ISSUER
    )
    return AppEnrolment(secret, uri, qr_svg(uri))


async def confirm_app(tenant_id: int, kind: str, person_id: int, code: str) -> None:
    """Activate the person's pending app with a current code (its step is then used)."""
    check_kind(kind)
    code = code.strip().replace(" ", "")
    if len(code) != APP_DIGITS or not code.isdigit():
        raise TwoFactorRefusal(APP_FORMAT, 400, field="code", code="twofactor.app_format")
    row = await _app_row(tenant_id, kind, person_id)
    if row is None or row["status"] != "pending":
        raise TwoFactorRefusal(APP_NO_PENDING, 404, code="twofactor.app_not_pending")
    now = utcnow()
    try:
        step = app_matching_step(open_secret(tenant_id, kind, person_id, row["secret_enc"]), code, now)
    except AppSecretError:
        step = None
    if step is None:
        raise TwoFactorRefusal(APP_WRONG_CONFIRM, 400, field="code", code="twofactor.app_wrong_code")
    done = await TwoFactorApp.update(
        {TwoFactorApp.status: "active", TwoFactorApp.confirmed_at: now, TwoFactorApp.last_step: step,
         TwoFactorApp.last_used_at: now}
    ).where((TwoFactorApp.id == row["id"]) & (TwoFactorApp.status == "pending")).returning(TwoFactorApp.id)
    if not done:
        raise TwoFactorRefusal(APP_NO_PENDING, 404, code="twofactor.app_not_pending")


async def remove_app(tenant_id: int, kind: str, person_id: int) -> None:
    """Remove the person's app (active or pending); 404 when there is none."""
    check_kind(kind)
    rows = await TwoFactorApp.delete().where(person_where(TwoFactorApp, tenant_id, kind, person_id)).returning(
        TwoFactorApp.id
    )
    if not rows:
        raise TwoFactorRefusal(APP_NOT_FOUND, 404, code="twofactor.app_not_found")


async def use_app_code(tenant_id: int, kind: str, person_id: int, code: str, now: datetime) -> str:
    """Use a code of the person's active app: "ok" once per time step, "reused" for a step
    already used (or older than the last used one), "wrong" otherwise. One conditional
    UPDATE (``last_step < step``) decides, so two parallel uses cannot both pass."""
    row = await TwoFactorApp.select().where(
        person_where(TwoFactorApp, tenant_id, kind, person_id) & (TwoFactorApp.status == "active")
    ).first()
    if row is None:
        return "wrong"
    try:
        step = app_matching_step(open_secret(tenant_id, kind, person_id, row["secret_enc"]), code, now)
    except AppSecretError:
        log.warning("two-factor app secret of a %s in tenant %s cannot be decrypted", kind, tenant_id)
        return "wrong"
    if step is None:
        return "wrong"
    claimed = await TwoFactorApp.update({TwoFactorApp.last_step: step, TwoFactorApp.last_used_at: now}).where(
        (TwoFactorApp.id == row["id"]) & (TwoFactorApp.status == "active") & (TwoFactorApp.last_step < step)
    ).returning(TwoFactorApp.id)
    return "ok" if claimed else "reused"


async def start_app_challenge(tenant_id: int, kind: str, person_id: int, ctx: TwoFactorContext,
                              subject: str = "") -> Started:
    """A code request for a person with an active app: no SMS is sent (the person may ask
    for one with :func:`resend`); the app's code, or a recovery code, completes it."""
    return await start_silent_challenge(tenant_id, kind, person_id, ctx, subject, APP_CHALLENGE_PREFIX, APP_TTL)


async def factors_of(tenant_id: int, kind: str, person_id: int) -> list[str]:
    """The second factors the person can use now (the ``second_factors_of`` answer)."""
    found: list[str] = []
    if (await sms_settings(tenant_id)).sms_active:
        person = await describe_person(tenant_id, kind, person_id)
        if person is not None and choose_phone(person) is not None:
            found.append("sms")
    if await has_active_app(tenant_id, kind, person_id):
        found.append("app")
    from plugins.twofactor import passkeys

    if await passkeys.has_passkey(tenant_id, kind, person_id):
        found.append("passkey")
    if await recovery_remaining(tenant_id, kind, person_id):
        found.append("recovery")
    return found


# --- which factor (#21.3): "passkey or app required" -------------------------------------

# Factors that do not make a step "strong": an SMS code (the phone number may be another
# person's, the SMS intercepted), and recovery codes, the factor of last resort (accepted
# where a strong factor is required, but having them is not having a strong factor).
WEAK_FACTORS = frozenset({"sms", "recovery"})
# A challenge asking for the app's code where SMS is not allowed: "app-" (the app) first,
# and nothing offers an SMS code instead.
STRONG_APP_PREFIX = APP_CHALLENGE_PREFIX + "strong-"
# A challenge where SMS is not allowed and the person has no app: a recovery code (last
# resort) completes it, or a passkey through the passkey plugin.
STRONG_PREFIX = "strong-"

STRONG_REQUIRED = _(
    "This step requires an authenticator app or a passkey, and you have neither. Set one up "
    "under My devices, or ask an administrator for help."
)
STRONG_LAST_RESORT = _(
    "This step requires an authenticator app or a passkey, and you have neither. Enter one of "
    "your recovery codes, then set up an app under My devices."
)
SMS_NOT_ALLOWED = _(
    "An SMS code is not accepted for this step: it requires an authenticator app or a passkey."
)
STRONG_SELF_ONLY = _(
    "This step requires an authenticator app or a passkey, so only the person can start it themselves."
)
STRONG_ASKED = _("Confirm with your passkey, or enter one of your recovery codes.")
LOCKS_OUT_ADMINS_STRONG = _(
    "This would lock out every administrator: none of them has an authenticator app, a passkey "
    "or recovery codes (%(names)s). Set up an app under My devices or make recovery codes "
    "first. Nothing was changed."
)
CONFIRM_LOCKOUT_STRONG = _(
    "These people have no authenticator app, no passkey and no recovery codes, so they could "
    "not pass this step: %(names)s. Confirm to switch on anyway."
)


# The two-factor plugin's own strong factors; another plugin's factor is strong only when
# its declaration says so (``SecondFactor.strong``): fail closed.
STRONG_FACTORS = frozenset({"app", "passkey"})


def strong_factors(factors: Iterable[str], declared_strong: Iterable[str] = ()) -> list[str]:
    """The factors of ``factors`` that count as strong: an app, a passkey, and another
    plugin's factor declared ``strong`` (``declared_strong``, from
    ``core.secondfactor.strong_second_factors``). SMS, recovery codes and any factor not
    declared strong do not."""
    strong = STRONG_FACTORS | (set(declared_strong) - WEAK_FACTORS)
    return sorted(f for f in factors if f in strong)


@dataclass
class StrongRules:
    """A tenant's rules: the contexts that require a strong factor, and whether every
    administrator must use one."""

    contexts: set[str]
    admins: bool

    def required(self, context: str, is_admin: bool) -> bool:
        return context in self.contexts or (self.admins and is_admin)


async def strong_rules(tenant_id: int) -> StrongRules:
    """The tenant's rules, read once per request with its other settings (a login asks
    whether SMS is allowed when it chooses the step and again before it sends)."""
    return (await _tenant_config(tenant_id)).strong


async def _is_admin(tenant_id: int, kind: str, person_id: int) -> bool:
    if kind != "employee":
        return False
    return bool(await Employee.exists().where(
        (Employee.tenant_id == tenant_id) & (Employee.id == person_id) & (Employee.role == "admin")
        & Employee.deleted_at.is_null()
    ))


async def strong_required(tenant_id: int, context: str, kind: str, person_id: int) -> bool:
    """Whether this person must use a strong factor in this context (the context's rule,
    or the rule for administrators)."""
    rules = await strong_rules(tenant_id)
    if context in rules.contexts:
        return True
    return rules.admins and await _is_admin(tenant_id, kind, person_id)


async def all_factors_of(tenant_id: int, kind: str, person_id: int) -> list[str]:
    """Every factor the person has, from every plugin (``second_factors_of``): passkeys
    come from the passkey plugin."""
    from core.secondfactor import second_factors_of

    return await second_factors_of(tenant_id, kind, person_id)


async def start_strong_challenge(tenant_id: int, kind: str, person_id: int, ctx: TwoFactorContext,
                                 subject: str, prefix: str) -> Started:
    """A code request where SMS is not allowed: no SMS is sent, none can be asked for, and
    no SMS code can match (``code_hmac`` is empty)."""
    ttl = APP_TTL if prefix == STRONG_APP_PREFIX else RECOVERY_TTL
    return await start_silent_challenge(tenant_id, kind, person_id, ctx, subject, prefix, ttl)


async def decide_strong(request: SecondFactorRequest, ctx: TwoFactorContext, requested_by: int) -> SecondFactorDecision:
    """A step that requires a strong factor: the app's code (no SMS offered), else a passkey
    or a recovery code (last resort), else a refusal saying what to set up. Never SMS."""
    tid, kind, pid = request.tenant_id, request.person_kind, request.person_id
    if requested_by:
        return SecondFactorDecision.refused(TwoFactorRefusal(STRONG_SELF_ONLY, 409, code="twofactor.strong_self_only"))
    factors = await all_factors_of(tid, kind, pid)
    from plugins.twofactor import passkeys

    if await passkeys.has_passkey(tid, kind, pid):
        # The passkey first, as everywhere; here with no SMS offered or accepted.
        started = await passkeys.start_passkey_challenge(
            tid, kind, pid, ctx, subject=request.subject, prefix=passkeys.STRONG_PASSKEY_PREFIX
        )
        return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                    message=passkeys.PASSKEY_ASKED)
    if "app" in factors:
        started = await start_strong_challenge(tid, kind, pid, ctx, request.subject, STRONG_APP_PREFIX)
        return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                    message=APP_CODE_ASKED)
    strong = strong_factors(factors, await strong_second_factors(tid))
    if strong or "recovery" in factors:
        started = await start_strong_challenge(tid, kind, pid, ctx, request.subject, STRONG_PREFIX)
        message = STRONG_ASKED if strong else STRONG_LAST_RESORT
        return SecondFactorDecision(required=True, challenge_id=started.challenge_id, masked_phone="",
                                    message=message)
    return SecondFactorDecision.refused(TwoFactorRefusal(STRONG_REQUIRED, 409, code="twofactor.strong_required"))


async def refuse_sms_if_strong(tenant_id: int, context: str, kind: str, person_id: int) -> None:
    """Fail closed: no SMS code is sent or accepted where a strong factor is required."""
    if await strong_required(tenant_id, context, kind, person_id):
        raise TwoFactorRefusal(SMS_NOT_ALLOWED, 409, code="twofactor.sms_not_allowed")


async def _people_without_strong(tenant_id: int, admins_only: bool) -> list[LockedOut]:
    """Employees (or only administrators) with no strong factor and no recovery code."""
    query = Employee.select(Employee.id, Employee.name, Employee.role).where(
        (Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null()
    )
    if admins_only:
        query = query.where(Employee.role == "admin")
    found: list[LockedOut] = []
    declared_strong = await strong_second_factors(tenant_id)
    for row in await query.order_by(Employee.name):
        factors = await all_factors_of(tenant_id, "employee", int(row["id"]))
        if not strong_factors(factors, declared_strong) and "recovery" not in factors:
            found.append(LockedOut(int(row["id"]), row["name"], row["role"] == "admin"))
    return found


async def save_strong_rules(tenant_id: int, contexts: dict[str, bool] | None = None, admins: bool | None = None,
                            confirm: bool = False) -> StrongRules:
    """Set "passkey or app required" for contexts and/or for administrators, as an
    administrator does (page and API). A rule being switched on first says who could no
    longer pass a step that asks employees on their way in (login, password reset) that is
    on: refused when that is every administrator, confirmed with the list otherwise."""
    contexts = contexts or {}
    for key in contexts:
        await find_context(tenant_id, key)  # 404 for an unknown context, before anything
    current = await strong_rules(tenant_id)
    new = StrongRules(
        {k for k in current.contexts if contexts.get(k, True)} | {k for k, on in contexts.items() if on},
        current.admins if admins is None else admins,
    )
    states = await context_states(tenant_id)
    entry = [k for k in employee_contexts() if states.get(k)]
    tightened = (new.admins and not current.admins) or bool((new.contexts - current.contexts) & set(entry))
    async with atomic():
        if tightened:
            await check_lockout(tenant_id, entry, confirm, rules=new)
        for key, on in contexts.items():
            done = await TwoFactorContextSetting.update({TwoFactorContextSetting.strong_required: on}).where(
                (TwoFactorContextSetting.tenant_id == tenant_id) & (TwoFactorContextSetting.key == key)
            ).returning(TwoFactorContextSetting.id)
            if not done:
                await TwoFactorContextSetting.insert(TwoFactorContextSetting(
                    tenant_id=tenant_id, key=key, enabled=False, strong_required=on, changed_at=utcnow()))
        if admins is not None:
            done = await TwoFactorSettings.update({TwoFactorSettings.admins_strong: admins}).where(
                TwoFactorSettings.tenant_id == tenant_id
            ).returning(TwoFactorSettings.id)
            if not done:
                await TwoFactorSettings.insert(TwoFactorSettings(tenant_id=tenant_id, admins_strong=admins,
                                                                 updated_at=utcnow()))
        forget_config(tenant_id)
    return new


# --- an administrator resets another person's factors (#21.4) ----------------------------

RESET_SUBJECT = "Din tvåfaktorsinloggning har återställts / Your two-factor sign-in was reset"
RESET_BODY = (
    "Hej {name},\n\n"
    "en administratör hos {org} har återställt din tvåfaktorsinloggning: din autentiseringsapp, "
    "dina passkeys, dina reservkoder och dina ihågkomna enheter är borttagna. Nästa gång "
    "du loggar in ombeds du om en kod igen; lägg sedan upp en app eller passkey under "
    "Mina enheter. Om du inte känner igen detta, kontakta din administratör genast.\n\n"
    "Hello {name},\n\n"
    "an administrator at {org} reset your two-factor sign-in: your authenticator app, your "
    "passkeys, your recovery codes and your remembered devices were removed. Your next "
    "login asks for a code again; then set up an app or a passkey under My devices. If you "
    "do not recognise this, contact your administrator at once.\n"
)
NO_EMAIL = _("The person has no e-mail address, so they cannot be told of the reset. Add one first.")


async def _email_of(tenant_id: int, kind: str, person_id: int) -> str | None:
    if kind == "employee":
        row = await Employee.select(Employee.email).where(
            (Employee.tenant_id == tenant_id) & (Employee.id == person_id) & Employee.deleted_at.is_null()
        ).first()
        return (row["email"] or None) if row else None
    from core.secondfactor import person_standing

    standing = await person_standing(tenant_id, kind, person_id)
    return (getattr(standing, "email", None) or None) if standing else None


async def remove_own_factors(tenant_id: int, kind: str, person_id: int) -> int:
    """This plugin's answer to ``remove_second_factors``: the app, passkeys, recovery
    codes, remembered devices and the wrong-code counts of the person."""
    from plugins.twofactor import passkeys

    removed = await passkeys.remove_all_passkeys(tenant_id, kind, person_id)
    for table in (TwoFactorApp, TwoFactorRecoveryCode, TrustedDevice):
        removed += len(await table.delete().where(person_where(table, tenant_id, kind, person_id)).returning(table.id))
    await TwoFactorPerson.update({TwoFactorPerson.failed_count: 0, TwoFactorPerson.others_failed_count: 0}).where(
        person_where(TwoFactorPerson, tenant_id, kind, person_id)
    )
    return removed


async def reset_factors(tenant_id: int, admin: Any, kind: str, person_id: int, ip: str | None = None) -> int:
    """An administrator removes every second factor of a person of the organization (the
    app, passkeys, recovery codes, remembered devices): one transaction with the event-log
    row and the e-mail telling the person (no code or secret in it). 404 for a person who
    is not the organization's; 409 when the person has no e-mail address to be told at."""
    from core.tables import Tenant

    check_kind(kind)
    person = await describe_person(tenant_id, kind, person_id)
    if person is None:
        raise TwoFactorRefusal(PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    email = await _email_of(tenant_id, kind, person_id)
    if not email:
        raise TwoFactorRefusal(NO_EMAIL, 409, code="twofactor.no_email")
    org = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
    from core.secondfactor import remove_second_factors

    async with atomic():
        removed = await remove_second_factors(tenant_id, kind, person_id)
        await log_event(tenant_id, admin, "twofactor.factors_reset", "twofactor", kind, person_id, ip=ip,
                        detail=f"removed={removed}")
        await queue_message(
            "email", email,
            RESET_BODY.format(name=person.name, org=(org or {}).get("name") or ""),
            subject=RESET_SUBJECT, tenant_id=tenant_id,
        )
    return removed


async def recovery_codes_answer(tenant_id: int, kind: str, person_id: int, renew: bool) -> Any:
    """The ``recovery_codes`` answer: the state, or a new set (shown once) with ``renew``."""
    from core.contracts import RecoveryCodes

    codes = await generate_recovery_codes(tenant_id, kind, person_id) if renew else []
    state = await recovery_state(tenant_id, kind, person_id)
    return RecoveryCodes(remaining=state["remaining"], total=state["total"], created_at=state["created_at"],
                         codes=codes)
