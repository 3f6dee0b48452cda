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

from typing import Any

from core.contracts import Field, Place, RecordSpec, RetentionRule, TwoFactorContext
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

INVENTORY = Place("Förteckning", "Inventory")
FIXED_LISTS = "choices from fixed lists"


def version_link(record_id: int) -> str:
    return f"/api/privacy/inventory/versions/{record_id}"


PERMISSION = "gdpr"
ROLES = ("dpo", "contact", "representative", "controller")
STATUSES = ("open", "closed")


def gdpr_paperwork(user: Any, record: dict[str, Any], write: bool) -> bool:
    """``RecordSpec.can_open``: like every privacy route and page (guarded by the same
    permission, plugins.privacy.routes.GDPR_ONLY), administrators and members of a group
    with the "gdpr" permission."""
    return bool(user.can(PERMISSION))


def _employee(column: str, label_sv: str, label_en: str) -> Field:
    """An employee reference: anonymizing that employee (M25) sets it to 0. A number, not a
    value a person search could match."""
    return Field(column, "employee_ref", "zero", label_sv, label_en, search=False)


def _kept_text(column: str, label_sv: str, label_en: str, search: bool = False) -> Field:
    """Free text the rules keep (the inventory and how a breach was handled must remain):
    written about processing and breaches it can still name a person, so an erasure redacts
    the person's identifiers in it. Searched only where a person types about people (what a
    breach affected and what was done about it, a contact person's organization), not the
    processing activities' descriptions nor a signed inventory's machine-made snapshot."""
    return Field(column, "free_text", "empty", label_sv, label_en, search=search)


# The records the module keeps. Contacts, incidents and activities are the record layer's
# (their ``path``: routes from core.routes.records, pages from core.pages.records, each with
# the module's own additions); the signed versions are the module's own (signing, export),
# the layer derives only their declarations.
# Every rule defaults to "off": the organization decides how long its GDPR records are kept.
CONTACT = RecordSpec(
    name=RT_CONTACT, table=PrivacyContact,
    label_sv="Kontaktperson GDPR", label_en="GDPR contact person",
    plural_sv="Kontaktpersoner", plural_en="Contact persons",
    path="/privacy/contacts", title_column="name", can_open=gdpr_paperwork,
    search_columns=("name", "organization"), filters=("role",), choices=(("role", ROLES),),
    sort=("name", "role"), default_sort="id",
    fields=(
        Field("name", "name", "replace", "Namn", "Name", rule=RULE_CONTACTS),
        Field("email", "email", "null", "E-post", "E-mail", rule=RULE_CONTACTS),
        Field("phone", "phone", "null", "Telefon", "Phone", rule=RULE_CONTACTS),
        Field("notes", "free_text", "empty", "Anteckningar", "Notes", rule=RULE_CONTACTS),
        _employee("employee_id", "Anställd", "Employee"),
        _kept_text("organization", "Organisation", "Organization", search=True),
    ),
    not_personal=((("role",), "a choice from a fixed list"),),
    rules=(
        RetentionRule(
            key=RULE_CONTACTS, label_sv="Kontaktpersoner GDPR", label_en="GDPR contact persons",
            clock="deleted", clock_columns=("deleted_at",),
            allowed_modes=("immediately", "days", "off"), default_mode="off", default_days=90,
            clears_activity=("comment", "note"),
        ),
    ),
)

INCIDENT = RecordSpec(
    name=RT_INCIDENT, table=Incident,
    label_sv="Incidentrapport", label_en="Incident report",
    plural_sv="Incidentrapporter", plural_en="Incident reports",
    path="/privacy/incidents", number_column="number", status_column="status", can_open=gdpr_paperwork,
    search_columns=("title",), filters=("status",), choices=(("status", STATUSES),),
    sort=("number", "discovered_at"), default_sort="-number",
    fields=(
        Field("title", "free_text", "replace", "Rubrik", "Title", rule=RULE_INCIDENTS),
        Field("description", "free_text", "replace", "Vad som hänt", "What happened",
              rule=RULE_INCIDENTS),
        Field("people_affected", "free_text", "replace", "Berörda personer", "People affected",
              rule=RULE_INCIDENTS),
        Field("consequences", "free_text", "replace", "Konsekvenser", "Consequences",
              rule=RULE_INCIDENTS),
        Field("authority_reason", "free_text", "empty", "Motivering, tillsynsmyndighet",
              "Reason, supervisory authority", rule=RULE_INCIDENTS),
        Field("subjects_reason", "free_text", "empty", "Motivering, berörda",
              "Reason, people affected", rule=RULE_INCIDENTS),
        _employee("reported_by", "Rapporterad av", "Reported by"),
        _kept_text("data_affected", "Berörda uppgifter", "Data affected", search=True),
        _kept_text("measures", "Åtgärder", "Measures", search=True),
    ),
    not_personal=(
        (("authority_decision", "subjects_decision", "status"), FIXED_LISTS),
        (("authority_reference",), "the supervisory authority's case number"),
    ),
    rules=(
        RetentionRule(
            key=RULE_INCIDENTS, label_sv="Incidentrapporter", label_en="Incident reports",
            clock=("closed", "deleted"), clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("days", "off"), default_mode="off", default_days=1825,
            clears_activity=("comment", "note"),
        ),
    ),
)

ACTIVITY = RecordSpec(
    name=RT_ACTIVITY, table=ProcessingActivity,
    label_sv="Behandling", label_en="Processing activity",
    path="/privacy/activities", title_column="name", number_column="number", can_open=gdpr_paperwork,
    search_columns=("name",), sort=("number", "name"), default_sort="number",
    places=(INVENTORY,),
    fields=(
        Field("owner_name", "name", "replace", "Ansvarig", "Responsible", rule=RULE_ACTIVITIES),
        _employee("created_by", "Registrerad av", "Recorded by"),
        _kept_text("name", "Behandling, namn", "Processing activity, name"),
        _kept_text("purpose", "Ändamål", "Purpose"),
        _kept_text("legal_basis_note", "Rättslig grund, kommentar", "Legal basis, note"),
        _kept_text("data_subjects", "Kategorier av registrerade", "Categories of data subjects"),
        _kept_text("personal_data", "Kategorier av personuppgifter", "Categories of personal data"),
        _kept_text("recipients", "Mottagare", "Recipients"),
        _kept_text("transfers", "Överföring till tredje land", "Transfers to third countries"),
        _kept_text("retention", "Gallring", "Retention"),
        _kept_text("security_measures", "Säkerhetsåtgärder", "Security measures"),
    ),
    not_personal=((("legal_basis", "modules"), FIXED_LISTS),),
    rules=(
        RetentionRule(
            key=RULE_ACTIVITIES, label_sv="Förteckning – borttagna behandlingar",
            label_en="Inventory – deleted processing activities",
            clock="deleted", clock_columns=("deleted_at",),
            allowed_modes=("immediately", "days", "off"), default_mode="off", default_days=365,
        ),
    ),
)

VERSION = RecordSpec(
    name=RT_VERSION, table=InventoryVersion,
    label_sv="Signerad förteckning", label_en="Signed inventory",
    title_column=None, number_column="version", soft_delete=False,
    link=version_link, can_open=gdpr_paperwork, places=(INVENTORY,),
    fields=(
        Field("signer_name", "name", "replace", "Signerad av", "Signed by", rule=RULE_VERSIONS),
        Field("signer_phone", "phone", "empty", "Signerad med telefon (maskerad)",
              "Signed with phone (masked)", rule=RULE_VERSIONS),
        Field("contacts", "free_text", "empty", "Kontaktpersoner vid signering",
              "Contact persons when signed", rule=RULE_VERSIONS),
        Field("note", "free_text", "empty", "Kommentar", "Note", rule=RULE_VERSIONS),
        _employee("signed_by", "Signerad av (anställd)", "Signed by (employee)"),
        _kept_text("content", "Signerad förteckning, innehåll", "Signed inventory, content"),
    ),
    rules=(
        RetentionRule(
            key=RULE_VERSIONS, label_sv="Förteckning – ersatta signerade versioner",
            label_en="Inventory – superseded signed versions",
            clock="closed", clock_columns=("superseded_at",),
            allowed_modes=("days", "off"), default_mode="off", default_days=3650,
        ),
    ),
)

RECORDS: tuple[RecordSpec, ...] = (CONTACT, INCIDENT, ACTIVITY, VERSION)
RULES: list[RetentionRule] = [r for spec in RECORDS for r in spec.rules]

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        TWO_FACTOR_CONTEXT,
        "GDPR-förteckning – SMS-autentisering",
        "GDPR inventory – SMS signing",
        module=PLUGIN,
        order=90,
    ),
]

