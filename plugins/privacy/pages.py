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
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from litestar import Request, Response

from core.auth import SessionUser
from core.errors import Checks, GallraError
from core.errors import mark as _
from core.pages import (
    PageController,
    language_of,
    page_get,
    page_post,
    page_user,
    read_form,
    redirect,
    render,
    t_for,
    translations,
)
from core.pages.forms import REFUSED, error_of
from core.pages.records import OPEN_CLOSED, RecordPages, Texts
from core.pages.routes import second_factor_context
from core.validation import FieldError
from plugins.privacy import schemas, services
from plugins.privacy.routes import GDPR_ONLY


class PrivacyPages(PageController):
    path = "/privacy"
    guards = (GDPR_ONLY,)

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
        user = await page_user(request)
        return await self._page(request, user)

    @page_post("/sign")
    async def sign(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
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


async def _labels(tenant_id: int, lang: str) -> dict[str, Any]:
    """The legal bases' and the modules' names, in the page's language."""
    system = await services.system_of(tenant_id)
    return {"bases": {k: services._pick(v, lang) for k, v in services.LEGAL_BASIS_LABELS.items()},
            "labels": {f.module: f.label for f in system.values()}}


class ActivityPages(RecordPages):
    """The record of processing activities: the record layer's pages, each activity checked
    against what its modules store, and the prefill from the modules."""

    service = services.ACTIVITIES
    template_dir = "privacy/activities"
    guards = (GDPR_ONLY,)
    record_var = "a"
    schema_in = schemas.ActivityIn
    schema_patch = schemas.ActivityPatch
    form_fields = (*ACTIVITY_TEXTS, *ACTIVITY_LISTS, "modules")
    multi_fields = ("modules",)
    saved = _("The processing activity is saved.")
    deleted = _("The processing activity is deleted.")
    texts = Texts(
        title=_("Processing activities"), one=_("Processing activity"), new=_("New processing activity"),
        edit=_("Edit processing activity"), delete=_("Delete the processing activity"),
        delete_button=_("Delete the processing activity"),
    )

    def form_values(self, form: dict[str, Any], create: bool) -> dict[str, Any]:
        values: dict[str, Any] = {k: form.get(k, "") for k in ACTIVITY_TEXTS}
        for k in ACTIVITY_LISTS:
            values[k] = _lines(form.get(k, ""))
        values["modules"] = form.get("modules", [])
        return values

    def edit_values(self, row: dict[str, Any]) -> dict[str, Any]:
        return _activity_form(services.activity_dict(row))

    async def list_rows(self, request: Request[Any, Any, Any], user: SessionUser, offset: int, q: str,
                        filters: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        total, rows = await super().list_rows(request, user, offset, q, filters)
        return total, [await services.activity_out(r) for r in rows]

    async def list_context(self, user: SessionUser) -> dict[str, Any]:
        return await _labels(user.tenant_id, user.language)

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        facts = await services.system_of(user.tenant_id)
        lang = user.language
        return {"a": row, "bases": [(k, services._pick(v, lang)) for k, v in services.LEGAL_BASIS_LABELS.items()],
                "modules": [(f.module, f.label) for f in facts.values()]}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {"a": await services.activity_out(row), **await _labels(user.tenant_id, user.language)}

    @page_post("/prefill")
    async def prefill(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        created, _skipped = await services.prefill(user.tenant_id, user.employee_id)
        added = t.gettext("Activities added: %(num)d. Fill in purpose and legal basis.") % {"num": len(created)}
        return redirect("/privacy/activities", added)


# --- incidents (article 33) -------------------------------------------------------------

INCIDENT_TEXTS = ("title", "description", "data_affected", "people_affected", "consequences", "measures",
                  "authority_decision", "authority_reason", "authority_reference", "subjects_decision",
                  "subjects_reason")
INCIDENT_TIMES = ("discovered_at", "occurred_at", "authority_notified_at", "subjects_notified_at")


def _bad_time(name: str) -> FieldError:
    return FieldError(name, "Write the date and time as YYYY-MM-DD HH:MM.", code="privacy.bad_time")


def _incident_form(row: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: row.get(k) or "" for k in INCIDENT_TEXTS}
    for k in INCIDENT_TIMES:
        values[k] = _local(row.get(k))
    values["subjects_count"] = "" if row.get("subjects_count") is None else row["subjects_count"]
    return values


def _incident_values(form: dict[str, Any], editing: bool) -> dict[str, Any]:
    """The form's values as the schema reads them; times typed wrong are refused together."""
    values: dict[str, Any] = {k: form.get(k, "") for k in INCIDENT_TEXTS}
    values["title"] = values["title"].strip()
    for k in ("authority_decision", "subjects_decision"):
        if not values[k]:
            values.pop(k)  # not on the form: the default (pending), or left alone
    checks = Checks()
    clear: list[str] = []
    for k in INCIDENT_TIMES:
        raw = form.get(k, "").strip()
        if not raw:
            if k == "discovered_at" and not editing:
                checks.add(_bad_time(k))
            elif k != "discovered_at":
                clear.append(k)
            continue
        try:
            values[k] = _instant(raw)
        except ValueError:
            checks.add(_bad_time(k))
    count = form.get("subjects_count", "").strip()
    if count:
        if count.isdigit() and len(count) <= 10:
            values["subjects_count"] = int(count)
        else:
            checks.add(FieldError("subjects_count", "Write a whole number.", code="privacy.bad_count"))
    else:
        clear.append("subjects_count")
    checks.done()
    if editing:
        values["clear"] = clear
    return values


def _deadline_view(d: dict[str, Any]) -> dict[str, Any]:
    hours, minutes = divmod(round(abs(d["hours_left"]) * 60), 60)
    return {**d, "due_local": d["due_at"].astimezone(ZONE), "hours": hours, "minutes": minutes}


class IncidentPages(RecordPages):
    """The breach log: the record layer's pages with the 72-hour deadline, and the steps
    that record the notifications."""

    service = services.INCIDENTS
    template_dir = "privacy/incidents"
    guards = (GDPR_ONLY,)
    record_var = "i"
    schema_in = schemas.IncidentIn
    schema_patch = schemas.IncidentPatch
    int_fields = ()  # subjects_count is read by _incident_values
    form_fields = (*INCIDENT_TEXTS, *INCIDENT_TIMES, "subjects_count")
    saved = _("The incident is saved.")
    closed = _("The incident is closed.")
    reopened = _("The incident is open again.")
    deleted = _("The incident is deleted.")
    statuses = OPEN_CLOSED
    texts = Texts(
        title=_("Incidents"), one=_("Incident"), new=_("Report an incident"), edit=_("Edit incident"),
        delete=_("Delete"), delete_button=_("Delete"), status_id="incident-status",
    )
    # the buttons of an incident's page that record a notification (answered by _step)
    steps: ClassVar[Mapping[str, str]] = {"notify-authority": "authority", "notify-subjects": "subjects"}

    def form_values(self, form: dict[str, Any], create: bool) -> dict[str, Any]:
        return _incident_values(form, not create)

    def edit_values(self, row: dict[str, Any]) -> dict[str, Any]:
        return _incident_form(row)

    def new_values(self, filters: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M")
        return {"discovered_at": now, "authority_decision": "pending", "subjects_decision": "pending"}

    async def list_rows(self, request: Request[Any, Any, Any], user: SessionUser, offset: int, q: str,
                        filters: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        total, rows = await super().list_rows(request, user, offset, q, filters)
        return total, [{**r, "deadline": _deadline_view(services.deadline(r))} for r in rows]

    async def list_context(self, user: SessionUser) -> dict[str, Any]:
        return {"states": DEADLINE_STATES, "zone": ZONE}

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        t = translations(user.language)
        return {"i": row, "decisions_t": [(k, t.gettext(v)) for k, v in DECISIONS.items()]}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {"deadline": _deadline_view(services.deadline(row)), "states": DEADLINE_STATES,
                "decisions": DECISIONS, "zone": ZONE}

    async def _step(self, request: Request[Any, Any, Any], record_id: int, step: str) -> Response[Any]:
        user, form, t, row = await self._posted(request, record_id)
        key = f"{step}.notified_at"
        when = form.get("notified_at", "").strip()
        try:
            at = _instant(when) if when else None
        except ValueError:
            bad = t.gettext("Write the date and time as YYYY-MM-DD HH:MM.")
            return await self._show(request, user, row, {key: bad}, 400)
        try:
            await services.notify(user.tenant_id, record_id, step,
                                  schemas.NotifyIn(notified_at=at, reference=form.get("reference", "")[:100]))
        except GallraError as exc:
            errors = {(key if k.endswith("notified_at") else k): v for k, v in error_of(exc, t).items()}
            return await self._show(request, user, row, errors, exc.status)
        return redirect(f"{self.base}/{record_id}", t.gettext("The notification is recorded."))


# --- GDPR contact persons ----------------------------------------------------------------

CONTACT_FIELDS = ("name", "role", "organization", "email", "phone", "notes", "employee_id")


class ContactPages(RecordPages):
    """The data-protection officer and the other GDPR contacts: the record layer's pages."""

    service = services.CONTACTS
    template_dir = "privacy/contacts"
    guards = (GDPR_ONLY,)
    record_var = "c"
    schema_in = schemas.ContactIn
    schema_patch = schemas.ContactPatch
    form_fields = CONTACT_FIELDS
    saved = _("The contact person is saved.")
    deleted = _("The contact person is deleted.")
    texts = Texts(
        title=_("GDPR contact persons"), one=_("GDPR contact person"), new=_("New contact person"),
        edit=_("Edit contact person"), delete=_("Delete"), delete_button=_("Delete"),
    )

    def form_values(self, form: dict[str, Any], create: bool) -> dict[str, Any]:
        values: dict[str, Any] = {k: form.get(k, "") for k in CONTACT_FIELDS}
        values["employee_id"] = values["employee_id"].strip() or "0"
        for k in ("email", "phone"):
            if not values[k].strip() and create:
                values[k] = None
        return values

    async def _roles(self, user: SessionUser) -> dict[str, Any]:
        roles = [(k, services._pick(v, user.language)) for k, v in services.ROLE_LABELS.items()]
        return {"roles": roles, "role_names": dict(roles)}

    async def list_context(self, user: SessionUser) -> dict[str, Any]:
        return await self._roles(user)

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return await self._roles(user)

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        from core.tables import Employee

        employees = await Employee.select(Employee.id, Employee.name).where(
            (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null()).order_by(Employee.name)
        return {"c": row, "employees": employees, **await self._roles(user)}

    def new_values(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"role": "contact"}


def pages() -> list[Any]:
    return [PrivacyPages, ActivityPages, IncidentPages, ContactPages]
