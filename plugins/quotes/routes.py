"""The quotes API under /api/quotes: the record layer's common routes (list, create, get,
edit, close, reopen, delete) answered with the quote's lines and total, the quote's own
steps (send, void, lines, view log), the public link a customer opens without login, and
the module's settings."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.listing import Limit, Offset
from core.records.shapes import out_of
from core.routes.records import record_router
from core.routes.schemas import Id
from core.routes.signing import LinkSendIn, link_sign_routes
from core.web import AuthUser, client_ip
from plugins.quotes import services
from plugins.quotes.schemas import (
    AcceptOut,
    LineIn,
    LineOut,
    LinePatch,
    PublicQuoteOut,
    QuoteIn,
    QuoteOut,
    QuotePatch,
    ViewOut,
    ViewPage,
)
from plugins.quotes.tables import QuoteView

# Public routes: no session needed, and the module guard leaves them to the handler, which
# refuses quotes of tenants that turned the module off.


def _view_out(row: dict[str, Any]) -> ViewOut:
    return ViewOut(id=row["id"], quote_id=row["quote_id"], viewed_at=row["viewed_at"], email=row["email"], ip=row["ip"])


class QuotesController(Controller):
    """What is a quote's own beside the record layer's routes: sending, voiding, lines and
    the view log."""

    path = "/api/quotes"
    tags = ("quotes",)

    @post("/{quote_id:int}/send", status_code=HTTP_200_OK)
    async def send(self, user: AuthUser, quote_id: Id, data: JSONBody[LinkSendIn]) -> QuoteOut:
        """E-mail a fresh public link to the customer; an earlier link stops working."""
        return await services.send_quote(user.tenant_id, quote_id, data.email, data.message)

    @post("/{quote_id:int}/void", status_code=HTTP_200_OK)
    async def void(self, user: AuthUser, quote_id: Id) -> QuoteOut:
        """Void a quote: its link stops working; M19's clock starts."""
        return await services.output(await services.void_quote(user.tenant_id, quote_id))

    @post("/{quote_id:int}/lines", status_code=HTTP_201_CREATED)
    async def add_line(self, user: AuthUser, quote_id: Id, data: JSONBody[LineIn]) -> QuoteOut:
        return await services.add_line(user.tenant_id, quote_id, data)

    @get("/lines/{line_id:int}")
    async def get_line(self, user: AuthUser, line_id: Id) -> LineOut:
        """One line by its own id (where person search links a hit in its text)."""
        return services.line_out(await services.get_line(user.tenant_id, line_id))

    @patch("/lines/{line_id:int}")
    async def edit_line(self, user: AuthUser, line_id: Id, data: JSONBody[LinePatch]) -> QuoteOut:
        return await services.update_line(user.tenant_id, line_id, data)

    @delete("/lines/{line_id:int}", status_code=HTTP_200_OK)
    async def remove_line(self, user: AuthUser, line_id: Id) -> QuoteOut:
        return await services.delete_line(user.tenant_id, line_id)

    @get("/{quote_id:int}/views")
    async def views(self, user: AuthUser, quote_id: Id, offset: Offset = 0, limit: Limit = 50) -> ViewPage:
        """When the public link was opened, newest first."""
        await services.QUOTES.get(user.tenant_id, quote_id)
        where = (QuoteView.tenant_id == user.tenant_id) & (QuoteView.quote_id == quote_id)
        total = await QuoteView.count().where(where)
        rows = await QuoteView.select().where(where).order_by(QuoteView.id, ascending=False).offset(offset).limit(limit)
        return ViewPage(total=total, offset=offset, limit=limit, items=[_view_out(r) for r in rows])

    @get("/views/{view_id:int}")
    async def view_entry(self, user: AuthUser, view_id: Id) -> ViewOut:
        """One view-log entry (person search links here)."""
        return _view_out(await services.get_view(user.tenant_id, view_id))


async def _public(request: Request[Any, Any, Any], token: str) -> PublicQuoteOut:
    """What the recipient of the e-mailed link sees: the offer, no login (the token is the key)."""
    row, organization, lines = await services.view_public(token, client_ip(request))
    out = services.quote_out(row, lines)
    return out_of(PublicQuoteOut, out, organization=organization, can_accept=services.can_accept(row))


def route_handlers() -> list[Any]:
    return [
        record_router(services.QUOTES, QuoteIn, QuotePatch, QuoteOut, module=__name__, output=services.output),
        QuotesController,
        *link_sign_routes("/api/quotes/public", "accept", services.accept_public, _public, PublicQuoteOut, AcceptOut,
                          lambda at: AcceptOut(status="accepted", accepted_at=at), what="quote", tags=["quotes"],
                          module=__name__),
    ]
