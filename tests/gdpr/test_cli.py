"""``gallra gdpr fields|rules|sweep``."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from click.testing import CliRunner

from core.db import utcnow
from core.gdpr.cli import gdpr
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_customer, customer


def run(*args: str):
    return CliRunner().invoke(gdpr, list(args), catch_exceptions=False)


async def test_fields_and_rules_list_every_declaration():
    result = await asyncio.to_thread(run, "fields")
    assert result.exit_code == 0
    assert "gdprtest\tgdprtest_customer\tname\tname\treplace\tgdprtest.customers" in result.output
    assert "gdprlinks\tgdprtest_link\tcustomer_id\tcustomer_ref\tzero\t-" in result.output
    rules = json.loads((await asyncio.to_thread(run, "rules", "--json")).output)
    keys = {r["key"]: r for r in rules}
    assert {"core.event_log", "core.system_log", "core.employees", tp.CUSTOMERS, tp.NOTES} <= set(
        keys
    )
    assert keys["core.event_log"]["fixed"] is True
    assert keys[tp.NOTES]["module"] == "gdprother"


async def test_sweep_dry_run_then_for_real(tenant, other_tenant):
    cid = await add_customer(tenant.id, deleted_at=utcnow() - timedelta(days=40))
    theirs = await add_customer(other_tenant.id, deleted_at=utcnow() - timedelta(days=40))
    dry = await asyncio.to_thread(
        run, "sweep", "--tenant", tenant.slug, "--plugin", "gdprtest", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert f"{tenant.id}\tgdprtest\t{tp.CUSTOMERS}\tdays\t30\t1\tdry_run" in dry.output
    assert (await customer(cid))["anonymized_at"] is None
    done = await asyncio.to_thread(run, "sweep", "--tenant", tenant.slug, "--plugin", "gdprtest")
    assert done.exit_code == 0
    assert f"{tenant.id}\tgdprtest\t{tp.CUSTOMERS}\tdays\t30\t1\tok" in done.output
    assert (await customer(cid))["name"] == "Anonymiserad"
    assert (await customer(theirs))["name"] == "Kalle Anka"
    bad = await asyncio.to_thread(run, "sweep", "--tenant", "no-such-tenant")
    assert bad.exit_code != 0 and "No tenant" in bad.output
    bad = await asyncio.to_thread(run, "sweep", "--plugin", "gdprlinks")
    assert bad.exit_code != 0 and "declares no retention rules" in bad.output
