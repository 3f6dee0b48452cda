"""The core's own hook implementations: defaults every installation has.

Registered as the plugin named ``core``. Delivery defaults run last, so any gateway plugin
(SMTP here, or an SMS provider) answers first when it is configured.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Awaitable, Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from core.config import get_settings
from core.contracts import OutgoingMessage, ScheduledJob
from core.plugins import hookimpl


@hookimpl(trylast=True)
def send_email(message: OutgoingMessage) -> Awaitable[str] | None:
    """Without a gateway the outbox itself is the delivery: administrators read it there."""
    return _outbox_answer(message)


@hookimpl(trylast=True)
def send_sms(message: OutgoingMessage) -> Awaitable[str] | None:
    return _outbox_answer(message)


async def _outbox_answer(message: OutgoingMessage) -> str:
    return f"outbox:{message.outbox_id}"


class SmtpGateway:
    """E-mail over SMTP when GALLRA_SMTP_HOST is set."""

    @hookimpl
    def send_email(self, message: OutgoingMessage) -> Awaitable[str] | None:
        settings = get_settings()
        if not settings.smtp_host:
            return None
        return asyncio.to_thread(self._send, message)

    @staticmethod
    def _send(message: OutgoingMessage) -> str:
        settings = get_settings()
        mail = EmailMessage()
        mail["From"] = settings.smtp_from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        msgid = make_msgid(domain="gallra")
        mail["Message-ID"] = msgid
        mail.set_content(message.body)
        assert settings.smtp_host
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(mail)
        return f"smtp:{msgid}"


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["core.piccolo_app"]


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from core.auth import purge_expired
    from core.delivery import redeliver_stale

    return [
        ScheduledJob(id="core.redeliver_outbox", func=redeliver_stale, minutes=5),
        ScheduledJob(id="core.purge_expired_auth", func=purge_expired, minutes=15),
    ]
