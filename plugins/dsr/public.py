"""Asking on the public page ("Mina personuppgifter"): a person asks, and nothing happens
until they prove they hold an address the organization already stores about them.

* An e-mail address gets a link; a phone number gets a six-digit code by SMS. Whether the
  address is stored is found through person search (:func:`core.gdpr.subjects.locate`):
  a link or code goes only to an address held for somebody.
* The page's answer is the same whether or not the address is known: "if the address is
  ours, a link/code is on its way"; for a phone the code page is shown either way, and an
  unknown number's code page accepts no code.
* Counted per address and per client (:mod:`core.throttle`), alike for known and unknown
  addresses: past the limit the answer is 429 for both.
* Only hashes of the link's token and of the code are stored; a confirmation is valid for
  30 minutes and is used once. Five wrong codes end it.

A confirmed request enters the queue as ``verified`` (:func:`plugins.dsr.services.create_request`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core import throttle
from core.auth import find_tenant
from core.db import atomic, bind_tenant, utcnow
from core.delivery import queue_message
from core.errors import Invalid, NotFound, TooMany
from core.errors import mark as _
from core.gdpr.subjects import Identifiers, locate
from core.plugins import get_host
from core.security import constant_equals, keyed_hash, new_token, token_hash
from core.validation import normalize_email, normalize_phone
from plugins.dsr import services
from plugins.dsr.records import KINDS
from plugins.dsr.schemas import RequestIn
from plugins.dsr.tables import DsrPending

NO_SUCH_PAGE = _("There is no such page.")
GIVE_ADDRESS = _("Give the e-mail address or the phone number we have for you.")
ONE_ADDRESS = _("Give either an e-mail address or a phone number, not both.")
CHOOSE_KIND = _("Choose what you ask for.")
TOO_MANY = _("Too many attempts. Wait a while and try again.")
LINK_GONE = _("The link has expired or has already been used. Ask again.")
WRONG_CODE = _("The code is wrong or has expired.")

TTL = timedelta(minutes=30)
WINDOW = timedelta(hours=1)
MAX_PER_ADDRESS = 5
MAX_PER_CLIENT = 20
MAX_CODE_TRIES = 5
MAX_DETAILS = 5000


@dataclass
class Organization:
    id: int
    slug: str
    name: str


async def organization(slug: str) -> Organization:
    """The organization of a public page, if it uses this module; 404 otherwise. The
    request is bound to it from here on (row-level security)."""
    tenant = await find_tenant(slug[:63]) if slug else None
    if tenant is None:
        raise NotFound(NO_SUCH_PAGE, code="dsr.no_such_page")
    bind_tenant(int(tenant["id"]))
    if "dsr" not in await get_host().enabled_modules(int(tenant["id"])):
        raise NotFound(NO_SUCH_PAGE, code="dsr.no_such_page")
    return Organization(int(tenant["id"]), str(tenant["slug"]), str(tenant["name"]))


@dataclass
class Asked:
    channel: str  # "email" | "sms"
    ticket: str  # for a phone: what the code page posts back (random also for unknown numbers)


def _address(email: str, phone: str) -> tuple[str | None, str | None]:
    email, phone = email.strip(), phone.strip()
    if not email and not phone:
        raise Invalid("email", GIVE_ADDRESS, code="dsr.address_required")
    if email and phone:
        raise Invalid("email", ONE_ADDRESS, code="dsr.one_address")
    if email:
        return normalize_email(email, "email"), None
    return None, normalize_phone(phone, "phone")


async def _known(tenant_id: int, email: str | None, phone: str | None) -> bool:
    ids = Identifiers(emails=[email] if email else [], phones=[phone] if phone else [])
    return (await locate(tenant_id, ids)).count() > 0


async def _limit(org: Organization, address: str, client: str) -> None:
    if not await throttle.reserve(throttle.key_for("dsr_ask_client", client), MAX_PER_CLIENT, WINDOW):
        raise TooMany(TOO_MANY, code="dsr.too_many")
    if not await throttle.reserve(throttle.key_for("dsr_ask", org.slug, address), MAX_PER_ADDRESS, WINDOW):
        raise TooMany(TOO_MANY, code="dsr.too_many")


def _code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _code_hash(ticket: str, code: str) -> str:
    return keyed_hash(f"dsr:{ticket}:{code}")


LINK_TEXT = {
    "sv": ("Bekräfta din begäran hos {org}",
           "Någon, förhoppningsvis du, har bett {org} om dina personuppgifter. Öppna länken för "
           "att bekräfta begäran:\n\n{link}\n\nLänken gäller i 30 minuter. Har du inte bett om "
           "detta kan du bortse från meddelandet."),
    "en": ("Confirm your request to {org}",
           "Somebody, hopefully you, asked {org} about your personal data. Open the link to "
           "confirm the request:\n\n{link}\n\nThe link is valid for 30 minutes. If you did not "
           "ask, ignore this message."),
}
CODE_TEXT = {
    "sv": "Din kod för att bekräfta begäran hos {org}: {code}. Koden gäller i 30 minuter.",
    "en": "Your code to confirm the request to {org}: {code}. The code is valid for 30 minutes.",
}


async def ask(org: Organization, kind: str, email: str, phone: str, details: str, language: str,
              client: str, *, purpose: str = "ask", request_id: int = 0) -> Asked:
    """Take the request and send the link or code if the address is stored; the answer is
    the same either way."""
    if kind not in KINDS and purpose == "ask":
        raise Invalid("kind", CHOOSE_KIND, code="dsr.kind_required")
    address_email, address_phone = _address(email, phone)
    language = language if language in LINK_TEXT else "sv"
    await _limit(org, address_email or address_phone or "", client)
    ticket = new_token(24)
    channel = "email" if address_email else "sms"
    async with atomic():
        if not await _known(org.id, address_email, address_phone):
            return Asked(channel, ticket)
        code = _code() if address_phone else ""
        await DsrPending.insert(DsrPending(
            tenant_id=org.id, purpose=purpose, request_id=request_id, kind=kind,
            details=details.strip()[:MAX_DETAILS], email=address_email, phone=address_phone, language=language,
            token_hash=token_hash(ticket), code_hash=_code_hash(ticket, code) if code else "",
            expires_at=utcnow() + TTL,
        ))
        if address_email:
            from core.config import get_settings

            subject, body = LINK_TEXT[language]
            link = f"{get_settings().base_url}/dsr/ask/{org.slug}/confirm?token={ticket}"
            await queue_message("email", address_email, body.format(org=org.name, link=link),
                                subject=subject.format(org=org.name), tenant_id=org.id)
        else:
            await queue_message("sms", address_phone or "", CODE_TEXT[language].format(org=org.name, code=code),
                                tenant_id=org.id)
    return Asked(channel, ticket)


async def _pending(org: Organization, ticket: str, purpose: str) -> dict[str, Any] | None:
    row = await DsrPending.select().where(
        (DsrPending.tenant_id == org.id) & (DsrPending.token_hash == token_hash(ticket))
        & (DsrPending.purpose == purpose)
    ).first()
    if row is None or row["expires_at"] <= utcnow():
        return None
    return row


async def peek(org: Organization, ticket: str, purpose: str = "ask") -> dict[str, Any]:
    """The live confirmation of this link (not used up by looking): for the confirm page."""
    row = await _pending(org, ticket[:128], purpose) if ticket else None
    if row is None:
        raise NotFound(LINK_GONE, code="dsr.link_gone")
    return row


async def confirm(org: Organization, ticket: str, code: str | None = None, purpose: str = "ask") -> dict[str, Any]:
    """Use the link (``code`` None) or the code of ``ticket``: the pending row it confirms,
    deleted; for "ask" the request is created, verified, and returned instead."""
    ticket = ticket[:128]
    if code is not None:
        key = throttle.key_for("dsr_code", ticket)
        if not await throttle.reserve(key, MAX_CODE_TRIES, TTL):
            raise TooMany(TOO_MANY, code="dsr.too_many")
    async with atomic():
        row = await _pending(org, ticket, purpose) if ticket else None
        if code is not None:
            good = (row is not None and bool(row["code_hash"])
                    and constant_equals(row["code_hash"], _code_hash(ticket, code.strip())))
            if not good:
                raise Invalid("code", WRONG_CODE, code="dsr.wrong_code")
        elif row is None or row["code_hash"]:
            raise NotFound(LINK_GONE, code="dsr.link_gone")
        assert row is not None
        deleted = await DsrPending.delete().where(DsrPending.id == row["id"]).returning(DsrPending.id)
        if not deleted:  # confirmed twice at once: the other one won
            raise NotFound(LINK_GONE, code="dsr.link_gone")
        if purpose != "ask":
            return row
        data = RequestIn(kind=row["kind"], requester_email=row["email"], requester_phone=row["phone"],
                         details=row["details"], language=row["language"])
        created = await services.create_request(org.id, 0, data, channel="public")
        return await services.mark_verified(org.id, int(created["id"]))


# --- the answer: the access export, downloaded after proving the address again --------------

DOWNLOAD_WINDOW = timedelta(minutes=30)
NOT_CONFIRMED = _("Confirm with the code first.")
EXPORT_NOT_READY = _("Your data is still being gathered. Try again in a few minutes.")


async def download_link(tenant_id: int, row: dict[str, Any], expires_at: Any) -> str:
    """A link to the request's answer, valid as long as its export; opening it asks for
    a code sent to the request's address first."""
    from core.config import get_settings
    from core.tables import Tenant

    ticket = new_token(24)
    await DsrPending.insert(DsrPending(
        tenant_id=tenant_id, purpose="download", request_id=int(row["id"]), kind=row["kind"],
        email=row["requester_email"], phone=None if row["requester_email"] else row["requester_phone"],
        language=row["language"], token_hash=token_hash(ticket), expires_at=expires_at,
    ))
    tenant = await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first()
    slug = tenant["slug"] if tenant else ""
    return f"{get_settings().base_url}/dsr/ask/{slug}/answer?token={ticket}"


DOWNLOAD_CODE_TEXT = {
    "sv": "Din kod för att hämta svaret från {org}: {code}. Koden gäller i 30 minuter.",
    "en": "Your code to download the answer from {org}: {code}. The code is valid for 30 minutes.",
}


async def send_download_code(org: Organization, ticket: str, client: str) -> str:
    """Send a new code to the address of the answer's link; returns the channel."""
    row = await peek(org, ticket, "download")
    if not await throttle.reserve(throttle.key_for("dsr_download", ticket[:128]), MAX_PER_ADDRESS, WINDOW):
        raise TooMany(TOO_MANY, code="dsr.too_many")
    if not await throttle.reserve(throttle.key_for("dsr_ask_client", client), MAX_PER_CLIENT, WINDOW):
        raise TooMany(TOO_MANY, code="dsr.too_many")
    code = _code()
    async with atomic():
        await DsrPending.update({DsrPending.code_hash: _code_hash(ticket, code), DsrPending.confirmed_at: None}).where(
            DsrPending.id == row["id"])
        text = DOWNLOAD_CODE_TEXT[row["language"] if row["language"] in DOWNLOAD_CODE_TEXT else "sv"]
        body = text.format(org=org.name, code=code)
        if row["email"]:
            await queue_message("email", row["email"], body, subject=body.split(":")[0], tenant_id=org.id)
            return "email"
        await queue_message("sms", row["phone"] or "", body, tenant_id=org.id)
        return "sms"


async def confirm_download(org: Organization, ticket: str, code: str) -> dict[str, Any]:
    """The right code opens the answer's downloads for 30 minutes."""
    ticket = ticket[:128]
    if not await throttle.reserve(throttle.key_for("dsr_code", ticket), MAX_CODE_TRIES, TTL):
        raise TooMany(TOO_MANY, code="dsr.too_many")
    row = await _pending(org, ticket, "download") if ticket else None
    if row is None or not row["code_hash"] or not constant_equals(row["code_hash"], _code_hash(ticket, code.strip())):
        raise Invalid("code", WRONG_CODE, code="dsr.wrong_code")
    await throttle.clear(throttle.key_for("dsr_code", ticket))
    now = utcnow()
    await DsrPending.update({DsrPending.confirmed_at: now, DsrPending.code_hash: ""}).where(DsrPending.id == row["id"])
    return {**row, "confirmed_at": now}


async def download(org: Organization, ticket: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer's request and export, once the code was entered (within 30 minutes)."""
    from core.gdpr.subjects import export_row

    row = await peek(org, ticket, "download")
    if row["confirmed_at"] is None or row["confirmed_at"] + DOWNLOAD_WINDOW <= utcnow():
        raise Invalid("code", NOT_CONFIRMED, code="dsr.not_confirmed")
    request = await services.RECORDS.get(org.id, int(row["request_id"]))
    export = await export_row(org.id, int(request["export_id"])) if request["export_id"] else None
    if export is None:
        raise NotFound(LINK_GONE, code="dsr.link_gone")
    if export["status"] != "done":
        raise Invalid(None, EXPORT_NOT_READY, code="dsr.export_not_ready")
    return request, export
