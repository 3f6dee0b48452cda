"""Pickers for record forms: the customer picker beside a numeric customer id field.

Forms of cases, work orders, quotes, orders and projects store a customer's id. Beside the
id field, :file:`pickers.html`'s ``customer_picker`` macro adds a search box: with
JavaScript (htmx), typing asks ``/pick/customers`` for suggestions, and choosing one asks
``/pick/customers/choose``, which answers the field again with the id filled in and the
customer's name beside it. Without JavaScript the id field is an ordinary number field.

The suggestions come from the ``find_customers`` hook and the chosen name from
``describe_person``, so core and the record plugins never import the customer register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from core.contracts import CustomerChoice
from core.pages import PageController, page_get, page_user, render
from core.plugins import await_me_maybe, get_host
from core.secondfactor import describe_person

LIMIT = 10
FieldName = Annotated[str, QueryParameter(pattern=r"^[a-z_]{1,40}$")]
Search = Annotated[str | None, QueryParameter(required=False, max_length=200)]
CustomerId = Annotated[int, QueryParameter(ge=1, le=2_147_483_647)]


async def find_customers(tenant_id: int, query: str, limit: int = LIMIT) -> list[CustomerChoice]:
    """Every enabled plugin's answer to ``find_customers``, joined and cut at ``limit``."""
    hooks = await get_host().for_tenant(tenant_id)
    found: list[CustomerChoice] = []
    seen: set[int] = set()
    for answer in hooks.find_customers(tenant_id=tenant_id, query=query, limit=limit):
        rows: Sequence[CustomerChoice] | None = await await_me_maybe(answer)
        for row in rows or ():
            if row.id not in seen:
                seen.add(row.id)
                found.append(row)
    return found[:limit]


class PickerPages(PageController):
    path = "/pick"

    @page_get("/customers")
    async def customers(self, request: Request[Any, Any, Any], field: FieldName = "customer_id",
                        customer_search: Search = None) -> Response[Any]:
        """The suggestions (an HTML fragment for htmx, or a small page without it)."""
        user = await page_user(request)
        term = (customer_search or "").strip()
        rows = await find_customers(user.tenant_id, term) if term else []
        fragment = request.headers.get("hx-request") == "true"
        return await render(request, "pick/suggestions.html" if fragment else "pick/customers.html",
                            {"rows": rows, "field": field, "term": term}, user=user)

    @page_get("/customers/choose")
    async def choose(
        self, request: Request[Any, Any, Any], id: CustomerId, field: FieldName = "customer_id"
    ) -> Response[Any]:
        """The picker field again, with the chosen customer's id filled in and named."""
        user = await page_user(request)
        person = await describe_person(user.tenant_id, "customer", id)
        if person is None:
            raise NotFoundException("This customer was not found.")
        return await render(request, "pick/customer_field.html",
                            {"field": field, "values": {field: id}, "chosen_name": person.name}, user=user)


PAGES = [PickerPages]


async def customer_name(tenant_id: int, customer_id: int | None) -> str:
    """The customer's name for a record form or page ("" for none or an unknown id)."""
    if not customer_id:
        return ""
    person = await describe_person(tenant_id, "customer", int(customer_id))
    return person.name if person is not None else ""
