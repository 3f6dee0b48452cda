"""The customer register's pages: the record layer's list (search, kind filter, deleted
ones on request), create, edit, delete with the anonymization notice and the activity
thread (:class:`core.pages.records.RecordPages`); the register's own are the contact
persons under their customer (their phones: the M6 fix path) and the module's settings
(gear). The card's button inviting to the customer portal posts to plugins/portal.
Built on :mod:`plugins.customers.services`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import GallraError
from core.errors import mark as _
from core.pages import page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.records import Column, ListFilter, RecordPages, Texts
from core.plugins import get_host
from core.tenancy import enabled_modules
from plugins.customers import services
from plugins.customers.schemas import ContactIn, ContactPatch, CustomerIn, CustomerPatch

PLUGIN = "customers"
PORTAL_MODULE = "portal"

CUSTOMER_FIELDS = (
    "name", "kind", "number", "org_number", "national_id", "email", "mobile_phone",
    "private_phone", "work_phone", "postal_street", "postal_postcode", "postal_city",
    "visiting_street", "visiting_postcode", "visiting_city", "notes",
)
CONTACT_FIELDS = ("name", "title", "email", "mobile_phone", "private_phone", "work_phone")
OPTIONAL = ("org_number", "national_id", "email", "mobile_phone", "private_phone", "work_phone")




KINDS = {"company": _("Company"), "private": _("Private person")}
LIFE = {"active": _("Active"), "deleted": _("Deleted"), "anonymized": _("Anonymized")}
MESSAGES = [
    # the records' names in the record layer's messages ("Kontaktperson 5 har raderats ...")
    _("Contact person"),
    _("Customer contact"),
    _("This customer is deleted; it cannot get new contact persons."),
    _("Only a private customer has a personal identity number; give a company its organization number."),
    _("Only a company has an organization number; give a private customer a personal identity number."),
]


def _form_values(form: dict[str, str], fields: tuple[str, ...], create: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "").strip() if k != "notes" else form.get(k, "") for k in fields}
    if create:
        for k in OPTIONAL:
            if k in values and values[k] == "":
                values[k] = None
    return values


class CustomerPages(RecordPages):
    service = services.CUSTOMERS
    record_var = "c"
    schema_in = CustomerIn
    schema_patch = CustomerPatch
    form_fields = CUSTOMER_FIELDS
    int_fields = ("number",)
    saved = _("The customer is saved.")
    deleted = _("The customer is deleted.")
    texts = Texts(
        title=_("Customers"), one=_("Customer"), new=_("New customer"), edit=_("Edit customer"),
        settings=_("Settings for customers"),
        search=_("Search by name, number, org. number, e-mail, phone, city or contact person"),
    )
    columns = (
        Column("number", _("Number")),
        Column("name", _("Name"), "link"),
        Column("kind", _("Kind"), choices=KINDS),
        Column("email", _("E-mail")),
        Column("postal_city", _("City")),
        Column("life", _("Status"), choices=LIFE),
    )
    list_filters = (ListFilter("kind", _("Kind"), KINDS),)

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        values = _form_values(form, CUSTOMER_FIELDS, create)
        values["confirm_duplicate"] = form.get("confirm_duplicate") == "true"
        return values

    def field_checks(self, values: dict[str, Any]) -> None:
        services.check_fields(values)

    async def list_rows(self, request: Request[Any, Any, Any], user: SessionUser, offset: int, q: str,
                        filters: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        total, rows = await super().list_rows(request, user, offset, q, filters)
        for row in rows:
            row["life"] = ("anonymized" if row["anonymized_at"] is not None
                           else "deleted" if row["deleted_at"] is not None else "active")
        return total, rows

    def new_values(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "company"}

    def deleted_message(self, row: dict[str, Any]) -> str:
        if row["anonymized_at"] is not None:
            return _("The customer is deleted and its personal data anonymized.")
        return self.deleted

    async def list_context(self, user: SessionUser) -> dict[str, Any]:
        return {"kinds": KINDS}

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        return {"kinds": KINDS}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        _total, contacts = await services.list_contacts(user.tenant_id, int(row["id"]), 0, 200)
        # The customer portal (plugins/portal) takes the card's invite button while it is on.
        portal_on = PORTAL_MODULE in await enabled_modules(get_host(), user.tenant_id)
        return {"kinds": KINDS, "contacts": contacts, "portal_on": portal_on}

    # --- contact persons ----------------------------------------------------------------

    async def _contact_form(
        self, request: Request[Any, Any, Any], user: SessionUser, customer: dict[str, Any],
        contact: dict[str, Any] | None, save: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> Response[Any]:
        """The contact person's form (new when ``contact`` is None); with ``save``, the
        posted form is saved with it, or shown again with the errors beside the fields."""
        context: dict[str, Any] = {"c": customer} | ({"contact": contact} if contact else {})
        if save is None:
            values = {k: ("" if contact[k] is None else contact[k]) for k in CONTACT_FIELDS} if contact else {}
            return await render(request, "customers/contact_form.html", context | {"values": values}, user=user)
        form = await read_form(request)
        t = t_for(request, user)
        schema = ContactPatch if contact else ContactIn
        values = _form_values(form, CONTACT_FIELDS, contact is None)
        data, errors = struct_from_form(schema, values, t)
        if data is None:
            errors = self._all_errors(values, errors, t)
        if data is not None:
            try:
                await save(data)
                return redirect(f"/customers/{customer['id']}", t.gettext("The contact person is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await render(
            request, "customers/contact_form.html", context | {"values": form, "errors": errors}, 400, user=user
        )

    async def _contact_and_customer(self, user: SessionUser, contact_id: int) -> tuple[dict, dict]:
        contact = await services.get_contact(user.tenant_id, contact_id)
        return contact, await self._row(user, int(contact["customer_id"]))

    @page_get("/{customer_id:int}/contacts/new")
    async def new_contact(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._contact_form(request, user, await self._row(user, customer_id), None)

    @page_post("/{customer_id:int}/contacts/new")
    async def create_contact(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await self._row(user, customer_id)
        return await self._contact_form(
            request, user, row, None, lambda data: services.create_contact(user.tenant_id, customer_id, data)
        )

    @page_get("/contacts/{contact_id:int}/edit")
    async def edit_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        contact, row = await self._contact_and_customer(user, contact_id)
        return await self._contact_form(request, user, row, contact)

    @page_post("/contacts/{contact_id:int}/edit")
    async def update_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        contact, row = await self._contact_and_customer(user, contact_id)
        return await self._contact_form(
            request, user, row, contact, lambda data: services.update_contact(user.tenant_id, contact_id, data)
        )

    @page_post("/contacts/{contact_id:int}/delete")
    async def delete_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        contact = await services.delete_contact(user.tenant_id, contact_id)
        return redirect(f"/customers/{contact['customer_id']}", t.gettext("The contact person is deleted."))


def pages() -> list[Any]:
    return [CustomerPages]
