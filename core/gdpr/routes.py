"""Settings > GDPR: retention rules, the anonymization word, previews, the audit of runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Router, get, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK
from piccolo.custom_types import Combinable

from core.db import atomic
from core.gdpr.engine import sweep
from core.gdpr.registry import get_declarations
from core.gdpr.settings import (
    RetentionIn,
    RetentionList,
    RetentionOut,
    effective_settings,
    retention_rows,
    update_retention,
    validate_changes,
)
from core.gdpr.tables import GdprRun
from core.listing import Limit, Offset, Page, Sort, UpdatedSince, changed_since
from core.tables import Tenant
from core.validation import FieldError
from core.web import AuthUser

MAX_WORD = 40


class GdprSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    anonymization_word: Annotated[str, msgspec.Meta(max_length=200)]


class GdprSettingsOut(msgspec.Struct):
    anonymization_word: str
    language: str


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    settings: RetentionList = []


class PreviewRow(msgspec.Struct):
    plugin: str
    rule: str
    mode: str
    days: int
    due: int


class RunOut(msgspec.Struct):
    id: int
    plugin: str
    rule: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    records: int
    outcome: str
    error: str


class RunPage(Page):
    items: list[RunOut]


RUN_SORT = Sort("id", "started_at", "finished_at", "records", default="-started_at")


class FieldOut(msgspec.Struct):
    plugin: str
    table: str
    column: str
    category: str
    strategy: str
    rule: str | None
    parent_column: str | None
    label_sv: str
    label_en: str


def check_word(value: str) -> str:
    word = value.strip()
    if not (1 <= len(word) <= MAX_WORD):
        raise FieldError("anonymization_word", "write 1 to %(max)s characters", code="word_length", max=MAX_WORD)
    if any(ord(c) < 32 for c in word):
        raise FieldError("anonymization_word", "use letters, digits and spaces only")
    return word


class GdprController(Controller):
    path = "/api/gdpr"
    tags = ("gdpr",)

    @get("/retention")
    async def get_retention(self, admin: AuthUser) -> list[RetentionOut]:
        """One row per retention rule of every installed plugin, with the organization's choice."""
        return await retention_rows(admin.tenant_id)

    @put("/retention")
    async def put_retention(
        self, admin: AuthUser, data: JSONBody[RetentionList]
    ) -> list[RetentionOut]:
        """Change rules: a list of {key, mode, days}. All or nothing; fixed rules refuse."""
        return await update_retention(admin.tenant_id, data)

    @get("/settings")
    async def get_settings(self, admin: AuthUser) -> GdprSettingsOut:
        """The word that replaces personal data, and the organization's language."""
        row = (
            await Tenant.select(Tenant.anonymization_word, Tenant.language)
            .where(Tenant.id == admin.tenant_id)
            .first()
        )
        assert row is not None
        return GdprSettingsOut(
            anonymization_word=row["anonymization_word"], language=row["language"]
        )

    @put("/settings")
    async def put_settings(
        self, admin: AuthUser, data: JSONBody[GdprSettingsIn]
    ) -> GdprSettingsOut:
        """The word that replaces personal data ("Anonymiserad", or "Anonymized")."""
        word = check_word(data.anonymization_word)
        async with atomic():
            await Tenant.update({Tenant.anonymization_word: word}).where(
                Tenant.id == admin.tenant_id
            )
            row = (
                await Tenant.select(Tenant.anonymization_word, Tenant.language)
                .where(Tenant.id == admin.tenant_id)
                .first()
            )
        assert row is not None
        return GdprSettingsOut(
            anonymization_word=row["anonymization_word"], language=row["language"]
        )

    @post("/sweeps/preview", status_code=HTTP_200_OK)
    async def preview(self, admin: AuthUser, data: JSONBody[PreviewIn]) -> list[PreviewRow]:
        """How many records a sweep would anonymize now, per rule, with the stored settings
        or with proposed ones ({"settings": [{key, mode, days}]}), which are not saved."""
        decl = get_declarations()
        current = await effective_settings(admin.tenant_id, decl)
        overrides = validate_changes(decl, data.settings, current) if data.settings else {}
        out: list[PreviewRow] = []
        for plugin in decl.plugins_with_rules():
            for r in await sweep(admin.tenant_id, plugin, dry_run=True, overrides=overrides):
                out.append(
                    PreviewRow(
                        plugin=r.plugin, rule=r.rule, mode=r.mode, days=r.days, due=r.records
                    )
                )
        return out

    @get("/runs")
    async def runs(
        self,
        admin: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        plugin: Annotated[str | None, QueryParameter(max_length=63)] = None,
        rule: Annotated[str | None, QueryParameter(max_length=120)] = None,
        sort: Annotated[str | None, RUN_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> RunPage:
        """The audit of anonymization runs, newest first. ``updated_since``: runs started
        or finished since then."""
        where: Combinable = GdprRun.tenant_id == admin.tenant_id
        if plugin:
            where = where & (GdprRun.plugin == plugin)
        if rule:
            where = where & (GdprRun.rule_key == rule)
        if updated_since is not None:
            since = changed_since(updated_since)
            where = where & ((GdprRun.started_at >= since) | (GdprRun.finished_at >= since))
        total = await GdprRun.count().where(where)
        query = RUN_SORT.apply(GdprRun.select().where(where), GdprRun, sort)
        rows = await query.offset(offset).limit(limit)
        return RunPage(
            total=total,
            offset=offset,
            limit=limit,
            items=[
                RunOut(
                    id=r["id"],
                    plugin=r["plugin"],
                    rule=r["rule_key"],
                    trigger=r["trigger"],
                    started_at=r["started_at"],
                    finished_at=r["finished_at"],
                    records=r["records"],
                    outcome=r["outcome"],
                    error=r["error"],
                )
                for r in rows
            ],
        )

    @get("/fields")
    async def fields(self, admin: AuthUser) -> list[FieldOut]:
        """Every declared personal-data column of every installed plugin (where data lives)."""
        return [
            FieldOut(
                plugin=f.owner,
                table=f.table._meta.tablename,
                column=f.field.column,
                category=f.field.category,
                strategy=f.field.strategy,
                rule=f.field.rule,
                parent_column=f.field.parent_column,
                label_sv=f.field.label_sv,
                label_en=f.field.label_en,
            )
            for f in get_declarations().fields
        ]


__all__ = ["GdprController", "RetentionIn", "module_settings_router"]


def module_settings_router(module: str) -> Router:
    """``GET/PUT /api/<module>/settings``: the module's retention rules, for its gear icon.

    Put it in the plugin's ``register_routes``. It reads and writes the same stored values
    as ``/api/gdpr/retention``; PUT accepts only the module's own rules.
    """

    @get("/", name=f"{module}-settings-get", operation_id=f"{module}_settings_get")
    async def read_settings(admin: AuthUser) -> list[RetentionOut]:
        """The module's retention rules with the organization's choice for each."""
        return await retention_rows(admin.tenant_id, module)

    @put("/", name=f"{module}-settings-put", operation_id=f"{module}_settings_put")
    async def write_settings(admin: AuthUser, data: JSONBody[RetentionList]) -> list[RetentionOut]:
        """Change some of the module's rules: a list of {key, mode, days}, all or nothing."""
        return await update_retention(admin.tenant_id, data, module)

    return Router(
        path=f"/api/{module}/settings",
        route_handlers=[read_settings, write_settings],
        tags=[module],
    )
