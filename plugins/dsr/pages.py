"""The GDPR administrator's pages of the request queue: the list (with the deadline and
the days left), recording a request, a request's page with its steps (verified, in
progress, extend with a reason, answer, refuse with a reason), edit and delete. Built on
:mod:`plugins.dsr.services` and core's RecordPages; only the "gdpr" permission opens them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import Forbidden, GallraError
from core.errors import mark as _
from core.pages import language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.records import Column, ListFilter, RecordPages, Texts
from core.tables import Employee
from plugins.dsr import services
from plugins.dsr.records import OPEN_STATUSES, PERMISSION
from plugins.dsr.schemas import RequestIn, RequestPatch

KINDS = {
    "access": _("Access (art. 15)"),
    "portability": _("Data portability (art. 20)"),
    "correction": _("Rectification (art. 16)"),
    "erasure": _("Erasure (art. 17)"),
    "restriction": _("Restriction (art. 18)"),
    "objection": _("Objection (art. 21)"),
}
STATUSES = {
    "received": _("Received"),
    "verified": _("Verified"),
    "in_progress": _("In progress"),
    "extended": _("Extended"),
    "answered": _("Answered"),
    "refused": _("Refused"),
}
LANGUAGES = {"sv": _("Swedish"), "en": _("English")}
GDPR_ONLY = _("Only an administrator or a member of a group with the GDPR permission may do this.")


async def gdpr_page_user(request: Request[Any, Any, Any]) -> SessionUser:
    user = await page_user(request)
    if not user.can(PERMISSION):
        raise Forbidden(GDPR_ONLY, code="dsr.gdpr_only")
    return user


async def employees(tenant_id: int) -> dict[str, str]:
    rows = await Employee.select(Employee.id, Employee.name).where(
        (Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null()
    ).order_by(Employee.name)
    return {str(r["id"]): r["name"] for r in rows}


class RequestPages(RecordPages):
    service = services.RECORDS
    record_var = "r"
    schema_in = RequestIn
    schema_patch = RequestPatch
    form_fields = ("kind", "requester_name", "requester_email", "requester_phone", "details", "assignee_id",
                   "received_on", "language")
    int_fields = ("assignee_id",)
    refusal_status = True
    texts = Texts(
        _("Data-subject requests"), one=_("Request"), new=_("Record a request"), edit=_("Edit the request"),
        delete=_("Delete request"), delete_button=_("Delete the request"),
        settings=_("Settings for data-subject requests"), search=_("Search name or e-mail"),
        anonymized=_("This request has been anonymized."), deleted=_("This request is deleted."),
        status_id="dsr-status",
    )
    columns = (
        Column("number", _("No."), "link"),
        Column("kind", _("Request"), choices=KINDS),
        Column("who", _("Who")),
        Column("status", _("Status"), choices=STATUSES),
        Column("received_on", _("Received"), "date"),
        Column("due_on", _("Deadline"), "date"),
        Column("days_left_text", _("Days left")),
    )
    list_filters = (ListFilter("status", _("Status"), STATUSES), ListFilter("kind", _("Request"), KINDS))
    statuses = STATUSES
    # the buttons of a request's page, each one step of it (answered by _step)
    steps: ClassVar[Mapping[str, str]] = {
        "verified": "verified", "in-progress": "in_progress", "extend": "extend", "answer": "answer",
        "refuse": "refuse",
    }

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        fields = self.form_fields if create else ("requester_name", "requester_email", "requester_phone",
                                                  "details", "assignee_id")
        values: dict[str, Any] = {k: form.get(k, "") for k in fields}
        for k in ("requester_email", "requester_phone", "received_on"):
            if k in values and not str(values[k]).strip():
                values[k] = None
        values["assignee_id"] = values.get("assignee_id") or "0"
        return values

    async def create_from(self, user: SessionUser, data: Any) -> dict[str, Any]:
        if not user.can(PERMISSION):
            raise Forbidden(GDPR_ONLY, code="dsr.gdpr_only")
        return await services.create_request(user.tenant_id, user.employee_id, data)

    async def list_rows(self, request: Request[Any, Any, Any], user: SessionUser, offset: int, q: str,
                        filters: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        if not user.can(PERMISSION):
            raise Forbidden(GDPR_ONLY, code="dsr.gdpr_only")
        total, rows = await super().list_rows(request, user, offset, q, filters)
        t = t_for(request, user)
        for row in rows:
            out = services.out(row)
            row["who"] = row["requester_name"] or row["requester_email"] or row["requester_phone"] or "–"
            row["days_left_text"] = (
                "–" if row["status"] not in OPEN_STATUSES
                else t.gettext("%(days)s days overdue") % {"days": -out.deadline.days_left}
                if out.deadline.overdue else str(out.deadline.days_left)
            )
        return total, rows

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        people = {"0": "–", **await employees(user.tenant_id)}
        return {"kinds": KINDS, "languages": LANGUAGES, "people": people}

    def edit_values(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: ("" if row.get(k) is None else str(row[k])) for k in self.form_fields}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        people = await employees(user.tenant_id)
        return {"kinds": KINDS, "out": services.out(row), "assignee": people.get(str(row["assignee_id"]), ""),
                "is_open": row["status"] in OPEN_STATUSES, "people": people}

    async def _change(self, request: Request[Any, Any, Any], record_id: int, action: str) -> Response[Any]:
        raise NotFoundException()  # a request is closed by its answer or refusal, never reopened

    async def _step(self, request: Request[Any, Any, Any], record_id: int, step: str) -> Response[Any]:
        user = await gdpr_page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await self._row(user, record_id, write=True)
        try:
            if step in ("verified", "in_progress"):
                await services.edit_request(user.tenant_id, record_id, RequestPatch(status=step))  # type: ignore[arg-type]
                message = t.gettext("Saved.")
            elif step == "extend":
                months = form.get("months", "")
                if months not in ("1", "2"):
                    return await self._show(request, user, row, {"months": t.gettext("Choose one or two months.")},
                                            400, form)
                await services.extend(user.tenant_id, record_id, int(months), form.get("reason", "")[:2000])
                message = t.gettext("The deadline is extended and the person is told why.")
            elif step == "answer":
                await services.answer(user.tenant_id, record_id, form.get("text", "")[:10_000], user.employee_id)
                message = t.gettext("The request is answered and the person is told.")
            else:
                await services.refuse(user.tenant_id, record_id, form.get("refusal_reason", "")[:2000])
                message = t.gettext("The request is refused and the person is told why.")
        except GallraError as exc:
            errors = error_of(exc, t)
            if step == "refuse" and "reason" in errors:
                errors["refusal_reason"] = errors.pop("reason")
            return await self._show(request, user, row, errors, exc.status, form)
        return redirect(f"{self.base}/{record_id}", message)

    @page_get("/{record_id:int}/erasure")
    async def erasure(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        """The erasure's preview: what would be anonymized, what is kept and why."""
        user = await gdpr_page_user(request)
        row = await self._row(user, record_id, write=True)
        t = t_for(request, user)
        try:
            preview = await services.erasure_preview(user.tenant_id, record_id, language_of(request, user))
        except GallraError as exc:
            return await self._show(request, user, row, error_of(exc, t), exc.status)
        return await render(request, "dsr/erasure.html", {**self._common(row), "preview": preview}, user=user)

    @page_post("/{record_id:int}/erasure")
    async def erase(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await gdpr_page_user(request)
        await read_form(request)
        t = t_for(request, user)
        row = await self._row(user, record_id, write=True)
        try:
            await services.erase_and_answer(user.tenant_id, record_id)
        except GallraError as exc:
            return await self._show(request, user, row, error_of(exc, t), exc.status)
        return redirect(f"{self.base}/{record_id}", t.gettext("The person is erased and told what was kept and why."))


def pages() -> list[Any]:
    from plugins.dsr.public_pages import AskPages

    return [RequestPages, AskPages]
