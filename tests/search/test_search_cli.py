"""``gallra search rebuild|check``."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from core.db import raw
from core.gdpr.search_cli import search
from tests.search.test_search import make_customer, places, unique_word
from tests.search.test_search import search as api_search


def run(*args: str):
    return CliRunner().invoke(search, list(args), catch_exceptions=False)


async def test_check_finds_a_damaged_index_and_rebuild_repairs_it(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Kli {word}")
    ok = await asyncio.to_thread(run, "check", "--tenant", tenant.slug, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    await raw("DELETE FROM gdpr_search_term WHERE tenant_id = {} AND term = {}", tenant.id, word.lower())
    bad = await asyncio.to_thread(run, "check", "--tenant", tenant.slug)
    assert bad.exit_code == 1
    assert f"customer.name #{c['id']}: 1 missing, 0 extra" in bad.output
    assert word.lower() not in bad.output  # ids and counts only, never a value
    rebuilt = await asyncio.to_thread(run, "rebuild", "--tenant", tenant.slug)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Indexed" in rebuilt.output
    assert (await asyncio.to_thread(run, "check", "--tenant", tenant.slug)).exit_code == 0
    assert ("customers", "name", c["id"]) in places(await api_search(admin_client, word))


async def test_unknown_tenant_is_a_clear_error(tenant):
    result = await asyncio.to_thread(run, "check", "--tenant", "no-such-tenant")
    assert result.exit_code != 0 and "No tenant 'no-such-tenant'" in result.output
