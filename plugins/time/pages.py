"""Time pages: a person's time reports and expenses (an administrator sees everyone's),
with a date filter, adding and deleting; deviations (sick, child care, vacation...) with
create, edit and delete; the schedule (everyone reads it, an administrator plans it); and
the module's settings. Built on :mod:`plugins.time.services`, which decides who sees and
changes what, exactly as for the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from core.errors import GallraError
from core.errors import mark as _
from core.listing import Offset
from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.records import retention_notice
from core.records import RecordService
from core.validation import FieldError
from plugins.time import services
from plugins.time.schemas import DeviationIn, DeviationPatch, ExpenseIn, ExpensePatch, TimeReportIn, TimeReportPatch

DateQ = Annotated[str | None, QueryParameter(required=False, max_length=10)]
KINDS = {"reports": services.REPORTS, "expenses": services.EXPENSES}




MESSAGES: list[str] = []


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _index(request: Request[Any, Any, Any], user: Any, errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, date_from: str | None = None,
                 date_to: str | None = None, status: int = 200) -> Response[Any]:
    """The person's time reports and expenses (an administrator: everyone's) of a period."""
    start, end = _day(date_from), _day(date_to)
    lists = {}
    for key, service in KINDS.items():
        where = services.period(service, user, {"date_from": start, "date_to": end})
        lists[key] = (await service.list(user.tenant_id, 0, 200, where=where))[1]
    return await render(request, "time/index.html",
                        {"reports": lists["reports"], "expenses": lists["expenses"], "errors": errors or {},
                         "values": values or {"date": date.today().isoformat()},
                         "date_from": date_from or "", "date_to": date_to or ""},
                        status_code=status, user=user)


class TimePages(PageController):
    path = "/time"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], date_from: DateQ = None,
                    date_to: DateQ = None) -> Response[Any]:
        return await _index(request, await page_user(request), date_from=date_from, date_to=date_to)


# --- one entry: edit, delete (time reports, expenses, deviations) --------------------------


async def _employees(tenant_id: int) -> list[dict[str, Any]]:
    from core.tables import Employee

    return await Employee.select(Employee._meta.primary_key, Employee.name).where(
        (Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null()
    ).order_by(Employee.name)


class EntryPages(PageController):
    """``/{id}/edit`` and ``/{id}/delete`` (with what anonymization follows) of one kind of
    entry, after time's own check that it is the person's own (:func:`services.open_entry`)."""

    service: ClassVar[RecordService]
    schema_patch: ClassVar[type[Any]]
    back: ClassVar[str]
    form_template: ClassVar[str] = "time/entry_form.html"
    fields: ClassVar[tuple[str, ...]]
    saved: ClassVar[str] = _("Saved.")
    deleted: ClassVar[str] = _("Deleted.")
    edit_title: ClassVar[str]
    delete_title: ClassVar[str]

    def form_values(self, form: dict[str, str], user: Any) -> dict[str, Any]:
        values: dict[str, Any] = {k: form.get(k, "") for k in self.fields}
        for k in ("date", "hours", "amount", "work_reference", "description", "kind"):
            if k in values:
                values[k] = values[k].strip().replace(",", ".") if k in ("hours", "amount") else values[k].strip()
        # An administrator records for anyone; an employee for themselves.
        employee = form.get("employee_id", "").strip() if user.is_admin else ""
        values["employee_id"] = employee or str(user.employee_id)
        return values

    async def _form(self, request: Request[Any, Any, Any], user: Any, row: dict[str, Any], values: dict[str, Any],
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        return await render(request, self.form_template,
                            {"d": row, "values": values, "errors": errors or {}, "kinds": DEVIATION_KINDS,
                             "base": self.path, "back": self.back, "fields": self.fields, "heading": self.edit_title,
                             "employees": await _employees(user.tenant_id)}, status, user=user)

    @page_get("/{record_id:int}")
    async def show(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        """Where person search links an entry: its form, or its list once it is history."""
        user = await page_user(request)
        row = await services.open_entry(self.service, user, record_id, write=False)
        history = row["deleted_at"] is not None or row["anonymized_at"] is not None
        return redirect(self.back if history else f"{self.path}/{record_id}/edit")

    @page_get("/{record_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.open_entry(self.service, user, record_id, write=True)
        return await self._form(request, user, row, row)

    @page_post("/{record_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.open_entry(self.service, user, record_id, write=True)
        data, errors = struct_from_form(self.schema_patch, self.form_values(form, user), t, ints=("employee_id",))
        if data is not None:
            try:
                await services.edit_entry(self.service, user, record_id, data)
                return redirect(self.back, t.gettext(self.saved))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await self._form(request, user, row, form, errors, 400)

    @page_get("/{record_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await services.open_entry(self.service, user, record_id, write=False)
        key = self.service.spec.rule_for(row)
        notice = await retention_notice(user.tenant_id, key, t, language_of(request, user)) if key else ""
        return await render(request, "time/delete.html",
                            {"d": row, "notice": notice, "base": self.path, "back": self.back,
                             "heading": self.delete_title}, user=user)

    @page_post("/{record_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        await services.delete_entry(self.service, user, record_id)
        return redirect(self.back, t.gettext(self.deleted))


class DayEntryPages(EntryPages):
    """A time report or an expense: added from the form under its list on /time."""

    kind: ClassVar[str]

    @page_post("/")
    async def add(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        kind = self.kind
        errors: dict[str, str] = {}
        day = _day(form.get("date", "").strip())
        if day is None:
            errors["date"] = t.gettext("Write the date as YYYY-MM-DD.")
        # a decimal comma is fine; core.validation.decimal_value checks the number
        number = form.get("hours" if kind == "reports" else "amount", "").strip().replace(",", ".")
        if not errors:
            try:
                data: TimeReportIn | ExpenseIn
                if kind == "reports":
                    data = TimeReportIn(employee_id=user.employee_id, date=day, hours=number,  # type: ignore[arg-type]
                                        work_reference=form.get("work_reference", "")[:200],
                                        comment=form.get("comment", "")[:5000])
                else:
                    data = ExpenseIn(employee_id=user.employee_id, date=day, amount=number,  # type: ignore[arg-type]
                                     description=form.get("description", "")[:2000])
                await services.create_entry(self.service, user, data)
                return redirect(self.back, t.gettext(self.saved))
            except GallraError as exc:
                errors = error_of(exc, t)
        # Beside the field of the form that was sent (both lists have a date field).
        return await _index(request, user, {f"{kind}.{k}": v for k, v in errors.items()}, form, status=400)


class ReportPages(DayEntryPages):
    path = "/time/reports"
    kind = "reports"
    service = services.REPORTS
    schema_patch = TimeReportPatch
    back = "/time#reports"
    fields = ("date", "hours", "work_reference", "comment")
    edit_title = _("Edit time report")
    delete_title = _("Delete time report")


class ExpensePages(DayEntryPages):
    path = "/time/expenses"
    kind = "expenses"
    service = services.EXPENSES
    schema_patch = ExpensePatch
    back = "/time#expenses"
    fields = ("date", "amount", "description")
    edit_title = _("Edit expense")
    delete_title = _("Delete expense")


# --- deviations ----------------------------------------------------------------------

DEVIATION_KINDS = {"sick": _("Sick"), "child_care": _("Care of a sick child"), "vacation": _("Vacation"),
                   "leave": _("Leave"), "other": _("Other")}
KindQ = Annotated[str | None, QueryParameter(required=False, max_length=20)]
EmployeeQ = Annotated[int | None, QueryParameter(required=False, ge=1, le=2_147_483_647)]
PAGE = 50
MESSAGES += [_("must be after starts_at"), _("a shift is at most 24 hours"), _("Write the time as HH:MM.")]


def _filter_error(exc: FieldError, t: Any) -> dict[str, str]:
    return {"date_to" if exc.field == "date_to" else "_form": t.gettext(exc.message)}


class DeviationPages(EntryPages):
    path = "/time/deviations"
    service = services.DEVIATIONS
    schema_patch = DeviationPatch
    back = "/time/deviations"
    form_template = "time/deviation_form.html"
    fields = ("date", "kind", "comment")
    saved = _("The deviation is saved.")
    deleted = _("The deviation is deleted.")
    edit_title = _("Edit deviation")
    delete_title = _("Delete deviation")

    async def _list(self, request: Request[Any, Any, Any], user: Any, *, date_from: str | None = None,
                    date_to: str | None = None, kind: str | None = None, employee_id: int | None = None,
                    offset: int = 0, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    status: int = 200) -> Response[Any]:
        t = t_for(request, user)
        errors = dict(errors or {})
        kind = kind if kind in DEVIATION_KINDS else None
        rows: list[dict[str, Any]] = []
        total = 0
        try:
            where = services.period(services.DEVIATIONS, user, {
                "employee_id": employee_id if user.is_admin else None,
                "date_from": _day(date_from), "date_to": _day(date_to),
            })
            total, rows = await services.DEVIATIONS.list(user.tenant_id, offset, PAGE, filters={"kind": kind},
                                                        where=where)
        except FieldError as exc:
            errors.update(_filter_error(exc, t))
            status = 400
        employees = await _employees(user.tenant_id)
        names = {int(e["id"]): e["name"] for e in employees}
        context = {
            "rows": rows, "total": total, "offset": offset, "limit": PAGE, "kinds": DEVIATION_KINDS,
            "names": names, "employees": employees, "date_from": date_from or "", "date_to": date_to or "",
            "kind": kind or "", "employee_id": employee_id or "", "errors": errors,
            "values": values or {"date": date.today().isoformat(), "kind": "sick", "employee_id": user.employee_id},
        }
        fragment = (request.method == "GET" and request.headers.get("hx-request") == "true"
                    and not request.headers.get("hx-history-restore-request"))
        return await render(request, "time/deviations_results.html" if fragment else "time/deviations.html",
                            context, status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], date_from: DateQ = None, date_to: DateQ = None,
                    kind: KindQ = None, employee_id: EmployeeQ = None, offset: Offset = 0) -> Response[Any]:
        user = await page_user(request)
        return await self._list(request, user, date_from=date_from, date_to=date_to, kind=kind,
                                employee_id=employee_id, offset=offset)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(DeviationIn, self.form_values(form, user), t, ints=("employee_id",))
        if data is not None:
            try:
                await services.create_entry(services.DEVIATIONS, user, data)
                return redirect(self.back, t.gettext(self.saved))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await self._list(request, user, errors=errors, values=form, status=400)


# --- the schedule ---------------------------------------------------------------------

ZONE = ZoneInfo("Europe/Stockholm")
WEEK_MOST = 10_000  # shifts of one week on one page: all of them


def _week_of(value: str | None) -> date:
    day = _day(value) or date.today()
    return day - timedelta(days=day.weekday())


def _clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value.strip()) if value and len(value.strip()) <= 8 else None
    except ValueError:
        return None


def _shift_times(form: dict[str, str], t: Any) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """A shift's start and end from a date and two clock times (Swedish time); an end at or
    before the start is the next day (a night shift)."""
    errors: dict[str, str] = {}
    day = _day(form.get("date", "").strip())
    start, end = _clock(form.get("start", "")), _clock(form.get("end", ""))
    if day is None:
        errors["date"] = t.gettext("Write the date as YYYY-MM-DD.")
    if start is None:
        errors["start"] = t.gettext("Write the time as HH:MM.")
    if end is None:
        errors["end"] = t.gettext("Write the time as HH:MM.")
    if errors:
        return None, None, errors
    starts_at = datetime.combine(day, start, tzinfo=ZONE)  # type: ignore[arg-type]
    ends_at = datetime.combine(day, end, tzinfo=ZONE)  # type: ignore[arg-type]
    if ends_at <= starts_at:
        ends_at = datetime.combine(day + timedelta(days=1), end, tzinfo=ZONE)  # type: ignore[arg-type,operator]
    return starts_at, ends_at, {}


_SHIFT_FIELDS = {"starts_at": "start", "ends_at": "end", "employee_id": "employee_id", "note": "note"}


def _shift_form(row: dict[str, Any]) -> dict[str, Any]:
    starts, ends = row["starts_at"].astimezone(ZONE), row["ends_at"].astimezone(ZONE)
    return {"employee_id": row["employee_id"], "date": starts.date().isoformat(),
            "start": starts.strftime("%H:%M"), "end": ends.strftime("%H:%M"), "note": row["note"]}


class SchedulePages(PageController):
    path = "/time/schedule"

    async def _week(self, request: Request[Any, Any, Any], user: Any, week: date,
                    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    status: int = 200) -> Response[Any]:
        from plugins.time.tables import Shift

        start = datetime.combine(week, time.min, tzinfo=ZONE)
        end = start + timedelta(days=7)
        window = (Shift.ends_at > start) & (Shift.starts_at < end)
        _total, rows = await services.SHIFTS.list(user.tenant_id, 0, WEEK_MOST, where=window)
        employees = await _employees(user.tenant_id)
        names = {int(e["id"]): e["name"] for e in employees}
        days = []
        for n in range(7):
            day = week + timedelta(days=n)
            shifts = [
                {**r, "start": r["starts_at"].astimezone(ZONE), "end": r["ends_at"].astimezone(ZONE)}
                for r in rows if r["starts_at"].astimezone(ZONE).date() == day
            ]
            days.append((day, shifts))
        return await render(request, "time/schedule.html",
                            {"week": week, "days": days, "names": names, "employees": employees,
                             "previous": week - timedelta(days=7), "next": week + timedelta(days=7),
                             "errors": errors or {},
                             "values": values or {"date": week.isoformat(), "start": "07:00", "end": "16:00"}},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], week: DateQ = None) -> Response[Any]:
        user = await page_user(request)
        return await self._week(request, user, _week_of(week))

    async def _save(self, request: Request[Any, Any, Any], shift_id: int | None) -> Response[Any]:
        from plugins.time.schemas import ShiftIn, ShiftPatch

        user = await page_user(request)
        form = await read_form(request)
        services.check_planner(user)
        t = t_for(request, user)
        row = None
        if shift_id is not None:
            row = await services.SHIFTS.get(user.tenant_id, shift_id)
        starts_at, ends_at, errors = _shift_times(form, t)
        employee = form.get("employee_id", "").strip()
        if not employee.isdigit() or not 1 <= int(employee) <= 2_147_483_647:
            errors["employee_id"] = t.gettext("Choose an employee.")
        if not errors:
            note = form.get("note", "")
            try:
                if shift_id is None:
                    data = ShiftIn(employee_id=int(employee), starts_at=starts_at, ends_at=ends_at,  # type: ignore[arg-type]
                                   note=note[:500])
                    await services.create_shift(user, data)
                else:
                    patch = ShiftPatch(employee_id=int(employee), starts_at=starts_at, ends_at=ends_at, note=note[:500])
                    await services.edit_shift(user, shift_id, patch)
                week = _week_of(starts_at.date().isoformat())  # type: ignore[union-attr]
                return redirect(f"/time/schedule?week={week.isoformat()}", t.gettext("The schedule is saved."))
            except GallraError as exc:
                errors = {_SHIFT_FIELDS.get(k, k): v for k, v in error_of(exc, t).items()}
        if row is not None:
            employees = await _employees(user.tenant_id)
            return await render(request, "time/shift_form.html",
                                {"s": row, "values": form, "errors": errors, "employees": employees}, 400, user=user)
        return await self._week(request, user, _week_of(form.get("date")), errors, form, 400)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save(request, None)

    @page_get("/{shift_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], shift_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        services.check_planner(user)
        row = await services.SHIFTS.get(user.tenant_id, shift_id)
        return await render(request, "time/shift_form.html",
                            {"s": row, "values": _shift_form(row), "employees": await _employees(user.tenant_id)},
                            user=user)

    @page_post("/{shift_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], shift_id: FromPath[int]) -> Response[Any]:
        return await self._save(request, shift_id)

    @page_post("/{shift_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], shift_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        services.check_planner(user)
        t = t_for(request, user)
        row = await services.delete_shift(user, shift_id)
        week = _week_of(row["starts_at"].astimezone(ZONE).date().isoformat())
        return redirect(f"/time/schedule?week={week.isoformat()}", t.gettext("The shift is deleted."))


def pages() -> list[Any]:
    return [TimePages, ReportPages, ExpensePages, DeviationPages, SchedulePages]
