"""The customer register's API under /api/customers (every logged-in employee may use it)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.gdpr.settings import module_settings_router
from core.web import AuthUser
from plugins.customers import services
from plugins.customers.schemas import (
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    Kind,
    LogIn,
    LogOut,
    LogPage,
    LogPatch,
)

Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
# Pages hold at most 200 rows; a larger limit is refused with 400 (as in the core API).
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Query = Annotated[str | None, QueryParameter(max_length=200)]


def customer_out(row: dict) -> CustomerOut:
    return CustomerOut(**{f: row[f] for f in CustomerOut.__struct_fields__})


def contact_out(row: dict) -> ContactOut:
    return ContactOut(**{f: row[f] for f in ContactOut.__struct_fields__})


def log_out(row: dict) -> LogOut:
    return LogOut(**{f: row[f] for f in LogOut.__struct_fields__})


class CustomersController(Controller):
    path = "/api/customers"
    tags = ["customers"]

    @get("/")
    async def list_customers(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        q: Query = None,
        kind: FromQuery[Kind | None] = None,
        include_deleted: FromQuery[bool] = False,
    ) -> CustomerPage:
        """Customers by number; ``q`` matches part of the name or the exact number."""
        total, rows = await services.list_customers(
            user.tenant_id, offset, limit, q=q, kind=kind, include_deleted=include_deleted
        )
        return CustomerPage(
            total=total, offset=offset, limit=limit, items=[customer_out(r) for r in rows]
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_customer(self, user: AuthUser, data: JSONBody[CustomerIn]) -> CustomerOut:
        return customer_out(await services.create_customer(user.tenant_id, data))

    @get("/{customer_id:int}")
    async def get_customer(self, user: AuthUser, customer_id: FromPath[int]) -> CustomerOut:
        return customer_out(await services.get_customer(user.tenant_id, customer_id))

    @patch("/{customer_id:int}")
    async def edit_customer(
        self, user: AuthUser, customer_id: FromPath[int], data: JSONBody[CustomerPatch]
    ) -> CustomerOut:
        return customer_out(await services.update_customer(user.tenant_id, customer_id, data))

    @delete("/{customer_id:int}", status_code=HTTP_200_OK)
    async def delete_customer(self, user: AuthUser, customer_id: FromPath[int]) -> CustomerOut:
        """Soft delete. Anonymized now or later, as the "customers" rule says (M14)."""
        return customer_out(await services.delete_customer(user.tenant_id, customer_id))

    # -- contact persons ---------------------------------------------------------------
    @get("/{customer_id:int}/contacts")
    async def list_contacts(
        self,
        user: AuthUser,
        customer_id: FromPath[int],
        offset: Offset = 0,
        limit: Limit = 50,
        include_deleted: FromQuery[bool] = False,
    ) -> ContactPage:
        total, rows = await services.list_contacts(
            user.tenant_id, customer_id, offset, limit, include_deleted
        )
        return ContactPage(
            total=total, offset=offset, limit=limit, items=[contact_out(r) for r in rows]
        )

    @post("/{customer_id:int}/contacts", status_code=HTTP_201_CREATED)
    async def create_contact(
        self, user: AuthUser, customer_id: FromPath[int], data: JSONBody[ContactIn]
    ) -> ContactOut:
        return contact_out(await services.create_contact(user.tenant_id, customer_id, data))

    @get("/contacts/{contact_id:int}")
    async def get_contact(self, user: AuthUser, contact_id: FromPath[int]) -> ContactOut:
        return contact_out(await services.get_contact(user.tenant_id, contact_id))

    @patch("/contacts/{contact_id:int}")
    async def edit_contact(
        self, user: AuthUser, contact_id: FromPath[int], data: JSONBody[ContactPatch]
    ) -> ContactOut:
        return contact_out(await services.update_contact(user.tenant_id, contact_id, data))

    @delete("/contacts/{contact_id:int}", status_code=HTTP_200_OK)
    async def delete_contact(self, user: AuthUser, contact_id: FromPath[int]) -> ContactOut:
        """Soft delete. Anonymized now or later, as the "contact_persons" rule says (M15)."""
        return contact_out(await services.delete_contact(user.tenant_id, contact_id))

    # -- customer-contact log ----------------------------------------------------------
    @get("/{customer_id:int}/log")
    async def list_log(
        self, user: AuthUser, customer_id: FromPath[int], offset: Offset = 0, limit: Limit = 50
    ) -> LogPage:
        """The customer's contact log, newest first."""
        total, rows = await services.list_log(user.tenant_id, customer_id, offset, limit)
        return LogPage(total=total, offset=offset, limit=limit, items=[log_out(r) for r in rows])

    @post("/{customer_id:int}/log", status_code=HTTP_201_CREATED)
    async def create_log_entry(
        self, user: AuthUser, customer_id: FromPath[int], data: JSONBody[LogIn]
    ) -> LogOut:
        row = await services.create_log_entry(user.tenant_id, customer_id, user.employee_id, data)
        return log_out(row)

    @get("/log/{entry_id:int}")
    async def get_log_entry(self, user: AuthUser, entry_id: FromPath[int]) -> LogOut:
        return log_out(await services.get_log_entry(user.tenant_id, entry_id))

    @patch("/log/{entry_id:int}")
    async def edit_log_entry(
        self, user: AuthUser, entry_id: FromPath[int], data: JSONBody[LogPatch]
    ) -> LogOut:
        return log_out(await services.update_log_entry(user.tenant_id, entry_id, data))

    @delete("/log/{entry_id:int}", status_code=HTTP_200_OK)
    async def delete_log_entry(self, user: AuthUser, entry_id: FromPath[int]) -> LogOut:
        return log_out(await services.delete_log_entry(user.tenant_id, entry_id))


def route_handlers() -> list[Any]:
    # GET/PUT /api/customers/settings: the module's gear icon, same values as Settings > GDPR.
    return [CustomersController, module_settings_router("customers")]
