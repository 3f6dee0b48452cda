"""The shape of every list in the API (#18.9): query parameters and the page answered.

One pagination shape everywhere. A list takes ``offset`` and ``limit`` and answers::

    {"total": 120, "offset": 40, "limit": 20, "items": [...]}

where ``total`` counts every row that matches the filters (not only this page). A client
pages with ``offset += limit`` until ``offset >= total``. Lists may also take:

``sort``
    One or more allowed keys separated by commas, ``-key`` for descending
    (``?sort=-created_at,name``). A key the list does not offer answers 400 naming the
    allowed ones. Ties are always broken by ``id``, so a page boundary is stable.
``updated_since``
    An aware ISO 8601 time (``2026-01-31T12:00:00Z`` or with ``+01:00``): only rows that
    changed at or after it, for synchronizing. A time without an offset is ambiguous and
    answers 400.

Any other query parameter answers 400 (core/app.py ``_check_request``): a misspelt filter
must not silently list everything.

Using it in a route (the record layer generates the same)::

    from core.listing import Limit, Offset, Page, Sort, UpdatedSince, changed_since

    CASE_SORT = Sort("id", "number", "title", "created_at", default="-id")

    class CasePage(Page):
        items: list[CaseOut]

    @get("/")
    async def list_cases(
        self, user: AuthUser, offset: Offset = 0, limit: Limit = 50,
        sort: Annotated[str | None, CASE_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> CasePage:
        where = Case.tenant_id == user.tenant_id
        if updated_since is not None:
            where = where & (Case.updated_at >= changed_since(updated_since))
        query = CASE_SORT.apply(Case.select().where(where), Case, sort)
        ...

A table a list offers ``updated_since`` on needs a change time: ``core.tables.UpdatedAt()``
(``auto_update``) sets it on every Piccolo update; raw SQL updates must set it themselves.
Answers that cannot be a page (the person search's groups) keep ``offset`` and ``limit``
and say what they window.

This module imports no Litestar handler machinery beyond parameter markers and the
client-error exception, and nothing of the domain: any layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.exceptions import ClientException
from litestar.params import QueryParameter

P = TypeVar("P", bound="Page")

MAX_OFFSET = 1_000_000
"""Deeper than any list is paged by hand; keeps the database's OFFSET bounded."""
MAX_LIMIT = 200
"""The most rows one page answers (a list may declare its own bound, as activity does)."""


Offset = Annotated[
    int,
    QueryParameter(
        ge=0, le=MAX_OFFSET, description="How many matching rows to skip (0 to 1000000)."
    ),
]
"""The ``offset`` query parameter: ``offset: Offset = 0``."""

Limit = Annotated[
    int,
    QueryParameter(ge=1, le=MAX_LIMIT, description=f"How many rows to answer at most (1 to {MAX_LIMIT})."),
]
"""The ``limit`` query parameter: ``limit: Limit = 50``."""

UpdatedSince = Annotated[
    datetime | None,
    QueryParameter(
        description=(
            "Only rows changed at or after this time: ISO 8601 with a time zone offset, "
            "e.g. 2026-01-31T12:00:00Z. For synchronizing."
        )
    ),
]
"""The ``updated_since`` query parameter: ``updated_since: UpdatedSince = None``; pass the
value through :func:`changed_since` before use (it refuses a time without an offset)."""

NAIVE_TIME = (
    "updated_since needs a time zone offset, e.g. 2026-01-31T12:00:00Z or "
    "2026-01-31T13:00:00+01:00."
)


def changed_since(value: datetime) -> datetime:
    """``value`` when it is aware, else a 400: a time without an offset means a different
    instant on every server, so a sync could miss changes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClientException(NAIVE_TIME, extra={"field": "updated_since"})
    return value


_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class Sort:
    """The ``sort`` parameter of one list: the keys it allows and its default order.

    ``Sort("id", "name", "created_at", default="-created_at")`` allows ``name``,
    ``-name``, ``name,-created_at`` and so on. Keys name columns of the listed table
    unless ``columns`` maps a key to another column name. The OpenAPI document shows the
    allowed keys (a pattern and a description); a value outside them answers 400 before
    the handler runs (Litestar checks the pattern), and :meth:`parse` checks again with a
    message naming the allowed keys, for callers that do not go through a route.
    """

    def __init__(
        self, *keys: str, default: str = "id", columns: dict[str, str] | None = None
    ) -> None:
        if not keys:
            raise ValueError("Sort needs at least one key")
        for key in keys:
            if not _KEY.match(key):
                raise ValueError(f"sort key {key!r}: use lower-case letters, digits and _")
        self.keys: tuple[str, ...] = tuple(keys)
        self.columns = dict(columns or {})
        self.default = default
        try:
            self.parse(default)
        except ClientException as exc:  # a default outside the keys is a programming error
            raise ValueError(f"sort default {default!r}: {exc.detail}") from None
        alternatives = "|".join(self.keys)
        self.pattern = rf"^-?({alternatives})(,-?({alternatives})){{0,{len(self.keys) - 1}}}$"
        self.query = QueryParameter(
            pattern=self.pattern,
            max_length=sum(len(k) + 2 for k in self.keys),
            description=(
                f"Order by {', '.join(self.keys)}; -key for descending, several keys "
                f"separated by commas. Default {default}."
            ),
        )
        self.Param: Any = Annotated[str | None, self.query]
        """The parameter type, for generated handlers: ``sort: CASE_SORT.Param = None``
        (written handlers use ``Annotated[str | None, CASE_SORT.query]``, which mypy reads)."""

    def parse(self, value: str | None) -> list[tuple[str, bool]]:
        """``[(key, descending), ...]`` for ``value`` (the default when empty); 400 for a
        key this list does not offer or a key given twice."""
        text = (value or "").strip() or self.default
        out: list[tuple[str, bool]] = []
        for part in text.split(","):
            part = part.strip()
            descending = part.startswith("-")
            key = part[1:] if descending else part
            if key not in self.keys:
                raise ClientException(
                    f"Cannot sort by {key!r}; sort by one of: {', '.join(self.keys)} "
                    "(-key for descending).",
                    extra={"field": "sort"},
                )
            if any(k == key for k, _ in out):
                raise ClientException(f"Sort by {key!r} only once.", extra={"field": "sort"})
            out.append((key, descending))
        return out

    def apply(self, query: Any, table: Any, value: str | None) -> Any:
        """``query`` (a Piccolo select) ordered by ``value``, then by ``id`` so that equal
        keys keep a stable order across pages."""
        keys = self.parse(value)
        for key, descending in keys:
            column = table._meta.get_column_by_name(self.columns.get(key, key))
            query = query.order_by(column, ascending=not descending)
        if not any(self.columns.get(k, k) == "id" for k, _ in keys):
            query = query.order_by(table.id, ascending=not keys[-1][1])
        return query

    def sort_rows(self, rows: Iterable[dict[str, Any]], value: str | None) -> list[dict[str, Any]]:
        """The same order for rows already in memory (small lists built in Python)."""
        out = list(rows)
        keys = self.parse(value)
        out.sort(key=lambda r: r.get("id") or 0, reverse=keys[-1][1])
        for key, descending in reversed(keys):
            name = self.columns.get(key, key)
            out.sort(key=lambda r: _sortable(r.get(name)), reverse=descending)
        return out


def _sortable(value: Any) -> tuple[int, Any]:
    # None sorts first, like NULLS FIRST ascending; mixed types never compare.
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


class Page(msgspec.Struct):
    """The base of every list's answer. A list subclasses it and adds its ``items``::

        class CasePage(Page):
            items: list[CaseOut]

    (A subclass with a typed ``items`` keeps the OpenAPI document precise and names the
    schema ``CasePage``; a generic ``Page[CaseOut]`` would be named after module paths.)
    For generated lists, :func:`page_of` makes the subclass."""

    total: int
    """Every row matching the filters, not only this page."""
    offset: int
    limit: int

    @classmethod
    def of(
        cls: type[P],
        offset: int,
        limit: int,
        found: tuple[int, Iterable[Any]],
        out: Callable[[Any], Any] | None = None,
    ) -> P:
        """This page of a list, from the service's answer ``found = (total, rows)``; ``out``
        turns a row into an item (default: the rows are the items)::

            return CasePage.of(offset, limit, await services.list_cases(...), case_out)
        """
        total, rows = found
        items = [out(r) for r in rows] if out is not None else list(rows)
        return cls(total=total, offset=offset, limit=limit, items=items)  # type: ignore[call-arg]


def page_of(item_type: type[Any], name: str | None = None) -> type[Any]:
    """``class <Item>Page(Page): items: list[item_type]`` made at run time (the record
    layer's generated lists). ``name`` defaults to the item type's name with ``Out``
    replaced by ``Page``. (Typed ``type[Any]``: no static type names its ``items``.)"""
    if name is None:
        base = item_type.__name__
        name = (base.removesuffix("Out")) + "Page"
    cls = msgspec.defstruct(
        name,
        [("items", list[item_type])],  # type: ignore[valid-type]
        bases=(Page,),
        module=getattr(item_type, "__module__", __name__),
    )
    return cls


# --- problem details (RFC 9457), as documented in the OpenAPI document ---------------------


class FieldProblem(msgspec.Struct, omit_defaults=True):
    """One bad field of a request that has several (:class:`Problem`'s ``errors``)."""

    field: str | None = None
    code: str | None = None
    detail: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """An error answer: RFC 9457 problem details (``application/problem+json``), with the
    extension members ``code`` (a stable machine code such as ``not_found``) and ``field``
    (the request field the problem is about, when there is one). Every member is optional
    (the RFC's rule), so a client must not rely on any one being present."""

    type: str = "about:blank"
    """A URI naming the kind of problem; ``about:blank`` when ``title`` says it all."""
    title: str | None = None
    """A short summary of the kind of problem, the same for every occurrence."""
    status: int | None = None
    """The HTTP status code."""
    detail: str | None = None
    """What went wrong this time, for a person to read."""
    instance: str | None = None
    """A URI of this occurrence (usually the request path)."""
    code: str | None = None
    """Extension: a stable machine code (e.g. ``not_found``, ``conflict``)."""
    field: str | None = None
    """Extension: the request field (body member or query parameter) at fault."""
    errors: list[FieldProblem] | None = None
    """Extension: when several fields are bad, every one of them (the first is also the
    answer's ``field``, ``code`` and ``detail``), so a form can show them all at once."""
    confirm: str | None = None
    """Extension: a warning the client may override (409, e.g. ``customer.duplicate_org_number``):
    send the request again with this boolean field set to true."""


__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "Limit",
    "Offset",
    "Page",
    "Problem",
    "Sort",
    "UpdatedSince",
    "changed_since",
    "page_of",
]
