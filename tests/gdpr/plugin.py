"""Test-only plugins for the GDPR engine, with their own tables.

``gdprtest`` is a module owning customers-like records (with contacts and attachments
as child tables) and two rules; ``gdprlinks`` is another plugin that only *references*
customers and employees, to prove the cross-plugin cascade without the plugins knowing
each other.
"""

from __future__ import annotations

from typing import Any

from litestar import Router, delete
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK
from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import (
    AnonymizeContext,
    ModuleInfo,
    PersonalDataField,
    RecordType,
    RetentionRule,
    any_employee,
)
from core.plugins import hookimpl
from core.web import AuthUser

CUSTOMERS = "gdprtest.customers"
COMPANIES = "gdprtest.companies"
NOTES = "gdprtest.notes"


class GTCustomer(Table, tablename="gdprtest_customer"):
    tenant_id = Integer()
    kind = Varchar(length=16, default="private")
    name = Varchar(length=200)
    code = Varchar(length=5, default="")  # too short for the anonymization word
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)
    notes = Text(default="")
    score = Integer(default=0)
    closed_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class GTContact(Table, tablename="gdprtest_contact"):
    tenant_id = Integer()
    customer_id = Integer()
    name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None)
    title = Varchar(length=100, default="")


class GTAttachment(Table, tablename="gdprtest_attachment"):
    tenant_id = Integer()
    customer_id = Integer()
    filename = Varchar(length=200)


class GTNote(Table, tablename="gdprtest_note"):
    tenant_id = Integer()
    text = Text(default="")
    dated_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class GTLink(Table, tablename="gdprtest_link"):
    """Owned by the *other* plugin: it only points at customers and employees."""

    tenant_id = Integer()
    customer_id = Integer(default=0)
    employee_id = Integer(null=True, default=None)
    label = Varchar(length=100, default="")


TABLES: list[type[Table]] = [GTCustomer, GTContact, GTAttachment, GTNote, GTLink]

# What the anonymize hook saw: one entry per batch.
HOOK_CALLS: list[AnonymizeContext] = []
# Records whose batch the hook makes fail.
FAIL_IDS: set[int] = set()


class GdprTestPlugin:
    NAME = "gdprtest"

    @hookimpl
    def describe_module(self) -> ModuleInfo:
        return ModuleInfo(name="gdprtest", label_sv="Testmodul", label_en="Test module")

    @hookimpl
    def declare_record_types(self) -> list[RecordType]:
        return [
            RecordType(
                key="customer", table=GTCustomer, label_sv="Kund", label_en="Customer",
                can_open=any_employee,
            ),
            # No can_open: activity on notes is refused to everybody (fail closed).
            RecordType(key="note", table=GTNote, label_sv="Anteckning", label_en="Note"),
        ]

    @hookimpl
    def declare_retention_rules(self) -> list[RetentionRule]:
        return [
            RetentionRule(
                key=CUSTOMERS,
                label_sv="Testkunder",
                label_en="Test customers",
                clock=("closed", "deleted"),
                table=GTCustomer,
                clock_columns=("closed_at", "deleted_at"),
                default_mode="days",
                default_days=30,
                clears_activity=("comment", "note"),
                record_type="customer",
                subject="customer",
                where=(("kind", "private"),),
            ),
            RetentionRule(
                key=COMPANIES,
                label_sv="Testföretag",
                label_en="Test companies",
                clock="deleted",
                table=GTCustomer,
                clock_columns=("deleted_at",),
                default_mode="off",
                default_days=365,
                record_type="customer",
                where=(("kind", "company"),),
            ),
            RetentionRule(
                key=NOTES,
                label_sv="Testanteckningar",
                label_en="Test notes",
                clock="dated",
                table=GTNote,
                clock_columns=("dated_at",),
                allowed_modes=("days", "off"),
                default_mode="days",
                default_days=10,
                record_type="note",
                module="gdprother",  # shown on another module's settings page
            ),
        ]

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        F = PersonalDataField
        return [
            F(GTCustomer, "name", "name", "replace", rule=CUSTOMERS),
            F(GTCustomer, "code", "other", "replace", rule=CUSTOMERS),
            F(GTCustomer, "email", "email", "null", rule=CUSTOMERS),
            F(GTCustomer, "phone", "phone", "null", rule=CUSTOMERS),
            F(GTCustomer, "notes", "free_text", "empty", rule=CUSTOMERS),
            F(GTCustomer, "score", "other", "zero", rule=CUSTOMERS),
            F(GTContact, "name", "name", "replace", rule=CUSTOMERS, parent_column="customer_id"),
            F(GTContact, "email", "email", "null", rule=CUSTOMERS, parent_column="customer_id"),
            F(
                GTAttachment,
                "filename",
                "other",
                "delete_row",
                rule=CUSTOMERS,
                parent_column="customer_id",
            ),
            F(GTCustomer, "name", "name", "replace", rule=COMPANIES),
            F(GTNote, "text", "free_text", "empty", rule=NOTES),
        ]

    @hookimpl
    def anonymize(self, context: AnonymizeContext) -> Any:
        return self._anonymize(context)

    async def _anonymize(self, context: AnonymizeContext) -> None:
        HOOK_CALLS.append(context)
        if context.rule != CUSTOMERS:
            return
        # Fail on demand, to prove a failing batch rolls back and is audited safely.
        if FAIL_IDS & set(context.record_ids):
            raise RuntimeError("hook failed for Kalle Anka kalle@example.org")

    @hookimpl
    def register_routes(self) -> list[Any]:
        from core.gdpr.routes import module_settings_router

        return [
            module_settings_router("gdprtest"),
            Router(path="/api/gdprtest", route_handlers=[remove_customer]),
        ]


@delete("/customers/{customer_id:int}", status_code=HTTP_200_OK)
async def remove_customer(
    admin: AuthUser, customer_id: FromPath[int], fail: FromQuery[bool] = False
) -> dict:
    """Soft delete, and anonymize in the same transaction when the tenant chose that."""
    from core.db import atomic, utcnow
    from core.gdpr.engine import anonymize_if_immediate
    from core.tenancy import get_scoped

    async with atomic():
        await get_scoped(GTCustomer, admin.tenant_id, customer_id)
        await GTCustomer.update({GTCustomer.deleted_at: utcnow()}).where(
            (GTCustomer.tenant_id == admin.tenant_id) & (GTCustomer.id == customer_id)
        )
        n = await anonymize_if_immediate(admin.tenant_id, "gdprtest", CUSTOMERS, [customer_id])
        if fail:
            raise ClientException("refused after the anonymization, to prove the rollback")
        row = await get_scoped(GTCustomer, admin.tenant_id, customer_id)
    return {"anonymized": n, "name": row["name"]}


class GdprLinksPlugin:
    """A plugin with no rules: it declares references to customers and employees."""

    NAME = "gdprlinks"

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        return [
            PersonalDataField(GTLink, "customer_id", "customer_ref", "zero"),
            PersonalDataField(GTLink, "employee_id", "employee_ref", "null"),
        ]
