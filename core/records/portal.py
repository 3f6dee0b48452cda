"""Records in the customer portal, read-only (issue 20, item 9): a customer reads their own
cases, work orders and quotes without the portal importing the plugins that keep them.

A record shows in the portal when its spec says how (``RecordSpec.portal``, a
:class:`~core.contracts.PortalView`) and names its customer (``customer_column``). What the
person reads is decided here, once:

* only the columns the view names (plus the number and title), never the rest of the row;
* only the rows of the person's tenant whose customer is the person's customer and that
  name no contact person or this very one (as an approval does, ``core.approvals.owns``),
  neither deleted nor anonymized, and that match the view's ``where`` and ``not_null``;
* only the records of the modules the tenant has on.

Anything else, another customer's or tenant's record included, is not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.contracts import PortalPart, PortalPerson, PortalView, RecordSpec
from core.errors import NotFound
from core.errors import mark as _
from core.plugins import get_host

NOT_FOUND = _("This was not found, or it is not yours.")
LIMIT = 200


@dataclass(frozen=True)
class PortalSection:
    """One kind of record the portal shows: ``slug`` names it in the portal's paths."""

    plugin: str
    spec: RecordSpec

    @property
    def view(self) -> PortalView:
        assert self.spec.portal is not None
        return self.spec.portal

    @property
    def slug(self) -> str:
        return self.spec.path.strip("/") or self.spec.name

    def label(self, lang: str, plural: bool = True) -> str:
        spec = self.spec
        if plural:
            return (spec.plural_en or spec.label_en) if lang == "en" else (spec.plural_sv or spec.label_sv)
        return spec.label_en if lang == "en" else spec.label_sv


async def sections(tenant_id: int) -> list[PortalSection]:
    """The records shown in the portal of this tenant: of the modules it has on."""
    host = get_host()
    hooks = await host.for_tenant(tenant_id)
    return [
        PortalSection(plugin, spec)
        for plugin, specs in host.records_by_plugin().items()
        if plugin not in hooks.disabled
        for spec in specs
        if spec.portal is not None and spec.customer_column and spec.opens
    ]


async def section(tenant_id: int, slug: str) -> PortalSection:
    for found in await sections(tenant_id):
        if found.slug == slug:
            return found
    raise NotFound(NOT_FOUND, code="portal.not_found")


def _any(table: Any) -> Any:
    """A record's table, whose columns (``tenant_id``, ``id``) the spec promises."""
    return table


def _col(table: Any, name: str) -> Any:
    return getattr(table, name)


def _has(table: Any, name: str) -> bool:
    return any(c._meta.name == name for c in table._meta.columns)


def owned(section: PortalSection, person: PortalPerson) -> Any:
    """The where clause of the person's rows of the section (see the module docstring)."""
    spec, table = section.spec, _any(section.spec.table)
    assert spec.customer_column
    where = (table.tenant_id == person.tenant_id) & (_col(table, spec.customer_column) == person.customer_id)
    if spec.contact_column:
        contact = _col(table, spec.contact_column)
        if person.person_kind == "contact":
            where = where & contact.is_in([0, person.person_id])
        else:
            where = where & (contact == 0)
    for name in ("deleted_at", "anonymized_at"):
        if _has(table, name):
            where = where & _col(table, name).is_null()
    for name, allowed in section.view.where:
        where = where & _col(table, name).is_in(list(allowed))
    for name in section.view.not_null:
        where = where & _col(table, name).is_not_null()
    return where


def _columns(section: PortalSection) -> list[Any]:
    spec, table = section.spec, section.spec.table
    names = ["id"]
    for name in (spec.number_column, spec.title_column, *(c.column for c in section.view.columns)):
        if name and name not in names:
            names.append(name)
    return [_col(table, n) for n in names]


async def list_for(person: PortalPerson, section: PortalSection, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The person's records of the section, newest first (at most ``limit``)."""
    if person.customer_id <= 0:
        return []
    spec, table = section.spec, _any(section.spec.table)
    order = _col(table, spec.number_column) if spec.number_column else table.id
    rows: list[dict[str, Any]] = (
        await table.select(*_columns(section)).where(owned(section, person)).order_by(order, ascending=False)
        .limit(limit)
    )
    return rows


async def get_for(
    person: PortalPerson, section: PortalSection, record_id: int
) -> tuple[dict[str, Any], list[tuple[PortalPart, list[dict[str, Any]]]]]:
    """One of the person's records and its parts' rows; 404 for anything not theirs."""
    table = _any(section.spec.table)
    row = None
    if person.customer_id > 0 and 0 < record_id <= 2_147_483_647:
        row = await table.select(*_columns(section)).where(owned(section, person) & (table.id == record_id)).first()
    if row is None:
        raise NotFound(NOT_FOUND, code="portal.not_found")
    parts = []
    for part in section.view.parts:
        names = ["id", *(c.column for c in part.columns if c.column != "id")]
        part_table = _any(part.table)
        rows = await part_table.select(*(_col(part_table, n) for n in names)).where(
            (part_table.tenant_id == person.tenant_id) & (_col(part_table, part.parent_column) == record_id)
        ).order_by(_col(part_table, part.order_by))
        rows = [dict(r) for r in rows]
        if part.total:
            for r in rows:
                r["_amount"] = _product(r, part.total)
        parts.append((part, rows))
    return row, parts


def _product(row: dict[str, Any], columns: tuple[str, ...]) -> Decimal:
    """A part row's amount: its ``columns`` multiplied (a missing value counts as 0), in
    whole öre as money is kept."""
    amount = Decimal(1)
    for column in columns:
        amount *= Decimal(str(row.get(column) or 0))
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def part_total(part: PortalPart, rows: list[dict[str, Any]]) -> Decimal | None:
    """The sum of a part's row amounts, or None when the part declares no ``total``."""
    if not part.total:
        return None
    return sum((r["_amount"] for r in rows), Decimal("0.00"))
