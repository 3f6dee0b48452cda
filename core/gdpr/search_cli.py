"""``gallra search rebuild|check``: the person-search index by hand."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click


async def _tenant_id(slug: str | None) -> int | None:
    if not slug:
        return None
    from core.auth import find_tenant

    t = await find_tenant(slug)
    if t is None:
        raise click.ClickException(f"No tenant {slug!r}.")
    return int(t["id"])


@click.group(help="Person search: rebuild or check the index.")
def search() -> None:
    pass


@search.command("rebuild", help="Rebuild the index from the data (all tenants, or one).")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant (its slug).")
def rebuild(tenant_slug: str | None) -> None:
    from core.gdpr import search as gs

    async def go() -> dict[str, int]:
        tenant_id = await _tenant_id(tenant_slug)
        bars: dict[str, Any] = {}
        shown: dict[str, int] = {}

        def progress(tbl: str, done: int, total: int) -> None:
            bar = bars.get(tbl)
            if bar is None:
                bar = bars[tbl] = click.progressbar(length=max(total, 1), label=f"{tbl:<24}", file=sys.stderr)
                bar.__enter__()
                shown[tbl] = 0
            bar.update(done - shown[tbl])
            shown[tbl] = done
            if done >= total:
                bar.__exit__(None, None, None)

        result = await gs.rebuild(tenant_id, progress=progress)
        for bar in bars.values():
            bar.render_finish()
        return result

    result = asyncio.run(go())
    click.echo(f"Indexed {sum(result.values())} rows in {len(result)} tables.")


@search.command("check", help="Report every difference between the index and the data.")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant (its slug).")
@click.option("--json", "as_json", is_flag=True)
def check(tenant_slug: str | None, as_json: bool) -> None:
    from core.gdpr import search as gs

    async def go() -> dict[str, Any]:
        return await gs.check(await _tenant_id(tenant_slug))

    report = asyncio.run(go())
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(
            f"{report['rows_checked']} rows checked: {report['differences']} differences, "
            f"{report['orphan_terms']} orphan terms, {len(report['missing_triggers'])} missing triggers."
        )
        for d in report["first"]:
            click.echo(f"  {d['tbl']}.{d['col']} #{d['record_id']}: {d['missing']} missing, {d['extra']} extra")
        for t in report["missing_triggers"]:
            click.echo(f"  missing trigger {t} (run: gallra migrate)")
    if not report["ok"]:
        raise SystemExit(1)
