"""The GDPR module's page: what every module stores about whom and for how long (from the
declarations and the retention settings), the signed versions of the inventory, and
signing it (with an SMS code when "GDPR inventory – SMS authentication" is on); the
processing activities (article 30: list, prefill from the modules, create, edit, delete);
the incident log (article 33: report, the 72-hour deadline and whether it was met or how
long is left, notifications, close, reopen, delete); and the GDPR contact persons. Built on
:mod:`plugins.privacy.services`; every change is logged by the service, as from the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from core.errors import mark as _
from core.listing import Offset
from core.pages import (
    PageController,
    language_of,
    page_get,
    page_post,
    page_user,
    read_form,
    read_form_lists,
    redirect,
    render,
    t_for,
)
from core.pages.forms import REFUSED, error_of, struct_from_form
from core.pages.records import OPEN_CLOSED
from core.pages.routes import second_factor_context
from plugins.privacy import services
from plugins.privacy.routes import gdpr_user


class PrivacyPages(PageController):
    path = "/privacy"

    async def _page(self, request: Request[Any, Any, Any], user: Any, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        facts = await services.system_processing(user.tenant_id)
        _total, versions = await services.list_versions(user.tenant_id, 0, 50)
        return await render(request, "privacy/index.html",
                            {"facts": list(facts.values()), "versions": versions, "errors": errors or {},
                             "values": values or {}, "lang": language_of(request, user)},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = gdpr_user(await page_user(request))
        return await self._page(request, user)

    @page_post("/sign")
    async def sign(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = gdpr_user(await page_user(request))
        form = await read_form(request)
        t = t_for(request, user)
        note = form.get("note", "")[:2000]
        try:
            version, decision = await services.sign(user, note, form.get("challenge_id") or None,
                                                    request.headers.get("user-agent", ""))
        except REFUSED as exc:
            errors = error_of(exc, t)
            return await self._page(request, user, {"note": next(iter(errors.values()))}, form,
                                    getattr(exc, "status_code", 400))
        if version is None and decision is not None:
            return await render(request, "second_factor.html", second_factor_context(
                decision, "/privacy/sign", {"note": note}, "sign", t.gettext("Sign the inventory")), user=user)
        return redirect("/privacy#versions", t.gettext("The inventory is signed."))


# --- shared helpers -----------------------------------------------------------------------

ZONE = ZoneInfo("Europe/Stockholm")
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]
PAGE = 50




STATUSES = OPEN_CLOSED
DECISIONS = {"pending": _("Not decided yet"), "yes": _("Yes"), "no": _("No")}
DEADLINE_STATES = {
    "pending": _("Running"), "overdue": _("Overdue: not reported within 72 hours"),
    "notified": _("Reported in time"), "notified_late": _("Reported late"),
    "not_required": _("No report needed (decided)"),
}
MESSAGES = [
    _("this time is in the future"), _("the breach cannot have happened after it was discovered"),
    _("a notification cannot come before the breach was discovered"), _("a title is required"),
    _("a name is required"), _("Write the date and time as YYYY-MM-DD HH:MM."), _("Write a whole number."),
]


def _gdpr(user: Any) -> Any:
    return gdpr_user(user)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _local(value: datetime | None) -> str:
    """A time for a ``datetime-local`` field (Swedish time)."""
    return value.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") if value else ""


def _instant(value: str) -> datetime:
    """A ``datetime-local`` value (Swedish time) as an aware time; ValueError when not one."""
    text = value.strip().replace(" ", "T")
    if not text or len(text) > 19:
        raise ValueError(value)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        raise ValueError(value)
    return parsed.replace(tzinfo=ZONE)


def _refused(exc: Exception, t: Any) -> dict[str, str]:
    if isinstance(exc, REFUSED) and exc.status_code in (403, 404):
        raise exc
    return error_of(exc, t)


# --- processing activities -------------------------------------------------------------

ACTIVITY_TEXTS = ("name", "purpose", "legal_basis", "legal_basis_note", "transfers", "retention",
                  "security_measures", "owner_name")
ACTIVITY_LISTS = ("data_subjects", "personal_data", "recipients")


def _activity_form(row: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: row.get(k) or "" for k in ACTIVITY_TEXTS}
    for k in ACTIVITY_LISTS:
        values[k] = "\n".join(row.get(k) or [])
    values["modules"] = list(row.get("modules") or [])
    return values


class ActivityPages(PageController):
    path = "/privacy/activities"

    async def _form(self, request: Request[Any, Any, Any], user: Any, row: dict[str, Any] | None,
                    values: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        lang = language_of(request, user)
        facts = await services.system_processing(user.tenant_id)
        return await render(request, "privacy/activity_form.html",
                            {"a": row, "values": values, "errors": errors or {},
                             "bases": [(k, services._pick(v, lang)) for k, v in services.LEGAL_BASIS_LABELS.items()],
                             "modules": [(f.module, f.label) for f in facts.values()]},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], offset: Offset = 0) -> Response[Any]:
        user = _gdpr(await page_user(request))
        lang = language_of(request, user)
        total, rows = await services.list_activities(user.tenant_id, offset, PAGE)
        system = await services.system_processing(user.tenant_id)
        items = [services.activity_dict(r, system) for r in rows]
        return await render(request, "privacy/activities.html",
                            {"rows": items, "total": total, "offset": offset, "limit": PAGE,
                             "bases": {k: services._pick(v, lang) for k, v in services.LEGAL_BASIS_LABELS.items()},
                             "labels": {f.module: f.label for f in system.values()}}, user=user)

    @page_post("/prefill")
    async def prefill(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        await read_form(request)
        t = t_for(request, user)
        created, _skipped = await services.prefill(user.tenant_id, user.employee_id)
        added = t.gettext("Activities added: %(num)d. Fill in purpose and legal basis.") % {"num": len(created)}
        return redirect("/privacy/activities", added)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        return await self._form(request, user, None, {"modules": []})

    async def _save(self, request: Request[Any, Any, Any], activity_id: int | None) -> Response[Any]:
        from plugins.privacy.schemas import ActivityIn, ActivityPatch

        user = _gdpr(await page_user(request))
        lists = await read_form_lists(request)
        form = {k: v[-1] for k, v in lists.items()}
        t = t_for(request, user)
        row = await services.get_activity(user.tenant_id, activity_id) if activity_id else None
        values: dict[str, Any] = {k: form.get(k, "") for k in ACTIVITY_TEXTS}
        for k in ACTIVITY_LISTS:
            values[k] = _lines(form.get(k, ""))
        values["modules"] = [m for m in lists.get("modules", []) if m]
        shown = {**form, "modules": values["modules"]}
        data, errors = struct_from_form(ActivityPatch if row else ActivityIn, values, t)
        if data is not None:
            try:
                if row is None:
                    saved = await services.create_activity(user.tenant_id, user.employee_id, data)  # type: ignore[arg-type]
                else:
                    saved = await services.edit_activity(user.tenant_id, int(row["id"]), data)  # type: ignore[arg-type]
                return redirect(f"/privacy/activities#a-{saved['id']}", t.gettext("The processing activity is saved."))
            except REFUSED as exc:
                errors = _refused(exc, t)
        return await self._form(request, user, row, shown, errors, 400)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save(request, None)

    @page_get("/{activity_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], activity_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        row = services.activity_dict(await services.get_activity(user.tenant_id, activity_id))
        return await self._form(request, user, row, _activity_form(row))

    @page_post("/{activity_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], activity_id: FromPath[int]) -> Response[Any]:
        return await self._save(request, activity_id)

    @page_post("/{activity_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], activity_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        await read_form(request)
        t = t_for(request, user)
        await services.delete_activity(user.tenant_id, activity_id)
        return redirect("/privacy/activities", t.gettext("The processing activity is deleted."))


# --- incidents (article 33) -------------------------------------------------------------

INCIDENT_TEXTS = ("title", "description", "data_affected", "people_affected", "consequences", "measures",
                  "authority_decision", "authority_reason", "authority_reference", "subjects_decision",
                  "subjects_reason")
INCIDENT_TIMES = ("discovered_at", "occurred_at", "authority_notified_at", "subjects_notified_at")


def _incident_form(row: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: row.get(k) or "" for k in INCIDENT_TEXTS}
    for k in INCIDENT_TIMES:
        values[k] = _local(row.get(k))
    values["subjects_count"] = "" if row.get("subjects_count") is None else row["subjects_count"]
    return values


def _incident_values(form: dict[str, str], t: Any, editing: bool) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {k: form.get(k, "") for k in INCIDENT_TEXTS}
    values["title"] = values["title"].strip()
    for k in ("authority_decision", "subjects_decision"):
        if not values[k]:
            values.pop(k)  # not on the form: the default (pending), or left alone
    errors: dict[str, str] = {}
    clear: list[str] = []
    for k in INCIDENT_TIMES:
        raw = form.get(k, "").strip()
        if not raw:
            if k == "discovered_at" and not editing:
                errors[k] = t.gettext("Write the date and time as YYYY-MM-DD HH:MM.")
            elif k != "discovered_at":
                clear.append(k)
            continue
        try:
            values[k] = _instant(raw)
        except ValueError:
            errors[k] = t.gettext("Write the date and time as YYYY-MM-DD HH:MM.")
    count = form.get("subjects_count", "").strip()
    if count:
        if count.isdigit() and len(count) <= 10:
            values["subjects_count"] = int(count)
        else:
            errors["subjects_count"] = t.gettext("Write a whole number.")
    else:
        clear.append("subjects_count")
    if editing:
        values["clear"] = clear
    return values, errors


def _deadline_view(d: dict[str, Any]) -> dict[str, Any]:
    hours, minutes = divmod(round(abs(d["hours_left"]) * 60), 60)
    return {**d, "due_local": d["due_at"].astimezone(ZONE), "hours": hours, "minutes": minutes}


class IncidentPages(PageController):
    path = "/privacy/incidents"
    # the buttons of an incident's page, each one step of it (answered by _step)
    steps: ClassVar[Mapping[str, str]] = {
        "notify-authority": "authority", "notify-subjects": "subjects", "close": "close", "reopen": "reopen",
        "delete": "delete",
    }

    async def _form(self, request: Request[Any, Any, Any], user: Any, row: dict[str, Any] | None,
                    values: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        return await render(request, "privacy/incident_form.html",
                            {"i": row, "values": values, "errors": errors or {},
                             "decisions_t": [(k, t_for(request, user).gettext(v)) for k, v in DECISIONS.items()]},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], status: Choice = None, offset: Offset = 0) -> Response[Any]:
        user = _gdpr(await page_user(request))
        status = status if status in STATUSES else None
        total, rows = await services.list_incidents(user.tenant_id, offset, PAGE, status)
        items = [{**r, "deadline": _deadline_view(services.deadline(r))} for r in rows]
        fragment = (request.method == "GET" and request.headers.get("hx-request") == "true"
                    and not request.headers.get("hx-history-restore-request"))
        return await render(request, "privacy/incidents_results.html" if fragment else "privacy/incidents.html",
                            {"rows": items, "total": total, "offset": offset, "limit": PAGE, "status": status or "",
                             "statuses": STATUSES, "states": DEADLINE_STATES, "zone": ZONE}, user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        now = datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M")
        return await self._form(request, user, None, {"discovered_at": now, "authority_decision": "pending",
                                                      "subjects_decision": "pending"})

    async def _save(self, request: Request[Any, Any, Any], incident_id: int | None) -> Response[Any]:
        from plugins.privacy.schemas import IncidentIn, IncidentPatch

        user = _gdpr(await page_user(request))
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_incident(user.tenant_id, incident_id) if incident_id else None
        values, errors = _incident_values(form, t, row is not None)
        if not errors:
            data, errors = struct_from_form(IncidentPatch if row else IncidentIn, values, t)
            if data is not None:
                try:
                    if row is None:
                        saved = await services.create_incident(user.tenant_id, user.employee_id, data)  # type: ignore[arg-type]
                    else:
                        saved = await services.edit_incident(user.tenant_id, int(row["id"]), data)  # type: ignore[arg-type]
                    return redirect(f"/privacy/incidents/{saved['id']}", t.gettext("The incident is saved."))
                except REFUSED as exc:
                    errors = _refused(exc, t)
        return await self._form(request, user, row, form, errors, 400)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save(request, None)

    @page_get("/{incident_id:int}")
    async def show(self, request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        return await self._show(request, user, incident_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, incident_id: int,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        row = await services.get_incident(user.tenant_id, incident_id)
        return await render(request, "privacy/incident.html",
                            {"i": row, "deadline": _deadline_view(services.deadline(row)), "states": DEADLINE_STATES,
                             "decisions": DECISIONS, "statuses": STATUSES, "errors": errors or {},
                             "values": {}, "zone": ZONE}, status_code=status, user=user)

    @page_get("/{incident_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        row = await services.get_incident(user.tenant_id, incident_id)
        return await self._form(request, user, row, _incident_form(row))

    @page_post("/{incident_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
        return await self._save(request, incident_id)

    async def _step(self, request: Request[Any, Any, Any], incident_id: int, step: str) -> Response[Any]:
        from plugins.privacy.schemas import NotifyIn

        user = _gdpr(await page_user(request))
        form = await read_form(request)
        t = t_for(request, user)
        try:
            if step in ("authority", "subjects"):
                when = form.get("notified_at", "").strip()
                try:
                    at = _instant(when) if when else None
                except ValueError:
                    return await self._show(request, user, incident_id, {
                        f"{step}.notified_at": t.gettext("Write the date and time as YYYY-MM-DD HH:MM.")}, 400)
                data = NotifyIn(notified_at=at, reference=form.get("reference", "")[:100])
                await services.notify(user.tenant_id, incident_id, step, data)
                message = t.gettext("The notification is recorded.")
            elif step == "close":
                await services.close_incident(user.tenant_id, incident_id)
                message = t.gettext("The incident is closed.")
            elif step == "reopen":
                await services.reopen_incident(user.tenant_id, incident_id)
                message = t.gettext("The incident is open again.")
            else:
                await services.delete_incident(user.tenant_id, incident_id)
                return redirect("/privacy/incidents", t.gettext("The incident is deleted."))
        except REFUSED as exc:
            errors = _refused(exc, t)
            if step in ("authority", "subjects"):
                errors = {(f"{step}.notified_at" if k.endswith("notified_at") else k): v for k, v in errors.items()}
            return await self._show(request, user, incident_id, errors, getattr(exc, "status_code", 400))
        return redirect(f"/privacy/incidents/{incident_id}", message)


# --- GDPR contact persons ----------------------------------------------------------------

CONTACT_FIELDS = ("name", "role", "organization", "email", "phone", "notes", "employee_id")


class ContactPages(PageController):
    path = "/privacy/contacts"

    async def _page(self, request: Request[Any, Any, Any], user: Any, template: str, context: dict[str, Any],
                    status: int = 200) -> Response[Any]:
        from core.tables import Employee

        lang = language_of(request, user)
        employees = await Employee.select(Employee.id, Employee.name).where(
            (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null()).order_by(Employee.name)
        roles = [(k, services._pick(v, lang)) for k, v in services.ROLE_LABELS.items()]
        return await render(request, template, {"roles": roles, "role_names": dict(roles), "employees": employees,
                                                "errors": {}, "values": {"role": "contact"}, **context},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], offset: Offset = 0) -> Response[Any]:
        user = _gdpr(await page_user(request))
        total, rows = await services.list_contacts(user.tenant_id, offset, PAGE)
        return await self._page(request, user, "privacy/contacts.html",
                                {"rows": rows, "total": total, "offset": offset, "limit": PAGE})

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        return await self._page(request, user, "privacy/contact_form.html", {"c": None})

    async def _save(self, request: Request[Any, Any, Any], contact_id: int | None) -> Response[Any]:
        from plugins.privacy.schemas import ContactIn, ContactPatch

        user = _gdpr(await page_user(request))
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_contact(user.tenant_id, contact_id) if contact_id else None
        values: dict[str, Any] = {k: form.get(k, "") for k in CONTACT_FIELDS}
        values["employee_id"] = values["employee_id"].strip() or "0"
        for k in ("email", "phone"):
            if not values[k].strip() and row is None:
                values[k] = None
        data, errors = struct_from_form(ContactPatch if row else ContactIn, values, t, ints=("employee_id",))
        if data is not None:
            try:
                if row is None:
                    saved = await services.create_contact(user.tenant_id, data)  # type: ignore[arg-type]
                else:
                    saved = await services.edit_contact(user.tenant_id, int(row["id"]), data)  # type: ignore[arg-type]
                return redirect(f"/privacy/contacts#c-{saved['id']}", t.gettext("The contact person is saved."))
            except REFUSED as exc:
                errors = _refused(exc, t)
        return await self._page(request, user, "privacy/contact_form.html",
                                {"c": row, "values": form, "errors": errors}, 400)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save(request, None)

    @page_get("/{contact_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        row = await services.get_contact(user.tenant_id, contact_id)
        values = {k: ("" if row[k] is None else row[k]) for k in CONTACT_FIELDS}
        return await self._page(request, user, "privacy/contact_form.html", {"c": row, "values": values})

    @page_post("/{contact_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        return await self._save(request, contact_id)

    @page_post("/{contact_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
        user = _gdpr(await page_user(request))
        await read_form(request)
        t = t_for(request, user)
        await services.delete_contact(user.tenant_id, contact_id)
        return redirect("/privacy/contacts", t.gettext("The contact person is deleted."))


def pages() -> list[Any]:
    return [PrivacyPages, ActivityPages, IncidentPages, ContactPages]
