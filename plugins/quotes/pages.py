"""The quote pages: the organization's (the record layer's list, new, show, edit, close,
reopen, delete and activity pages, with the quote's lines, sending and voiding), and the
page a customer opens from the quote's e-mail: the quote, and accepting it (with an SMS
code when the organization switched on "Quotes – SMS authentication"). The link's token is
the key; no login. Built on :mod:`plugins.quotes.services`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import mark as _
from core.pages import page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import REFUSED, error_of
from core.pages.records import ACTION_LABELS, TITLE_INPUT, Input, RecordPages, Texts
from core.pages.signing import link_sign_pages
from core.web import client_ip
from plugins.quotes import services
from plugins.quotes.schemas import LineIn, QuoteIn, QuotePatch

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


async def _show_public(request: Request[Any, Any, Any], token: str, errors: dict[str, str] | None = None,
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


PublicQuotePages = link_sign_pages("/quotes/public", "accept", services.accept_public, _show_public,
                                   _("Accept the quote"), _("Thank you: the quote is accepted."))


# --- the organization's side -----------------------------------------------------------

STATUS_LABELS = {"draft": _("Draft"), "sent": _("Sent"), "accepted": _("Accepted"), "declined": _("Declined"),
                 "closed": _("Closed"), "voided": _("Voided")}


NOT_EDITABLE = _("Only a draft or sent quote can be changed.")


def _editable(row: dict[str, Any]) -> bool:
    return row["status"] in services.EDITABLE and row["deleted_at"] is None


class QuotePages(RecordPages):
    """The record layer's quote pages (list, new, show, edit, close, reopen, delete,
    activity) with the quote's lines and total, and its own steps: lines, send, void."""

    service = services.QUOTES
    record_var = "q"
    schema_in = QuoteIn
    schema_patch = QuotePatch
    form_fields = ("title", "description", "customer_id", "contact_person_id", "valid_until")
    saved = _("The quote is saved.")
    closed = _("The quote is saved.")
    reopened = _("The quote is saved.")
    deleted = _("The quote is deleted.")
    refusal_status = True
    texts = Texts(
        title=_("Quotes"), one=_("Quote"), new=_("New quote"), edit=_("Edit quote"), delete=_("Delete quote"),
        delete_button=_("Delete the quote"), settings=_("Settings for quotes"), search=_("Search by title"),
        anonymized=_("This quote is anonymized."), deleted=_("This quote is deleted."), status_id="quote-status",
    )
    statuses = STATUS_LABELS
    action_labels: ClassVar[Mapping[str, str]] = {**ACTION_LABELS, "void": _("Void")}
    inputs = (
        TITLE_INPUT,
        Input("description", _("Description"), "textarea"),
        Input("customer_id", type="customer"),
        Input("contact_person_id", type="contact"),
        Input("valid_until", _("Valid until"), "date", when="new"),
        Input("valid_until", _("Valid until"), "date", hint=_("Empty for no date."), when="edit"),
    )
    blank_zero = ("customer_id", "contact_person_id")

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        values: dict[str, Any] = {k: form.get(k, "").strip() for k in self.form_fields}
        values["description"] = form.get("description", "")
        if not values["valid_until"]:
            values.pop("valid_until")
            if not create:
                values["clear_valid_until"] = True
        return values

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"form_notice": "" if _editable(row) else NOT_EDITABLE}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {"q": await services.output(row), "editable": _editable(row)}

    async def _refused(self, request: Request[Any, Any, Any], user: SessionUser, record_id: int,
                       exc: Exception, values: dict[str, str] | None = None) -> Response[Any]:
        errors = error_of(exc, t_for(request, user))
        return await self._show(request, user, await self._row(user, record_id), errors,
                                getattr(exc, "status_code", 400), values)

    @page_post("/{record_id:int}/lines")
    async def add_line(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user, form, t, _row = await self._posted(request, record_id)
        errors: dict[str, str] = {}
        numbers: dict[str, Decimal] = {}
        for k in ("quantity", "unit_price"):
            try:
                numbers[k] = Decimal(form.get(k, "").strip().replace(",", ".").replace(" ", ""))
            except InvalidOperation:
                errors[k] = t.gettext("Write a number, like 12.5.")
        if not form.get("description", "").strip():
            errors["description"] = t.gettext("This must not be empty.")
        add = None if errors else lambda: services.add_line(user.tenant_id, record_id, LineIn(
            description=form["description"].strip()[:2000], quantity=numbers["quantity"],
            unit_price=numbers["unit_price"]))
        return await self._add_part(request, user, record_id, add, errors, form, "#lines-h")

    @page_post("/{record_id:int}/lines/{line_id:int}/delete")
    async def delete_line(self, request: Request[Any, Any, Any], record_id: FromPath[int],
                          line_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        await self._row(user, record_id, write=True)
        try:
            await services.delete_line(user.tenant_id, line_id)
        except REFUSED as exc:
            return await self._refused(request, user, record_id, exc)
        return redirect(f"/quotes/{record_id}#lines-h")

    @page_post("/{record_id:int}/send")
    async def send(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user, form, t, _row = await self._posted(request, record_id)
        try:
            await services.send_quote(user.tenant_id, record_id, form.get("email", "")[:254],
                                      form.get("message", "")[:2000])
        except REFUSED as exc:
            errors = error_of(exc, t)
            if "email" not in errors and "_form" not in errors:
                errors = {"_form": next(iter(errors.values()))}
            return await self._show(request, user, await self._row(user, record_id), errors,
                                    getattr(exc, "status_code", 400), form)
        return redirect(f"/quotes/{record_id}", t.gettext("The quote is sent."))

    @page_post("/{record_id:int}/void")
    async def void(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        return await self._act(request, record_id, lambda user: services.void_quote(user.tenant_id, record_id),
                               _("The quote is saved."))


def pages() -> list[Any]:
    return [PublicQuotePages, QuotePages]
