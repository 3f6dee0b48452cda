"""The customer register's own steps of anonymization.

Customers, contact persons and the customer log are declared in
:mod:`plugins.customers.records` (that module says what M14-M16 do); the core derives their
personal data, rules, record types and search sources from there.
"""

from __future__ import annotations

from core.contracts import AnonymizeContext
from plugins.customers.tables import ContactPerson


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

    rows = await ContactPerson.select(ContactPerson._meta.primary_key).where(
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
