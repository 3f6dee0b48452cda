"""A deliberately broken plugin: the conformance kit must catch each of its faults.

* its ``anonymize`` hook writes a name back after the engine replaced it;
* it declares no search source for its personal data;
* one hook name is misspelled, a declaration hook is async, ``register_commands`` raises,
  and ``declare_kinds`` claims the kind of person "customer" the customers plugin owns;
* its migration forgets the ``note`` column;
* its ``status`` text column is declared neither as personal data nor as not personal.
"""

from __future__ import annotations

from typing import Any

from core.contracts import PersonalDataField, PersonKind, RetentionRule
from core.db import raw
from core.plugins import hookimpl
from tests.conformance.kit_fake.tables import Thing

NAME = "kit_fake"
RULE = "kit_fake.things"


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["tests.conformance.kit_fake.piccolo_app"]


@hookimpl
def declare_retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=RULE, label_sv="Saker", label_en="Things", clock="closed", table=Thing,
            clock_columns=("closed_at",), allowed_modes=("days", "off"),
        )
    ]


@hookimpl
def declare_personal_data() -> list[PersonalDataField]:
    return [
        PersonalDataField(Thing, "name", "name", "replace", rule=RULE),
        PersonalDataField(Thing, "note", "free_text", "empty", rule=RULE),
    ]


@hookimpl
async def anonymize(context: Any) -> None:
    if context.rule == RULE:
        from core.gdpr.sql import ids_in

        id_sql, args = ids_in("id", context.record_ids)
        await raw(
            f"UPDATE kit_fake_thing SET name = 'still here' WHERE tenant_id = {{}} AND {id_sql}",
            context.tenant_id, *args,
        )


class Misbehaving:
    """Registered separately: hooks the kit must refuse."""

    @hookimpl
    def declare_personal_dat(self) -> list[Any]:  # misspelled
        return []

    @hookimpl
    async def declare_search_sources(self) -> list[Any]:  # must be synchronous
        return []

    @hookimpl
    def register_commands(self, cli: Any) -> None:
        raise RuntimeError("boom")  # the gallra command would not start

    @hookimpl
    def declare_kinds(self) -> list[Any]:
        async def describe(tenant_id: int, person_id: int) -> None:
            return None

        return [PersonKind("customer", describe=describe)]  # the customers plugin's kind
