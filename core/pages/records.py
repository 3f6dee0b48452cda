"""What every module's pages share: the activity thread of a record, the notice of what
anonymization follows a delete or a close, and the module's retention settings (the gear).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlencode

import msgspec
import msgspec.inspect
from babel.support import NullTranslations
from jinja2 import TemplateNotFound
from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.activity.service import (
    ACTIVITY_KINDS,
    NOT_WRITABLE,
    ActivityError,
    add_activity,
    list_activity,
    may_open,
)
from core.auth import SessionUser
from core.db import atomic, utcnow
from core.errors import Checks, GallraError
from core.errors import mark as _
from core.gdpr.registry import get_declarations
from core.gdpr.settings import RetentionIn, retention_rows, update_retention
from core.pages import (
    PageController,
    language_of,
    page_admin,
    page_get,
    page_post,
    page_user,
    read_form,
    read_form_lists,
    redirect,
    render,
    t_for,
)
from core.pages.formats import format_date
from core.pages.forms import REFUSED, error_of, struct_from_form
from core.pages.pickers import form_picks, party_names, party_of
from core.records import RecordService
from core.validation import FieldError

KIND_LABELS = {
    "comment": _("Comment"),
    "work_report": _("Work report"),
    "note": _("Note"),
    "conversation": _("Customer conversation"),
}
MODE_LABELS = {
    "immediately": _("Immediately"),
    "days": _("After a number of days"),
    "off": _("Never (off)"),
}
CUSTOMER_LABEL = _("Customer")
CONTACT_LABEL = _("Contact person")
CLOCK_LABELS = {
    "closed": _("closed"),
    "deleted": _("deleted"),
    "invoiced": _("invoiced"),
    "dated": _("dated"),
    "created": _("created"),
}


# --- activity ---------------------------------------------------------------------------


async def activity_of(tenant_id: int, plugin: str, record_type: str, record_id: int) -> list[dict]:
    _total, rows = await list_activity(tenant_id, plugin, record_type, record_id, limit=500)
    return rows


async def add_activity_from_form(
    user: SessionUser, plugin: str, record_type: str, record: dict, form: dict[str, str],
    t: NullTranslations,
) -> dict[str, str]:
    """Add the entry a person wrote; the errors to show beside the fields, if any.

    Asks the record type's ``can_open`` like the activity API (core.activity.may_open)."""
    if not await may_open(user, plugin, record_type, record, True):
        return {"body": t.gettext(NOT_WRITABLE)}
    if record.get("anonymized_at") is not None:
        return {"body": t.gettext("This record has been anonymized; nothing can be added to it.")}
    kind = form.get("kind", "comment")
    if kind not in ACTIVITY_KINDS:
        return {"kind": t.gettext("Choose what kind of entry this is.")}
    try:
        async with atomic():
            await add_activity(
                user.tenant_id, plugin, record_type, int(record["id"]), kind,
                form.get("body", ""), user.employee_id, user.name,
            )
    except ActivityError as exc:
        if exc.field == "body" and not form.get("body", "").strip():
            return {"body": t.gettext("Write something first.")}
        return {exc.field: t.gettext("At most 20,000 characters.")}
    return {}


# --- what follows a delete or a close ---------------------------------------------------


async def retention_notice(
    tenant_id: int, rule_key: str, t: NullTranslations, lang: str, since: datetime | None = None
) -> str:
    """One sentence saying what anonymization follows, and when, under the rule in force."""
    rows = {r.key: r for r in await retention_rows(tenant_id)}
    rule = rows.get(rule_key)
    if rule is None:
        return ""
    name = rule.label_sv if lang == "sv" else rule.label_en
    if rule.mode == "immediately":
        return t.gettext(
            "Anonymization follows at once (rule “%(rule)s”: immediately): the personal data "
            "is replaced and cannot be brought back."
        ) % {"rule": name}
    if rule.mode == "days":
        when = (since or utcnow()) + timedelta(days=rule.days)
        return t.ngettext(
            "The personal data will be anonymized %(days)s day later, on %(date)s (rule "
            "“%(rule)s”). Until then it can still be restored.",
            "The personal data will be anonymized %(days)s days later, on %(date)s (rule "
            "“%(rule)s”). Until then it can still be restored.",
            rule.days,
        ) % {"days": rule.days, "date": format_date(when, lang), "rule": name}
    return t.gettext(
        "No anonymization follows: the rule “%(rule)s” is off, so the data is kept. An "
        "administrator can change this under Settings > GDPR > Anonymization."
    ) % {"rule": name}


# --- the module's settings (gear icon) --------------------------------------------------


def rule_clears(lang: str) -> dict[str, tuple[list[str], bool]]:
    """What each rule clears, from the personal-data declarations: ``{rule key: (the
    labels of the fields it empties or replaces, whether it deletes whole rows)}``."""
    out: dict[str, tuple[list[str], bool]] = {}
    for f in get_declarations().fields:
        key = f.field.rule
        if not key:
            continue
        labels, _deletes = out.setdefault(key, ([], False))
        if f.field.strategy == "delete_row":
            out[key] = (labels, True)
            continue
        label = (f.field.label_en if lang == "en" else f.field.label_sv) or f.field.column
        if label not in labels:
            labels.append(label)
    return out


def rule_rows(rows: list[Any], lang: str) -> list[dict[str, Any]]:
    """The rule table's rows; ``clears`` names what the rule anonymizes and ``deletes``
    says it removes whole records (the rules table shows both beside the rule)."""
    clears = rule_clears(lang)
    return [
        {
            "key": r.key,
            "label": r.label_sv if lang == "sv" else r.label_en,
            "clock": r.clock,
            "allowed": r.allowed_modes,
            "fixed": r.fixed,
            "mode": r.mode,
            "days": r.days,
            "clears": ", ".join(clears.get(r.key, ([], False))[0]),
            "deletes": clears.get(r.key, ([], False))[1],
        }
        for r in rows
    ]


def parse_rule_form(
    form: dict[str, list[str]], rows: list[Any], t: NullTranslations
) -> tuple[list[RetentionIn], dict[str, str]]:
    """The rules' modes and days from a form (``mode.<key>``, ``days.<key>``), with the
    errors to show beside each row."""
    items: list[RetentionIn] = []
    errors: dict[str, str] = {}
    for r in rows:
        if r.fixed:
            continue
        mode = (form.get(f"mode.{r.key}") or [r.mode])[-1]
        raw_days = (form.get(f"days.{r.key}") or [str(r.days)])[-1].strip()
        if mode not in r.allowed_modes:
            errors[f"mode.{r.key}"] = t.gettext("Choose one of the listed modes.")
            continue
        try:
            days = int(raw_days)
        except ValueError:
            errors[f"days.{r.key}"] = t.gettext("Write a whole number of days.")
            continue
        if not 1 <= days <= 36500:
            errors[f"days.{r.key}"] = t.gettext("Write a number of days from 1 to 36500.")
            continue
        if mode != r.mode or days != r.days:
            items.append(RetentionIn(key=r.key, mode=mode, days=days))
    return items, errors


def module_settings_pages(module: str, back_label: str = "") -> type[PageController]:
    """``GET/POST /<module>/settings``: the module's retention rules, for its gear icon.
    Put it in the plugin's ``register_routes`` beside its pages."""

    async def _page(request: Request[Any, Any, Any], user: SessionUser, errors: dict[str, str] | None = None,
                    status: int = 200) -> Response[Any]:
        from core.pages import language_of

        lang = language_of(request, user)
        rows = await retention_rows(user.tenant_id, module)
        host = __import__("core.plugins", fromlist=["get_host"]).get_host()
        return await render(
            request,
            "module_settings.html",
            {
                "module": module,
                "module_label": host.plugin_label(module, lang),
                "rules": rule_rows(rows, lang),
                "mode_labels": MODE_LABELS,
                "clock_labels": CLOCK_LABELS,
                "errors": errors or {},
            },
            status_code=status,
            user=user,
        )

    class ModuleSettingsPages(PageController):
        path = f"/{module}/settings"

        @page_get("/", name=f"{module}-settings-page")
        async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
            return await _page(request, await page_admin(request))

        @page_post("/", name=f"{module}-settings-save")
        async def save(self, request: Request[Any, Any, Any]) -> Response[Any]:
            user = await page_admin(request)
            form = await read_form_lists(request)
            t = t_for(request, user)
            rows = await retention_rows(user.tenant_id, module)
            items, errors = parse_rule_form(form, rows, t)
            if errors:
                return await _page(request, user, errors, 400)
            try:
                await update_retention(user.tenant_id, items, module)
            except FieldError as exc:
                return await _page(request, user, {"_form": exc.message}, 400)
            return redirect(f"/{module}/settings", t.gettext("The settings are saved."))

    ModuleSettingsPages.__name__ = f"{module.title()}SettingsPages"
    return ModuleSettingsPages


def record_or_404(row: dict | None) -> dict:
    if row is None:
        raise NotFoundException("Not found.")
    return row


__all__ = [
    "KIND_LABELS",
    "Column",
    "Input",
    "ListFilter",
    "RecordPages",
    "Texts",
    "activity_of",
    "add_activity_from_form",
    "get_declarations",
    "module_settings_pages",
    "retention_notice",
]


# --- the common pages of a record (core.records) -----------------------------------------

RECORD_PAGE = 25


@dataclass(frozen=True)
class Texts:
    """The words of a record's generic pages (message ids, marked with ``_()`` where they
    are written so the plugin's catalog translates them). ``status_id`` is the id of the
    status badge on the detail page."""

    title: str  # the list ("Cases")
    one: str = ""  # one record, before its number ("Case")
    new: str = ""
    edit: str = ""
    delete: str = ""  # the delete page's title ("Delete case")
    delete_button: str = ""  # ("Delete the case")
    settings: str = ""  # the gear's label ("Settings for cases")
    search: str = ""  # the search field's label; empty: the list has no search field
    anonymized: str = ""
    deleted: str = ""
    status_id: str = ""


@dataclass(frozen=True)
class Column:
    """A column of the generic list (``records/list.html``): ``kind`` "link" links the value
    to the record, "date" shows a date (– when empty), "customer" the customer's name (and
    the contact person's) linked to the customer; ``choices`` labels the values. A spec
    naming a customer gets the "customer" column after the link without declaring it."""

    key: str
    label: str
    kind: str = "text"
    choices: Mapping[str, str] | None = None
    # The sort key of the header's link; None: ``key`` when the spec's ``sort`` offers it
    # ("" never sorts the column).
    sort: str | None = None


@dataclass(frozen=True)
class ListFilter:
    """A select above the generic list: ``?column=value``, one of ``choices`` (labels)."""

    column: str
    label: str
    choices: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Input:
    """A field of the generic form (``records/form.html``). ``type`` is an input type,
    "textarea", "select" (with ``choices``), "customer" or "contact" (the pickers of
    core.pages.pickers; the spec's ``customer_column`` and ``contact_column`` are always
    shown with them, whatever the plugin wrote); ``when`` is "always", "new" or "edit";
    consecutive inputs of one ``group`` share a fieldset
    with that legend."""

    name: str
    label: str = ""
    type: str = "text"
    required: bool = False
    maxlength: int | None = None
    hint: str | None = None
    attrs: str = ""
    choices: Mapping[str, str] | None = None
    when: str = "always"
    group: str = ""


# What most records' pages show the same way: the list's number, title, status and creation
# columns, the status filter above it, and the title field of the form.
TITLE_INPUT = Input("title", _("Title"), required=True, maxlength=200)
OPEN_CLOSED = {"open": _("Open"), "closed": _("Closed")}
"""The labels of a record's states when it is open or closed (and reopened)."""


ACTION_LABELS: Mapping[str, str] = {"close": _("Close"), "reopen": _("Reopen"), "end": _("End")}
"""The buttons of the record layer's state actions (a plugin adds its own, e.g. "void")."""


CREATED_COLUMN = Column("created_at", _("Created"), "date")


def record_columns(statuses: Mapping[str, str], *middle: Column,
                   dated: Column | None = CREATED_COLUMN) -> tuple[Column, ...]:
    """The list's columns: number, title (linking to the record), ``middle``, status
    (labelled by ``statuses``) and last the record's date that matters (``dated``: by
    default when it was made; an order's when it was invoiced; None: no date)."""
    return (
        Column("number", _("Number")),
        Column("title", _("Title"), "link"),
        *middle,
        Column("status", _("Status"), choices=statuses),
        *((dated,) if dated is not None else ()),
    )


def status_filter(statuses: Mapping[str, str]) -> ListFilter:
    """The select above the list that shows the records of one status."""
    return ListFilter("status", _("Status"), statuses)


def int_fields_of(schema: type[Any]) -> tuple[str, ...]:
    """The fields of a request shape that take a whole number (or none): a form sends them
    as text, which the generic pages read as numbers (``RecordPages.int_fields``)."""
    info = msgspec.inspect.type_info(schema)
    out = []
    for f in getattr(info, "fields", ()):
        kinds = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
        if any(isinstance(k, msgspec.inspect.IntType) for k in kinds):
            out.append(f.name)
    return tuple(out)


@lru_cache(maxsize=256)
def _has_template(host_id: int, name: str) -> bool:
    from core.pages import environment

    try:
        environment().get_template(name)
    except TemplateNotFound:
        return False
    return True


class RecordPages(PageController):
    """List, new, show, edit, close/reopen, delete and activity pages of one record spec.

    A plugin subclasses it with its service, templates and form handling, and overrides
    the ``*_context`` methods to add what its templates show (labels of choices, the
    customer's name). Everything a record page shares (tenant scope, 404, read-only
    deleted/anonymized records, the retention notice before a delete, activity, the event
    log through the service) is done here once. The pages are under the spec's ``path``.
    Templates live in ``<plugin>/templates/<template_dir>/`` (by default the plugin's
    name) as list.html, form.html, detail.html and delete.html and get the
    record as ``record_var`` (and as ``record``). A page without its own template uses
    core's ``records/<name>.html``, driven by ``texts`` (:class:`Texts`), ``columns``,
    ``list_filters``, ``inputs`` and ``statuses`` (the labels of the status column); a
    plugin's template may extend core's and fill its blocks. A subclass that states its
    ``statuses`` and no ``columns`` (or ``list_filters``) lists the usual columns
    (:func:`record_columns`, with its own ``more_columns`` before the status and its
    ``dated`` column last) with the status filter (:func:`status_filter`) and its own
    ``more_filters`` after it.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "service" in cls.__dict__:
            # The pages are where the spec says (its ``path``), their templates in the
            # plugin's own folder; a subclass states either only to differ.
            if "path" not in cls.__dict__:
                cls.path = cls.service.spec.path
            if "template_dir" not in cls.__dict__:
                cls.template_dir = cls.service.plugin
        if "schema_in" in cls.__dict__ and "int_fields" not in cls.__dict__:
            cls.int_fields = int_fields_of(cls.schema_in)
        if "statuses" in cls.__dict__:
            if "columns" not in cls.__dict__:
                cls.columns = record_columns(cls.statuses, *cls.more_columns, dated=cls.dated)
            if "list_filters" not in cls.__dict__:
                cls.list_filters = (status_filter(cls.statuses), *cls.more_filters)

    service: ClassVar[RecordService]
    template_dir: ClassVar[str]
    record_var: ClassVar[str] = "record"
    schema_in: ClassVar[type[Any]]
    schema_patch: ClassVar[type[Any]]
    form_fields: ClassVar[tuple[str, ...]] = ()
    # The form's whole-number fields (text in a form); by default those of ``schema_in``.
    int_fields: ClassVar[tuple[str, ...]] = ()
    saved: ClassVar[str] = _("Saved.")
    closed: ClassVar[str] = _("Closed.")
    reopened: ClassVar[str] = _("Open again.")
    deleted: ClassVar[str] = _("Deleted.")
    # A refused create or edit answers with the refusal's own status (409 for a record that
    # can no longer change) instead of 400.
    refusal_status: ClassVar[bool] = False
    texts: ClassVar[Texts] = Texts("")
    columns: ClassVar[tuple[Column, ...]] = ()
    list_filters: ClassVar[tuple[ListFilter, ...]] = ()
    # With ``statuses``: the record's own columns between its title and status, the date
    # column that ends the list, and its own filters after the status filter.
    more_columns: ClassVar[tuple[Column, ...]] = ()
    dated: ClassVar[Column | None] = CREATED_COLUMN
    more_filters: ClassVar[tuple[ListFilter, ...]] = ()
    inputs: ClassVar[tuple[Input, ...]] = ()
    statuses: ClassVar[Mapping[str, str]] = {}

    # The plugin's service functions ``create_record(tenant_id, employee_id, data)`` and
    # ``edit_record(tenant_id, record_id, data)``: by default the service's own (marked
    # ``@service.creates`` / ``@service.edits``, which the API calls too); else as
    # ``staticmethod(...)``, or override create_from / edit_from.
    # (Typed Any: a callable class attribute would read to mypy as a method taking self.)
    create_record: ClassVar[Any] = None
    edit_record: ClassVar[Any] = None
    # Reference fields (customer_id ...) whose 0 ("none") the edit form shows empty.
    blank_zero: ClassVar[tuple[str, ...]] = ()
    # The buttons of the state actions (``RecordSpec.actions_in``: only those the record's
    # state allows are shown); a route ``/{id}/<action>`` each.
    action_labels: ClassVar[Mapping[str, str]] = ACTION_LABELS

    # Fields the form sends several values of (a group of checkboxes): ``form_values`` gets
    # each as the list of its non-empty values, every other field as its last value.
    multi_fields: ClassVar[tuple[str, ...]] = ()

    # -- what a plugin overrides -------------------------------------------------------------
    def form_values(self, form: dict[str, Any], create: bool) -> dict[str, Any]:
        """The form's fields as the values the schema reads (blank ints left out). It may
        refuse what it cannot read (a time typed wrong) by raising :mod:`core.errors`
        refusals (:class:`~core.errors.Checks` for several): the form is shown again as
        typed, each message beside its field."""
        return {k: form.get(k, "") for k in self.form_fields}

    def field_checks(self, values: dict[str, Any]) -> None:
        """The checks of single fields (no database), raising every refusal together
        (:class:`core.errors.Checks`). Run on the form's values when the form's shape is
        refused, so the fields the service would refuse show their errors too instead of
        one at a time. By default the phones and e-mail addresses the spec declares
        (``Field`` category "phone" / "email"), checked as the services check them; a
        plugin with checks of its own overrides it."""
        from core.validation import normalize_email, normalize_phone

        kinds = {f.column: f.category for f in self.service.spec.fields}
        checks = Checks()
        for name, value in values.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if kinds.get(name) == "phone":
                checks(normalize_phone, value, name)
            elif kinds.get(name) == "email":
                checks(normalize_email, value, name)
        checks.done()

    def _all_errors(self, values: dict[str, Any], errors: dict[str, str], t: Any) -> dict[str, str]:
        try:
            self.field_checks(values)
        except GallraError as exc:
            for key, text in error_of(exc, t).items():
                errors.setdefault(key, text)
        return errors

    async def create_from(self, user: SessionUser, data: Any) -> dict[str, Any]:
        create = self.create_record or self.service.create_record
        if create is None:
            raise NotImplementedError
        return await create(user.tenant_id, user.employee_id, data)

    async def edit_from(self, user: SessionUser, record_id: int, data: Any) -> dict[str, Any]:
        edit = self.edit_record or self.service.edit_record
        if edit is None:
            raise NotImplementedError
        return await edit(user.tenant_id, record_id, data)

    async def list_context(self, user: SessionUser) -> dict[str, Any]:
        return {}

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        return {}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {}

    def edit_values(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: ("" if row.get(k) is None or (k in self.blank_zero and not row[k]) else row[k])
                for k in self.form_fields}

    def new_values(self, filters: dict[str, Any]) -> dict[str, Any]:
        """The new-record form's first values (the list's filters, e.g. its customer)."""
        return dict(filters)

    async def list_rows(self, request: Request[Any, Any, Any], user: SessionUser, offset: int, q: str,
                        filters: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """The list page's rows (a plugin may filter on more than the spec's filters);
        ``?deleted=true`` also lists deleted records (a list's "Show deleted" box)."""
        return await self.service.list(user.tenant_id, offset, RECORD_PAGE, q=q or None, filters=filters,
                                       sort=self.page_sort(request),
                                       include_deleted=self.listing_deleted(request))

    def page_sort(self, request: Request[Any, Any, Any]) -> str:
        """The list page's order: ``?sort=`` when the spec offers it, else its default (a
        page never refuses an old link)."""
        return self.service.sort_or_default((request.query_params.get("sort") or "")[:64] or None)

    def listing_deleted(self, request: Request[Any, Any, Any]) -> bool:
        return bool(self.service.spec.soft_delete) and request.query_params.get("deleted") in ("true", "1", "on")

    def deleted_message(self, row: dict[str, Any]) -> str:
        """What the list says after a delete (``row``: the deleted record, perhaps anonymized
        at once)."""
        return self.deleted

    # -- shared ----------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.service.spec.path

    def _template(self, name: str) -> str:
        """The plugin's own template, else core's generic ``records/<name>.html``."""
        from core.plugins import get_host

        own = f"{self.template_dir}/{name}.html"
        return own if _has_template(id(get_host()), own) else f"records/{name}.html"

    def _common(self, row: dict[str, Any] | None = None) -> dict[str, Any]:
        """What every generic template reads: the page's words and the spec's columns."""
        spec = self.service.spec
        context: dict[str, Any] = {
            "base": self.base, "texts": self.texts, "statuses": self.statuses,
            "title_column": spec.title_column, "number_column": spec.number_column,
            "status_column": spec.status_column, "closed_state": spec.closed_state,
        }
        if row is not None:
            context["record"] = row
            context[self.record_var] = row
        return context

    async def _read_form(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """The posted form: each field's last value, and the ``multi_fields`` as lists."""
        if not self.multi_fields:
            return await read_form(request)
        lists = await read_form_lists(request)
        form: dict[str, Any] = {k: v[-1] for k, v in lists.items() if v}
        form.update({k: [x for x in lists.get(k, []) if x] for k in self.multi_fields})
        return form

    def _values(self, form: dict[str, Any], create: bool) -> dict[str, Any]:
        """:meth:`form_values`, the spec's customer and contact person left empty meaning
        none: left out of a new record, 0 in a change (the picker was cleared)."""
        values = self.form_values(form, create)
        spec = self.service.spec
        for column in (spec.customer_column, spec.contact_column):
            if column and column in values and not str(values[column] or "").strip():
                values[column] = "" if create else "0"
        return values

    def form_inputs(self) -> tuple[Input, ...]:
        """The form's inputs, the spec's customer and contact references as pickers."""
        spec = self.service.spec
        out = []
        for i in self.inputs:
            if spec.customer_column and i.name == spec.customer_column:
                i = replace(i, type="customer", label=i.label if i.type == "customer" and i.label else CUSTOMER_LABEL)
            elif spec.contact_column and i.name == spec.contact_column:
                i = replace(i, type="contact", label=i.label if i.type == "contact" and i.label else CONTACT_LABEL)
            out.append(i)
        return tuple(out)

    def sort_headers(self, columns: tuple[Column, ...], current: str, base: str) -> dict[str, dict[str, str]]:
        """Per sortable column: the header link's ``href`` (the other direction when the list
        is sorted by it, else ascending) and, for the column sorted by, ``aria_sort``.
        ``base`` is the list's address with its search and filters ("/cases?q=x&")."""
        allowed = set(self.service.spec.sort)
        key, ascending = current.lstrip("-"), not current.startswith("-")
        out: dict[str, dict[str, str]] = {}
        for c in columns:
            name = c.sort if c.sort is not None else (c.key if c.kind != "customer" else "")
            if not name or name not in allowed:
                continue
            here = name == key
            target = f"-{name}" if here and ascending else name
            head = {"href": f"{base}{urlencode({'sort': target})}", "key": name}
            if here:
                head["aria_sort"] = "ascending" if ascending else "descending"
            out[c.key] = head
        return out

    def list_columns(self) -> tuple[Column, ...]:
        """The list's columns; a spec naming a customer shows it (by name) after the link."""
        spec = self.service.spec
        columns = self.columns
        if not spec.customer_column or any(c.kind == "customer" for c in columns):
            return columns
        at = next((n + 1 for n, c in enumerate(columns) if c.kind == "link"), len(columns))
        return (*columns[:at], Column(spec.customer_column, CUSTOMER_LABEL, "customer"), *columns[at:])

    async def _form(self, request: Request[Any, Any, Any], user: SessionUser, row: dict[str, Any] | None,
                    values: Mapping[str, Any], errors: dict[str, str] | None = None,
                    status: int = 200, refusal: Exception | None = None) -> Response[Any]:
        """The new or edit form, its customer and contact pickers filled from ``values``;
        ``errors`` in the form's order (the first gets the focus); ``refusal`` the service's
        refusal (a :class:`~core.errors.NeedsConfirmation` shows its warning and the box
        that confirms it)."""
        spec = self.service.spec
        inputs = self.form_inputs()
        shown = {i.name for i in inputs if i.when == "always" or (i.when == "edit") == (row is not None)}
        picks = await form_picks(
            user.tenant_id, values,
            spec.customer_column if spec.customer_column in shown else None,
            spec.contact_column if spec.contact_column in shown else None,
        )
        order = [i.name for i in inputs] + list(self.form_fields)
        place = {name: n for n, name in reversed(list(enumerate(order)))}
        errors = dict(sorted((errors or {}).items(), key=lambda kv: place.get(kv[0], len(place))))
        context = {**self._common(row), "inputs": inputs, "values": values, "errors": errors,
                   "refusal": refusal,
                   "picks": picks, "contact_field": spec.contact_column if spec.contact_column in shown else None,
                   **await self.form_context(user, row)}
        return await render(request, self._template("form"), context, status, user=user)

    def state_actions(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """``[(action, label)]``: the state actions the record's state allows (a draft quote
        closes or is voided, a closed one reopens), none for a deleted or anonymized one."""
        spec = self.service.spec
        if not spec.status_column or row.get("deleted_at") is not None or row.get("anonymized_at") is not None:
            return []
        return [(a, self.action_labels.get(a, a)) for a in spec.actions_in(row.get(spec.status_column))]

    async def _row(self, user: SessionUser, record_id: int, write: bool = False) -> dict[str, Any]:
        from core.routes.records import check_open

        row = await self.service.get(user.tenant_id, record_id)
        await check_open(self.service, user, row, write)
        return row

    def _filters(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """The spec's filters from the query string; a value that is not one of the
        choices (or not a whole number for an id) is ignored, as pages do."""
        spec = self.service.spec
        out: dict[str, Any] = {}
        for column in spec.filters:
            raw = (request.query_params.get(column) or "").strip()[:64]
            if not raw:
                continue
            if column.endswith("_id"):
                if raw.isdigit() and len(raw) <= 10 and int(raw) <= 2_147_483_647:
                    out[column] = int(raw)
                continue
            allowed = spec.choices_of(column)
            if allowed is None or raw in allowed:
                out[column] = raw
        return out

    async def _show(self, request: Request[Any, Any, Any], user: SessionUser, row: dict[str, Any],
                    errors: dict[str, str] | None = None, status: int = 200,
                    values: dict[str, str] | None = None) -> Response[Any]:
        """The record's page; ``errors`` and ``values`` of a form on it (a line) sent back."""
        spec = self.service.spec
        context = {
            **self._common(row),
            "editable": True,
            "values": values or {},
            "activity": await activity_of(user.tenant_id, self.service.plugin, spec.name, int(row["id"])),
            "kind_labels": KIND_LABELS,
            "errors": errors or {},
            "party": await party_of(user.tenant_id, row, spec.customer_column, spec.contact_column),
            "state_actions": self.state_actions(row),
            **await self.detail_context(user, row),
        }
        return await render(request, self._template("detail"), context, status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        q = (request.query_params.get("q") or "").strip()[:200]
        offset_raw = request.query_params.get("offset") or "0"
        offset = int(offset_raw) if offset_raw.isdigit() and len(offset_raw) <= 7 else 0
        filters = self._filters(request)
        total, rows = await self.list_rows(request, user, offset, q, filters)
        chosen = {f.column: raw if (raw := (request.query_params.get(f.column) or "")) in f.choices else ""
                  for f in self.list_filters}
        deleted = self.listing_deleted(request)
        pairs = ([("q", q)] if self.texts.search else []) + list(chosen.items())
        pairs += [(c, str(v)) for c, v in filters.items() if c not in chosen]
        pairs += [("deleted", "true")] if deleted else []
        pairs = [(k, v) for k, v in pairs if v]  # an empty search or filter says nothing
        sort = self.page_sort(request)
        query_base = f"{self.base}?{urlencode(pairs)}&" if pairs else f"{self.base}?"
        given_sort = [("sort", sort)] if request.query_params.get("sort") and sort else []
        columns = self.list_columns()
        context = {**self._common(), "rows": rows, "total": total, "offset": offset, "limit": RECORD_PAGE, "q": q,
                   "deleted": deleted, "sort": sort if given_sort else "",
                   "sort_headers": self.sort_headers(columns, sort, query_base),
                   **{c: filters.get(c, "") for c in self.service.spec.filters},
                   "columns": columns, "list_filters": self.list_filters, "chosen": chosen,
                   "names": await party_names(user.tenant_id, rows, self.service.spec.customer_column,
                                              self.service.spec.contact_column),
                   "contact_column": self.service.spec.contact_column,
                   "pager_base": f"{self.base}?{urlencode(pairs + given_sort)}&" if pairs or given_sort
                   else f"{self.base}?",
                   **await self.list_context(user)}
        return await render(request, self._template("list"), context, user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await self._form(request, user, None, self.new_values(self._filters(request)))

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await self._read_form(request)
        t = t_for(request, user)
        if form.get("_pick"):  # the pickers brought up to date (no JavaScript); nothing saved
            return await self._form(request, user, None, form)
        try:
            values = self._values(form, True)
        except GallraError as exc:
            return await self._form(request, user, None, form, error_of(exc, t), 400)
        data, errors = struct_from_form(self.schema_in, values, t, ints=self.int_fields)
        if data is None:
            errors = self._all_errors(values, errors, t)
        status = 400
        refusal = None
        if data is not None:
            try:
                row = await self.create_from(user, data)
                return redirect(f"{self.base}/{row['id']}", t.gettext(self.saved))
            except GallraError as exc:
                errors = error_of(exc, t)
                status = exc.status if self.refusal_status else 400
                refusal = exc
        return await self._form(request, user, None, form, errors, status, refusal)

    @page_get("/{record_id:int}")
    async def show(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, await self._row(user, record_id))

    @page_post("/{record_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await self._row(user, record_id)
        errors = await add_activity_from_form(user, self.service.plugin, self.service.spec.name, row, form, t)
        if errors:
            return await self._show(request, user, row, errors, 400)
        return redirect(f"{self.base}/{record_id}#activity-h")

    @page_get("/{record_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await self._row(user, record_id, write=True)
        return await self._form(request, user, row, self.edit_values(row))

    @page_post("/{record_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await self._read_form(request)
        t = t_for(request, user)
        row = await self._row(user, record_id, write=True)
        if form.get("_pick"):  # the pickers brought up to date (no JavaScript); nothing saved
            return await self._form(request, user, row, form)
        try:
            values = self._values(form, False)
        except GallraError as exc:
            return await self._form(request, user, row, form, error_of(exc, t), 400)
        data, errors = struct_from_form(self.schema_patch, values, t, ints=self.int_fields)
        if data is None:
            errors = self._all_errors(values, errors, t)
        status = 400
        refusal = None
        if data is not None:
            try:
                await self.edit_from(user, record_id, data)
                return redirect(f"{self.base}/{record_id}", t.gettext(self.saved))
            except GallraError as exc:
                errors = error_of(exc, t)
                status = exc.status if self.refusal_status else 400
                refusal = exc
        return await self._form(request, user, row, form, errors, status, refusal)

    async def _change(self, request: Request[Any, Any, Any], record_id: int, action: str) -> Response[Any]:
        change = getattr(self.service, action)
        return await self._act(request, record_id, lambda user: change(user.tenant_id, record_id),
                               self.closed if action == "close" else self.reopened)

    async def _posted(self, request: Request[Any, Any, Any], record_id: int, write: bool = True
                      ) -> tuple[SessionUser, dict[str, str], NullTranslations, dict[str, Any]]:
        """What a form posted on the record's page starts with: the user, the form, the
        page's translations and the record (one the user may change, with ``write``)."""
        user = await page_user(request)
        form = await read_form(request)
        return user, form, t_for(request, user), await self._row(user, record_id, write=write)

    async def _act(self, request: Request[Any, Any, Any], record_id: int,
                   do: Callable[[SessionUser], Awaitable[Any]], done: str, anchor: str = "") -> Response[Any]:
        """A button on the record's page (close, reopen, invoice, void): ``do(user)`` on a
        record the user may change, then back to the record (at ``anchor``) saying ``done``
        (a message id); a refusal shows the record's page with it, in its own status."""
        user, _form, t, row = await self._posted(request, record_id)
        try:
            await do(user)
        except GallraError as exc:
            return await self._show(request, user, row, error_of(exc, t), exc.status)
        return redirect(f"{self.base}/{record_id}{anchor}", t.gettext(done) if done else None)

    async def _add_part(self, request: Request[Any, Any, Any], user: SessionUser, record_id: int,
                        add: Callable[[], Awaitable[Any]] | None, errors: dict[str, str], form: Mapping[str, str],
                        anchor: str, done: str = "") -> Response[Any]:
        """A form on the record's page that adds a part (an order's line, an extra cost):
        when the form read well (``add`` given, no ``errors``), ``add()`` and back to the
        record at ``anchor`` saying ``done``; else, or when the service refuses, the record's
        page again with the errors beside the form's fields and what was typed (400)."""
        t = t_for(request, user)
        if add is not None and not errors:
            try:
                await add()
                return redirect(f"{self.base}/{record_id}{anchor}", t.gettext(done) if done else None)
            except REFUSED as exc:
                errors = error_of(exc, t)
        return await self._show(request, user, await self._row(user, record_id), errors, 400, values=dict(form))

    @page_post("/{record_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, record_id, "close")

    @page_post("/{record_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, record_id, "reopen")

    @page_get("/{record_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await self._row(user, record_id, write=True)
        key = self.service.spec.rule_for(row)
        notice = await retention_notice(user.tenant_id, key, t, language_of(request, user)) if key else ""
        return await render(request, self._template("delete"),
                            {**self._common(row), "notice": notice, **await self.detail_context(user, row)},
                            user=user)

    @page_post("/{record_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        await self._row(user, record_id, write=True)
        row = await self.service.delete(user.tenant_id, record_id)
        return redirect(self.base, t.gettext(self.deleted_message(row)))
