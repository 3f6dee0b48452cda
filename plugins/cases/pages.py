"""Pages of cases and service cases: list with search and filters, create, edit,
close/reopen, delete (saying what anonymization follows and when), the activity thread and
the module's settings (gear). Built on :mod:`plugins.cases.services`.

The customer of a case is named through the ``describe_person`` hook, so this plugin shows
the customer's name without knowing the customer register.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath, QueryParameter

from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.records import (
    KIND_LABELS,
    activity_of,
    add_activity_from_form,
    module_settings_pages,
    retention_notice,
)
from core.secondfactor import describe_person
from core.validation import FieldError
from core.listing import Offset
from plugins.cases import gdpr, services
from plugins.cases.schemas import CaseIn, CasePatch

PLUGIN = "cases"
PAGE = 25
Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]
CustomerQ = Annotated[int | None, QueryParameter(required=False, ge=1, le=2_147_483_647)]

FIELDS = (
    "title", "kind", "number", "description", "customer_id", "contact_person_id",
    "end_customer_name", "end_customer_address", "end_customer_phone", "end_customer_email",
)
INTS = ("number", "customer_id", "contact_person_id")


def _(message: str) -> str:
    return message


KINDS = {"case": _("Case"), "service": _("Service case")}
STATUSES = {"open": _("Open"), "closed": _("Closed")}
MESSAGES = [_("a title is required"), _("must be open or closed")]


def _values(form: dict[str, str], create: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "") for k in FIELDS}
    for k in ("title", "end_customer_name", "end_customer_address", "end_customer_phone", "end_customer_email"):
        values[k] = values[k].strip()
    for k in ("customer_id", "contact_person_id"):
        if not str(values[k]).strip():
            values[k] = "0" if not create else ""
    if create:
        for k in ("end_customer_phone", "end_customer_email"):
            if values[k] == "":
                values[k] = None
    return values


async def _customer_name(tenant_id: int, customer_id: int) -> str:
    if not customer_id:
        return ""
    person = await describe_person(tenant_id, "customer", customer_id)
    return person.name if person is not None else ""


class CasePages(PageController):
    path = "/cases"

    @page_get("/")
    async def index(
        self, request: Request[Any, Any, Any], q: Q = None, status: Choice = None, kind: Choice = None,
        customer_id: CustomerQ = None, offset: Offset = 0,
    ) -> Response[Any]:
        user = await page_user(request)
        status = status if status in STATUSES else None
        kind = kind if kind in KINDS else None
        total, rows = await services.list_cases(
            user.tenant_id, offset, PAGE, status=status, kind=kind, customer_id=customer_id, q=q
        )
        return await render(
            request, "cases/list.html",
            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "q": q or "",
             "status": status or "", "kind": kind or "", "kinds": KINDS, "statuses": STATUSES,
             "customer_id": customer_id or ""},
            user=user,
        )

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any], customer_id: CustomerQ = None) -> Response[Any]:
        user = await page_user(request)
        return await render(
            request, "cases/form.html",
            {"kinds": KINDS, "values": {"kind": "case", "customer_id": customer_id or ""}}, user=user,
        )

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(CaseIn, _values(form, True), t, ints=INTS)
        if data is not None:
            try:
                row = await services.create_case(user.tenant_id, user.employee_id, data)
                return redirect(f"/cases/{row['id']}", t.gettext("The case is saved."))
            except (FieldError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(request, "cases/form.html", {"kinds": KINDS, "values": form, "errors": errors}, 400, user=user)

    @page_get("/{case_id:int}")
    async def show(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, case_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, case_id: int,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        row = await services.get_case(user.tenant_id, case_id)
        return await render(
            request, "cases/detail.html",
            {"c": row, "kinds": KINDS, "statuses": STATUSES,
             "customer_name": await _customer_name(user.tenant_id, int(row["customer_id"])),
             "activity": await activity_of(user.tenant_id, PLUGIN, gdpr.RECORD_TYPE, case_id),
             "kind_labels": KIND_LABELS, "errors": errors or {}},
            status_code=status, user=user,
        )

    @page_post("/{case_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_case(user.tenant_id, case_id)
        errors = await add_activity_from_form(user, PLUGIN, gdpr.RECORD_TYPE, row, form, t)
        if errors:
            return await self._show(request, user, case_id, errors, 400)
        return redirect(f"/cases/{case_id}#activity-h")

    @page_get("/{case_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.get_case(user.tenant_id, case_id)
        values = {k: ("" if row[k] is None else row[k]) for k in FIELDS}
        if not values.get("customer_id"):
            values["customer_id"] = ""
        return await render(request, "cases/form.html",
                            {"kinds": KINDS, "values": values, "c": row,
                             "customer_name": await _customer_name(user.tenant_id, int(row["customer_id"] or 0))},
                            user=user)

    @page_post("/{case_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_case(user.tenant_id, case_id)
        data, errors = struct_from_form(CasePatch, _values(form, False), t, ints=INTS)
        if data is not None:
            try:
                await services.edit_case(user.tenant_id, case_id, data)
                return redirect(f"/cases/{case_id}", t.gettext("The case is saved."))
            except (FieldError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(
            request, "cases/form.html", {"kinds": KINDS, "values": form, "errors": errors, "c": row}, 400, user=user
        )

    async def _change(self, request: Request[Any, Any, Any], case_id: int, action: str) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        try:
            if action == "close":
                await services.close_case(user.tenant_id, case_id)
                message = t.gettext("The case is closed.")
            else:
                await services.reopen_case(user.tenant_id, case_id)
                message = t.gettext("The case is open again.")
        except ClientException as exc:
            return await self._show(request, user, case_id, error_of(exc, t), exc.status_code)
        return redirect(f"/cases/{case_id}", message)

    @page_post("/{case_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, case_id, "close")

    @page_post("/{case_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, case_id, "reopen")

    @page_get("/{case_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await services.get_case(user.tenant_id, case_id)
        notice = await retention_notice(
            user.tenant_id, gdpr.rule_key_for_kind(row["kind"]), t, language_of(request, user)
        )
        return await render(request, "cases/delete.html", {"c": row, "notice": notice}, user=user)

    @page_post("/{case_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        await services.delete_case(user.tenant_id, case_id)
        return redirect("/cases", t.gettext("The case is deleted."))


def pages() -> list[Any]:
    return [CasePages, module_settings_pages(PLUGIN)]
