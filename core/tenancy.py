"""Tenants, module enablement and the tenant-scoped query helpers.

Tenant isolation is enforced here, in one place: every read or write of a tenant-owned
row by id goes through :func:`get_scoped` / :func:`scoped`, which always filter on
tenant_id, and a row of another tenant is simply "not found".
"""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.table import Table

from core.db import atomic, request_cache
from core.plugins import PluginHost, modules_key
from core.tables import Tenant, TenantModule

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class TenancyError(ValueError):
    pass


def scoped(table: type[Table], tenant_id: int, *columns: Any) -> Any:
    """A SELECT on ``table`` restricted to one tenant."""
    return table.select(*columns).where(table._meta.get_column_by_name("tenant_id") == tenant_id)


async def get_scoped(table: type[Table], tenant_id: int, record_id: int, what: str = "") -> dict:
    """One row of the tenant by id, or 404 (also for another tenant's id)."""
    row = (
        await table.select()
        .where(
            (table._meta.get_column_by_name("tenant_id") == tenant_id)
            & (table._meta.primary_key == record_id)
        )
        .first()
    )
    if row is None:
        raise NotFoundException(f"{what or table._meta.tablename} {record_id} was not found")
    return row


async def create_tenant(
    host: PluginHost, slug: str, name: str, modules: list[str] | None = None, language: str = "sv"
) -> dict:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise TenancyError(
            "The tenant id must be 1-63 lower-case letters, digits or hyphens, "
            "not starting or ending with a hyphen."
        )
    if not name.strip():
        raise TenancyError("The tenant needs a name.")
    if language not in ("sv", "en"):
        raise TenancyError("Language must be sv or en.")
    known = host.modules()
    if modules is not None:
        unknown = [m for m in modules if m not in known]
        if unknown:
            raise TenancyError(f"Unknown modules: {', '.join(unknown)}. Installed: {', '.join(known)}")
    async with atomic():
        if await Tenant.exists().where(Tenant.slug == slug):
            raise TenancyError(f"A tenant with id {slug!r} already exists.")
        word = "Anonymiserad" if language == "sv" else "Anonymized"
        rows = await Tenant.insert(
            Tenant(slug=slug, name=name.strip(), language=language, anonymization_word=word)
        ).returning(*Tenant.all_columns())
        tenant = rows[0]
        if modules is not None:
            for module in known:
                await TenantModule.insert(
                    TenantModule(tenant_id=tenant["id"], module=module, enabled=module in modules)
                )
    return tenant


def _forget_modules(host: PluginHost, tenant_id: int) -> None:
    cache = request_cache()
    if cache is not None:
        cache.pop(modules_key(host, tenant_id), None)


async def enabled_modules(host: PluginHost, tenant_id: int) -> set[str]:
    """The modules the tenant has on (read once per request by the host, and dropped by
    :func:`set_module_enabled`)."""
    return await host.enabled_modules(tenant_id)


async def set_module_enabled(host: PluginHost, tenant_id: int, module: str, enabled: bool) -> None:
    if module not in host.modules():
        raise NotFoundException(f"No module named {module!r} is installed")
    _forget_modules(host, tenant_id)
    async with atomic():
        updated = await TenantModule.update({TenantModule.enabled: enabled}).where(
            (TenantModule.tenant_id == tenant_id) & (TenantModule.module == module)
        ).returning(TenantModule.id)
        if not updated:
            await TenantModule.insert(
                TenantModule(tenant_id=tenant_id, module=module, enabled=enabled)
            )
        _forget_modules(host, tenant_id)  # a read inside the transaction saw the change


async def tenants_enabling(host: PluginHost, module: str) -> list[str]:
    """Slugs of the tenants that have ``module`` on: two queries, however many tenants."""
    info = host.modules().get(module)
    if info is None:
        return []
    rows = await TenantModule.select(TenantModule.tenant_id, TenantModule.enabled).where(
        TenantModule.module == module
    )
    choice = {int(r["tenant_id"]): bool(r["enabled"]) for r in rows}
    tenants = await Tenant.select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
    return [t["slug"] for t in tenants if choice.get(int(t["id"]), info.enabled_by_default)]
