"""SMS gateways behind ``send_sms``: the tenant's provider, 46elks or Twilio, or the outbox.

Credentials come from the server's environment (one account per installation); the
tenant chooses the provider and its sender name. A provider error raises
:class:`core.delivery.DeliveryError`: the outbox retries the message and finally marks it
failed with the reason, which is visible to administrators. Neither the message body (it
holds a code) nor the provider's answer (it may echo the body) ever goes into an error
text or a log line.
"""

from __future__ import annotations

import functools
import inspect
import os
import ssl
from typing import Any

import httpx

from core.contracts import OutgoingMessage
from core.delivery import DeliveryError
from core.plugins import await_me_maybe
from plugins.twofactor.tables import TwoFactorSettings

TIMEOUT_SECONDS = 15.0
DEFAULT_SENDER = "Gallra"


async def send(message: OutgoingMessage, otherwise: Any) -> str:
    """Send through the tenant's provider, or let ``otherwise`` (the answer of the other
    ``send_sms`` implementations: a coroutine or None) deliver it."""
    row = await TwoFactorSettings.select(TwoFactorSettings.provider).where(
        TwoFactorSettings.tenant_id == message.tenant_id
    ).first()
    provider = row["provider"] if row else "outbox"
    if provider in ("46elks", "twilio"):
        if inspect.iscoroutine(otherwise):
            otherwise.close()  # not needed: the tenant chose a provider
        return await (send_46elks(message) if provider == "46elks" else send_twilio(message))
    if otherwise is None:
        return f"outbox:{message.outbox_id}"
    return str(await await_me_maybe(otherwise))


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every send, the one httpx would make (its CA bundle, or
    SSL_CERT_FILE): httpx otherwise builds and loads one per client, 15-50 ms of CPU for
    each SMS."""
    return httpx.create_ssl_context()


async def _post(provider: str, url: str, data: dict[str, str], auth: tuple[str, str]) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, verify=_tls()) as client:
            response = await client.post(url, data=data, auth=auth)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{provider} could not be reached ({type(exc).__name__})") from None
    if response.status_code >= 300:
        raise DeliveryError(f"{provider} answered HTTP {response.status_code}")
    return response


def _answer_id(response: httpx.Response, key: str) -> str:
    try:
        value = response.json().get(key, "")
    except (ValueError, AttributeError):
        value = ""
    return str(value or "")[:120]


async def send_46elks(message: OutgoingMessage) -> str:
    """46elks: a form POST to ``<base>/a1/sms`` with HTTP Basic auth."""
    base = (os.environ.get("GALLRA_46ELKS_URL") or "https://api.46elks.com").rstrip("/")
    user = os.environ.get("GALLRA_46ELKS_USERNAME", "")
    password = os.environ.get("GALLRA_46ELKS_PASSWORD", "")
    if not user or not password:
        raise DeliveryError("46elks is chosen but GALLRA_46ELKS_USERNAME/PASSWORD are not set")
    response = await _post(
        "46elks",
        f"{base}/a1/sms",
        {"from": message.sender or DEFAULT_SENDER, "to": message.recipient, "message": message.body},
        (user, password),
    )
    return f"46elks:{_answer_id(response, 'id')}"


async def send_twilio(message: OutgoingMessage) -> str:
    """Twilio: a form POST to ``<base>/2010-04-01/Accounts/<sid>/Messages.json``.

    ``From`` is GALLRA_TWILIO_FROM when the operator set one (accounts that must send from
    a number they own), else the tenant's alphanumeric sender name.
    """
    base = (os.environ.get("GALLRA_TWILIO_URL") or "https://api.twilio.com").rstrip("/")
    sid = os.environ.get("GALLRA_TWILIO_ACCOUNT_SID", "")
    token = os.environ.get("GALLRA_TWILIO_AUTH_TOKEN", "")
    if not sid or not token:
        raise DeliveryError("Twilio is chosen but GALLRA_TWILIO_ACCOUNT_SID/AUTH_TOKEN are not set")
    sender = os.environ.get("GALLRA_TWILIO_FROM") or message.sender or DEFAULT_SENDER
    response = await _post(
        "Twilio",
        f"{base}/2010-04-01/Accounts/{sid}/Messages.json",
        {"To": message.recipient, "From": sender, "Body": message.body},
        (sid, token),
    )
    return f"twilio:{_answer_id(response, 'sid')}"
