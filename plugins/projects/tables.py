"""Projects (Projekt) and what hangs under them: sub-projects, extra costs, payment plans
with installments, and partner invitations.

Every child row carries tenant_id and project_id, so rule M20 reaches it through the
``parent_column`` of its declarations. Customer and contact person are integer ids of the
customer register (0 = none or anonymized); this plugin never imports it.
"""

from __future__ import annotations

from piccolo.columns import Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import Closable, LinkSignedColumns


class Project(Closable, Table):
    """A project: its own columns and the record clocks (core.records.columns)."""

    tenant_id = Integer(index=True)
    number = Integer()
    title = Varchar(length=200)
    customer_id = Integer(default=0, index=True)
    contact_person_id = Integer(default=0, index=True)
    # The end customer: the person the work is done for, when not the customer itself.
    end_customer_name = Varchar(length=200, default="")
    end_customer_address = Varchar(length=300, default="")
    end_customer_phone = Varchar(length=32, default="")
    end_customer_email = Varchar(length=254, default="")
    # Where the project's messages to the customer go.
    email = Varchar(length=254, default="")
    status = Varchar(length=8, default="open", index=True)


class SubProject(Table, tablename="sub_project"):
    tenant_id = Integer(index=True)
    project_id = Integer(index=True)
    name = Varchar(length=200)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ExtraCost(Table, tablename="project_extra_cost"):
    tenant_id = Integer(index=True)
    project_id = Integer(index=True)
    description = Varchar(length=500)
    amount = Numeric(digits=(14, 2))
    created_at = Timestamptz(default=TimestamptzNow())


class PaymentPlan(LinkSignedColumns, Table, tablename="project_payment_plan"):
    """A plan the customer approves through a link (by SMS code when the tenant wants it)."""

    tenant_id = Integer(index=True)
    project_id = Integer(index=True)
    title = Varchar(length=200)
    status = Varchar(length=10, default="draft")
    approved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Installment(Table, tablename="project_installment"):
    tenant_id = Integer(index=True)
    project_id = Integer(index=True)
    payment_plan_id = Integer(index=True)
    due_date = Date()
    amount = Numeric(digits=(14, 2))
    description = Varchar(length=500, default="")


class PartnerInvitation(Table, tablename="project_partner_invitation"):
    tenant_id = Integer(index=True)
    project_id = Integer(index=True)
    partner_company = Varchar(length=200)
    partner_contact = Varchar(length=200, default="")
    partner_email = Varchar(length=254, default="")
    comment = Text(default="")
    status = Varchar(length=10, default="invited")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Project, SubProject, ExtraCost, PaymentPlan, Installment, PartnerInvitation]
