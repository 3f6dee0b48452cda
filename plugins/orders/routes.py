"""/api/orders: orders (the invoicing basis), their article lines and comment rows."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.db import atomic
from core.eventlog import log_event
from core.listing import Limit, Offset
from core.tenancy import get_scoped
from core.web import AuthUser, client_ip
from plugins.orders import services
from plugins.orders.schemas import (
    CommentIn,
    CommentOut,
    OrderIn,
    OrderLineIn,
    OrderLineOut,
    OrderLinePatch,
    OrderOut,
    OrderPage,
    OrderPatch,
    OrderSummary,
)
from plugins.orders.tables import OrderComment, OrderLine

RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
TextFilter = Annotated[str | None, QueryParameter(max_length=16)]


AnyRequest = Request[Any, Any, Any]


async def logged(
    request: AnyRequest,
    user: SessionUser,
    action: str,
    work: Awaitable[dict],
    order_id: int | None = None,
) -> dict:
    """Run a change and record who made it on which order, in one transaction."""
    async with atomic():
        row = await work
        record_id = order_id if order_id is not None else int(row["id"])
        await log_event(
            user.tenant_id, user, action, "orders", "order", record_id, ip=client_ip(request)
        )
    return row


def line_out(row: dict) -> OrderLineOut:
    return OrderLineOut(
        id=row["id"],
        order_id=row["order_id"],
        position=row["position"],
        description=row["description"],
        quantity=services.from_milli(int(row["quantity_milli"])),
        unit_price=services.from_minor(int(row["unit_price_minor"])),
        amount=services.from_minor(services.line_amount_minor(row)),
    )


async def order_out(row: dict) -> OrderOut:
    lines = await services.get_lines(int(row["tenant_id"]), int(row["id"]))
    fields = {f: row[f] for f in OrderOut.__struct_fields__ if f not in ("lines", "total")}
    return OrderOut(
        **fields,
        lines=[line_out(r) for r in lines],
        total=services.from_minor(sum(services.line_amount_minor(r) for r in lines)),
    )


def summary_out(row: dict) -> OrderSummary:
    return OrderSummary(**{f: row[f] for f in OrderSummary.__struct_fields__})


def comment_out(row: dict) -> CommentOut:
    return CommentOut(**{f: row[f] for f in CommentOut.__struct_fields__})


class OrdersController(Controller):
    path = "/api/orders"
    tags = ["orders"]

    @get("/")
    async def list_orders(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        status: TextFilter = None,
        customer_id: RefFilter = None,
        invoiced: Annotated[bool | None, QueryParameter()] = None,
        include_deleted: Annotated[bool, QueryParameter()] = False,
    ) -> OrderPage:
        """Orders of the organization, newest first; filter by status, customer, invoiced."""
        total, rows = await services.list_orders(
            user.tenant_id, offset, limit, status, customer_id, invoiced, include_deleted
        )
        return OrderPage(
            total=total, offset=offset, limit=limit, items=[summary_out(r) for r in rows]
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[OrderIn]
    ) -> OrderOut:
        """Create an order, optionally with its article lines."""
        work = services.create_order(user.tenant_id, user.employee_id, data)
        return await order_out(await logged(request, user, "order.created", work))

    @get("/{order_id:int}")
    async def get_one(self, user: AuthUser, order_id: FromPath[int]) -> OrderOut:
        return await order_out(await services.get_order(user.tenant_id, order_id))

    @patch("/{order_id:int}")
    async def edit(
        self,
        request: AnyRequest,
        user: AuthUser,
        order_id: FromPath[int],
        data: JSONBody[OrderPatch],
    ) -> OrderOut:
        work = services.edit_order(user.tenant_id, order_id, data)
        return await order_out(await logged(request, user, "order.edited", work))

    @post("/{order_id:int}/close", status_code=HTTP_200_OK)
    async def close(self, request: AnyRequest, user: AuthUser, order_id: FromPath[int]) -> OrderOut:
        work = services.close_order(user.tenant_id, order_id)
        return await order_out(await logged(request, user, "order.closed", work))

    @post("/{order_id:int}/reopen", status_code=HTTP_200_OK)
    async def reopen(
        self, request: AnyRequest, user: AuthUser, order_id: FromPath[int]
    ) -> OrderOut:
        work = services.reopen_order(user.tenant_id, order_id)
        return await order_out(await logged(request, user, "order.reopened", work))

    @post("/{order_id:int}/invoice", status_code=HTTP_200_OK)
    async def invoice(
        self, request: AnyRequest, user: AuthUser, order_id: FromPath[int]
    ) -> OrderOut:
        """Mark the order invoiced; its lines and invoice text are then frozen."""
        work = services.invoice_order(user.tenant_id, order_id)
        return await order_out(await logged(request, user, "order.invoiced", work))

    @delete("/{order_id:int}", status_code=HTTP_200_OK)
    async def remove(
        self, request: AnyRequest, user: AuthUser, order_id: FromPath[int]
    ) -> OrderOut:
        """Soft delete: the order stays readable until its retention rule anonymizes it."""
        work = services.delete_order(user.tenant_id, order_id)
        return await order_out(await logged(request, user, "order.deleted", work))

    # --- article lines -----------------------------------------------------------------

    @post("/{order_id:int}/lines", status_code=HTTP_201_CREATED)
    async def add_line(
        self,
        request: AnyRequest,
        user: AuthUser,
        order_id: FromPath[int],
        data: JSONBody[OrderLineIn],
    ) -> OrderLineOut:
        work = services.add_line(user.tenant_id, order_id, data)
        return line_out(await logged(request, user, "order.line_added", work, order_id))

    @get("/lines/{line_id:int}")
    async def get_line(self, user: AuthUser, line_id: FromPath[int]) -> OrderLineOut:
        """One article line by its own id (where person search links a hit in its text)."""
        return line_out(await get_scoped(OrderLine, user.tenant_id, line_id, "Order line"))

    @patch("/{order_id:int}/lines/{line_id:int}")
    async def edit_line(
        self,
        request: AnyRequest,
        user: AuthUser,
        order_id: FromPath[int],
        line_id: FromPath[int],
        data: JSONBody[OrderLinePatch],
    ) -> OrderLineOut:
        work = services.edit_line(user.tenant_id, order_id, line_id, data)
        return line_out(await logged(request, user, "order.line_edited", work, order_id))

    @delete("/{order_id:int}/lines/{line_id:int}", status_code=HTTP_200_OK)
    async def delete_line(
        self, request: AnyRequest, user: AuthUser, order_id: FromPath[int], line_id: FromPath[int]
    ) -> OrderLineOut:
        work = services.delete_line(user.tenant_id, order_id, line_id)
        return line_out(await logged(request, user, "order.line_deleted", work, order_id))

    # --- comment rows ------------------------------------------------------------------

    @get("/{order_id:int}/comments")
    async def list_comments(self, user: AuthUser, order_id: FromPath[int]) -> list[CommentOut]:
        return [comment_out(r) for r in await services.list_comments(user.tenant_id, order_id)]

    @post("/{order_id:int}/comments", status_code=HTTP_201_CREATED)
    async def add_comment(
        self,
        request: AnyRequest,
        user: AuthUser,
        order_id: FromPath[int],
        data: JSONBody[CommentIn],
    ) -> CommentOut:
        work = services.add_comment(user.tenant_id, user.employee_id, order_id, data)
        return comment_out(await logged(request, user, "order.comment_added", work, order_id))

    @get("/comments/{comment_id:int}")
    async def get_comment(self, user: AuthUser, comment_id: FromPath[int]) -> CommentOut:
        """One comment row by its own id (where person search links a hit)."""
        return comment_out(
            await get_scoped(OrderComment, user.tenant_id, comment_id, "Comment row")
        )


def route_handlers() -> list[Any]:
    from core.gdpr.routes import module_settings_router

    return [OrdersController, module_settings_router("orders")]
