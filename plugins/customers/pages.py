"""The customer register's pages: list with search and filter, create, edit, delete with
the anonymization notice, contact persons (their phones: the M6 fix path), the activity
thread, and the module's settings (gear). Built on :mod:`plugins.customers.services`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath, QueryParameter

from core.errors import GallraError
from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.records import (
    KIND_LABELS,
    activity_of,
    add_activity_from_form,
    module_settings_pages,
    retention_notice,
)
from core.listing import Offset
from plugins.customers import services
from plugins.customers.schemas import ContactIn, ContactPatch, CustomerIn, CustomerPatch

PLUGIN = "customers"
PAGE = 25
Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
KindQ = Annotated[str | None, QueryParameter(required=False, max_length=20)]
Deleted = Annotated[bool, QueryParameter(required=False)]

CUSTOMER_FIELDS = (
    "name", "kind", "number", "org_number", "national_id", "email", "mobile_phone",
    "private_phone", "work_phone", "postal_street", "postal_postcode", "postal_city",
    "visiting_street", "visiting_postcode", "visiting_city", "notes",
)
CONTACT_FIELDS = ("name", "title", "email", "mobile_phone", "private_phone", "work_phone")
OPTIONAL = ("org_number", "national_id", "email", "mobile_phone", "private_phone", "work_phone")


def _(message: str) -> str:
    return message


KINDS = {"company": _("Company"), "private": _("Private person")}
MESSAGES = [
    _("This customer is deleted and cannot be edited."),
    _("This customer is deleted; it cannot get new contact persons."),
    _("This contact person is deleted or anonymized and cannot be edited."),
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


class CustomerPages(PageController):
    path = "/customers"

    @page_get("/")
    async def index(
        self, request: Request[Any, Any, Any], q: Q = None, kind: KindQ = None, offset: Offset = 0,
        deleted: Deleted = False,
    ) -> Response[Any]:
        user = await page_user(request)
        kind = kind if kind in KINDS else None
        total, rows = await services.list_customers(
            user.tenant_id, offset, PAGE, q=q, kind=kind, include_deleted=deleted
        )
        return await render(
            request, "customers/list.html",
            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "q": q or "",
             "kind": kind or "", "deleted": deleted, "kinds": KINDS},
            user=user,
        )

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await render(request, "customers/form.html", {"kinds": KINDS, "values": {"kind": "company"}}, user=user)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        values = _form_values(form, CUSTOMER_FIELDS, create=True)
        data, errors = struct_from_form(CustomerIn, values, t, ints=("number",))
        if data is not None:
            try:
                row = await services.create_customer(user.tenant_id, data)
                return redirect(f"/customers/{row['id']}", t.gettext("The customer is saved."))
            except (GallraError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(
            request, "customers/form.html", {"kinds": KINDS, "values": form, "errors": errors}, 400, user=user
        )

    @page_get("/{customer_id:int}")
    async def show(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, customer_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, customer_id: int,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        row = await services.get_customer(user.tenant_id, customer_id)
        _total, contacts = await services.list_contacts(user.tenant_id, customer_id, 0, 200)
        return await render(
            request, "customers/detail.html",
            {"c": row, "contacts": contacts, "kinds": KINDS,
             "activity": await activity_of(user.tenant_id, PLUGIN, "customer", customer_id),
             "kind_labels": KIND_LABELS, "errors": errors or {}},
            status_code=status, user=user,
        )

    @page_post("/{customer_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_customer(user.tenant_id, customer_id)
        errors = await add_activity_from_form(user, PLUGIN, "customer", row, form, t)
        if errors:
            return await self._show(request, user, customer_id, errors, 400)
        return redirect(f"/customers/{customer_id}#activity-h")

    @page_get("/{customer_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.get_customer(user.tenant_id, customer_id)
        values = {k: ("" if row[k] is None else row[k]) for k in CUSTOMER_FIELDS}
        return await render(request, "customers/form.html", {"kinds": KINDS, "values": values, "c": row}, user=user)

    @page_post("/{customer_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_customer(user.tenant_id, customer_id)
        values = _form_values(form, CUSTOMER_FIELDS, create=False)
        data, errors = struct_from_form(CustomerPatch, values, t, ints=("number",))
        if data is not None:
            try:
                await services.update_customer(user.tenant_id, customer_id, data)
                return redirect(f"/customers/{customer_id}", t.gettext("The customer is saved."))
            except (GallraError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(
            request, "customers/form.html", {"kinds": KINDS, "values": form, "errors": errors, "c": row},
            400, user=user,
        )

    @page_get("/{customer_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await services.get_customer(user.tenant_id, customer_id)
        notice = await retention_notice(user.tenant_id, "customers", t, language_of(request, user))
        return await render(request, "customers/delete.html", {"c": row, "notice": notice}, user=user)

    @page_post("/{customer_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        row = await services.delete_customer(user.tenant_id, customer_id)
        if row["anonymized_at"] is not None:
            message = t.gettext("The customer is deleted and its personal data anonymized.")
        else:
            message = t.gettext("The customer is deleted.")
        return redirect("/customers", message)

    @page_post("/{customer_id:int}/portal-invite")
    async def invite(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        """Invite the customer to the portal: an e-mail with the link to the first password."""
        from plugins.customers import portal

        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        try:
            await portal.invite(user.tenant_id, "customer", customer_id, None)
        except (GallraError, ClientException) as exc:
            return await self._show(request, user, customer_id, error_of(exc, t), 409)
        return redirect(f"/customers/{customer_id}", t.gettext("The invitation to the customer portal is sent."))

    # --- contact persons ----------------------------------------------------------------

    @page_get("/{customer_id:int}/contacts/new")
    async def new_contact(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.get_customer(user.tenant_id, customer_id)
        return await render(request, "customers/contact_form.html", {"c": row}, user=user)

    @page_post("/{customer_id:int}/contacts/new")
    async def create_contact(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_customer(user.tenant_id, customer_id)
        data, errors = struct_from_form(ContactIn, _form_values(form, CONTACT_FIELDS, True), t)
        if data is not None:
            try:
                await services.create_contact(user.tenant_id, customer_id, data)
                return redirect(f"/customers/{customer_id}", t.gettext("The contact person is saved."))
            except (GallraError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(
            request, "customers/contact_form.html", {"c": row, "values": form, "errors": errors}, 400, user=user
        )

    @page_get("/contacts/{contact_id:int}/edit")
    async def edit_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        contact = await services.get_contact(user.tenant_id, contact_id)
        row = await services.get_customer(user.tenant_id, int(contact["customer_id"]))
        values = {k: ("" if contact[k] is None else contact[k]) for k in CONTACT_FIELDS}
        return await render(
            request, "customers/contact_form.html", {"c": row, "contact": contact, "values": values}, user=user
        )

    @page_post("/contacts/{contact_id:int}/edit")
    async def update_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        contact = await services.get_contact(user.tenant_id, contact_id)
        row = await services.get_customer(user.tenant_id, int(contact["customer_id"]))
        data, errors = struct_from_form(ContactPatch, _form_values(form, CONTACT_FIELDS, False), t)
        if data is not None:
            try:
                await services.update_contact(user.tenant_id, contact_id, data)
                return redirect(f"/customers/{row['id']}", t.gettext("The contact person is saved."))
            except (GallraError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(
            request, "customers/contact_form.html",
            {"c": row, "contact": contact, "values": form, "errors": errors}, 400, user=user,
        )

    @page_post("/contacts/{contact_id:int}/delete")
    async def delete_contact(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        contact = await services.delete_contact(user.tenant_id, contact_id)
        return redirect(f"/customers/{contact['customer_id']}", t.gettext("The contact person is deleted."))


def pages() -> list[Any]:
    from plugins.customers.portal_pages import pages as portal_pages

    return [CustomerPages, module_settings_pages(PLUGIN), *portal_pages()]
