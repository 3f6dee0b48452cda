"""Each tenant's retention choices: stored values and validation.

A missing row means the rule's default. ``/api/gdpr/retention`` and every module's
``/api/<module>/settings`` (:func:`core.gdpr.routes.module_settings_router`) read and
write the same rows through this module, so the two places always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from core.db import atomic, utcnow
from core.gdpr.registry import (
    MAX_DAYS,
    MIN_DAYS,
    MODES,
    Declarations,
    RuleInfo,
    get_declarations,
    iter_rules,
)
from core.gdpr.tables import RetentionSetting
from core.validation import FieldError


@dataclass(frozen=True)
class RuleSetting:
    mode: str
    days: int


class RetentionIn(msgspec.Struct, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    mode: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    # Checked by validate_changes, not by the decoder: Litestar's lenient decoding would
    # turn "10" into 10, and the refusal should name the rule anyway.
    days: Any = None


RetentionList = Annotated[list[RetentionIn], msgspec.Meta(max_length=1000)]


class RetentionOut(msgspec.Struct):
    key: str
    plugin: str
    module: str
    label_sv: str
    label_en: str
    clock: list[str]
    allowed_modes: list[str]
    fixed: bool
    mode: str
    days: int
    default_mode: str
    default_days: int
    record_type: str


def default_setting(info: RuleInfo) -> RuleSetting:
    return RuleSetting(info.rule.default_mode, info.rule.default_days)


def resolve(info: RuleInfo, stored: RuleSetting | None) -> RuleSetting:
    """The setting in force: fixed rules always their default; a stored mode the rule no
    longer allows (the plugin changed) falls back to the default mode."""
    if info.rule.fixed or stored is None:
        return default_setting(info)
    mode = stored.mode if stored.mode in info.rule.allowed_modes else info.rule.default_mode
    return RuleSetting(mode, stored.days)


async def stored_settings(
    tenant_id: int, keys: Iterable[str] | None = None
) -> dict[str, RuleSetting]:
    query = RetentionSetting.select(
        RetentionSetting.rule_key, RetentionSetting.mode, RetentionSetting.days
    ).where(RetentionSetting.tenant_id == tenant_id)
    wanted = list(keys) if keys is not None else None
    if wanted is not None:
        if not wanted:
            return {}
        query = query.where(RetentionSetting.rule_key.is_in(wanted))
    return {r["rule_key"]: RuleSetting(r["mode"], int(r["days"])) for r in await query}


async def effective_settings(
    tenant_id: int,
    decl: Declarations | None = None,
    overrides: dict[str, RuleSetting] | None = None,
    keys: Iterable[str] | None = None,
) -> dict[str, RuleSetting]:
    """The setting in force for every rule (or the named ones), with optional overrides."""
    decl = decl or get_declarations()
    wanted = list(keys) if keys is not None else list(decl.rules)
    stored = await stored_settings(tenant_id, wanted)
    stored.update(overrides or {})
    return {k: resolve(decl.rules[k], stored.get(k)) for k in wanted if k in decl.rules}


def validate_changes(
    decl: Declarations,
    items: Sequence[RetentionIn],
    current: dict[str, RuleSetting],
    only_keys: set[str] | None = None,
    where: str = "",
) -> dict[str, RuleSetting]:
    """Check every proposed change; raise FieldError (400) naming the rule on the first bad one.

    ``only_keys`` limits which rules may be named (a module's own endpoint).
    """
    out: dict[str, RuleSetting] = {}
    for i, item in enumerate(items):
        field = f"{i}.{item.key}"
        info = decl.rules.get(item.key)
        if info is None or (only_keys is not None and item.key not in only_keys):
            known = sorted(only_keys if only_keys is not None else decl.rules)
            raise FieldError(
                field, "there is no retention rule %(rule)s%(where)s; known rules: %(known)s",
                code="unknown_rule", rule=repr(item.key), where=where, known=", ".join(known),
            )
        if item.key in out:
            raise FieldError(field, "rule %(rule)s is named twice", code="rule_twice", rule=repr(item.key))
        if info.rule.fixed:
            raise FieldError(
                field, "rule %(rule)s (%(label)s) is fixed by law and cannot be changed",
                code="rule_fixed", rule=repr(item.key), label=info.rule.label_en,
            )
        if item.mode not in MODES:
            raise FieldError(field, "mode of rule %(rule)s must be one of %(modes)s", code="rule_mode",
                             rule=repr(item.key), modes=", ".join(MODES))
        if item.mode not in info.rule.allowed_modes:
            raise FieldError(
                field, "rule %(rule)s (%(label)s) cannot be set to %(mode)s; allowed: %(allowed)s",
                code="rule_mode_not_allowed", rule=repr(item.key), label=info.rule.label_en,
                mode=repr(item.mode), allowed=", ".join(info.rule.allowed_modes),
            )
        days = item.days if item.days is not None else current[item.key].days
        if (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not (MIN_DAYS <= days <= MAX_DAYS)
        ):
            raise FieldError(
                field, "days of rule %(rule)s must be a whole number from %(min)s to %(max)s",
                code="rule_days", rule=repr(item.key), min=MIN_DAYS, max=MAX_DAYS,
            )
        out[item.key] = RuleSetting(item.mode, days)
    return out


async def save_settings(tenant_id: int, changes: dict[str, RuleSetting]) -> None:
    """Store the changes, all or nothing."""
    now = utcnow()
    async with atomic():
        for key, s in changes.items():
            updated = (
                await RetentionSetting.update(
                    {
                        RetentionSetting.mode: s.mode,
                        RetentionSetting.days: s.days,
                        RetentionSetting.changed_at: now,
                    }
                )
                .where(
                    (RetentionSetting.tenant_id == tenant_id) & (RetentionSetting.rule_key == key)
                )
                .returning(RetentionSetting.id)
            )
            if not updated:
                await RetentionSetting.insert(
                    RetentionSetting(
                        tenant_id=tenant_id, rule_key=key, mode=s.mode, days=s.days, changed_at=now
                    )
                )


def rule_out(info: RuleInfo, s: RuleSetting) -> RetentionOut:
    r = info.rule
    return RetentionOut(
        key=r.key,
        plugin=info.owner,
        module=info.module,
        label_sv=r.label_sv,
        label_en=r.label_en,
        clock=info.clocks,
        allowed_modes=list(r.allowed_modes),
        fixed=r.fixed,
        mode=s.mode,
        days=s.days,
        default_mode=r.default_mode,
        default_days=r.default_days,
        record_type=r.record_type,
    )


async def retention_rows(tenant_id: int, module: str | None = None) -> list[RetentionOut]:
    decl = get_declarations()
    infos = [i for i in iter_rules(decl) if module is None or i.module == module]
    current = await effective_settings(tenant_id, decl, keys=[i.key for i in infos])
    return [rule_out(i, current[i.key]) for i in infos]


async def update_retention(
    tenant_id: int, items: Sequence[RetentionIn], module: str | None = None
) -> list[RetentionOut]:
    decl = get_declarations()
    only = {i.key for i in decl.rules_of_module(module)} if module is not None else None
    current = await effective_settings(tenant_id, decl)
    changes = validate_changes(
        decl, items, current, only, f" in module {module!r}" if module is not None else ""
    )
    await save_settings(tenant_id, changes)
    return await retention_rows(tenant_id, module)
