"""/api/customers: the customer register's API (every logged-in employee may use it).

The customer's common routes (list, create, get, edit, delete) are the record layer's
(:func:`core.routes.records.record_router`); the register's own are its contact persons
(under their customer) and the customer log. The services write the event log.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.listing import Limit, Offset
from core.routes.records import converter, record_router
from core.web import AuthUser
from plugins.customers import services
from plugins.customers.schemas import (
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    LogIn,
    LogOut,
    LogPage,
    LogPatch,
)

contact_out = converter(ContactOut)
log_out = converter(LogOut)


class CustomerPartsController(Controller):
    """A customer's contact persons and contact log."""

    path = "/api/customers"
    tags = ("customers",)

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
    return [
        record_router(services.CUSTOMERS, CustomerIn, CustomerPatch, CustomerOut, module=__name__),
        CustomerPartsController,
    ]
