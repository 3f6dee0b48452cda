"""The page a customer opens from the quote's e-mail: the quote, and accepting it (with an
SMS code when the organization switched on "Quotes – SMS authentication"). The link's token
is the key; no login. Built on :mod:`plugins.quotes.services`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath, PathParameter, QueryParameter

from core.errors import GallraError
from core.pages import PageController, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.pickers import customer_name
from core.pages.routes import second_factor_context
from core.routes.records import Offset
from core.web import client_ip
from plugins.quotes import services

REFUSED = (GallraError, ClientException)  # a service's refusal, shown on the page

PUBLIC = {"public": True}
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]


def _(message: str) -> str:
    return message


MESSAGES = [
    _("Only a draft or sent quote can be changed."),
    _("This quote is deleted and cannot be changed."),
    _("This quote link is not valid."),
    _("This quote is already accepted."),
    _("This quote can no longer be accepted (it is closed or past its validity date)."),
    _("write the name of the person accepting the quote"),
    _("This quote was accepted or changed a moment ago; reload it."),
]
STATUSES = {"sent": _("Waiting for your answer"), "accepted": _("Accepted"), "declined": _("Declined"),
            "closed": _("Closed")}


class PublicQuotePages(PageController):
    path = "/quotes/public"

    async def _show(self, request: Request[Any, Any, Any], token: str, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        row, organization, lines = await services.view_public(token, client_ip(request))
        quote = services.quote_out(row, lines)
        return await render(
            request, "quotes/public.html",
            {"q": quote, "organization": organization, "lines": lines, "token": token,
             "can_accept": services.can_accept(row), "statuses": STATUSES,
             "errors": errors or {}, "values": values or {}},
            status_code=status, user=None,
        )

    @page_get("/{token:str}", opt=PUBLIC)
    async def show(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        return await self._show(request, token)

    @page_post("/{token:str}/accept", opt=PUBLIC)
    async def accept(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {"name": form.get("name", "")[:200], "email": form.get("email", "")[:254]}
        try:
            outcome, value = await services.accept_public(
                token, values["name"], values["email"], form.get("challenge_id") or None,
                request.headers.get("user-agent", ""),
            )
        except REFUSED as exc:
            return await self._show(request, token, error_of(exc, t), values,
                                    getattr(exc, "status_code", 400))
        if outcome == "second_factor_required":
            return await render(request, "second_factor.html", second_factor_context(
                value, f"/quotes/public/{token}/accept", values, "sign", t.gettext("Accept the quote"),
            ), user=None)
        return redirect(f"/quotes/public/{token}", t.gettext("Thank you: the quote is accepted."))


# --- the organization's side -----------------------------------------------------------

STATUS_LABELS = {"draft": _("Draft"), "sent": _("Sent"), "accepted": _("Accepted"), "declined": _("Declined"),
                 "closed": _("Closed"), "voided": _("Voided")}
PAGE = 25
Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]
FIELDS = ("title", "description", "customer_id", "contact_person_id", "valid_until")


def _quote_values(form: dict[str, str], create: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in FIELDS}
    values["description"] = form.get("description", "")
    for k in ("customer_id", "contact_person_id"):
        if not values[k]:
            values[k] = "" if create else "0"
    if not values["valid_until"]:
        values.pop("valid_until")
    return values


class QuotePages(PageController):
    path = "/quotes"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], q: Q = None, status: Choice = None,
                    offset: Offset = 0) -> Response[Any]:
        user = await page_user(request)
        total, rows = await services.QUOTES.list(
            user.tenant_id, offset, PAGE, q=q,
            filters={"status": status if status in STATUS_LABELS else None},
        )
        return await render(request, "quotes/list.html",
                            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "q": q or "",
                             "status": status if status in STATUS_LABELS else "", "statuses": STATUS_LABELS},
                            user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await render(request, "quotes/form.html", {"values": {}}, user=user)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        from plugins.quotes.schemas import QuoteIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(QuoteIn, _quote_values(form, True), t, ints=("customer_id", "contact_person_id"))
        if data is not None:
            try:
                out = await services.create_quote(user.tenant_id, data)
                return redirect(f"/quotes/{out.id}", t.gettext("The quote is saved."))
            except REFUSED as exc:
                errors = error_of(exc, t)
        return await render(request, "quotes/form.html", {"values": form, "errors": errors}, 400, user=user)

    @page_get("/{quote_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        quote = await services.load_out(user.tenant_id, quote_id)
        values = {k: ("" if getattr(quote, k) is None else getattr(quote, k)) for k in FIELDS}
        for k in ("customer_id", "contact_person_id"):
            values[k] = values[k] or ""
        errors = {}
        if quote.status not in services.EDITABLE or quote.deleted_at is not None:
            errors = {"_form": t_for(request, user).gettext("Only a draft or sent quote can be changed.")}
        return await render(request, "quotes/form.html",
                            {"q": quote, "values": values, "errors": errors,
                             "customer_name": await customer_name(user.tenant_id, quote.customer_id)}, user=user)

    @page_post("/{quote_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        from plugins.quotes.schemas import QuotePatch

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        quote = await services.load_out(user.tenant_id, quote_id)
        values = _quote_values(form, False)
        if "valid_until" not in values:
            values["clear_valid_until"] = True
        data, errors = struct_from_form(QuotePatch, values, t, ints=("customer_id", "contact_person_id"))
        status = 400
        if quote.status not in services.EDITABLE or quote.deleted_at is not None:
            data, errors, status = None, {"_form": t.gettext("Only a draft or sent quote can be changed.")}, 409
        if data is not None:
            try:
                await services.update_quote(user.tenant_id, quote_id, data)
                return redirect(f"/quotes/{quote_id}", t.gettext("The quote is saved."))
            except REFUSED as exc:
                errors = error_of(exc, t)
                status = getattr(exc, "status_code", 400)
        return await render(request, "quotes/form.html", {"q": quote, "values": form, "errors": errors}, status,
                            user=user)

    @page_get("/{quote_id:int}")
    async def show(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, quote_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, quote_id: int,
                    errors: dict[str, str] | None = None, status: int = 200,
                    values: dict[str, str] | None = None) -> Response[Any]:
        from core.pages.records import KIND_LABELS, activity_of
        from plugins.quotes import gdpr

        quote = await services.load_out(user.tenant_id, quote_id)
        return await render(request, "quotes/detail.html",
                            {"q": quote, "statuses": STATUS_LABELS, "errors": errors or {}, "values": values or {},
                             "editable": quote.status in services.EDITABLE and quote.deleted_at is None,
                             "activity": await activity_of(user.tenant_id, "quotes", gdpr.RECORD_TYPE, quote_id),
                             "kind_labels": KIND_LABELS}, status_code=status, user=user)

    @page_post("/{quote_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        from core.pages.records import add_activity_from_form
        from plugins.quotes import gdpr

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.QUOTES.get(user.tenant_id, quote_id)
        errors = await add_activity_from_form(user, "quotes", gdpr.RECORD_TYPE, row, form, t)
        if errors:
            return await self._show(request, user, quote_id, errors, 400)
        return redirect(f"/quotes/{quote_id}#activity-h")

    @page_post("/{quote_id:int}/lines")
    async def add_line(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        from decimal import Decimal, InvalidOperation

        from plugins.quotes.schemas import LineIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        errors: dict[str, str] = {}
        numbers: dict[str, Decimal] = {}
        for k in ("quantity", "unit_price"):
            try:
                numbers[k] = Decimal(form.get(k, "").strip().replace(",", ".").replace(" ", ""))
            except InvalidOperation:
                errors[k] = t.gettext("Write a number, like 12.5.")
        if not form.get("description", "").strip():
            errors["description"] = t.gettext("This must not be empty.")
        if not errors:
            try:
                await services.add_line(user.tenant_id, quote_id, LineIn(
                    description=form["description"].strip()[:2000], quantity=numbers["quantity"],
                    unit_price=numbers["unit_price"]))
                return redirect(f"/quotes/{quote_id}#lines-h")
            except REFUSED as exc:
                errors = error_of(exc, t)
        return await self._show(request, user, quote_id, errors, 400, form)

    @page_post("/{quote_id:int}/lines/{line_id:int}/delete")
    async def delete_line(self, request: Request[Any, Any, Any], quote_id: FromPath[int], line_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        await services.load_out(user.tenant_id, quote_id)
        try:
            await services.delete_line(user.tenant_id, line_id)
        except REFUSED as exc:
            return await self._show(request, user, quote_id, error_of(exc, t), exc.status_code)
        return redirect(f"/quotes/{quote_id}#lines-h")

    @page_post("/{quote_id:int}/send")
    async def send(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        try:
            await services.send_quote(user.tenant_id, quote_id, form.get("email", "")[:254], form.get("message", "")[:2000])
        except REFUSED as exc:
            errors = error_of(exc, t)
            if "email" not in errors and "_form" not in errors:
                errors = {"_form": next(iter(errors.values()))}
            return await self._show(request, user, quote_id, errors, getattr(exc, "status_code", 400), form)
        return redirect(f"/quotes/{quote_id}", t.gettext("The quote is sent."))

    async def _step(self, request: Request[Any, Any, Any], quote_id: int, step: str) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        fn = {"close": services.close_quote, "void": services.void_quote, "reopen": services.reopen_quote,
              "delete": services.delete_quote}[step]
        try:
            await fn(user.tenant_id, quote_id)
        except REFUSED as exc:
            return await self._show(request, user, quote_id, error_of(exc, t), exc.status_code)
        if step == "delete":
            return redirect("/quotes", t.gettext("The quote is deleted."))
        return redirect(f"/quotes/{quote_id}", t.gettext("The quote is saved."))

    @page_post("/{quote_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, quote_id, "close")

    @page_post("/{quote_id:int}/void")
    async def void(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, quote_id, "void")

    @page_post("/{quote_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, quote_id, "reopen")

    @page_get("/{quote_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        from core.pages import language_of
        from core.pages.records import retention_notice
        from plugins.quotes import gdpr

        user = await page_user(request)
        t = t_for(request, user)
        quote = await services.load_out(user.tenant_id, quote_id)
        notice = await retention_notice(user.tenant_id, gdpr.RULE, t, language_of(request, user))
        return await render(request, "quotes/delete.html", {"q": quote, "notice": notice}, user=user)

    @page_post("/{quote_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], quote_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, quote_id, "delete")


def pages() -> list[Any]:
    from core.pages.records import module_settings_pages

    return [PublicQuotePages, QuotePages, module_settings_pages("quotes")]
