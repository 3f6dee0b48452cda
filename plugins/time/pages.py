"""Time pages: a person's time reports and expenses (an administrator sees everyone's),
with a date filter, adding and deleting, and the module's settings. Built on
:mod:`plugins.time.services`, which decides who sees and changes what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath, QueryParameter

from core.pages import PageController, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.records import module_settings_pages
from core.validation import FieldError
from plugins.time import services
from plugins.time.schemas import ExpenseIn, TimeReportIn
from plugins.time.tables import Expense, TimeReport

DateQ = Annotated[str | None, QueryParameter(required=False, max_length=10)]
KINDS = {"reports": (TimeReport, "Time report"), "expenses": (Expense, "Expense")}


def _(message: str) -> str:
    return message


MESSAGES = [_("Time report"), _("Expense")]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class TimePages(PageController):
    path = "/time"

    async def _page(self, request: Request[Any, Any, Any], user: Any, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, date_from: str | None = None,
                    date_to: str | None = None, status: int = 200) -> Response[Any]:
        start, end = _day(date_from), _day(date_to)
        lists = {}
        for key, (table, _what) in KINDS.items():
            where = services.list_where(table, user, employee_id=None, date_from=start, date_to=end)
            lists[key] = (await services.page(table, where, 0, 200))[1]
        return await render(request, "time/index.html",
                            {"reports": lists["reports"], "expenses": lists["expenses"], "errors": errors or {},
                             "values": values or {"date": date.today().isoformat()},
                             "date_from": date_from or "", "date_to": date_to or ""},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], date_from: DateQ = None, date_to: DateQ = None) -> Response[Any]:
        user = await page_user(request)
        return await self._page(request, user, date_from=date_from, date_to=date_to)

    @page_post("/{kind:str}")
    async def add(self, request: Request[Any, Any, Any], kind: FromPath[str]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        if kind not in KINDS:
            from litestar.exceptions import NotFoundException

            raise NotFoundException("No such list.")
        errors: dict[str, str] = {}
        day = _day(form.get("date", "").strip())
        if day is None:
            errors["date"] = t.gettext("Write the date as YYYY-MM-DD.")
        number_field = "hours" if kind == "reports" else "amount"
        try:
            number = Decimal(form.get(number_field, "").strip().replace(",", "."))
        except InvalidOperation:
            errors[number_field] = t.gettext("Write a number, like 12.5.")
        if not errors:
            try:
                if kind == "reports":
                    data = TimeReportIn(employee_id=user.employee_id, date=day, hours=number,  # type: ignore[arg-type]
                                        work_reference=form.get("work_reference", "")[:200],
                                        comment=form.get("comment", "")[:5000])
                    await services.create(TimeReport, user, services.report_values(data, False))
                else:
                    data = ExpenseIn(employee_id=user.employee_id, date=day, amount=number,  # type: ignore[arg-type]
                                     description=form.get("description", "")[:2000])
                    await services.create(Expense, user, services.expense_values(data, False))
                return redirect(f"/time#{kind}", t.gettext("Saved."))
            except (FieldError, ClientException) as exc:
                errors = error_of(exc, t)
        # Beside the field of the form that was sent (both lists have a date field).
        shown = {f"{kind}.{'date' if k == 'dated_at' else k}": v for k, v in errors.items()}
        return await self._page(request, user, shown, form, status=400)

    @page_post("/{kind:str}/{record_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], kind: FromPath[str], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        if kind not in KINDS:
            from litestar.exceptions import NotFoundException

            raise NotFoundException("No such list.")
        table, what = KINDS[kind]
        await services.soft_delete(table, user, record_id, what)
        return redirect(f"/time#{kind}", t.gettext("Deleted."))


def pages() -> list[Any]:
    return [TimePages, module_settings_pages("time")]
