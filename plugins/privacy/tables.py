"""The GDPR module's tables: the record of processing activities (article 30) with its
signed versions, the personal-data breach log (article 33) and the GDPR contact persons.

References to employees are plain integer ids (0 = none or anonymized), never foreign keys:
the core sets them to 0 when that employee is anonymized (M25), which a foreign key would
forbid. Lists (categories, recipients, modules) are stored as JSON text, the same on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import Closable, Kept
from core.tables import TenantTable


class ProcessingActivity(Kept, TenantTable, tablename="privacy_activity"):
    """One processing activity of the organization's record of processing (article 30)."""

    tenant_id = Integer(index=True)
    number = Integer()  # unique per tenant (index in the later migration)
    name = Varchar(length=200)
    purpose = Text(default="")
    # "" (not decided yet) or one of article 6(1): consent, contract, legal_obligation,
    # vital_interests, public_task, legitimate_interests.
    legal_basis = Varchar(length=32, default="")
    legal_basis_note = Text(default="")
    data_subjects = Text(default="[]")  # JSON list of categories of data subjects
    personal_data = Text(default="[]")  # JSON list of categories of personal data
    recipients = Text(default="[]")  # JSON list of categories of recipients
    transfers = Text(default="")  # transfers outside the EU/EEA and their safeguards
    retention = Text(default="")
    security_measures = Text(default="")
    modules = Text(default="[]")  # JSON list of the Gallra modules doing the processing
    # The person answering for the processing inside the organization (free name).
    owner_name = Varchar(length=200, default="")
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized


class InventoryVersion(TenantTable, tablename="privacy_inventory_version"):
    """A signed version of the whole record of processing; every version is kept."""

    tenant_id = Integer(index=True)
    version = Integer()  # 1, 2, ... per tenant (unique index in the later migration)
    content = Text(default="{}")  # JSON snapshot of the activities (no personal data)
    contacts = Text(default="")  # JSON snapshot of the GDPR contact persons ("" = cleared)
    note = Text(default="")
    signed_by = Integer(default=0)  # employee id; 0 once that employee is anonymized
    signer_name = Varchar(length=200, default="")
    signer_phone = Varchar(length=40, default="")  # masked, as the SMS signature shows it
    sms_verified = Boolean(default=False)
    signed_at = Timestamptz(default=TimestamptzNow())
    # Set when a newer version is signed: starts the clock of the versions' rule.
    superseded_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class Incident(Closable, TenantTable, tablename="privacy_incident"):
    """A personal-data breach (article 33): what happened, and whom it was reported to."""

    tenant_id = Integer(index=True)
    number = Integer()
    title = Varchar(length=200)
    discovered_at = Timestamptz()
    occurred_at = Timestamptz(null=True, default=None)
    description = Text(default="")  # what happened
    data_affected = Text(default="")  # categories and amount of personal data
    people_affected = Text(default="")  # categories and number of people
    subjects_count = Integer(null=True, default=None)  # approximate number of people
    consequences = Text(default="")
    measures = Text(default="")
    # Whether the supervisory authority must be told: "pending", "yes" or "no" (with reason).
    authority_decision = Varchar(length=8, default="pending")
    authority_reason = Text(default="")  # why not, or why late (article 33(1))
    authority_notified_at = Timestamptz(null=True, default=None)
    authority_reference = Varchar(length=100, default="")
    # Whether the people affected must be told (article 34): "pending", "yes" or "no".
    subjects_decision = Varchar(length=8, default="pending")
    subjects_reason = Text(default="")
    subjects_notified_at = Timestamptz(null=True, default=None)
    status = Varchar(length=8, default="open")  # "open" | "closed"
    reported_by = Integer(default=0)  # employee id; 0 once that employee is anonymized


class PrivacyContact(Kept, TenantTable, tablename="privacy_contact"):
    """The organization's data-protection officer and other GDPR contacts."""

    tenant_id = Integer(index=True)
    # "dpo" (dataskyddsombud), "contact" (GDPR contact), "representative" (article 27),
    # "controller" (the person answering for the organization).
    role = Varchar(length=16, default="contact")
    name = Varchar(length=200)
    organization = Varchar(length=200, default="")  # when the officer is external
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)  # E.164
    notes = Text(default="")
    employee_id = Integer(default=0)  # when the contact is one of the employees


TABLES: list[type[Table]] = [ProcessingActivity, InventoryVersion, Incident, PrivacyContact]
