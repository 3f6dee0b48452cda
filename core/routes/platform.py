"""The platform administrator's API: creating and listing tenants.

Guarded by the bearer token in GALLRA_PLATFORM_TOKEN; without it the API is closed.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from core.config import get_settings
from core.listing import Limit, Offset, Sort, UpdatedSince, changed_since
from core.plugins import get_host
from core.routes.schemas import TenantIn, TenantOut, TenantPage
from core.security import constant_equals
from core.tables import Tenant
from core.tenancy import create_tenant


async def platform_guard(connection: Any, _: Any) -> None:
    expected = get_settings().platform_token
    if not expected:
        raise PermissionDeniedException(
            "Platform administration is closed: set GALLRA_PLATFORM_TOKEN to open it."
        )
    header = connection.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given or not constant_equals(given, expected):
        raise NotAuthorizedException("Send the platform token as 'Authorization: Bearer <token>'.")


TENANT_SORT = Sort("id", "slug", "name", "created_at", "updated_at", default="slug")


def _out(row: dict) -> TenantOut:
    return TenantOut(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        language=row["language"],
        created_at=row["created_at"],
    )


class PlatformController(Controller):
    path = "/api/platform"
    guards = (platform_guard,)
    tags = ("platform",)

    @get("/tenants")
    async def list_tenants(
        self,
        offset: Offset = 0,
        limit: Limit = 50,
        sort: Annotated[str | None, TENANT_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> TenantPage:
        """Every tenant (organization) of the installation, by slug."""
        query = Tenant.select()
        count = Tenant.count()
        if updated_since is not None:
            where = Tenant.updated_at >= changed_since(updated_since)
            query, count = query.where(where), count.where(where)
        rows = await TENANT_SORT.apply(query, Tenant, sort).offset(offset).limit(limit)
        return TenantPage(total=await count, offset=offset, limit=limit, items=[_out(r) for r in rows])

    @post("/tenants", status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[TenantIn]) -> TenantOut:
        """Create a tenant; ``modules`` limits which modules it starts with."""
        return _out(
            await create_tenant(get_host(), data.slug, data.name, data.modules, data.language)
        )
