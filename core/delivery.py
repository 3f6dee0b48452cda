"""E-mail and SMS delivery: an outbox row first, then a task that hands it to a gateway.

The row is the truth: a message whose task was lost is found again by the redelivery job,
and one that keeps failing ends as ``failed`` with the reason, visible to administrators.
Message bodies may hold codes and links: they are never logged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core.contracts import OutgoingMessage
from core.db import after_commit, atomic, utcnow
from core.plugins import await_me_maybe, get_host
from core.tables import Outbox
from core.worker import enqueue, task

log = logging.getLogger(__name__)

DELIVER_TASK = "core.deliver_message"


async def queue_message(
    channel: str,
    recipient: str,
    body: str,
    *,
    subject: str = "",
    tenant_id: int | None = None,
    sender: str | None = None,
) -> int:
    """Store a message and ask a worker to deliver it once this transaction commits."""
    if channel not in ("email", "sms"):
        raise ValueError("channel must be email or sms")
    async with atomic():
        rows = await Outbox.insert(
            Outbox(
                tenant_id=tenant_id,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                sender=sender,
            )
        ).returning(Outbox.id)
        outbox_id = int(rows[0]["id"])
        after_commit(lambda: enqueue(DELIVER_TASK, outbox_id))
    return outbox_id


class DeliveryError(Exception):
    """A gateway refused or failed; the message is retried."""


@task(DELIVER_TASK, max_retries=0)
async def deliver_message(outbox_id: int) -> None:
    """Deliver one queued message; retries are counted on the row, not in memory."""
    from core.config import get_settings

    settings = get_settings()
    row = await Outbox.select().where(Outbox.id == outbox_id).first()
    if row is None or row["status"] != "queued":
        return  # already delivered, failed for good, or never committed
    attempts = int(row["attempts"]) + 1
    await Outbox.update({Outbox.attempts: attempts}).where(Outbox.id == outbox_id)
    message = OutgoingMessage(
        outbox_id=outbox_id,
        tenant_id=row["tenant_id"],
        channel=row["channel"],
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        sender=row["sender"],
    )
    hook = get_host().hook.send_sms if message.channel == "sms" else get_host().hook.send_email
    try:
        answer = await await_me_maybe(hook(message=message))
    except Exception as exc:  # any gateway failure is recorded and retried
        reason = type(exc).__name__ + (f": {exc}" if isinstance(exc, DeliveryError) else "")
        final = attempts >= settings.delivery_max_attempts
        await Outbox.update(
            {Outbox.error: reason[:500], Outbox.status: "failed" if final else "queued"}
        ).where(Outbox.id == outbox_id)
        log.warning(
            "delivery of outbox message %s failed (attempt %s): %s",
            outbox_id,
            attempts,
            type(exc).__name__,
        )
        if not final:
            delay_ms = min(60_000, 1000 * 2 ** (attempts - 1))
            from core.worker import actor

            actor(DELIVER_TASK).send_with_options(args=(outbox_id,), delay=delay_ms)
        return
    provider, _, provider_id = str(answer or "outbox:").partition(":")
    await Outbox.update(
        {
            Outbox.status: "sent",
            Outbox.sent_at: utcnow(),
            Outbox.provider: provider[:32],
            Outbox.provider_id: provider_id[:128],
            Outbox.error: "",
        }
    ).where(Outbox.id == outbox_id)


async def redeliver_stale(older_than_minutes: int = 5) -> int:
    """Re-send task messages for queued rows whose message was lost (a crashed worker)."""
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    rows = await Outbox.select(Outbox.id).where(
        (Outbox.status == "queued") & (Outbox.created_at < cutoff)
    )
    for row in rows:
        enqueue(DELIVER_TASK, int(row["id"]))
    return len(rows)
