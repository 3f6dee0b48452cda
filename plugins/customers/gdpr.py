"""What the customer register stores about people, and when it lets go of it (M14-M16).

Decisions worth knowing:

* **M14 "customers"**: every personal-data column of a deleted customer becomes the
  tenant's anonymization word. Columns that cannot hold the word (phones, e-mail, the
  personal identity / organization number, which have a fixed format) become null, and
  the postcodes (too short and format-bound) become empty. The rule's subject is
  "customer", so the core sets every declared ``customer_ref`` column of every plugin to 0
  for the anonymized ids, including our own log's ``CustomerContact.customer_id``.
  Comments, notes, work reports and conversations attached to the customer record are
  cleared as well: they are free text about the customer, so they count as its data. The
  customer number itself is kept (it identifies nobody once the name is gone).
* The contact persons of an anonymized customer are personal data of that customer's
  register entry too: their columns are declared a second time with rule "customers" and
  ``parent_column="customer_id"``, so the engine anonymizes them together with the parent.
  The log entries of an anonymized customer lose their comment and contact person the same
  way (the comment is free text about the customer). The ``anonymize`` hook then runs the
  "contact_persons" rule on those contact persons, so they get their marker and every
  ``contact_ref`` to them in any plugin becomes 0, as if each had been anonymized alone.
  (The contact rows are written twice that way; the declarations stay because they are
  what Settings > GDPR and erasure read to know that M14 covers contact persons.)
* ``ContactPerson.customer_id`` is deliberately **not** declared as a ``customer_ref``: it is
  the parent link, not personal data. Once the customer is anonymized its contact persons are
  anonymized too, and an anonymized contact pointing at an anonymized customer reveals
  nothing; keeping the link lets the engine find the children by parent id and keeps the
  contact persons listed under their (anonymized) customer instead of orphaned.
* **M15 "contact_persons"**: name, title become the word; e-mail and phones null. Subject
  "contact": every declared ``contact_ref`` (our log's ``contact_person_id`` included) is 0.
* **M16 "customer_contacts"**: the clock is the entry's own ``date`` ("dated"); due entries
  lose customer and contact person (0) and their comment (empty), plus comments attached to
  the entry through core activity. The date and who wrote the entry stay.
* ``CustomerContact.created_by`` is an employee reference: declared ``employee_ref`` so
  anonymizing that employee (M25) sets it to 0.
"""

from __future__ import annotations

from core.contracts import (
    AnonymizeContext,
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
    any_employee,
)
from plugins.customers.tables import (
    ContactPerson,
    Customer,
    CustomerContact,
    PortalAccount,
    PortalApprovalStep,
    PortalPending,
)

PLACE_SV = "Kundregister"
PLACE_EN = "Customer register"


def customer_link(record_id: int) -> str:
    return f"/api/customers/{record_id}"


def contact_link(record_id: int) -> str:
    return f"/api/customers/contacts/{record_id}"


def log_link(record_id: int) -> str:
    return f"/api/customers/log/{record_id}"


# (column, category, strategy, label_sv, label_en)
CUSTOMER_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("name", "name", "replace", "Namn", "Name"),
    ("org_number", "national_id", "null", "Organisationsnummer", "Organization number"),
    ("national_id", "national_id", "null", "Personnummer", "Personal identity number"),
    ("email", "email", "null", "E-post", "E-mail"),
    ("mobile_phone", "phone", "null", "Mobiltelefon", "Mobile phone"),
    ("private_phone", "phone", "null", "Privattelefon", "Private phone"),
    ("work_phone", "phone", "null", "Arbetstelefon", "Work phone"),
    ("postal_street", "address", "replace", "Postadress", "Postal address"),
    ("postal_postcode", "address", "empty", "Postnummer", "Postcode"),
    ("postal_city", "address", "replace", "Postort", "City"),
    ("visiting_street", "address", "replace", "Besöksadress", "Visiting address"),
    ("visiting_postcode", "address", "empty", "Besökspostnummer", "Visiting postcode"),
    ("visiting_city", "address", "replace", "Besöksort", "Visiting city"),
    ("notes", "free_text", "replace", "Anteckningar", "Notes"),
)

CONTACT_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("name", "name", "replace", "Kontaktperson, namn", "Contact person, name"),
    ("title", "other", "replace", "Kontaktperson, titel", "Contact person, title"),
    ("email", "email", "null", "Kontaktperson, e-post", "Contact person, e-mail"),
    ("mobile_phone", "phone", "null", "Kontaktperson, mobil", "Contact person, mobile phone"),
    ("private_phone", "phone", "null", "Kontaktperson, privat", "Contact person, private phone"),
    ("work_phone", "phone", "null", "Kontaktperson, arbete", "Contact person, work phone"),
)


def personal_data() -> list[PersonalDataField | NotPersonal]:
    fields: list[PersonalDataField | NotPersonal] = []
    for column, category, strategy, sv, en in CUSTOMER_FIELDS:
        fields.append(
            PersonalDataField(
                Customer, column, category, strategy,  # type: ignore[arg-type]
                sv, en, rule="customers",
            )
        )
    for column, category, strategy, sv, en in CONTACT_FIELDS:
        # Once as the contact person's own rule (M15) ...
        fields.append(
            PersonalDataField(
                ContactPerson, column, category, strategy, sv, en,  # type: ignore[arg-type]
                rule="contact_persons",
            )
        )
        # ... and once as a child of an anonymized customer (M14).
        fields.append(
            PersonalDataField(
                ContactPerson, column, category, strategy, sv, en,  # type: ignore[arg-type]
                rule="customers", parent_column="customer_id",
            )
        )
    fields += [
        # The log (M16): customer, contact person and comment go when the entry is old.
        PersonalDataField(
            CustomerContact, "customer_id", "customer_ref", "zero",
            "Kundkontakt, kund", "Customer contact, customer", rule="customer_contacts",
        ),
        PersonalDataField(
            CustomerContact, "contact_person_id", "contact_ref", "zero",
            "Kundkontakt, kontaktperson", "Customer contact, contact person",
            rule="customer_contacts",
        ),
        PersonalDataField(
            CustomerContact, "comment", "free_text", "empty",
            "Kundkontakt, kommentar", "Customer contact, comment", rule="customer_contacts",
        ),
        # Entries of an anonymized customer lose what they say about it (M14).
        PersonalDataField(
            CustomerContact, "contact_person_id", "contact_ref", "zero",
            "Kundkontakt, kontaktperson", "Customer contact, contact person",
            rule="customers", parent_column="customer_id",
        ),
        PersonalDataField(
            CustomerContact, "comment", "free_text", "empty",
            "Kundkontakt, kommentar", "Customer contact, comment",
            rule="customers", parent_column="customer_id",
        ),
        # Who wrote the entry: cleared when that employee is anonymized (M25).
        PersonalDataField(
            CustomerContact, "created_by", "employee_ref", "zero",
            "Kundkontakt, registrerad av", "Customer contact, recorded by",
        ),
        NotPersonal(Customer, ("kind",), "a choice from a fixed list"),
        NotPersonal(PortalAccount, ("person_kind",), "a choice from a fixed list"),
        NotPersonal(
            PortalPending, ("token_hash", "binder_hash", "purpose", "password_hash"),
            "hashes of secrets and the step's purpose",
        ),
        NotPersonal(PortalApprovalStep, ("challenge_hash", "kind"), "a challenge's hash, its kind"),
    ]
    return fields


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key="customers",
            label_sv="Kunder",
            label_en="Customers",
            clock="deleted",
            table=Customer,
            clock_columns=("deleted_at",),
            allowed_modes=("immediately", "days", "off"),
            default_mode="off",
            default_days=365,
            clears_activity=("comment", "work_report", "note", "conversation"),
            record_type="customer",
            subject="customer",
        ),
        RetentionRule(
            key="contact_persons",
            label_sv="Kontaktpersoner",
            label_en="Contact persons",
            clock="deleted",
            table=ContactPerson,
            clock_columns=("deleted_at",),
            allowed_modes=("immediately", "days", "off"),
            default_mode="off",
            default_days=365,
            record_type="contact_person",
            subject="contact",
        ),
        RetentionRule(
            key="customer_contacts",
            label_sv="Kundkontakt",
            label_en="Customer contact",
            clock="dated",
            table=CustomerContact,
            clock_columns=("date",),
            allowed_modes=("days", "off"),
            default_mode="off",
            default_days=730,
            clears_activity=("comment",),
            record_type="customer_contact",
        ),
    ]


def record_types() -> list[RecordType]:
    return [
        RecordType(
            "customer", Customer, "Kund", "Customer", link=customer_link, number_column="number",
            can_open=any_employee,
        ),
        RecordType(
            "contact_person", ContactPerson, "Kontaktperson", "Contact person", link=contact_link,
            can_open=any_employee,
        ),
        RecordType(
            "customer_contact", CustomerContact, "Kundkontakt", "Customer contact", link=log_link,
            can_open=any_employee,
        ),
    ]


def search_sources() -> list[SearchSource]:
    sources: list[SearchSource] = []
    for column, category, _strategy, _sv, _en in CUSTOMER_FIELDS:
        sources.append(
            SearchSource(
                Customer, column, category,  # type: ignore[arg-type]
                "workcloud", PLACE_SV, PLACE_EN, link=customer_link, record_type="customer",
            )
        )
    for column, category, _strategy, _sv, _en in CONTACT_FIELDS:
        # The job title is text typed about the person ("other" is no search category).
        category = "free_text" if category == "other" else category
        sources.append(
            SearchSource(
                ContactPerson, column, category,  # type: ignore[arg-type]
                "workcloud", PLACE_SV, PLACE_EN, link=contact_link, record_type="contact_person",
            )
        )
    sources.append(
        SearchSource(
            CustomerContact, "comment", "free_text", "workcloud", PLACE_SV, PLACE_EN,
            link=log_link, record_type="customer_contact",
        )
    )
    return sources


async def anonymize(context: AnonymizeContext) -> None:
    """The contact persons of anonymized customers become anonymized contact persons.

    Their columns were already overwritten as children of the customer (declared with
    parent_column); running the "contact_persons" rule on them as well sets their marker
    and, through the rule's subject "contact", sets every ``contact_ref`` to them in every
    plugin (a case's contact person, say) to 0, which child declarations cannot do.
    """
    if context.rule != "customers" or not context.record_ids:
        return
    from core.gdpr.engine import anonymize_records

    rows = await ContactPerson.select(ContactPerson.id).where(
        (ContactPerson.tenant_id == context.tenant_id)
        & ContactPerson.customer_id.is_in(list(context.record_ids))
        & ContactPerson.anonymized_at.is_null()
    )
    ids = [int(r["id"]) for r in rows]
    if ids:
        await anonymize_records(
            context.tenant_id, context.plugin, "contact_persons", ids,
            reason="customer anonymized", now=context.now,
        )
