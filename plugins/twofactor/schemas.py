"""Request and response shapes of /api/twofactor (the public contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Code = Annotated[str, msgspec.Meta(pattern="^[0-9]{6}$")]
# A browser's PublicKeyCredential as JSON: id, rawId, type, response, authenticatorAttachment,
# clientExtensionResults (a few more keys are allowed; the whole body's size is capped too).
Credential = Annotated[dict[str, Any], msgspec.Meta(max_length=16)]
# A recovery code as shown ("7K3M-Q9XD-2HPA-W4TB"); spaces, dashes and case do not matter.
RecoveryCode = Annotated[str, msgspec.Meta(min_length=16, max_length=40, pattern="^[0-9A-Za-z -]+$")]
# Another plugin's second factor (``SecondFactor`` in ``declare_kinds``) and its answer.
FactorName = Annotated[str, msgspec.Meta(pattern="^[a-z_]{1,32}$")]
FactorAnswerText = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Kind = Literal["employee", "customer", "contact"]


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    sms_active: bool | None = None
    provider: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    # Checked by the service (1-11 letters or digits) so the refusal names the rule.
    sender: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    daily_cap: int | None = None


class SettingsOut(msgspec.Struct):
    sms_active: bool
    provider: str
    sender: str
    daily_cap: int
    # The operator's ceiling (GALLRA_SMS_DAILY_CAP_MAX): a higher daily_cap is refused, and
    # a lower ceiling set later limits the tenant's cap too.
    daily_cap_max: int
    sent_today: int
    providers: list[str]
    # False until SMS is active; then reason_* say why contexts cannot be switched on.
    can_enable_contexts: bool
    reason_sv: str | None
    reason_en: str | None


class ContextOut(msgspec.Struct):
    key: str
    label_sv: str
    label_en: str
    module: str | None
    purpose: str
    enabled: bool
    # Whether it takes effect now (switched on and SMS active).
    active: bool
    # After switching a context on: the administrator's own unused recovery codes (0: make
    # some at POST /api/twofactor/recovery-codes to get in without SMS).
    recovery_codes_remaining: int | None = None
    # "Passkey or app required" (#21.3): no SMS code is sent or accepted in this context.
    strong_required: bool = False


class ContextsOut(msgspec.Struct):
    sms_active: bool
    reason_sv: str | None
    reason_en: str | None
    contexts: list[ContextOut]


class ContextIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool
    # Switch on even though some people (listed in the 409 answer, code
    # twofactor.confirm_lockout) could not get a code. Never enough when every
    # administrator would be locked out (twofactor.locks_out_admins).
    confirm: bool = False


class StrongRulesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Only what is given changes: ``contexts`` maps a context key to whether it requires
    an authenticator app or a passkey; ``admins`` whether every administrator must use one
    wherever a code is asked of them."""

    contexts: Annotated[dict[Key, bool], msgspec.Meta(max_length=100)] | None = None
    admins: bool | None = None
    # Switch on even though some people (listed in the 409 answer) could not pass. Never
    # enough when every administrator would be locked out (twofactor.locks_out_admins).
    confirm: bool = False


class StrongRulesOut(msgspec.Struct):
    # The keys of the contexts that require an authenticator app or a passkey (SMS is
    # neither sent nor accepted there; recovery codes stay a last resort).
    contexts: list[str]
    admins: bool


class FactorsResetOut(msgspec.Struct):
    # How many factors went (app, passkeys, recovery codes, remembered devices).
    removed: int
    # The person was told by e-mail (queued in the outbox).
    notified: bool = True


class RecoveryStateOut(msgspec.Struct):
    remaining: int
    total: int
    created_at: datetime | None


class AppStateOut(msgspec.Struct):
    """The person's authenticator app: "active", "pending" (waiting for its first code) or
    None (none); never the secret."""

    status: str | None
    created_at: datetime | None
    confirmed_at: datetime | None
    last_used_at: datetime | None


class AppEnrolmentOut(msgspec.Struct):
    """A started enrolment, shown in this answer: scan ``qr_svg`` (the ``otpauth_uri`` as an
    SVG QR code) or type ``secret_groups``, then confirm with a current code."""

    status: str
    secret: str
    secret_groups: str
    otpauth_uri: str
    qr_svg: str


class AppConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class RecoveryCodesOut(msgspec.Struct):
    """The new codes: shown this once, never again (only their hashes are kept)."""

    codes: list[str]
    remaining: int


class PersonStatusOut(msgspec.Struct):
    kind: str
    id: int
    name: str
    has_phone: bool
    masked_phone: str | None
    phone_source: str | None
    message_sv: str | None
    message_en: str | None
    fix_hint_sv: str
    fix_hint_en: str
    failed_attempts: int
    locked: bool
    devices: int


class DeviceOut(msgspec.Struct):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    current: bool


class RevokedOut(msgspec.Struct):
    revoked: int


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    """A signing for oneself (person_kind "employee", one's own id); only an administrator
    may ask another person, and then says why (``reason``, recorded)."""

    context: Key
    person_kind: Kind
    person_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ChallengeOut(msgspec.Struct):
    required: bool
    challenge_id: str | None = None
    masked_phone: str | None = None
    expires_at: datetime | None = None
    message: str | None = None


class VerifyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of: the SMS ``code``, the code of the person's authenticator app
    (``app_code``), a ``passkey`` assertion, one of the person's ``recovery_code``s, or the
    ``answer`` for another plugin's second ``factor`` (both together)."""

    code: Code | None = None
    recovery_code: RecoveryCode | None = None
    app_code: Code | None = None
    # A passkey's assertion: the PublicKeyCredential of navigator.credentials.get() as JSON
    # (base64url fields), answering POST /api/twofactor/passkeys/challenges/{id}/options.
    passkey: Credential | None = None
    # Another plugin's factor ("hardware_token") and the answer it checks.
    factor: FactorName | None = None
    answer: FactorAnswerText | None = None
    # The organization, when the caller knows it; else a logged-in user's organization.
    tenant: Slug | None = None


class ResendIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug | None = None


class SignatureOut(msgspec.Struct):
    name: str
    masked_phone: str
    signed_at: datetime


class VerifyOut(msgspec.Struct):
    status: Literal["verified"]
    context: str
    purpose: str
    message: str
    logged_in: bool = False
    employee_id: int | None = None
    device_remembered_until: datetime | None = None
    device_remembered_days: int | None = None
    signature: SignatureOut | None = None


class PasskeyOut(msgspec.Struct):
    """One of my passkeys (never its key material)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


class PasskeyOptionsOut(msgspec.Struct):
    """A ceremony's options for the browser (``publicKey`` of navigator.credentials.create
    or .get, base64url fields) and, for a registration, its single-use ``challenge_id``."""

    publicKey: dict[str, Any]
    challenge_id: str | None = None


class PasskeyIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new passkey: the registration's ``challenge_id``, a ``name`` and the browser's
    PublicKeyCredential of navigator.credentials.create() as JSON."""

    challenge_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    credential: Credential


class PasskeyOptionsIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=63)] | None = None
