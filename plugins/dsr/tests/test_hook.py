"""The hook ``answer_data_subject``: a plugin adds what an answer must include."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.plugins import get_host, hookimpl
from plugins.dsr.tests.conftest import mails_to, make_request

NAME = "dsr_hook_test"


class Adds:
    """A test-only plugin: for the e-mail it knows it adds one paragraph per language."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    async def answer_data_subject(self, tenant_id: int, kind: str, emails: list[str], phones: list[str],
                                  language: str) -> list[str] | None:
        self.calls.append({"tenant_id": tenant_id, "kind": kind, "emails": emails, "phones": phones,
                           "language": language})
        if "hook@example.se" not in emails:
            return None
        return ["Avtal sparas i 7 år (bokföringslagen)." if language == "sv"
                else "Contracts are kept for 7 years (Accounting Act)."]


@pytest.fixture
async def adds() -> AsyncIterator[Adds]:
    plugin = Adds()
    host = get_host()
    host.pm.register(plugin, name=NAME)
    try:
        yield plugin
    finally:
        host.pm.unregister(name=NAME)


async def test_hook_answer_data_subject(admin_client, tenant, adds) -> None:
    req = await make_request(admin_client, kind="objection", requester_email="hook@example.se",
                             requester_phone="070-111 22 33")
    await admin_client.patch(f"/api/dsr/{req['id']}", json={"status": "verified"})
    r = await admin_client.post(f"/api/dsr/{req['id']}/answer", json={"text": "Behandlingen har upphört."})
    assert r.status_code == 200, r.text
    assert r.json()["answer"] == "Behandlingen har upphört.\n\nAvtal sparas i 7 år (bokföringslagen)."
    assert adds.calls == [{"tenant_id": tenant.id, "kind": "objection", "emails": ["hook@example.se"],
                           "phones": ["+46701112233"], "language": "sv"}]
    (mail,) = await mails_to("hook@example.se", tenant.id)
    assert "Avtal sparas i 7 år" in mail["body"]
    # another person: nothing added
    other = await make_request(admin_client, kind="objection", requester_email="annan@example.se", language="en")
    await admin_client.patch(f"/api/dsr/{other['id']}", json={"status": "verified"})
    r = await admin_client.post(f"/api/dsr/{other['id']}/answer", json={"text": "Done."})
    assert r.json()["answer"] == "Done."
