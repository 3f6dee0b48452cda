"""A test-only plugin that merely references customers and contact persons.

It proves that anonymizing a customer (or contact person) of the customers plugin clears
references in a plugin the customers plugin knows nothing about, through declarations.
"""

from __future__ import annotations

from piccolo.columns import Integer, Varchar
from piccolo.table import Table

from core.contracts import PersonalDataField
from core.plugins import hookimpl


class CustLink(Table, tablename="customers_test_link"):
    tenant_id = Integer()
    customer_id = Integer(default=0)
    contact_id = Integer(null=True, default=None)
    label = Varchar(length=50, default="")


class LinkPlugin:
    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        return [
            PersonalDataField(CustLink, "customer_id", "customer_ref", "zero"),
            PersonalDataField(CustLink, "contact_id", "contact_ref", "null"),
        ]
