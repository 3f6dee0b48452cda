"""What the GDPR module itself stores about people, and when it lets go of it.

The module's own paperwork holds personal data too, and obeys the same rules as every other
module (decision 5 of the design):

* **GDPR contact persons** (rule ``privacy_contacts``, deleted, immediately or N days): name
  becomes the anonymization word, e-mail and phone null, notes emptied.
* **Incident reports** (rule ``privacy_incidents``, closed or deleted, N days): title and
  the free texts that can name people (what happened, people affected, consequences, the
  reasons given for (not) notifying) are cleared; the categories of data, the measures and
  every date stay, so the organization can still show how it handled the breach.
* **Signed inventory versions** (rule ``privacy_inventory_versions``, N days after a newer
  version was signed): the signer's name and masked phone and the snapshot of the contact
  persons are cleared; the activities (no personal data) and the signing time stay.
* **Processing activities** (rule ``privacy_activities``, deleted): the name of the person
  answering for the activity.
* ``created_by``, ``reported_by``, ``signed_by`` and a contact's ``employee_id`` are employee
  references: anonymizing that employee (M25) sets them to 0.

Every rule defaults to "off": the organization decides how long its GDPR records are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.contracts import (
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
    TwoFactorContext,
)
from plugins.privacy.tables import Incident, InventoryVersion, PrivacyContact, ProcessingActivity

PLUGIN = "privacy"
AREA = "gdpr"
TWO_FACTOR_CONTEXT = "gdpr_inventory"

RULE_CONTACTS = "privacy_contacts"
RULE_INCIDENTS = "privacy_incidents"
RULE_VERSIONS = "privacy_inventory_versions"
RULE_ACTIVITIES = "privacy_activities"

RT_CONTACT = "gdpr_contact"
RT_INCIDENT = "incident"
RT_ACTIVITY = "activity"
RT_VERSION = "inventory_version"

PLACE_CONTACTS = ("Kontaktpersoner", "Contact persons")
PLACE_INVENTORY = ("Förteckning", "Inventory")
PLACE_INCIDENTS = ("Incidentrapporter", "Incident reports")


def contact_link(record_id: int) -> str:
    return f"/api/privacy/contacts/{record_id}"


def incident_link(record_id: int) -> str:
    return f"/api/privacy/incidents/{record_id}"


def activity_link(record_id: int) -> str:
    return f"/api/privacy/activities/{record_id}"


def version_link(record_id: int) -> str:
    return f"/api/privacy/inventory/versions/{record_id}"


# (table, column, category, strategy, label_sv, label_en, rule); rule None = a reference.
_FIELD_ROWS: tuple[tuple[Any, str, str, str, str, str, str | None], ...] = (
    # GDPR contact persons
    (PrivacyContact, "name", "name", "replace", "Namn", "Name", RULE_CONTACTS),
    (PrivacyContact, "email", "email", "null", "E-post", "E-mail", RULE_CONTACTS),
    (PrivacyContact, "phone", "phone", "null", "Telefon", "Phone", RULE_CONTACTS),
    (PrivacyContact, "notes", "free_text", "empty", "Anteckningar", "Notes", RULE_CONTACTS),
    (PrivacyContact, "employee_id", "employee_ref", "zero", "Anställd", "Employee", None),
    # Incident reports
    (Incident, "title", "free_text", "replace", "Rubrik", "Title", RULE_INCIDENTS),
    (Incident, "description", "free_text", "replace", "Vad som hänt", "What happened",
     RULE_INCIDENTS),
    (Incident, "people_affected", "free_text", "replace", "Berörda personer", "People affected",
     RULE_INCIDENTS),
    (Incident, "consequences", "free_text", "replace", "Konsekvenser", "Consequences",
     RULE_INCIDENTS),
    (Incident, "authority_reason", "free_text", "empty", "Motivering, tillsynsmyndighet",
     "Reason, supervisory authority", RULE_INCIDENTS),
    (Incident, "subjects_reason", "free_text", "empty", "Motivering, berörda",
     "Reason, people affected", RULE_INCIDENTS),
    (Incident, "reported_by", "employee_ref", "zero", "Rapporterad av", "Reported by", None),
    # The inventory: processing activities and signed versions
    (ProcessingActivity, "owner_name", "name", "replace", "Ansvarig", "Responsible",
     RULE_ACTIVITIES),
    (ProcessingActivity, "created_by", "employee_ref", "zero", "Registrerad av", "Recorded by",
     None),
    (InventoryVersion, "signer_name", "name", "replace", "Signerad av", "Signed by",
     RULE_VERSIONS),
    (InventoryVersion, "signer_phone", "phone", "empty", "Signerad med telefon (maskerad)",
     "Signed with phone (masked)", RULE_VERSIONS),
    (InventoryVersion, "contacts", "free_text", "empty", "Kontaktpersoner vid signering",
     "Contact persons when signed", RULE_VERSIONS),
    (InventoryVersion, "note", "free_text", "empty", "Kommentar", "Note", RULE_VERSIONS),
    (InventoryVersion, "signed_by", "employee_ref", "zero", "Signerad av (anställd)",
     "Signed by (employee)", None),
)

FIELDS: list[PersonalDataField] = [
    PersonalDataField(table, column, category, strategy, sv, en, rule)  # type: ignore[arg-type]
    for table, column, category, strategy, sv, en, rule in _FIELD_ROWS
]

# Free text kept by the rules (the inventory and how a breach was handled must remain):
# written about processing and breaches, it can still name a person, so an erasure
# redacts the person's identifiers in it.
_TEXT_ROWS: tuple[tuple[Any, str, str, str], ...] = (
    (ProcessingActivity, "name", "Behandling, namn", "Processing activity, name"),
    (ProcessingActivity, "purpose", "Ändamål", "Purpose"),
    (ProcessingActivity, "legal_basis_note", "Rättslig grund, kommentar", "Legal basis, note"),
    (ProcessingActivity, "data_subjects", "Kategorier av registrerade",
     "Categories of data subjects"),
    (ProcessingActivity, "personal_data", "Kategorier av personuppgifter",
     "Categories of personal data"),
    (ProcessingActivity, "recipients", "Mottagare", "Recipients"),
    (ProcessingActivity, "transfers", "Överföring till tredje land",
     "Transfers to third countries"),
    (ProcessingActivity, "retention", "Gallring", "Retention"),
    (ProcessingActivity, "security_measures", "Säkerhetsåtgärder", "Security measures"),
    (InventoryVersion, "content", "Signerad förteckning, innehåll", "Signed inventory, content"),
    (Incident, "data_affected", "Berörda uppgifter", "Data affected"),
    (Incident, "measures", "Åtgärder", "Measures"),
    (PrivacyContact, "organization", "Organisation", "Organization"),
)
TEXT_FIELDS: list[PersonalDataField] = [
    PersonalDataField(table, column, "free_text", "empty", sv, en)
    for table, column, sv, en in _TEXT_ROWS
]
NOT_PERSONAL: list[NotPersonal] = [
    NotPersonal(ProcessingActivity, ("legal_basis", "modules"), "choices from fixed lists"),
    NotPersonal(Incident, ("authority_decision", "subjects_decision", "status"),
                "choices from fixed lists"),
    NotPersonal(Incident, ("authority_reference",), "the supervisory authority's case number"),
    NotPersonal(PrivacyContact, ("role",), "a choice from a fixed list"),
]

RULES: list[RetentionRule] = [
    RetentionRule(
        key=RULE_CONTACTS,
        label_sv="Kontaktpersoner GDPR",
        label_en="GDPR contact persons",
        clock="deleted",
        table=PrivacyContact,
        clock_columns=("deleted_at",),
        allowed_modes=("immediately", "days", "off"),
        default_mode="off",
        default_days=90,
        clears_activity=("comment", "note"),
        record_type=RT_CONTACT,
    ),
    RetentionRule(
        key=RULE_INCIDENTS,
        label_sv="Incidentrapporter",
        label_en="Incident reports",
        clock=("closed", "deleted"),
        table=Incident,
        clock_columns=("closed_at", "deleted_at"),
        allowed_modes=("days", "off"),
        default_mode="off",
        default_days=1825,
        clears_activity=("comment", "note"),
        record_type=RT_INCIDENT,
    ),
    RetentionRule(
        key=RULE_VERSIONS,
        label_sv="Förteckning – ersatta signerade versioner",
        label_en="Inventory – superseded signed versions",
        clock="closed",
        table=InventoryVersion,
        clock_columns=("superseded_at",),
        allowed_modes=("days", "off"),
        default_mode="off",
        default_days=3650,
    ),
    RetentionRule(
        key=RULE_ACTIVITIES,
        label_sv="Förteckning – borttagna behandlingar",
        label_en="Inventory – deleted processing activities",
        clock="deleted",
        table=ProcessingActivity,
        clock_columns=("deleted_at",),
        allowed_modes=("immediately", "days", "off"),
        default_mode="off",
        default_days=365,
    ),
]

def gdpr_paperwork(user: Any, record: dict[str, Any], write: bool) -> bool:
    """``RecordType.can_open``: like every privacy route, administrators and members of a
    group with the "gdpr" permission (plugins.privacy.routes.gdpr_user)."""
    return bool(user.can("gdpr"))


RECORD_TYPES: list[RecordType] = [
    RecordType(
        RT_CONTACT, PrivacyContact, "Kontaktperson GDPR", "GDPR contact person", link=contact_link,
        can_open=gdpr_paperwork,
    ),
    RecordType(
        RT_INCIDENT, Incident, "Incidentrapport", "Incident report",
        link=incident_link, number_column="number", can_open=gdpr_paperwork,
    ),
    RecordType(
        RT_ACTIVITY, ProcessingActivity, "Behandling", "Processing activity",
        link=activity_link, number_column="number", can_open=gdpr_paperwork,
    ),
    RecordType(
        RT_VERSION, InventoryVersion, "Signerad förteckning", "Signed inventory",
        link=version_link, number_column="version", can_open=gdpr_paperwork,
    ),
]

# table -> (place in Swedish and English, link of a record id, record type)
_PLACES: dict[type[Table], tuple[tuple[str, str], Callable[[int], str], str]] = {
    PrivacyContact: (PLACE_CONTACTS, contact_link, RT_CONTACT),
    Incident: (PLACE_INCIDENTS, incident_link, RT_INCIDENT),
    ProcessingActivity: (PLACE_INVENTORY, activity_link, RT_ACTIVITY),
    InventoryVersion: (PLACE_INVENTORY, version_link, RT_VERSION),
}

# The kept free text a person types about people: what a breach affected and what was done
# about it, a contact person's organization. Not the processing activities' descriptions
# (organisational text about kinds of data and people, not about a person) nor a signed
# inventory's content (a machine-made snapshot of those descriptions): both stay declared,
# so an erasure redacts and verifies them, but they are not places a person is looked up.
SEARCHED_TEXT = {
    (Incident, "data_affected"), (Incident, "measures"), (PrivacyContact, "organization"),
}

# Every column that can hold a person's name, address, e-mail or phone in free text; the
# references (employee ids) are not searched for: they are numbers, not values.
SEARCH_SOURCES: list[SearchSource] = [
    SearchSource(
        f.table, f.column, f.category, AREA,
        _PLACES[f.table][0][0], _PLACES[f.table][0][1],
        link=_PLACES[f.table][1], record_type=_PLACES[f.table][2],
    )
    for f in [*FIELDS, *(f for f in TEXT_FIELDS if (f.table, f.column) in SEARCHED_TEXT)]
    if not f.category.endswith("_ref")
]

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        TWO_FACTOR_CONTEXT,
        "GDPR-förteckning – SMS-autentisering",
        "GDPR inventory – SMS signing",
        module=PLUGIN,
        order=90,
    ),
]


def allows_immediately(rule_key: str) -> bool:
    return any(r.key == rule_key and "immediately" in r.allowed_modes for r in RULES)


async def anonymize_now_if_immediate(tenant_id: int, rule_key: str, record_id: int) -> None:
    """Inside the delete transaction: anonymize at once when the tenant chose "immediately"."""
    if not allows_immediately(rule_key):
        return
    from core.gdpr.engine import anonymize_if_immediate

    await anonymize_if_immediate(tenant_id, PLUGIN, rule_key, [record_id])
