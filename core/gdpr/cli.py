"""``gallra gdpr fields|rules|sweep``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@click.group(help="GDPR: declared personal data, retention rules, sweeps.")
def gdpr() -> None:
    pass


@gdpr.command("fields", help="Every declared personal-data column of every installed plugin.")
@click.option("--json", "as_json", is_flag=True)
def fields(as_json: bool) -> None:
    from core.gdpr.registry import get_declarations

    rows = [
        {
            "plugin": f.owner,
            "table": f.table._meta.tablename,
            "column": f.field.column,
            "category": f.field.category,
            "strategy": f.field.strategy,
            "rule": f.field.rule or "-",
            "parent_column": f.field.parent_column or "-",
        }
        for f in get_declarations().fields
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo("plugin\ttable\tcolumn\tcategory\tstrategy\trule\tparent_column")
    for r in rows:
        click.echo("\t".join(str(r[k]) for k in r))


@gdpr.command("rules", help="Every retention rule of every installed plugin.")
@click.option("--json", "as_json", is_flag=True)
def rules(as_json: bool) -> None:
    from core.gdpr.registry import get_declarations, iter_rules

    rows = [
        {
            "key": i.key,
            "plugin": i.owner,
            "module": i.module,
            "table": i.table._meta.tablename,
            "clock": ",".join(i.clocks),
            "clock_columns": ",".join(i.rule.clock_columns),
            "allowed_modes": ",".join(i.rule.allowed_modes),
            "default": f"{i.rule.default_mode}/{i.rule.default_days}d",
            "fixed": i.rule.fixed,
            "subject": i.rule.subject or "-",
            "clears_activity": ",".join(i.rule.clears_activity) or "-",
            "label_en": i.rule.label_en,
        }
        for i in iter_rules(get_declarations())
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo("\t".join(rows[0].keys()) if rows else "No retention rules are declared.")
    for r in rows:
        click.echo("\t".join(str(v) for v in r.values()))


@gdpr.command("sweep", help="Anonymize what is due now (or, with --dry-run, count it).")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant (its id, the slug).")
@click.option("--plugin", default=None, help="Only this plugin's rules.")
@click.option(
    "--dry-run", is_flag=True, help="Count per rule what would be anonymized; change nothing."
)
@click.option("--json", "as_json", is_flag=True)
def sweep_command(
    tenant_slug: str | None, plugin: str | None, dry_run: bool, as_json: bool
) -> None:
    from core.auth import find_tenant
    from core.gdpr.engine import sweep, sweep_plugins, tenant_ids
    from core.gdpr.jobs import sweep_one_tenant

    async def go() -> list[dict[str, Any]]:
        if tenant_slug:
            t = await find_tenant(tenant_slug)
            if t is None:
                raise click.ClickException(f"No tenant {tenant_slug!r}.")
            tenants = [int(t["id"])]
        else:
            tenants = await tenant_ids()
        plugins = sweep_plugins()
        if plugin:
            if plugin not in plugins:
                raise click.ClickException(
                    f"Plugin {plugin!r} declares no retention rules. With rules: {', '.join(plugins)}"
                )
            plugins = [plugin]
        out: list[dict[str, Any]] = []
        for tenant_id in tenants:
            if not dry_run:
                # The very sweep the schedule and the overview's button run.
                out.extend(r.as_dict() for r in await sweep_one_tenant(tenant_id, plugins))
                continue
            for p in plugins:
                if tenant_id == 0 and p != "core":
                    continue
                out.extend(r.as_dict() for r in await sweep(tenant_id, p, dry_run=True))
        return out

    results = _run(go())
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    verb = "due" if dry_run else "anonymized"
    click.echo(f"tenant\tplugin\trule\tmode\tdays\t{verb}\toutcome")
    for r in results:
        click.echo(
            f"{r['tenant_id']}\t{r['plugin']}\t{r['rule']}\t{r['mode']}\t{r['days']}\t"
            f"{r['records']}\t{r['outcome']}{(' ' + r['error']) if r['error'] else ''}"
        )
    total = sum(r["records"] for r in results)
    click.echo(f"{total} record(s) {'due' if dry_run else 'anonymized'}.")
    if any(r["outcome"] == "error" for r in results):
        raise SystemExit(1)
