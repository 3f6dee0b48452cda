"""What every module's pages share: the activity thread of a record, the notice of what
anonymization follows a delete or a close, and the module's retention settings (the gear).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.support import NullTranslations
from litestar import Request, Response
from litestar.exceptions import NotFoundException

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
from core.gdpr.registry import get_declarations
from core.gdpr.settings import RetentionIn, retention_rows, update_retention
from core.pages import (
    PageController,
    label,
    page_admin,
    page_get,
    page_post,
    read_form_lists,
    redirect,
    render,
    t_for,
)
from core.validation import FieldError


def _(message: str) -> str:
    return message


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
        return t.gettext(
            "The personal data will be anonymized %(days)s days later, on %(date)s (rule "
            "“%(rule)s”). Until then it can still be restored."
        ) % {"days": rule.days, "date": when.date().isoformat(), "rule": name}
    return t.gettext(
        "No anonymization follows: the rule “%(rule)s” is off, so the data is kept. An "
        "administrator can change this under Settings > GDPR > Anonymization."
    ) % {"rule": name}


# --- the module's settings (gear icon) --------------------------------------------------


def rule_rows(rows: list[Any], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "label": r.label_sv if lang == "sv" else r.label_en,
            "clock": r.clock,
            "allowed": r.allowed_modes,
            "fixed": r.fixed,
            "mode": r.mode,
            "days": r.days,
        }
        for r in rows
    ]


def parse_rule_form(form: dict[str, list[str]], rows: list[Any], t: NullTranslations) -> tuple[list[RetentionIn], dict[str, str]]:
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
        info = __import__("core.plugins", fromlist=["get_host"]).get_host().modules().get(module)
        return await render(
            request,
            "module_settings.html",
            {
                "module": module,
                "module_label": label(info, lang) if info else module,
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
    "activity_of",
    "add_activity_from_form",
    "get_declarations",
    "module_settings_pages",
    "retention_notice",
]
