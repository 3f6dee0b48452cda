"""Passkeys (WebAuthn) as a second factor, beside SMS codes and authenticator apps (#21.1).

What holds here:

* a person (employee, customer or contact person) may register several passkeys, each
  named, and remove any of them; only public material is stored (credential id, COSE
  public key, signature counter: :class:`~plugins.twofactor.tables.TwoFactorPasskey`);
* the relying party id is the host of ``GALLRA_BASE_URL`` and the only accepted origin is
  that URL's scheme, host and port (:func:`relying_party`);
* every ceremony has a server-side, single-use challenge in ``twofactor_challenge``: a
  registration's (purpose "register", id ``pkreg-...``) is bound to the tenant and person
  and used by one conditional UPDATE before the answer is checked; a step's (id ``pk-...``)
  is bound to the tenant, person, context and subject like an SMS code's and is completed
  by :func:`services.verify_code` (attempts counted first, wrong answers counted against the
  person). The WebAuthn challenge bytes are an HMAC of the row's id hash under the
  installation's key (:func:`webauthn_challenge`), so they live nowhere else and an assertion
  made for one challenge never matches another;
* an assertion is accepted only from a passkey of the challenge's own person and tenant, and
  only by one conditional UPDATE raising ``sign_count`` (a counter that did not grow is a
  replay or a cloned authenticator, refused);
* a context declaring ``user_verification`` (the vault's decryption) needs an assertion whose
  authenticator verified the person (PIN, fingerprint, face), not only their presence.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from core.config import get_settings
from core.db import utcnow
from core.errors import mark as _
from core.secondfactor import describe_person
from core.security import keyed_hash, new_token, token_hash
from plugins.twofactor import services
from plugins.twofactor.services import (
    PURPOSES,
    FactorCheck,
    Started,
    TwoFactorRefusal,
    challenge_row,
    check_kind,
    person_of,
    person_values,
    person_where,
)
from plugins.twofactor.tables import TwoFactorChallenge, TwoFactorPasskey

log = logging.getLogger(__name__)

FACTOR = "passkey"
RP_NAME = "Gallra"
# A challenge id starting with this asks for a passkey first (no SMS was sent).
PASSKEY_CHALLENGE_PREFIX = "pk-"
# A step where an app or a passkey is required (#21.3): the page offers no SMS code.
STRONG_PASSKEY_PREFIX = PASSKEY_CHALLENGE_PREFIX + "strong-"
REGISTER_PREFIX = "pkreg-"
REGISTER_CONTEXT = "passkey_register"
REGISTER_PURPOSE = "register"
REGISTER_TTL = timedelta(minutes=5)
STEP_TTL = timedelta(minutes=10)
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 10
NAME_MAX = 80
# A browser's credential JSON is a few hundred bytes; anything far larger is not one.
CREDENTIAL_MAX_CHARS = 20_000

PASSKEY_ASKED = _("Use your passkey to continue.")
PASSKEY_REFUSED = _("The passkey was not accepted for this step. Attempts left: %(left)s.")
PASSKEY_INVALID = _("The passkey's answer could not be read. Try again.")
PASSKEY_NAME_REQUIRED = _("Give the passkey a name (at most 80 characters), for example the device it is on.")
PASSKEY_NOT_FOUND = _("This passkey was not found.")
PASSKEY_NONE = _("No passkey is registered for this person.")
PASSKEY_TOO_MANY = _("At most %(max)s passkeys can be registered. Remove one first.")
PASSKEY_EXISTS = _("This passkey is already registered.")
PASSKEY_NOT_REGISTERED = _("The passkey could not be registered: the browser's answer did not check out. Try again.")
PASSKEY_REGISTER_ENDED = _("This passkey registration has expired or was already used. Start again.")


# --- the relying party and challenge bytes ------------------------------------------------


def relying_party() -> tuple[str, str]:
    """(rp id, origin) from ``GALLRA_BASE_URL``: its host, and scheme://host[:port]."""
    parts = urlsplit(get_settings().base_url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        # Fail closed: without a base URL no ceremony can be bound to an origin.
        raise TwoFactorRefusal(
            "Passkeys need GALLRA_BASE_URL to be the address people use (https://...).",
            503,
            code="twofactor.passkey_no_base_url",
        )
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return host, f"{parts.scheme}://{netloc}"


def webauthn_challenge(id_hash: str) -> bytes:
    """The WebAuthn challenge of a challenge row: 32 bytes, HMAC of its id hash."""
    return bytes.fromhex(keyed_hash(f"twofactor-passkey-challenge:{id_hash}"))


def user_handle(tenant_id: int, kind: str, person_id: int) -> bytes:
    """The WebAuthn user id of a person: stable, opaque (no name, no number in it)."""
    return bytes.fromhex(keyed_hash(f"twofactor-passkey-user:{tenant_id}:{kind}:{person_id}"))


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_credential(value: Any) -> dict[str, Any]:
    """A browser's credential (a JSON text or an object) as a dict with a string id, or a
    400 before anything is counted (it cannot be an answer at all)."""
    if isinstance(value, str):
        if not value or len(value) > CREDENTIAL_MAX_CHARS:
            raise TwoFactorRefusal(PASSKEY_INVALID, 400, field=FACTOR, code="twofactor.passkey_invalid")
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TwoFactorRefusal(PASSKEY_INVALID, 400, field=FACTOR, code="twofactor.passkey_invalid") from exc
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("id"), str)
        or not value["id"]
        or len(value["id"]) > 1400
        or not isinstance(value.get("response"), dict)
    ):
        raise TwoFactorRefusal(PASSKEY_INVALID, 400, field=FACTOR, code="twofactor.passkey_invalid")
    return value


# Whatever a forged or broken answer makes the library raise: never a 500.
def _answer_errors() -> tuple[type[BaseException], ...]:
    from webauthn.helpers.exceptions import WebAuthnException

    return (WebAuthnException, ValueError, TypeError, KeyError, IndexError, binascii.Error, AttributeError)


# --- the person's passkeys -----------------------------------------------------------------


def passkey_exists(tenant_id: int, kind: str, person_id: int) -> Any:
    """The query: does the person have a passkey (``kind`` one of services.KINDS)."""
    return TwoFactorPasskey.exists().where(person_where(TwoFactorPasskey, tenant_id, kind, person_id))


async def has_passkey(tenant_id: int, kind: str, person_id: int) -> bool:
    if kind not in services.KINDS:
        return False
    return bool(await passkey_exists(tenant_id, kind, person_id))


async def employees_with_passkeys(tenant_id: int) -> set[int]:
    """The tenant's employees who have a passkey (one query)."""
    rows = await TwoFactorPasskey.select(TwoFactorPasskey.employee_id).where(
        (TwoFactorPasskey.tenant_id == tenant_id) & (TwoFactorPasskey.person_kind == "employee")
    )
    return {int(r["employee_id"]) for r in rows}


async def list_passkeys(tenant_id: int, kind: str, person_id: int) -> list[dict[str, Any]]:
    """The person's passkeys: id, name, created, last used (no key material)."""
    check_kind(kind)
    rows: list[dict[str, Any]] = await TwoFactorPasskey.select(
        TwoFactorPasskey.id, TwoFactorPasskey.name, TwoFactorPasskey.created_at, TwoFactorPasskey.last_used_at
    ).where(person_where(TwoFactorPasskey, tenant_id, kind, person_id)).order_by(TwoFactorPasskey.id)
    return rows


async def remove_passkey(tenant_id: int, kind: str, person_id: int, passkey_id: int) -> None:
    """Remove one of the person's passkeys; 404 for another person's or tenant's."""
    check_kind(kind)
    rows = await TwoFactorPasskey.delete().where(
        person_where(TwoFactorPasskey, tenant_id, kind, person_id) & (TwoFactorPasskey.id == passkey_id)
    ).returning(TwoFactorPasskey.id)
    if not rows:
        raise TwoFactorRefusal(PASSKEY_NOT_FOUND, 404, code="twofactor.passkey_not_found")


async def remove_all_passkeys(tenant_id: int, kind: str, person_id: int) -> int:
    """Remove every passkey of the person (an administrator's reset); how many went."""
    check_kind(kind)
    rows = await TwoFactorPasskey.delete().where(
        person_where(TwoFactorPasskey, tenant_id, kind, person_id)
    ).returning(TwoFactorPasskey.id)
    return len(rows)


# --- registration ------------------------------------------------------------------------------


async def start_registration(tenant_id: int, kind: str, person_id: int) -> tuple[str, dict[str, Any]]:
    """A registration challenge for the person: (challenge id, the options for
    ``navigator.credentials.create``). The challenge is stored, single use, 5 minutes."""
    from webauthn import generate_registration_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    check_kind(kind)
    person = await describe_person(tenant_id, kind, person_id)
    if person is None:
        raise TwoFactorRefusal(services.PERSON_NOT_FOUND, 404, code="twofactor.person_not_found")
    rp_id, _origin = relying_party()
    existing = await TwoFactorPasskey.select(TwoFactorPasskey.credential_id).where(
        person_where(TwoFactorPasskey, tenant_id, kind, person_id)
    )
    if len(existing) >= MAX_PASSKEYS:
        raise TwoFactorRefusal(PASSKEY_TOO_MANY, 409, code="twofactor.passkey_too_many", max=MAX_PASSKEYS)
    challenge_id = REGISTER_PREFIX + new_token(32)
    id_hash = token_hash(challenge_id)
    now = utcnow()
    await TwoFactorChallenge.insert(
        challenge_row(tenant_id, kind, person_id, REGISTER_CONTEXT, REGISTER_PURPOSE, id_hash, now, REGISTER_TTL)
    )
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_name=person.name or f"{kind}-{person_id}",
        user_id=user_handle(tenant_id, kind, person_id),
        user_display_name=person.name or None,
        challenge=webauthn_challenge(id_hash),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64u(r["credential_id"])) for r in existing],
    )
    return challenge_id, options_to_json_dict(options)


def clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise TwoFactorRefusal(PASSKEY_NAME_REQUIRED, 400, field="name", code="twofactor.passkey_name")
    return cleaned


async def finish_registration(
    tenant_id: int, kind: str, person_id: int, challenge_id: str, credential: Any, name: str | None
) -> dict[str, Any]:
    """Check the browser's answer to :func:`start_registration` and store the passkey.

    The challenge is used first (one conditional UPDATE: this person's, pending, not
    expired), so an answer is checked at most once; a wrong or forged answer is a 400."""
    from webauthn import verify_registration_response

    check_kind(kind)
    label = clean_name(name)
    parsed = parse_credential(credential)
    rp_id, origin = relying_party()
    now = utcnow()
    claimed = []
    if challenge_id.startswith(REGISTER_PREFIX) and len(challenge_id) <= 128:
        claimed = await TwoFactorChallenge.update({TwoFactorChallenge.status: "used"}).where(
            person_where(TwoFactorChallenge, tenant_id, kind, person_id)
            & (TwoFactorChallenge.id_hash == token_hash(challenge_id))
            & (TwoFactorChallenge.purpose == REGISTER_PURPOSE)
            & (TwoFactorChallenge.status == "pending")
            & (TwoFactorChallenge.expires_at > now)
        ).returning(TwoFactorChallenge.id_hash)
    if not claimed:
        raise TwoFactorRefusal(PASSKEY_REGISTER_ENDED, 409, code="twofactor.passkey_register_ended")
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=webauthn_challenge(claimed[0]["id_hash"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except _answer_errors() as exc:
        log.info("passkey registration refused in tenant %s: %s", tenant_id, type(exc).__name__)
        raise TwoFactorRefusal(
            PASSKEY_NOT_REGISTERED, 400, field=FACTOR, code="twofactor.passkey_not_registered"
        ) from exc
    if await TwoFactorPasskey.count().where(person_where(TwoFactorPasskey, tenant_id, kind, person_id)) >= MAX_PASSKEYS:
        raise TwoFactorRefusal(PASSKEY_TOO_MANY, 409, code="twofactor.passkey_too_many", max=MAX_PASSKEYS)
    rows = await TwoFactorPasskey.insert(
        TwoFactorPasskey(
            tenant_id=tenant_id,
            credential_id=_b64u(verified.credential_id),
            public_key=_b64u(verified.credential_public_key),
            sign_count=int(verified.sign_count),
            name=label,
            created_at=now,
            last_used_at=None,
            **person_values(kind, person_id),
        )
    ).on_conflict(action="DO NOTHING").returning(TwoFactorPasskey.id)
    if not rows:
        raise TwoFactorRefusal(PASSKEY_EXISTS, 409, code="twofactor.passkey_exists")
    return {"id": int(rows[0]["id"]), "name": label, "created_at": now, "last_used_at": None}


# --- a passkey as the second factor of a step -------------------------------------------------


async def start_passkey_challenge(
    tenant_id: int, kind: str, person_id: int, ctx: Any, subject: str = "",
    prefix: str = PASSKEY_CHALLENGE_PREFIX,
) -> Started:
    """A step's challenge for a person with a passkey: no SMS is sent (the person may ask
    for one with :func:`services.resend`); their passkey, or a recovery code, completes it."""
    return await services.start_silent_challenge(tenant_id, kind, person_id, ctx, subject, prefix, STEP_TTL)


async def needs_user_verification(tenant_id: int, context: str) -> bool:
    """Whether the context asks a passkey to verify the person; an unknown context does
    (fail closed)."""
    for ctx in await services.visible_contexts(tenant_id):
        if ctx.key == context:
            return bool(getattr(ctx, "user_verification", False))
    return True


async def assertion_options(tenant_id: int | None, challenge_id: str) -> dict[str, Any]:
    """The options for ``navigator.credentials.get`` answering a step's challenge: its
    WebAuthn challenge, the person's passkeys, and whether the person must be verified."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    row = await services.find_challenge(tenant_id, challenge_id)
    if row["purpose"] not in PURPOSES:
        raise TwoFactorRefusal(services.CHALLENGE_NOT_FOUND, 404, code="twofactor.challenge_not_found")
    problem = services._ended(row, utcnow())
    if problem is not None:
        raise problem
    tid = int(row["tenant_id"])
    kind, person_id = person_of(row)
    rp_id, _origin = relying_party()
    creds = await TwoFactorPasskey.select(TwoFactorPasskey.credential_id).where(
        person_where(TwoFactorPasskey, tid, kind, person_id)
    )
    if not creds:
        raise TwoFactorRefusal(PASSKEY_NONE, 409, code="twofactor.passkey_none")
    uv = await needs_user_verification(tid, row["context"])
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=webauthn_challenge(row["id_hash"]),
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=_unb64u(r["credential_id"])) for r in creds],
        user_verification=UserVerificationRequirement.REQUIRED if uv else UserVerificationRequirement.PREFERRED,
    )
    return options_to_json_dict(options)


def passkey_factor(credential: dict[str, Any]) -> FactorCheck:
    """The check of one assertion, for :func:`services.verify_code`."""

    async def check(tenant_id: int, kind: str, person_id: int, row: dict, now: datetime) -> str:
        from webauthn import verify_authentication_response

        stored = await TwoFactorPasskey.select().where(
            person_where(TwoFactorPasskey, tenant_id, kind, person_id)
            & (TwoFactorPasskey.credential_id == credential["id"])
        ).first()
        if stored is None:
            return "wrong"  # another person's or tenant's passkey, or none known
        rp_id, origin = relying_party()
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=webauthn_challenge(row["id_hash"]),
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=_unb64u(stored["public_key"]),
                credential_current_sign_count=int(stored["sign_count"]),
                require_user_verification=await needs_user_verification(tenant_id, row["context"]),
            )
        except _answer_errors() as exc:
            log.info("passkey assertion refused in tenant %s: %s", tenant_id, type(exc).__name__)
            return "wrong"
        # One conditional UPDATE: a parallel use of the same counter value cannot also pass.
        claimed = await TwoFactorPasskey.update(
            {TwoFactorPasskey.sign_count: int(verified.new_sign_count), TwoFactorPasskey.last_used_at: now}
        ).where(
            (TwoFactorPasskey.id == stored["id"]) & (TwoFactorPasskey.sign_count == int(stored["sign_count"]))
        ).returning(TwoFactorPasskey.id)
        return "ok" if claimed else "reused"

    return FactorCheck(FACTOR, check, PASSKEY_REFUSED, "twofactor.passkey_refused")


async def verify_passkey(
    tenant_id: int | None, challenge_id: str, credential: Any, user_agent: str = ""
) -> services.Verified:
    """Complete a step's challenge with a passkey's assertion (as :func:`services.verify_code`
    does with a code): malformed input is a 400 before anything is counted; an assertion of
    another person, tenant or challenge, a replay or a forged one is a counted 400."""
    parsed = parse_credential(credential)
    return await services.verify_code(tenant_id, challenge_id, "", user_agent, factor=passkey_factor(parsed))
