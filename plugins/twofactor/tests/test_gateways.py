"""46elks and Twilio against a fake HTTP server on 127.0.0.1, through the outbox worker."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from core.contracts import OutgoingMessage
from core.delivery import DeliveryError
from core.tables import Outbox
from plugins.twofactor import gateways
from tests.support import login
from tests.twofactor_kit import CODE_RE, MOBILE, activate_sms, add_employee, make_recovery_codes, switch


class FakeProvider:
    """Records every request; answers with ``status`` and ``answer``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer: dict[str, Any] = {"id": "s1234", "sid": "SM1234", "status": "created"}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length).decode()
                provider.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("authorization", ""),
                        "content_type": self.headers.get("content-type", ""),
                        "form": {k: v[0] for k, v in parse_qs(body).items()},
                    }
                )
                payload = json.dumps(provider.answer).encode()
                self.send_response(provider.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def elks(provider, monkeypatch) -> FakeProvider:
    monkeypatch.setenv("GALLRA_46ELKS_URL", provider.url)
    monkeypatch.setenv("GALLRA_46ELKS_USERNAME", "elks-user")
    monkeypatch.setenv("GALLRA_46ELKS_PASSWORD", "elks-secret")
    return provider


@pytest.fixture
def twilio(provider, monkeypatch) -> FakeProvider:
    monkeypatch.setenv("GALLRA_TWILIO_URL", provider.url)
    monkeypatch.setenv("GALLRA_TWILIO_ACCOUNT_SID", "AC42")
    monkeypatch.setenv("GALLRA_TWILIO_AUTH_TOKEN", "twilio-secret")
    monkeypatch.delenv("GALLRA_TWILIO_FROM", raising=False)
    return provider


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def message(body: str = "123456 is your code", sender: str | None = "Acme") -> OutgoingMessage:
    return OutgoingMessage(
        outbox_id=1, tenant_id=1, channel="sms", recipient=MOBILE, subject="", body=body, sender=sender
    )


async def test_46elks_login_code_end_to_end(client, anon_client, tenant, worker, elks):
    assert (await login(client, tenant, api=True)).status_code == 200
    await activate_sms(client, provider="46elks", sender="Acme")
    await make_recovery_codes(client)
    await switch(client, "employee_login")
    _, email = await add_employee(tenant, "Ann Elks")
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202
    worker.drain()
    assert len(elks.requests) == 1
    sent = elks.requests[0]
    assert sent["path"] == "/a1/sms"
    assert sent["authorization"] == basic("elks-user", "elks-secret")
    assert sent["content_type"].startswith("application/x-www-form-urlencoded")
    assert sent["form"]["from"] == "Acme" and sent["form"]["to"] == MOBILE
    code = CODE_RE.search(sent["form"]["message"]).group(1)
    row = (await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")))[-1]
    assert row["status"] == "sent" and row["provider"] == "46elks" and row["provider_id"] == "s1234"
    # The code the phone received logs the person in.
    cid = r.json()["second_factor"]["challenge_id"]
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": code})
    assert r.status_code == 200 and r.json()["logged_in"] is True


async def test_twilio_adapter(twilio, monkeypatch):
    answer = await gateways.send_twilio(message())
    assert answer == "twilio:SM1234"
    sent = twilio.requests[0]
    assert sent["path"] == "/2010-04-01/Accounts/AC42/Messages.json"
    assert sent["authorization"] == basic("AC42", "twilio-secret")
    assert sent["form"] == {"To": MOBILE, "From": "Acme", "Body": "123456 is your code"}
    monkeypatch.setenv("GALLRA_TWILIO_FROM", "+46766860000")
    await gateways.send_twilio(message())
    assert twilio.requests[1]["form"]["From"] == "+46766860000"


async def test_twilio_through_the_tenant_setting(client, tenant, worker, twilio):
    from core.delivery import queue_message

    assert (await login(client, tenant, api=True)).status_code == 200
    await activate_sms(client, provider="twilio", sender="Acme")
    outbox_id = await queue_message("sms", MOBILE, "hello", tenant_id=tenant.id, sender="Acme")
    worker.drain()
    row = await Outbox.select().where(Outbox.id == outbox_id).first()
    assert row["status"] == "sent" and row["provider"] == "twilio" and row["provider_id"] == "SM1234"
    assert twilio.requests[0]["form"]["Body"] == "hello"


async def test_outbox_provider_sends_nothing_out(client, tenant, worker, provider, monkeypatch):
    from core.delivery import queue_message

    monkeypatch.setenv("GALLRA_46ELKS_URL", provider.url)
    assert (await login(client, tenant, api=True)).status_code == 200
    await activate_sms(client)  # provider "outbox"
    outbox_id = await queue_message("sms", MOBILE, "hello", tenant_id=tenant.id)
    worker.drain()
    row = await Outbox.select().where(Outbox.id == outbox_id).first()
    assert row["status"] == "sent" and row["provider"] == "outbox"
    assert provider.requests == []


@pytest.fixture
def two_attempts(monkeypatch):
    """Deliveries give up after two attempts (the retry waits one second)."""
    import core.config

    settings = dataclasses.replace(core.config.get_settings(), delivery_max_attempts=2)
    monkeypatch.setattr(core.config, "get_settings", lambda: settings)


async def test_failing_provider_is_retried_then_marked_failed(
    client, anon_client, tenant, worker, elks, two_attempts, caplog
):
    caplog.set_level(logging.DEBUG)
    elks.status = 500
    elks.answer = {"error": "internal", "echo": "whatever"}
    assert (await login(client, tenant, api=True)).status_code == 200
    await activate_sms(client, provider="46elks", sender="Acme")
    await make_recovery_codes(client)
    await switch(client, "employee_login")
    _, email = await add_employee(tenant, "Ann Failing")
    assert (await login(anon_client, tenant, email=email, api=True)).status_code == 202
    worker.drain()
    assert len(elks.requests) == 2  # first attempt and one retry
    code = CODE_RE.search(elks.requests[0]["form"]["message"]).group(1)
    row = (await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")))[-1]
    assert row["status"] == "failed" and row["attempts"] == 2
    assert row["error"] == "DeliveryError: 46elks answered HTTP 500"
    assert code not in caplog.text and code not in row["error"]


async def test_unreachable_and_unconfigured_providers_raise_delivery_error(monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("GALLRA_46ELKS_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GALLRA_46ELKS_USERNAME", "u")
    monkeypatch.setenv("GALLRA_46ELKS_PASSWORD", "p")
    with pytest.raises(DeliveryError, match="could not be reached") as caught:
        await gateways.send_46elks(message("999999 secret"))
    assert "999999" not in str(caught.value)
    monkeypatch.delenv("GALLRA_46ELKS_USERNAME")
    with pytest.raises(DeliveryError, match="not set"):
        await gateways.send_46elks(message())
    monkeypatch.delenv("GALLRA_TWILIO_ACCOUNT_SID", raising=False)
    with pytest.raises(DeliveryError, match="not set"):
        await gateways.send_twilio(message())
