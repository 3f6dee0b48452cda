"""Pages of cases and service cases: the record layer's list, create, edit, close/reopen,
delete (saying what anonymization follows and when) and activity pages, plus the module's
settings (gear). The customer and contact person are picked and named by the record pages
(core.pages.pickers), so this plugin never knows the customer register.
"""

from __future__ import annotations

from typing import Any

from core.auth import SessionUser
from core.errors import mark as _
from core.pages.records import OPEN_CLOSED, TITLE_INPUT, Column, Input, ListFilter, RecordPages, Texts
from plugins.cases import services
from plugins.cases.schemas import CaseIn, CasePatch

KINDS = {"case": _("Case"), "service": _("Service case")}
TEXT = ("title", "end_customer_name", "end_customer_address", "end_customer_phone", "end_customer_email")


class CasePages(RecordPages):
    service = services.CASES
    record_var = "c"
    schema_in = CaseIn
    schema_patch = CasePatch
    form_fields = ("title", "kind", "number", "description", "customer_id", "contact_person_id", *TEXT[1:])
    saved = _("The case is saved.")
    closed = _("The case is closed.")
    reopened = _("The case is open again.")
    deleted = _("The case is deleted.")
    texts = Texts(
        title=_("Cases"), one=_("Case"), new=_("New case"), edit=_("Edit case"), delete=_("Delete case"),
        delete_button=_("Delete the case"), settings=_("Settings for cases"), search=_("Search by title or number"),
        anonymized=_("This case is anonymized."), deleted=_("This case is deleted."), status_id="case-status",
    )
    statuses = OPEN_CLOSED
    more_columns = (Column("kind", _("Kind"), choices=KINDS),)
    more_filters = (ListFilter("kind", _("Kind"), KINDS),)
    inputs = (
        TITLE_INPUT,
        Input("kind", _("Kind"), "select", choices=KINDS),
        Input("number", _("Case number"), "number", hint=_("Leave empty to get the next free number."),
              attrs='min="1"'),
        Input("description", _("Description"), "textarea", maxlength=20000),
        Input("customer_id", type="customer", group=_("Customer")),
        Input("contact_person_id", type="contact", group=_("Customer")),
        Input("end_customer_name", _("Name"), maxlength=200, group=_("End customer")),
        Input("end_customer_address", _("Address"), maxlength=400, group=_("End customer")),
        Input("end_customer_phone", _("Phone"), "tel", maxlength=40, group=_("End customer")),
        Input("end_customer_email", _("E-mail"), "email", maxlength=254, group=_("End customer")),
    )

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        values: dict[str, Any] = {k: form.get(k, "") for k in self.form_fields}
        for k in TEXT:
            values[k] = values[k].strip()
        if create:
            for k in ("end_customer_phone", "end_customer_email"):
                values[k] = values[k] or None
        return values

    def new_values(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "case", "customer_id": filters.get("customer_id", "")}

    def edit_values(self, row: dict[str, Any]) -> dict[str, Any]:
        values = super().edit_values(row)
        values["customer_id"] = values.get("customer_id") or ""
        return values

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {"kinds": KINDS}


def pages() -> list[Any]:
    return [CasePages]
