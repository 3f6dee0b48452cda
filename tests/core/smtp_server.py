"""A tiny SMTP server on 127.0.0.1 for the SMTP adapter's test (asyncio streams, own thread)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class TinySmtpServer:
    refuse_recipients: bool = False
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tiny-smtp", daemon=True)

    def __enter__(self) -> TinySmtpServer:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the test SMTP server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", []
        await say("220 tiny ESMTP")
        try:
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip()
                upper = verb.upper()
                if upper.startswith("EHLO"):
                    await say("250-tiny\r\n250-8BITMIME\r\n250 SMTPUTF8")
                elif upper.startswith("HELO"):
                    await say("250 tiny")
                elif upper.startswith("MAIL FROM:"):
                    sender, recipients = verb[10:].split()[0].strip("<>"), []
                    await say("250 OK")
                elif upper.startswith("RCPT TO:"):
                    if self.refuse_recipients:
                        await say("550 no such mailbox here")
                    else:
                        recipients.append(verb[8:].split()[0].strip("<>"))
                        await say("250 OK")
                elif upper == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while (data := await reader.readline()) not in (b".\r\n", b""):
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    parsed = message_from_bytes(b"".join(lines), policy=policy.default)
                    self.received.append(Received(sender, recipients, parsed))  # type: ignore[arg-type]
                    await say("250 queued")
                elif upper in ("RSET", "NOOP"):
                    await say("250 OK")
                elif upper == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 not implemented")
        finally:
            writer.close()
