"""/api/orders: the record layer's common routes (list, create, get, edit, close, reopen,
delete), answered with the order's lines and total, and the module's own: invoicing,
article lines and comment rows."""

from __future__ import annotations

from typing import Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.records.shapes import out_of
from core.routes.records import converter, record_router
from core.tenancy import get_scoped
from core.web import AuthUser
from plugins.orders import services
from plugins.orders.schemas import (
    CommentIn,
    CommentOut,
    OrderIn,
    OrderLineIn,
    OrderLineOut,
    OrderLinePatch,
    OrderOut,
    OrderPatch,
    OrderSummary,
)
from plugins.orders.tables import OrderComment, OrderLine


def line_out(row: dict) -> OrderLineOut:
    return out_of(
        OrderLineOut,
        row,
        quantity=services.from_milli(int(row["quantity_milli"])),
        unit_price=services.from_minor(int(row["unit_price_minor"])),
        amount=services.from_minor(services.line_amount_minor(row)),
    )


async def order_out(row: dict) -> OrderOut:
    lines = await services.get_lines(int(row["tenant_id"]), int(row["id"]))
    return out_of(
        OrderOut,
        row,
        lines=[line_out(r) for r in lines],
        total=services.from_minor(sum(services.line_amount_minor(r) for r in lines)),
    )


comment_out = converter(CommentOut)


class OrdersController(Controller):
    path = "/api/orders"
    tags = ("orders",)

    @post("/{order_id:int}/invoice", status_code=HTTP_200_OK)
    async def invoice(self, user: AuthUser, order_id: FromPath[int]) -> OrderOut:
        """Mark the order invoiced; its lines and invoice text are then frozen."""
        return await order_out(await services.invoice_order(user.tenant_id, order_id))

    # --- article lines -----------------------------------------------------------------

    @post("/{order_id:int}/lines", status_code=HTTP_201_CREATED)
    async def add_line(self, user: AuthUser, order_id: FromPath[int], data: JSONBody[OrderLineIn]) -> OrderLineOut:
        return line_out(await services.add_line(user.tenant_id, order_id, data))

    @get("/lines/{line_id:int}")
    async def get_line(self, user: AuthUser, line_id: FromPath[int]) -> OrderLineOut:
        """One article line by its own id (where person search links a hit in its text)."""
        return line_out(await get_scoped(OrderLine, user.tenant_id, line_id, "Order line"))

    @patch("/{order_id:int}/lines/{line_id:int}")
    async def edit_line(self, user: AuthUser, order_id: FromPath[int], line_id: FromPath[int],
                        data: JSONBody[OrderLinePatch]) -> OrderLineOut:
        return line_out(await services.edit_line(user.tenant_id, order_id, line_id, data))

    @delete("/{order_id:int}/lines/{line_id:int}", status_code=HTTP_200_OK)
    async def delete_line(self, user: AuthUser, order_id: FromPath[int], line_id: FromPath[int]) -> OrderLineOut:
        return line_out(await services.delete_line(user.tenant_id, order_id, line_id))

    # --- comment rows ------------------------------------------------------------------

    @get("/{order_id:int}/comments")
    async def list_comments(self, user: AuthUser, order_id: FromPath[int]) -> list[CommentOut]:
        return [comment_out(r) for r in await services.list_comments(user.tenant_id, order_id)]

    @post("/{order_id:int}/comments", status_code=HTTP_201_CREATED)
    async def add_comment(self, user: AuthUser, order_id: FromPath[int], data: JSONBody[CommentIn]) -> CommentOut:
        return comment_out(await services.add_comment(user.tenant_id, user.employee_id, order_id, data))

    @get("/comments/{comment_id:int}")
    async def get_comment(self, user: AuthUser, comment_id: FromPath[int]) -> CommentOut:
        """One comment row by its own id (where person search links a hit)."""
        return comment_out(await get_scoped(OrderComment, user.tenant_id, comment_id, "Comment row"))


def route_handlers() -> list[Any]:
    return [
        record_router(services.ORDERS, OrderIn, OrderPatch, OrderOut,
                      module=__name__, output=order_out, summary=OrderSummary),
        OrdersController,
    ]
