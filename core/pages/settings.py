"""Settings pages of the core: the settings start page, modules on and off, and
Settings > GDPR (the anonymization rule table with its preview and recent runs, the search
for personal data)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import QueryParameter

from core.db import atomic, utcnow
from core.errors import mark as _
from core.gdpr.registry import get_declarations
from core.gdpr.settings import effective_settings, retention_rows, save_settings, validate_changes
from core.gdpr.tables import GdprRun
from core.pages import (
    PageController,
    _page_paths,
    label,
    language_of,
    page_admin,
    page_get,
    page_post,
    read_form,
    read_form_lists,
    redirect,
    render,
    t_for,
    translations,
)
from core.pages.person_search import present
from core.pages.records import CLOCK_LABELS, MODE_LABELS, parse_rule_form, rule_rows
from core.plugins import get_host
from core.tenancy import enabled_modules, set_module_enabled
from core.validation import FieldError
from core.web import client_ip

Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]




TRIGGER_LABELS = {"sweep": _("Scheduled"), "immediate": _("Immediately"), "erasure": _("Erasure")}


async def _preview(tenant_id: int, overrides: dict[str, Any]) -> dict[str, int]:
    """Records each rule would anonymize now, with the proposed settings (nothing saved)."""
    from core.gdpr.engine import sweep

    decl = get_declarations()
    due: dict[str, int] = {}
    for plugin in decl.plugins_with_rules():
        for r in await sweep(tenant_id, plugin, dry_run=True, overrides=overrides):
            due[r.rule] = due.get(r.rule, 0) + int(r.records)
    return due


class SettingsPages(PageController):
    path = "/settings"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        lang = language_of(request, user)
        host = get_host()
        enabled = await enabled_modules(host, user.tenant_id)
        paths = _page_paths(request)
        module_settings = [
            {"href": f"/{name}/settings", "label": label(info, lang)}
            for name, info in host.modules().items()
            if name in enabled and f"/{name}/settings" in paths
        ]
        module_settings.sort(key=lambda m: m["label"].lower())
        return await render(
            request, "settings/index.html",
            {"module_settings": module_settings, "has": lambda p: p in paths}, user=user,
        )

    # --- modules on and off ---------------------------------------------------------------

    @page_get("/modules")
    async def modules(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        lang = language_of(request, user)
        host = get_host()
        enabled = await enabled_modules(host, user.tenant_id)
        rows = sorted(
            (
                {"name": n, "label": label(i, lang), "description": label(i, lang, "description"),
                 "enabled": n in enabled}
                for n, i in host.modules().items()
            ),
            key=lambda r: str(r["label"]).lower(),
        )
        return await render(request, "settings/modules.html", {"modules": rows}, user=user)

    @page_post("/modules")
    async def save_modules(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form_lists(request)
        t = t_for(request, user)
        host = get_host()
        wanted = set(form.get("enabled", []))
        enabled = await enabled_modules(host, user.tenant_id)
        for name in host.modules():
            if (name in wanted) != (name in enabled):
                await set_module_enabled(host, user.tenant_id, name, name in wanted)
        return redirect("/settings/modules", t.gettext("The settings are saved."))

    # --- GDPR > Anonymization ---------------------------------------------------------------

    async def _anonymization(
        self, request: Request[Any, Any, Any], user: Any, rules: list[dict[str, Any]] | None = None,
        errors: dict[str, str] | None = None, preview: dict[str, int] | None = None, status: int = 200,
    ) -> Response[Any]:
        lang = language_of(request, user)
        if rules is None:
            rules = rule_rows(await retention_rows(user.tenant_id), lang)
        runs = (
            await GdprRun.select()
            .where(GdprRun.tenant_id == user.tenant_id)
            .order_by(GdprRun.started_at, ascending=False)
            .order_by(GdprRun.id, ascending=False)
            .limit(20)
        )
        labels = {r["key"]: r["label"] for r in rules}
        return await render(
            request, "settings/anonymization.html",
            {"rules": rules, "mode_labels": MODE_LABELS, "clock_labels": CLOCK_LABELS,
             "errors": errors or {}, "preview": preview, "with_preview": True,
             "rules_action": "/settings/gdpr/anonymization", "runs": runs, "rule_labels": labels,
             "trigger_labels": TRIGGER_LABELS},
            status_code=status, user=user,
        )

    @page_get("/gdpr/anonymization")
    async def anonymization(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        return await self._anonymization(request, user)

    @page_post("/gdpr/anonymization")
    async def save_anonymization(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form_lists(request)
        t = t_for(request, user)
        lang = language_of(request, user)
        rows = await retention_rows(user.tenant_id)
        items, errors = parse_rule_form(form, rows, t)
        # Show the table as the person left it, changed values included.
        shown = rule_rows(rows, lang)
        for r in shown:
            if not r["fixed"]:
                r["mode"] = (form.get(f"mode.{r['key']}") or [r["mode"]])[-1]
                r["days"] = (form.get(f"days.{r['key']}") or [r["days"]])[-1]
        if errors:
            return await self._anonymization(request, user, shown, errors, status=400)
        decl = get_declarations()
        try:
            current = await effective_settings(user.tenant_id, decl)
            changes = validate_changes(decl, items, current)
        except FieldError as exc:
            return await self._anonymization(request, user, shown, {"_form": exc.message}, status=400)
        if (form.get("action") or ["save"])[-1] == "preview":
            due = await _preview(user.tenant_id, changes)
            return await self._anonymization(request, user, shown, preview=due)
        await save_settings(user.tenant_id, changes)
        return redirect("/settings/gdpr/anonymization", t.gettext("The settings are saved."))

    # --- GDPR > Overview ----------------------------------------------------------------------

    @page_get("/gdpr/overview")
    async def overview(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_gdpr(request)
        return await render(request, "settings/overview.html",
                            await overview_context(user.tenant_id, language_of(request, user)), user=user)

    @page_post("/gdpr/overview/sweep")
    async def sweep_now(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Run the organization's sweep now, as the schedule does, and say what it did."""
        from core.eventlog import log_event
        from core.gdpr.jobs import sweep_one_tenant

        user = await page_gdpr(request)
        await read_form(request)
        t = t_for(request, user)
        results = await sweep_one_tenant(user.tenant_id)
        done = sum(r.records for r in results)
        failed = sum(1 for r in results if r.outcome == "error")
        await log_event(user.tenant_id, user, "gdpr.sweep_now", plugin="core", ip=client_ip(request),
                        detail=f"records={done} failed_rules={failed}")
        if failed:
            message = t.gettext(
                "The sweep ran: %(n)s record(s) anonymized; rules that failed: %(failed)s (see the runs)."
            ) % {"n": done, "failed": failed}
        else:
            message = t.gettext("The sweep is done: %(n)s record(s) anonymized.") % {"n": done}
        return redirect("/settings/gdpr/overview", message)

    # --- GDPR > Search for data ---------------------------------------------------------------

    @page_get("/gdpr/search")
    async def search(self, request: Request[Any, Any, Any], q: Q = None, page: PageNo = 1) -> Response[Any]:
        user = await page_gdpr(request)
        lang = language_of(request, user)
        t = t_for(request, user)
        result: dict[str, Any] | None = None
        errors: dict[str, str] = {}
        if q and q.strip():
            try:
                from core.gdpr.search import search
            except ImportError:  # pragma: no cover  (the search index is not installed)
                errors["q"] = t.gettext("The search is not available in this installation.")
            else:
                from core.gdpr.search_routes import audit_lookup

                try:
                    result = await search(user.tenant_id, q.strip(), viewer=user,
                                          page=page, page_size=20, language=lang)
                except FieldError as exc:
                    errors["q"] = t.gettext(exc.message)
                else:
                    # Who searched and when, with a keyed hash of what (as the API does).
                    await audit_lookup(user, "gdpr.search", q, client_ip(request))
        found = await present(request, user.tenant_id, result, lang) if result is not None else []
        return await render(
            request, "settings/search.html",
            {"q": q or "", "result": result, "errors": errors, "modules_found": found,
             "values": {"q": q or ""}, "modules": get_host().modules(), "page": page},
            status_code=400 if errors else 200, user=user,
        )


    # --- GDPR > a data subject's export and erasure -----------------------------------------

    async def _subject(self, request: Request[Any, Any, Any], user: Any, values: dict[str, str],
                       errors: dict[str, str] | None = None, **extra: Any) -> Response[Any]:
        status = 400 if errors else 200
        return await render(request, "settings/subject.html",
                            {"values": values, "errors": errors or {}, **extra}, status_code=status, user=user)

    @page_get("/gdpr/subject")
    async def subject(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_gdpr(request)
        return await self._subject(request, user, {})

    @page_post("/gdpr/subject")
    async def subject_action(self, request: Request[Any, Any, Any]) -> Response[Any]:
        from core.eventlog import log_event
        from core.gdpr import subjects

        user = await page_gdpr(request)
        form = await read_form(request)
        t = t_for(request, user)
        values = {k: form.get(k, "")[:5000] for k in ("emails", "phones", "national_ids", "customer_numbers")}
        lines = {k: [x.strip() for x in v.replace(",", "\n").splitlines() if x.strip()][:50] for k, v in values.items()}
        numbers: list[int] = []
        for n in lines["customer_numbers"]:
            if not n.isdigit() or not 0 < int(n) < 2**31:
                not_numbers = t.gettext("Write whole numbers, one per line.")
                return await self._subject(request, user, values, {"customer_numbers": not_numbers})
            numbers.append(int(n))
        if not any(lines.values()):
            missing = t.gettext(
                "Give at least one e-mail address, phone number, personal identity number or customer number."
            )
            return await self._subject(request, user, values, {"emails": missing})
        try:
            ids = subjects.Identifiers.parse(lines["emails"], lines["phones"], lines["national_ids"], numbers)
        except FieldError as exc:
            field = (exc.field or "identifiers").split("[")[0]
            return await self._subject(request, user, values, {field: t.gettext(exc.message)})
        action = form.get("action", "preview")
        ip = client_ip(request)
        if action == "export":
            async with atomic():
                row = await subjects.create_export(
                    user.tenant_id, user.employee_id, ids, language=language_of(request, user)
                )
                await log_event(
                    user.tenant_id, user, "gdpr.subject_export", plugin="core", record_id=int(row["id"]), ip=ip
                )
            return await self._subject(request, user, values, export=row)
        dry_run = action != "erase"
        result = await subjects.erase(user.tenant_id, ids, dry_run=dry_run, language=language_of(request, user))
        event = "gdpr.subject_erasure_preview" if dry_run else "gdpr.subject_erasure"
        await log_event(user.tenant_id, user, event, plugin="core", ip=ip)
        return await self._subject(request, user, values, erasure=result)


async def overview_context(tenant_id: int, lang: str) -> dict[str, Any]:
    """The overview's charts (SVG) and the same numbers as tables, in ``lang``."""
    from babel.dates import format_date

    from core.gdpr.overview import due_per_month, panels, sweep_history
    from core.pages.charts import Series, bar_chart, colours

    t = translations(lang)
    locale = "sv_SE" if lang == "sv" else "en_GB"
    modules = get_host().modules()
    due = await due_per_month(tenant_id)
    names = [
        label(modules[m], lang) if m in modules else t.gettext("System") if m == "core" else m for m in due.modules
    ]
    months = [format_date(d, "LLL", locale=locale).rstrip(".") for d in due.months]
    month_names = [format_date(d, "LLLL y", locale=locale) for d in due.months]
    series = [Series(n, v, c) for n, v, c in zip(names, due.modules.values(), colours(len(names)), strict=True)]
    due_chart = bar_chart(
        chart_id="chart-due", title=t.gettext("Records to be anonymized per month"),
        description=t.gettext("Stacked bars per month for the next 12 months, one colour per module."),
        x_label=t.gettext("Month"), y_label=t.gettext("Records"), categories=months, series=series,
    )
    history = await sweep_history(tenant_id)
    days = [format_date(d.day, "d/M", locale=locale) for d in history]
    failed = [i for i, d in enumerate(history) if d.failures]
    history_chart = bar_chart(
        chart_id="chart-history", title=t.gettext("Anonymized records per day"),
        description=t.gettext("Bars per day for the last 30 days; a red triangle marks a day with a failed run."),
        x_label=t.gettext("Day"), y_label=t.gettext("Records"), categories=days,
        series=[Series(t.gettext("Anonymized"), [d.records for d in history], colours(1)[0])],
        marked=failed, mark_label=t.gettext("a run failed"), label_every=5,
    )
    found = await panels(tenant_id)
    return {
        "due": due, "due_chart": due_chart, "due_series": series, "month_names": month_names,
        "month_totals": [sum(v[i] for v in due.modules.values()) for i in range(len(due.months))],
        "history": history, "history_chart": history_chart,
        "history_days": [format_date(d.day, "d MMM y", locale=locale) for d in history],
        "panels": [
            {"key": p.key, "title": p.title_sv if lang == "sv" else p.title_en, "open": p.open_count,
             "link": p.link,
             "deadlines": [{"title": d.title_sv if lang == "sv" else d.title_en, "due_at": d.due_at,
                            "link": d.link, "passed": d.due_at < utcnow()} for d in p.deadlines[:10]]}
            for p in found
        ],
    }


async def page_gdpr(request: Request[Any, Any, Any]) -> Any:
    """An administrator, or a member of a group with the GDPR permission."""
    from core.pages import page_user

    user = await page_user(request)
    if not user.can("gdpr"):
        from litestar.exceptions import PermissionDeniedException

        raise PermissionDeniedException(
            "Only an administrator or a member of a group with the GDPR permission may do this."
        )
    return user


PAGES = [SettingsPages]
