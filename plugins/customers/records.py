"""The customer register's records: customers, their contact persons and the customer
log (Kundkontakt), declared once (M14-M16). Personal data, retention rules, record types
and person-search sources are derived from these specs by the core.

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
  way (the comment is free text about the customer). The ``anonymize`` hook
  (:func:`plugins.customers.gdpr.anonymize`) then runs the "contact_persons" rule on those
  contact persons, so they get their marker and every ``contact_ref`` to them in any plugin
  becomes 0, as if each had been anonymized alone. (The contact rows are written twice that
  way; the declarations stay because they are what Settings > GDPR and erasure read to know
  that M14 covers contact persons.)
* ``ContactPerson.customer_id`` is deliberately **not** declared as a ``customer_ref``: it is
  the parent link, not personal data. Once the customer is anonymized its contact persons are
  anonymized too, and an anonymized contact pointing at an anonymized customer reveals
  nothing; keeping the link lets the engine find the children by parent id and keeps the
  contact persons listed under their (anonymized) customer instead of orphaned.
* **M15 "contact_persons"**: name, title become the word; e-mail and phones null. Subject
  "contact": every declared ``contact_ref`` (our log's ``contact_person_id`` included) is 0.
  The job title is text typed about the person: declared ``free_text`` (so person search
  looks there; erasure redacts it as any text).
* **M16 "customer_contacts"**: the clock is the entry's own ``date`` ("dated"); due entries
  lose customer and contact person (0) and their comment (empty), plus comments attached to
  the entry through core activity. The date and who wrote the entry stay. Log entries have
  no soft delete and no common routes or pages (they live under their customer).
* ``CustomerContact.created_by`` is an employee reference: declared ``employee_ref`` so
  anonymizing that employee (M25) sets it to 0.
"""

from __future__ import annotations

from typing import Literal

from core.contracts import (
    ActivityKind,
    Category,
    Field,
    Place,
    RecordSpec,
    RetentionRule,
    Strategy,
    any_employee,
)
from plugins.customers.tables import ContactPerson, Customer, CustomerContact

PLACE = (Place("Kundregister", "Customer register"),)
KINDS = ("company", "private")
RULE_CUSTOMERS = "customers"
RULE_CONTACTS = "contact_persons"
RULE_LOG = "customer_contacts"


def contact_link(record_id: int) -> str:
    return f"/api/customers/contacts/{record_id}"


def log_link(record_id: int) -> str:
    return f"/api/customers/log/{record_id}"


# (column, category, strategy, label_sv, label_en)
FieldRow = tuple[str, Category, Strategy, str, str]
CUSTOMER_FIELDS: tuple[FieldRow, ...] = (
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

CONTACT_FIELDS: tuple[FieldRow, ...] = (
    ("name", "name", "replace", "Kontaktperson, namn", "Contact person, name"),
    ("title", "free_text", "replace", "Kontaktperson, titel", "Contact person, title"),
    ("email", "email", "null", "Kontaktperson, e-post", "Contact person, e-mail"),
    ("mobile_phone", "phone", "null", "Kontaktperson, mobil", "Contact person, mobile phone"),
    ("private_phone", "phone", "null", "Kontaktperson, privat", "Contact person, private phone"),
    ("work_phone", "phone", "null", "Kontaktperson, arbete", "Contact person, work phone"),
)

# The log entry's contact person and comment: cleared by M16, and by M14 as a child.
LOG_CONTACT: FieldRow = ("contact_person_id", "contact_ref", "zero", "Kundkontakt, kontaktperson",
               "Customer contact, contact person")
LOG_COMMENT: FieldRow = ("comment", "free_text", "empty", "Kundkontakt, kommentar", "Customer contact, comment")


def _deleted_rule(
    key: str, sv: str, en: str, subject: Literal["customer", "contact"], clears: tuple[ActivityKind, ...] = ()
) -> RetentionRule:
    return RetentionRule(
        key=key, label_sv=sv, label_en=en, clock="deleted", clock_columns=("deleted_at",),
        allowed_modes=("immediately", "days", "off"), default_mode="off", default_days=365,
        clears_activity=clears,
        subject=subject,
    )


CUSTOMER = RecordSpec(
    name="customer", table=Customer, label_sv="Kund", label_en="Customer",
    plural_sv="Kunder", plural_en="Customers", path="/customers",
    title_column="name", number_column="number",
    search_columns=("name",), filters=("kind",), choices=(("kind", KINDS),),
    sort=("number", "name", "kind", "email", "postal_city", "created_at"), default_sort="number",
    fields=tuple(Field(*f, rule=RULE_CUSTOMERS) for f in CUSTOMER_FIELDS),
    not_personal=((("kind",), "a choice from a fixed list"),),
    rules=(_deleted_rule(RULE_CUSTOMERS, "Kunder", "Customers", "customer",
                         ("comment", "work_report", "note", "conversation")),),
    places=PLACE,
    can_open=any_employee,
)

CONTACT_PERSON = RecordSpec(
    name="contact_person", table=ContactPerson, label_sv="Kontaktperson", label_en="Contact person",
    plural_sv="Kontaktpersoner", plural_en="Contact persons",
    title_column="name", link=contact_link,
    filters=("customer_id",), sort=("name", "created_at"), default_sort="name",
    fields=(
        # Once as the contact person's own rule (M15) ...
        *(Field(*f, rule=RULE_CONTACTS) for f in CONTACT_FIELDS),
        # ... and once as a child of an anonymized customer (M14).
        *(Field(*f, rule=RULE_CUSTOMERS, parent_column="customer_id") for f in CONTACT_FIELDS),
    ),
    rules=(_deleted_rule(RULE_CONTACTS, "Kontaktpersoner", "Contact persons", "contact"),),
    places=PLACE,
    can_open=any_employee,
)

CUSTOMER_CONTACT = RecordSpec(
    name="customer_contact", table=CustomerContact, label_sv="Kundkontakt", label_en="Customer contact",
    title_column=None, soft_delete=False, link=log_link,
    filters=("customer_id",), sort=("date",), default_sort="-date",
    fields=(
        # The log (M16): customer, contact person and comment go when the entry is old.
        Field("customer_id", "customer_ref", "zero", "Kundkontakt, kund", "Customer contact, customer",
              rule=RULE_LOG, search=False),
        Field(*LOG_CONTACT, rule=RULE_LOG, search=False),
        Field(*LOG_COMMENT, rule=RULE_LOG),
        # Entries of an anonymized customer lose what they say about it (M14).
        Field(*LOG_CONTACT, rule=RULE_CUSTOMERS, parent_column="customer_id"),
        Field(*LOG_COMMENT, rule=RULE_CUSTOMERS, parent_column="customer_id"),
        # Who wrote the entry: cleared when that employee is anonymized (M25).
        Field("created_by", "employee_ref", "zero", "Kundkontakt, registrerad av",
              "Customer contact, recorded by", search=False),
    ),
    rules=(
        RetentionRule(
            key=RULE_LOG, label_sv="Kundkontakt", label_en="Customer contact", clock="dated",
            clock_columns=("date",), allowed_modes=("days", "off"), default_mode="off",
            default_days=730, clears_activity=("comment",),
        ),
    ),
    places=PLACE,
    can_open=any_employee,
)

RECORDS = (CUSTOMER, CONTACT_PERSON, CUSTOMER_CONTACT)
