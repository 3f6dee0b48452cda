"""Pickers for record forms: the customer and the contact person a record names.

Every record form whose spec names a customer (``RecordSpec.customer_column``) and a contact
person (``contact_column``) shows them as lists of names, never as typed ids (core.pages.
records.RecordPages turns those inputs into pickers):

* the customer: a select of the tenant's customers by name (``find_customers`` hook), with
  a search box when there are many; the chosen one is always listed;
* the contact person: a select of the chosen customer's contact persons (``find_contacts``
  hook), which follows the customer.

With JavaScript (htmx) typing in the search box asks ``/pick/customer-options`` for the
select again, and choosing a customer asks ``/pick/contacts`` for that customer's contact
persons. Without JavaScript a button sends the form back (``_pick``) and the page answers it
again with both lists brought up to date, saving nothing. What is saved is checked by the
record layer all the same (``core.references.check_party``).

Pages that show a record name the customer and the contact person (:func:`party_names`,
:func:`party_of`), linking to the customer's page (``PersonKind.link``). Core and the record
plugins never import the customer register.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import QueryParameter

from core.contracts import ContactChoice, CustomerChoice, PersonKind
from core.errors import mark as _
from core.pages import PageController, page_get, page_user, render
from core.plugins import await_me_maybe, get_host
from core.secondfactor import describe_person

CHOOSE_CUSTOMER = _("Choose the customer.")
LIMIT = 10
LIST_LIMIT = 200  # customers in the picker's select before the search box must narrow it
CONTACT_LIMIT = 300
SEARCH_FROM = 12  # customers from which the picker offers a search box
FieldName = Annotated[str, QueryParameter(pattern=r"^[a-z_]{1,40}$")]
OptionalField = Annotated[str | None, QueryParameter(required=False, pattern=r"^[a-z_]{1,40}$")]
MAX_ID = 2_147_483_647


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


async def find_contacts(tenant_id: int, customer_id: int, limit: int = CONTACT_LIMIT) -> list[ContactChoice]:
    """Every enabled plugin's answer to ``find_contacts``: the customer's contact persons."""
    if customer_id < 1:
        return []
    hooks = await get_host().for_tenant(tenant_id)
    found: list[ContactChoice] = []
    seen: set[int] = set()
    for answer in hooks.find_contacts(tenant_id=tenant_id, customer_id=customer_id, limit=limit):
        rows: Sequence[ContactChoice] | None = await await_me_maybe(answer)
        for row in rows or ():
            if row.id not in seen:
                seen.add(row.id)
                found.append(row)
    return found[:limit]


def an_id(value: Any) -> int:
    """A posted or stored reference as an id (0 for none, or for anything else)."""
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID else 0


@dataclass
class Pick:
    """What a picker shows: its options, the chosen one and the search typed."""

    chosen: int = 0
    options: list[Any] = field(default_factory=list)
    search: str = ""
    searchable: bool = False
    customer: int = 0  # a contact picker: the customer whose contact persons it lists
    found_one: bool = False  # a search found exactly one customer, chosen for the person


async def customer_pick(tenant_id: int, chosen: Any, search: str = "") -> Pick:
    """The customer select: the customers matching ``search`` (or the first ones by name),
    with the chosen one always among them."""
    term = (search or "").strip()[:200]
    chosen_id = an_id(chosen)
    options = await find_customers(tenant_id, term, LIST_LIMIT + 1 if not term else 50)
    many = len(options) > LIST_LIMIT
    options = options[:LIST_LIMIT]
    if chosen_id and all(o.id != chosen_id for o in options):
        person = await describe_person(tenant_id, "customer", chosen_id)
        if person is not None:
            options.insert(0, CustomerChoice(id=chosen_id, number=0, name=person.name))
        else:
            chosen_id = 0
    found_one = bool(term) and not chosen_id and len(options) == 1
    if found_one:  # the one customer the search found is chosen (its contacts follow)
        chosen_id = options[0].id
    return Pick(chosen=chosen_id, options=options, search=term, found_one=found_one,
                searchable=bool(term) or many or len(options) >= SEARCH_FROM)


async def contact_pick(tenant_id: int, customer: Any, chosen: Any) -> Pick:
    """The contact select: the chosen customer's contact persons."""
    customer_id = an_id(customer)
    options = await find_contacts(tenant_id, customer_id) if customer_id else []
    chosen_id = an_id(chosen)
    if all(o.id != chosen_id for o in options):
        chosen_id = 0
    return Pick(chosen=chosen_id, options=options, customer=customer_id)


async def form_picks(
    tenant_id: int, values: Mapping[str, Any], customer_field: str | None, contact_field: str | None
) -> dict[str, Pick]:
    """The pickers of a record form, by field name, from the form's values."""
    picks: dict[str, Pick] = {}
    if customer_field:
        picks[customer_field] = await customer_pick(
            tenant_id, values.get(customer_field), str(values.get(f"{customer_field}_search") or "")
        )
        if contact_field:
            picks[contact_field] = await contact_pick(
                tenant_id, picks[customer_field].chosen, values.get(contact_field)
            )
    return picks


# --- names instead of ids ---------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """A person a record names: the name and, for a customer, the page to link to."""

    id: int
    name: str
    link: str = ""


async def person_link(tenant_id: int, kind: str, person_id: int) -> str:
    """The person's page from the plugin that declared the kind (``PersonKind.link``)."""
    owner = (await get_host().for_tenant(tenant_id)).kinds(PersonKind).get(kind)
    if owner is None or owner.link is None:
        return ""
    return owner.link(person_id)


async def party_names(
    tenant_id: int, rows: Iterable[Mapping[str, Any]], customer_column: str | None,
    contact_column: str | None
) -> dict[str, dict[int, Named]]:
    """The names of the customers and contact persons ``rows`` name (``{"customer": {id:
    Named}, "contact": {...}}``); a deleted or unknown person is left out."""
    wanted: dict[str, set[int]] = {"customer": set(), "contact": set()}
    for row in rows:
        if customer_column and an_id(row.get(customer_column)):
            wanted["customer"].add(an_id(row.get(customer_column)))
        if contact_column and an_id(row.get(contact_column)):
            wanted["contact"].add(an_id(row.get(contact_column)))
    names: dict[str, dict[int, Named]] = {"customer": {}, "contact": {}}
    for kind, ids in wanted.items():
        for person_id in sorted(ids):
            person = await describe_person(tenant_id, kind, person_id)
            if person is not None:
                link = await person_link(tenant_id, kind, person_id)
                names[kind][person_id] = Named(person_id, person.name, link)
    return names


async def party_of(
    tenant_id: int, row: Mapping[str, Any], customer_column: str | None, contact_column: str | None
) -> dict[str, Any]:
    """The customer and contact person of one record, for its page: ``{"customer": Named |
    None, "contact": ..., "customer_id": id, "contact_id": id}``."""
    names = await party_names(tenant_id, [row], customer_column, contact_column)
    customer_id = an_id(row.get(customer_column)) if customer_column else 0
    contact_id = an_id(row.get(contact_column)) if contact_column else 0
    return {
        "customer": names["customer"].get(customer_id), "customer_id": customer_id,
        "contact": names["contact"].get(contact_id), "contact_id": contact_id,
        "has_customer": bool(customer_column), "has_contact": bool(contact_column),
    }


async def customer_name(tenant_id: int, customer_id: int | None) -> str:
    """The customer's name for a record form or page ("" for none or an unknown id)."""
    if not customer_id:
        return ""
    person = await describe_person(tenant_id, "customer", int(customer_id))
    return person.name if person is not None else ""


# --- the routes -------------------------------------------------------------------------


class PickerPages(PageController):
    path = "/pick"

    @page_get("/customer-options")
    async def customer_options(self, request: Request[Any, Any, Any], field: FieldName = "customer_id",
                               contact: OptionalField = None) -> Response[Any]:
        """The customer select again for the search typed (an htmx fragment): the field's
        value is the chosen customer, ``<field>_search`` the search."""
        user = await page_user(request)
        search = (request.query_params.get(f"{field}_search") or "")[:200]
        pick = await customer_pick(user.tenant_id, request.query_params.get(field), search)
        return await render(request, "pick/customer_select.html",
                            {"field": field, "pick": pick, "contact": contact}, user=user)

    @page_get("/contacts")
    async def contacts(self, request: Request[Any, Any, Any], field: FieldName = "contact_person_id",
                       customer: FieldName = "customer_id") -> Response[Any]:
        """The contact picker of the chosen customer (an htmx fragment): ``<customer>`` is
        the customer's id, ``<field>`` the contact person chosen so far."""
        user = await page_user(request)
        pick = await contact_pick(user.tenant_id, request.query_params.get(customer),
                                  request.query_params.get(field))
        return await render(request, "pick/contact_field.html",
                            {"field": field, "pick": pick, "values": {}, "errors": {}}, user=user)


PAGES = [PickerPages]
