"""The customer register's API under /api/customers (every logged-in employee may use it)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.db import atomic
from core.eventlog import log_event
from core.gdpr.routes import module_settings_router
from core.listing import Limit, Offset
from core.web import AuthUser, client_ip
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

# Pages hold at most 200 rows; a larger limit is refused with 400 (as in the core API).
Query = Annotated[str | None, QueryParameter(max_length=200)]


AnyRequest = Request[Any, Any, Any]


async def _event(
    request: AnyRequest, user: SessionUser, action: str, record_type: str, record_id: int
) -> None:
    """Who did what to which record, in the request's transaction (never a typed value)."""
    await log_event(
        user.tenant_id, user, action, "customers", record_type, record_id, ip=client_ip(request)
    )


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
    async def create_customer(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[CustomerIn]
    ) -> CustomerOut:
        async with atomic():
            row = await services.create_customer(user.tenant_id, data)
            await _event(request, user, "customer.created", "customer", row["id"])
        return customer_out(row)

    @get("/{customer_id:int}")
    async def get_customer(self, user: AuthUser, customer_id: FromPath[int]) -> CustomerOut:
        return customer_out(await services.get_customer(user.tenant_id, customer_id))

    @patch("/{customer_id:int}")
    async def edit_customer(
        self,
        request: AnyRequest,
        user: AuthUser,
        customer_id: FromPath[int],
        data: JSONBody[CustomerPatch],
    ) -> CustomerOut:
        async with atomic():
            row = await services.update_customer(user.tenant_id, customer_id, data)
            await _event(request, user, "customer.edited", "customer", customer_id)
        return customer_out(row)

    @delete("/{customer_id:int}", status_code=HTTP_200_OK)
    async def delete_customer(
        self, request: AnyRequest, user: AuthUser, customer_id: FromPath[int]
    ) -> CustomerOut:
        """Soft delete. Anonymized now or later, as the "customers" rule says (M14)."""
        async with atomic():
            row = await services.delete_customer(user.tenant_id, customer_id)
            await _event(request, user, "customer.deleted", "customer", customer_id)
        return customer_out(row)

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
        self,
        request: AnyRequest,
        user: AuthUser,
        customer_id: FromPath[int],
        data: JSONBody[ContactIn],
    ) -> ContactOut:
        async with atomic():
            row = await services.create_contact(user.tenant_id, customer_id, data)
            await _event(request, user, "contact_person.created", "contact_person", row["id"])
        return contact_out(row)

    @get("/contacts/{contact_id:int}")
    async def get_contact(self, user: AuthUser, contact_id: FromPath[int]) -> ContactOut:
        return contact_out(await services.get_contact(user.tenant_id, contact_id))

    @patch("/contacts/{contact_id:int}")
    async def edit_contact(
        self,
        request: AnyRequest,
        user: AuthUser,
        contact_id: FromPath[int],
        data: JSONBody[ContactPatch],
    ) -> ContactOut:
        async with atomic():
            row = await services.update_contact(user.tenant_id, contact_id, data)
            await _event(request, user, "contact_person.edited", "contact_person", contact_id)
        return contact_out(row)

    @delete("/contacts/{contact_id:int}", status_code=HTTP_200_OK)
    async def delete_contact(
        self, request: AnyRequest, user: AuthUser, contact_id: FromPath[int]
    ) -> ContactOut:
        """Soft delete. Anonymized now or later, as the "contact_persons" rule says (M15)."""
        async with atomic():
            row = await services.delete_contact(user.tenant_id, contact_id)
            await _event(request, user, "contact_person.deleted", "contact_person", contact_id)
        return contact_out(row)

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
        self, request: AnyRequest, user: AuthUser, customer_id: FromPath[int], data: JSONBody[LogIn]
    ) -> LogOut:
        async with atomic():
            row = await services.create_log_entry(
                user.tenant_id, customer_id, user.employee_id, data
            )
            await _event(request, user, "customer_contact.created", "customer_contact", row["id"])
        return log_out(row)

    @get("/log/{entry_id:int}")
    async def get_log_entry(self, user: AuthUser, entry_id: FromPath[int]) -> LogOut:
        return log_out(await services.get_log_entry(user.tenant_id, entry_id))

    @patch("/log/{entry_id:int}")
    async def edit_log_entry(
        self, request: AnyRequest, user: AuthUser, entry_id: FromPath[int], data: JSONBody[LogPatch]
    ) -> LogOut:
        async with atomic():
            row = await services.update_log_entry(user.tenant_id, entry_id, data)
            await _event(request, user, "customer_contact.edited", "customer_contact", entry_id)
        return log_out(row)

    @delete("/log/{entry_id:int}", status_code=HTTP_200_OK)
    async def delete_log_entry(
        self, request: AnyRequest, user: AuthUser, entry_id: FromPath[int]
    ) -> LogOut:
        async with atomic():
            row = await services.delete_log_entry(user.tenant_id, entry_id)
            await _event(request, user, "customer_contact.deleted", "customer_contact", entry_id)
        return log_out(row)


def route_handlers() -> list[Any]:
    # GET/PUT /api/customers/settings: the module's gear icon, same values as Settings > GDPR.
    return [CustomersController, module_settings_router("customers")]
