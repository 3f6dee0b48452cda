"""Two-factor tables. Every row carries tenant_id.

A person is (person_kind, <kind>_id): the id sits in the column of its kind
(employee_id, customer_id or contact_id; the others hold 0), so the GDPR engine can delete
every row of a person when that employee, customer or contact is anonymized, through the
declared employee_ref / customer_ref / contact_ref columns, without knowing this plugin.

Nothing secret is stored in clear: codes as HMAC-SHA256 under the installation's key,
challenge ids and device tokens as SHA-256.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class TwoFactorSettings(Table, tablename="twofactor_settings"):
    """A tenant's SMS activation (M3). A missing row: SMS not active."""

    tenant_id = Integer(unique=True)
    sms_active = Boolean(default=False)
    provider = Varchar(length=16, default="outbox")
    sender = Varchar(length=11, default="")
    daily_cap = Integer(default=500)
    updated_at = Timestamptz(null=True, default=None)
    # Every administrator must use a strong factor (an authenticator app or a passkey,
    # never SMS) wherever a code is asked of them (#21.3).
    admins_strong = Boolean(default=False)


class TwoFactorContextSetting(Table, tablename="twofactor_context"):
    """A tenant's choice for one context (M4). A missing row: off."""

    tenant_id = Integer(index=True)
    key = Varchar(length=63)
    enabled = Boolean(default=False)
    changed_at = Timestamptz(null=True, default=None)
    # "Passkey or app required" (#21.3): SMS is neither sent nor accepted in this context;
    # recovery codes stay a last resort.
    strong_required = Boolean(default=False)


class TwoFactorChallenge(Table, tablename="twofactor_challenge"):
    """One SMS code sent for one step of one person."""

    tenant_id = Integer(index=True)
    id_hash = Varchar(length=64, unique=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0, index=True)
    customer_id = Integer(default=0, index=True)
    contact_id = Integer(default=0, index=True)
    context = Varchar(length=63)
    purpose = Varchar(length=8)
    code_hmac = Varchar(length=64)
    phone_masked = Varchar(length=40, default="")
    # pending -> verified (a reset or signing step not yet re-submitted) -> used; or failed.
    status = Varchar(length=12, default="pending")
    attempts = Integer(default=0)
    created_at = Timestamptz()
    sent_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    verified_at = Timestamptz(null=True, default=None)
    signer_name = Varchar(length=200, default="")
    # SHA-256 of the request's subject ("quote:12:accept"), "" for steps about the person.
    subject_hash = Varchar(length=64, default="")
    # The employee who started this step for someone else (an administrator's signing
    # request, an employee recording a customer's approval); 0 when the person started it.
    # Wrong codes of such a challenge count against the requester, never the person.
    requested_by = Integer(default=0)
    # Why an administrator asked another person for a signature (POST /api/twofactor/sign).
    reason = Varchar(length=200, default="")


class TrustedDevice(Table, tablename="twofactor_device"):
    """A browser that passed two-factor (M7). The cookie holds a random token; here only
    its SHA-256. ``expires_at`` is fixed at the first 2FA login + 365 days."""

    tenant_id = Integer(index=True)
    token_hash = Varchar(length=64, unique=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0, index=True)
    customer_id = Integer(default=0, index=True)
    contact_id = Integer(default=0, index=True)
    label = Varchar(length=80, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    last_used_at = Timestamptz()


class TwoFactorPerson(Table, tablename="twofactor_person"):
    """Per person: wrong codes across the person's own challenges (reset only by a right
    code or an administrator, never by time), wrong codes on challenges they started for
    others, and the last send (60 seconds between sends)."""

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0)
    customer_id = Integer(default=0)
    contact_id = Integer(default=0)
    failed_count = Integer(default=0)
    # Wrong codes entered on challenges this employee started for other people: at
    # PERSON_MAX_FAILURES they can start no more such steps until an administrator unlocks
    # them, while the people they asked are never locked by it.
    others_failed_count = Integer(default=0)
    last_send_at = Timestamptz(null=True, default=None)


class TwoFactorSend(Table, tablename="twofactor_send"):
    """One SMS sent: the per-person hourly limit counts these; kept one day."""

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0)
    customer_id = Integer(default=0)
    contact_id = Integer(default=0)
    challenge_id = Integer(default=0, index=True)
    outbox_id = Integer(default=0)
    sent_at = Timestamptz(index=True)


class TwoFactorRecoveryCode(Table, tablename="twofactor_recovery"):
    """One of a person's one-time recovery codes (entered instead of an SMS code).

    Only ``code_hash`` is kept: HMAC-SHA256 under the installation's key of the person and
    the code (services.recovery_digest). A code is used by one conditional UPDATE that sets
    ``used_at`` where it is still NULL, so two parallel uses cannot both succeed. A new set
    deletes the old one."""

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0, index=True)
    customer_id = Integer(default=0, index=True)
    contact_id = Integer(default=0, index=True)
    code_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class TwoFactorApp(Table, tablename="twofactor_app"):
    """A person's authenticator app (TOTP, RFC 6238): at most one per person.

    ``secret_enc`` is the base32 secret encrypted with AES-256-GCM under a key derived
    from the installation's secret key, bound to the tenant and person (services.seal_secret);
    it is never logged, searched or shown again after enrolment. ``status`` is "pending"
    until the person confirms a current code, then "active"; a pending app opens nothing.
    ``last_step`` is the time step (30-second counter) of the last code accepted: a code
    is accepted only by one conditional UPDATE raising it, so a step is never used twice."""

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0)
    customer_id = Integer(default=0)
    contact_id = Integer(default=0)
    secret_enc = Text()
    status = Varchar(length=16, default="pending")
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)
    last_step = Integer(default=0)
    last_used_at = Timestamptz(null=True, default=None)


class TwoFactorPasskey(Table, tablename="twofactor_passkey"):
    """One of a person's passkeys (WebAuthn credentials), several per person, each named.

    Only public material is kept: the credential id (base64url, unique across the
    installation, so one authenticator's credential belongs to one person), the COSE public
    key (base64url) and the authenticator's signature counter. An assertion is accepted only
    by one conditional UPDATE of ``sign_count`` (plugins/twofactor/passkeys.py), so a
    counter that did not grow (a cloned authenticator, a replay) is refused."""

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    employee_id = Integer(default=0, index=True)
    customer_id = Integer(default=0, index=True)
    contact_id = Integer(default=0, index=True)
    credential_id = Varchar(length=1400, unique=True)
    public_key = Text()
    sign_count = Integer(default=0)
    name = Varchar(length=80, default="")
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class TwoFactorDailyCount(Table, tablename="twofactor_daily_count"):
    """SMS sent by a tenant on one UTC day (the tenant's daily cap)."""

    tenant_id = Integer(index=True)
    day = Varchar(length=10)
    count = Integer(default=0)


TABLES: list[type[Table]] = [
    TwoFactorSettings,
    TwoFactorContextSetting,
    TwoFactorChallenge,
    TrustedDevice,
    TwoFactorPerson,
    TwoFactorSend,
    TwoFactorDailyCount,
    TwoFactorRecoveryCode,
    TwoFactorApp,
    TwoFactorPasskey,
]
