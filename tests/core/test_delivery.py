"""E-mail and SMS delivery: gateways through hooks, retries, failure kept visible, SMTP."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from core.contracts import OutgoingMessage
from core.db import atomic
from core.delivery import DeliveryError, deliver_message, queue_message
from core.plugins import hookimpl
from core.tables import Outbox
from tests.core.smtp_server import TinySmtpServer
from tests.support import make_tenant


class Gateway:
    """A provider plugin: answers with an id, passes (None), or raises."""

    def __init__(self, channel: str = "email", answer: str | None = "fake:123", error: Exception | None = None):
        self.channel = channel
        self.answer = answer
        self.error = error
        self.seen: list[OutgoingMessage] = []

    def _deliver(self, message: OutgoingMessage):  # type: ignore[no-untyped-def]
        self.seen.append(message)
        if self.answer is None and self.error is None:
            return None

        async def send() -> str | None:
            if self.error is not None:
                raise self.error
            return self.answer

        return send()

    @hookimpl
    def send_email(self, message: OutgoingMessage):  # type: ignore[no-untyped-def]
        return self._deliver(message) if self.channel == "email" else None

    @hookimpl
    def send_sms(self, message: OutgoingMessage):  # type: ignore[no-untyped-def]
        return self._deliver(message) if self.channel == "sms" else None


async def outbox_row(outbox_id: int) -> dict:
    return await Outbox.select().where(Outbox.id == outbox_id).first()


async def test_hook_send_email(make_host, worker, tenant):
    gateway = Gateway("email", "fake:123")
    make_host(gateway=gateway)
    async with atomic():
        # Read before the commit: the running worker gets the message only after it.
        mid = await queue_message("email", "anna@example.org", "Hej Anna", subject="Hello", tenant_id=tenant.id)
        assert (await outbox_row(mid))["status"] == "queued"
    worker.drain()
    row = await outbox_row(mid)
    assert (row["status"], row["provider"], row["provider_id"], row["attempts"], row["error"]) == (
        "sent", "fake", "123", 1, "",
    )
    assert row["sent_at"] is not None
    [seen] = gateway.seen
    assert (seen.outbox_id, seen.tenant_id, seen.channel, seen.recipient, seen.subject, seen.body) == (
        mid, tenant.id, "email", "anna@example.org", "Hello", "Hej Anna",
    )


async def test_hook_send_sms(make_host, worker, tenant):
    gateway = Gateway("sms", "fake:sms-9")
    make_host(gateway=gateway)
    sms = await queue_message("sms", "+46701234567", "Din kod: 123456", tenant_id=tenant.id, sender="Gallra")
    mail = await queue_message("email", "anna@example.org", "Hej", subject="S", tenant_id=tenant.id)
    worker.drain()
    row = await outbox_row(sms)
    assert (row["status"], row["provider"], row["provider_id"]) == ("sent", "fake", "sms-9")
    assert [m.outbox_id for m in gateway.seen] == [sms]
    assert gateway.seen[0].sender == "Gallra"
    # The SMS gateway passed on e-mail: the outbox default answered.
    row = await outbox_row(mail)
    assert (row["status"], row["provider"], row["provider_id"]) == ("sent", "outbox", str(mail))


async def test_gateway_that_passes_leaves_the_outbox_default(make_host, worker, tenant):
    gateway = Gateway("email", answer=None)
    make_host(gateway=gateway)
    mid = await queue_message("email", "anna@example.org", "Hej", tenant_id=tenant.id)
    worker.drain()
    assert len(gateway.seen) == 1
    assert (await outbox_row(mid))["provider"] == "outbox"


async def test_failing_gateway_is_retried_then_marked_failed(make_host, worker, tenant, env_settings):
    settings = env_settings(GALLRA_DELIVERY_MAX_ATTEMPTS="2")
    assert settings.delivery_max_attempts == 2
    gateway = Gateway("email", error=DeliveryError("provider said 503"))
    make_host(gateway=gateway)
    mid = await queue_message("email", "anna@example.org", "Hej", subject="S", tenant_id=tenant.id)
    worker.drain()  # the retry waits a second in the broker's delay queue
    row = await outbox_row(mid)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["error"] == "DeliveryError: provider said 503"
    assert len(gateway.seen) == 2
    assert row["body"] == "Hej"  # kept, visible to administrators, not lost


async def test_failure_reason_holds_no_message_content(make_host, tenant, env_settings, stub_broker):
    env_settings(GALLRA_DELIVERY_MAX_ATTEMPTS="3")
    make_host(gateway=Gateway("sms", error=RuntimeError("could not send 'Din kod: 654321'")))
    mid = await queue_message("sms", "+46701234567", "Din kod: 654321", tenant_id=tenant.id)
    try:
        await deliver_message(mid)  # the first attempt, run here instead of by a worker
        row = await outbox_row(mid)
        assert (row["status"], row["attempts"], row["error"]) == ("queued", 1, "RuntimeError")
        await deliver_message(mid)
        await deliver_message(mid)
        row = await outbox_row(mid)
        assert (row["status"], row["attempts"], row["error"]) == ("failed", 3, "RuntimeError")
        await deliver_message(mid)  # a late duplicate task message changes nothing
        assert (await outbox_row(mid))["attempts"] == 3
    finally:
        stub_broker.flush_all()  # the retries this test sent are not for later tests


async def test_smtp_adapter_delivers_to_the_configured_server(make_host, worker, tenant, env_settings):
    make_host()
    with TinySmtpServer() as server:
        env_settings(
            GALLRA_SMTP_HOST="127.0.0.1",
            GALLRA_SMTP_PORT=str(server.port),
            GALLRA_SMTP_STARTTLS="0",
            GALLRA_SMTP_FROM="noreply@gallra.test",
        )
        mid = await queue_message(
            "email", "anna@example.org", "Öppna länken: https://x/reset?token=abc", subject="Återställ lösenord",
            tenant_id=tenant.id,
        )
        sms = await queue_message("sms", "+46701234567", "Kod 1", tenant_id=tenant.id)
        worker.drain()
    row = await outbox_row(mid)
    assert (row["status"], row["provider"]) == ("sent", "smtp")
    [got] = server.received
    assert got.sender == "noreply@gallra.test" and got.recipients == ["anna@example.org"]
    assert got.message["Subject"] == "Återställ lösenord"
    assert got.message["Message-ID"] == row["provider_id"]
    assert "Öppna länken: https://x/reset?token=abc" in got.message.get_content()
    assert (await outbox_row(sms))["provider"] == "outbox"  # SMTP carries e-mail only


async def test_smtp_refusal_is_recorded_and_ends_failed(make_host, worker, tenant, env_settings):
    make_host()
    with TinySmtpServer(refuse_recipients=True) as server:
        env_settings(
            GALLRA_SMTP_HOST="127.0.0.1", GALLRA_SMTP_PORT=str(server.port), GALLRA_SMTP_STARTTLS="0",
            GALLRA_DELIVERY_MAX_ATTEMPTS="1",
        )
        mid = await queue_message("email", "nobody@example.org", "Hej", subject="S", tenant_id=tenant.id)
        worker.drain()
    row = await outbox_row(mid)
    assert (row["status"], row["attempts"], row["error"]) == ("failed", 1, "SMTPRecipientsRefused")
    assert server.received == []


def test_outbox_command_shows_messages():
    from core.cli import cli

    t = asyncio.run(make_tenant())

    async def fill() -> None:
        await Outbox.insert(
            Outbox(tenant_id=t.id, channel="email", recipient="a@example.org", subject="First", body="Body one",
                   status="sent"),
            Outbox(tenant_id=t.id, channel="sms", recipient="+46701234567", body="Kod 1", status="queued"),
            Outbox(tenant_id=t.id, channel="email", recipient="c@example.org", subject="Third", body="Body\nthree",
                   status="failed", attempts=5, error="DeliveryError: mailbox full"),
        )

    asyncio.run(fill())
    runner = CliRunner()
    r = runner.invoke(cli, ["outbox", "--tenant", t.slug])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "email to c@example.org [failed] Third" in lines[0]
    assert "  Body" in lines and "  three" in lines
    assert "  error: DeliveryError: mailbox full" in lines
    assert "sms to +46701234567 [queued]" in r.output
    assert "email to a@example.org [sent] First" in r.output
    assert r.output.index("Third") < r.output.index("+46701234567") < r.output.index("First")

    r = runner.invoke(cli, ["outbox", "--tenant", t.slug, "--status", "sent"])
    assert "First" in r.output and "Third" not in r.output and "+4670" not in r.output
    r = runner.invoke(cli, ["outbox", "--tenant", t.slug, "--limit", "1"])
    assert "Third" in r.output and "First" not in r.output
    r = runner.invoke(cli, ["outbox", "--tenant", "no-such-tenant"])
    assert r.exit_code != 0 and "No tenant 'no-such-tenant'" in r.output
    r = runner.invoke(cli, ["outbox", "--status", "lost"])
    assert r.exit_code != 0


async def test_a_lost_task_message_is_sent_again_by_the_redelivery_job(make_host, worker, tenant):
    from datetime import timedelta

    import time_machine

    from core.delivery import redeliver_stale

    gateway = Gateway("email", "fake:late")
    make_host(gateway=gateway)
    # A row whose task message never reached a worker (the process died after the commit).
    rows = await Outbox.insert(
        Outbox(tenant_id=tenant.id, channel="email", recipient="anna@example.org", body="Hej")
    ).returning(Outbox.id)
    mid = int(rows[0]["id"])
    assert await redeliver_stale() >= 0
    worker.drain()
    assert (await outbox_row(mid))["status"] == "queued"  # young rows are left to their task
    with time_machine.travel(timedelta(minutes=6), tick=True):
        assert await redeliver_stale() >= 1
    worker.drain()
    row = await outbox_row(mid)
    assert (row["status"], row["provider_id"], row["attempts"]) == ("sent", "late", 1)
    assert [m.outbox_id for m in gateway.seen].count(mid) == 1
