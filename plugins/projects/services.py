"""Project business logic: numbering, life cycle, the child records and the payment-plan
approval link.

Reading, numbering, reference checks, edit and soft delete of the project itself are the
record layer's (:class:`core.records.RecordService`); every change logs its event here.
No HTTP here: every refusal is a :mod:`core.errors` exception with a code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from piccolo.table import Table

from core.approvals import approver_values, row_by_link, send_link, sign_by_link
from core.contracts import SignedItem
from core.db import atomic, bind_tenant, utcnow
from core.errors import RECORD_NOT_FOUND, Checks, Conflict, Label, NotFound
from core.errors import mark as _
from core.eventlog import log_event
from core.plugins import get_host
from core.records import RecordService, children_of
from core.records.shapes import out_of
from core.tables import Tenant
from core.tenancy import enabled_modules
from core.validation import FieldError, decimal_value, normalize_email, normalize_phone
from plugins.projects.records import PROJECT
from plugins.projects.schemas import (
    ExtraCostOut,
    InstallmentIn,
    InstallmentOut,
    InvitationOut,
    PaymentPlanOut,
    ProjectDetailOut,
    ProjectOut,
    SubProjectOut,
)
from plugins.projects.tables import (
    ExtraCost,
    Installment,
    PartnerInvitation,
    PaymentPlan,
    Project,
    SubProject,
)

MODULE = "projects"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")
# The page the customer opens (plugins/projects/pages.py); the API is under /api/projects/public.
PUBLIC_PATH = "/projects/public/payment-plans/{token}"


PROJECT_TITLE = _("Write a title for the project.")
SUB_NAME = _("Write a name for the sub-project.")
COST_TEXT = _("Write what the extra cost is for.")
PARTNER_NEEDED = _("Write the partner company.")
PLAN_TITLE = _("Write a title for the payment plan.")
APPROVER_NEEDED = _("Write the name of the person approving the plan.")
NOT_OPEN = _("A %(status)s project cannot be changed; reopen it first.")
PLAN_APPROVED_DELETE = _("An approved payment plan cannot be deleted.")
PLAN_APPROVED = _("The customer approved this payment plan; it can no longer be changed.")
LINK_INVALID = _("This payment plan link is not valid.")
PLAN_DECLINED = _("This payment plan was declined.")
PLAN_ALREADY_APPROVED = _("This payment plan is already approved.")
CHANGED_MEANWHILE = _("This payment plan was approved or changed a moment ago; reload it.")
# a project's part: its table -> (the name in codes and events, what a message calls it)
CHILDREN = {
    "sub_project": ("sub_project", Label(_("Sub-project"))),
    "project_extra_cost": ("extra_cost", Label(_("Extra cost"))),
    "project_partner_invitation": ("partner_invitation", Label(_("Partner invitation"))),
    "project_payment_plan": ("payment_plan", Label(_("Payment plan"))),
    "project_installment": ("installment", Label(_("Installment"))),
}


class ProjectRecords(RecordService):
    """The record layer's project: it closes only when open (M20's clock starts, and
    "immediately" anonymizes in the same transaction) and reopens only when closed."""

    async def close(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        async with atomic():
            row = await _changeable(tenant_id, record_id)
            now = utcnow()
            await Project.update({Project.status: "closed", Project.closed_at: now, Project.updated_at: now}).where(
                _where(tenant_id, record_id)
            )
            await self.anonymize_if_immediate(tenant_id, row, record_id)
            await self.log(tenant_id, "closed", record_id)
            return await self.get(tenant_id, record_id)

    async def reopen(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        async with atomic():
            await _changeable(tenant_id, record_id, ("closed",))
            return await super().reopen(tenant_id, record_id)


PROJECTS = ProjectRecords(PROJECT, MODULE)


def amount_field(value: Decimal, field: str) -> Decimal:
    """A positive amount with at most two decimals."""
    return decimal_value(value, field, high=MAX_AMOUNT)


def required_text(value: str, field: str, message: str) -> str:
    """The trimmed text, or the refusal ``message`` (a literal) when it is empty."""
    text = value.strip()
    if not text:
        raise FieldError(field, message, code="project.text_required")
    return text


async def get_scoped(table: type[Table], tenant_id: int, record_id: int) -> dict[str, Any]:
    """One row of a child table of the tenant by id, or 404 (also for another tenant's)."""
    row = await table.select().where(_child_where(table, tenant_id, record_id)).first()
    if row is None:
        name, label = CHILDREN[table._meta.tablename]
        raise NotFound(RECORD_NOT_FOUND, code=name + ".not_found", what=label, id=record_id)
    return row


async def _log(tenant_id: int, action: str, project_id: int) -> None:
    await PROJECTS.log(tenant_id, action, project_id)


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT)


# --- output -----------------------------------------------------------------------


def project_out(row: dict[str, Any]) -> ProjectOut:
    return out_of(ProjectOut, row)


def sub_out(row: dict[str, Any]) -> SubProjectOut:
    return out_of(SubProjectOut, row)


def cost_out(row: dict[str, Any]) -> ExtraCostOut:
    return out_of(ExtraCostOut, row, amount=_money(row["amount"]))


def invitation_out(row: dict[str, Any]) -> InvitationOut:
    return out_of(InvitationOut, row)


def installment_out(row: dict[str, Any]) -> InstallmentOut:
    return out_of(InstallmentOut, row, amount=_money(row["amount"]))


async def installments_of(tenant_id: int, plan_ids: list[int]) -> dict[int, list[InstallmentOut]]:
    return await children_of(
        Installment, "payment_plan_id", tenant_id, plan_ids, installment_out, Installment.due_date
    )


def plan_out(row: dict[str, Any], installments: list[InstallmentOut]) -> PaymentPlanOut:
    total = sum((i.amount for i in installments), Decimal("0.00")).quantize(CENT)
    return out_of(PaymentPlanOut, row, total=total, installments=installments)


async def load_plan(tenant_id: int, plan_id: int) -> PaymentPlanOut:
    row = await get_scoped(PaymentPlan, tenant_id, plan_id)
    return plan_out(row, (await installments_of(tenant_id, [plan_id]))[plan_id])


def _children(table: type[Table], tenant_id: int, project_id: int) -> Any:
    cols = table._meta
    return (
        table.select()
        .where(
            (cols.get_column_by_name("tenant_id") == tenant_id) & (cols.get_column_by_name("project_id") == project_id)
        )
        .order_by(cols.primary_key)
    )


async def output(row: dict[str, Any]) -> ProjectDetailOut:
    """What the API answers for a project: the row with its sub-projects, extra costs,
    payment plans and partner invitations."""
    tenant_id, project_id = int(row["tenant_id"]), int(row["id"])
    subs = await _children(SubProject, tenant_id, project_id)
    costs = await _children(ExtraCost, tenant_id, project_id)
    plans = await _children(PaymentPlan, tenant_id, project_id)
    invitations = await _children(PartnerInvitation, tenant_id, project_id)
    installments = await installments_of(tenant_id, [p["id"] for p in plans])
    cost_items = [cost_out(c) for c in costs]
    return out_of(
        ProjectDetailOut,
        row,
        extra_costs_total=sum((c.amount for c in cost_items), Decimal("0.00")).quantize(CENT),
        sub_projects=[sub_out(s) for s in subs],
        extra_costs=cost_items,
        payment_plans=[plan_out(p, installments[p["id"]]) for p in plans],
        partner_invitations=[invitation_out(i) for i in invitations],
    )


async def load_detail(tenant_id: int, project_id: int) -> ProjectDetailOut:
    return await output(await PROJECTS.get(tenant_id, project_id))


# --- projects ---------------------------------------------------------------------


def _where(tenant_id: int, project_id: int) -> Any:
    return PROJECTS.where_own(tenant_id, project_id)


async def _changeable(tenant_id: int, project_id: int, states: tuple[str, ...] = ("open",)) -> dict[str, Any]:
    row = await PROJECTS.get_writable(tenant_id, project_id)
    if row["status"] not in states:
        raise Conflict(NOT_OPEN, code="project.not_open", status=row["status"])
    return row


def _clean_project(data: Any, partial: bool) -> dict[str, Any]:
    """Validated column values of a create (all) or edit (only the given fields)."""
    values: dict[str, Any] = {}

    def given(name: str) -> bool:
        return getattr(data, name) is not None

    checks = Checks()  # every bad field refused together
    if not partial or given("title"):
        values["title"] = checks(required_text, data.title, "title", PROJECT_TITLE)
    for name in ("customer_id", "contact_person_id"):
        if not partial or given(name):
            values[name] = getattr(data, name)
    if not partial or given("end_customer_name"):
        values["end_customer_name"] = data.end_customer_name.strip()
    if not partial or given("end_customer_address"):
        values["end_customer_address"] = data.end_customer_address.strip()
    if not partial or given("end_customer_phone"):
        values["end_customer_phone"] = checks(normalize_phone, data.end_customer_phone, "end_customer_phone") or ""
    if not partial or given("end_customer_email"):
        values["end_customer_email"] = checks(normalize_email, data.end_customer_email, "end_customer_email") or ""
    if not partial or given("email"):
        values["email"] = checks(normalize_email, data.email, "email") or ""
    checks.done()
    return values


@PROJECTS.creates
async def create_project(tenant_id: int, employee_id: int, data: Any) -> dict[str, Any]:
    """A new project (``employee_id``: who makes it, as every record's create takes it; the
    event log reads the acting person from the context)."""
    return await PROJECTS.create(tenant_id, _clean_project(data, partial=False))


@PROJECTS.edits
async def update_project(tenant_id: int, project_id: int, data: Any) -> dict[str, Any]:
    values = _clean_project(data, partial=True)
    async with atomic():
        row = await _changeable(tenant_id, project_id)
        return await PROJECTS.edit(tenant_id, project_id, values, row=row)


# --- child records ------------------------------------------------------------------


async def _child(table: type[Table], tenant_id: int, child_id: int) -> dict[str, Any]:
    """A child row of an open project of the tenant, or 404/409."""
    row = await get_scoped(table, tenant_id, child_id)
    await _changeable(tenant_id, int(row["project_id"]))
    return row


async def _child_changed(tenant_id: int, table: type[Table], action: str, row: dict[str, Any]) -> None:
    """The event of a change to a project's part, logged on the project."""
    await _log(tenant_id, f"{CHILDREN[table._meta.tablename][0]}_{action}", int(row["project_id"]))


def _child_where(table: type[Table], tenant_id: int, child_id: int) -> Any:
    return (table._meta.get_column_by_name("tenant_id") == tenant_id) & (table._meta.primary_key == child_id)


async def _insert(table: type[Table], **values: Any) -> int:
    rows = await table.insert(table(**values)).returning(table._meta.primary_key)
    return int(rows[0]["id"])


async def add_sub_project(tenant_id: int, project_id: int, data: Any) -> SubProjectOut:
    name = required_text(data.name, "name", SUB_NAME)
    async with atomic():
        await _changeable(tenant_id, project_id)
        new_id = await _insert(
            SubProject, tenant_id=tenant_id, project_id=project_id, name=name, description=data.description
        )
        await _log(tenant_id, "sub_project_added", project_id)
        return sub_out(await get_scoped(SubProject, tenant_id, new_id))


async def update_sub_project(tenant_id: int, sub_id: int, data: Any) -> SubProjectOut:
    changes: dict[Any, Any] = {}
    if data.name is not None:
        changes[SubProject.name] = required_text(data.name, "name", SUB_NAME)
    if data.description is not None:
        changes[SubProject.description] = data.description
    async with atomic():
        row = await _child(SubProject, tenant_id, sub_id)
        if changes:
            await SubProject.update(changes).where(_child_where(SubProject, tenant_id, sub_id))
        await _log(tenant_id, "sub_project_edited", int(row["project_id"]))
        return sub_out(await get_scoped(SubProject, tenant_id, sub_id))


async def add_extra_cost(tenant_id: int, project_id: int, data: Any) -> ExtraCostOut:
    text = required_text(data.description, "description", COST_TEXT)
    amount = amount_field(data.amount, "amount")
    async with atomic():
        await _changeable(tenant_id, project_id)
        new_id = await _insert(ExtraCost, tenant_id=tenant_id, project_id=project_id, description=text, amount=amount)
        await _log(tenant_id, "extra_cost_added", project_id)
        return cost_out(await get_scoped(ExtraCost, tenant_id, new_id))


async def update_extra_cost(tenant_id: int, cost_id: int, data: Any) -> ExtraCostOut:
    changes: dict[Any, Any] = {}
    if data.description is not None:
        changes[ExtraCost.description] = required_text(data.description, "description", COST_TEXT)
    if data.amount is not None:
        changes[ExtraCost.amount] = amount_field(data.amount, "amount")
    async with atomic():
        row = await _child(ExtraCost, tenant_id, cost_id)
        if changes:
            await ExtraCost.update(changes).where(_child_where(ExtraCost, tenant_id, cost_id))
        await _log(tenant_id, "extra_cost_edited", int(row["project_id"]))
        return cost_out(await get_scoped(ExtraCost, tenant_id, cost_id))


def _invitation_values(data: Any, partial: bool) -> dict[Any, Any]:
    values: dict[Any, Any] = {}
    if not partial or data.partner_company is not None:
        values[PartnerInvitation.partner_company] = required_text(
            data.partner_company, "partner_company", PARTNER_NEEDED
        )
    if not partial or data.partner_contact is not None:
        values[PartnerInvitation.partner_contact] = data.partner_contact.strip()
    if not partial or data.partner_email is not None:
        values[PartnerInvitation.partner_email] = normalize_email(data.partner_email, "partner_email") or ""
    if not partial or data.comment is not None:
        values[PartnerInvitation.comment] = data.comment
    if partial and data.status is not None:
        values[PartnerInvitation.status] = data.status
    return values


async def add_invitation(tenant_id: int, project_id: int, data: Any) -> InvitationOut:
    values = _invitation_values(data, partial=False)
    async with atomic():
        await _changeable(tenant_id, project_id)
        new_id = await _insert(
            PartnerInvitation, tenant_id=tenant_id, project_id=project_id,
            **{c._meta.name: v for c, v in values.items()},
        )
        await _log(tenant_id, "partner_invitation_added", project_id)
        return invitation_out(await get_scoped(PartnerInvitation, tenant_id, new_id))


async def update_invitation(tenant_id: int, invitation_id: int, data: Any) -> InvitationOut:
    values = _invitation_values(data, partial=True)
    async with atomic():
        row = await _child(PartnerInvitation, tenant_id, invitation_id)
        if values:
            await PartnerInvitation.update(values).where(_child_where(PartnerInvitation, tenant_id, invitation_id))
        await _log(tenant_id, "partner_invitation_edited", int(row["project_id"]))
        return invitation_out(await get_scoped(PartnerInvitation, tenant_id, invitation_id))


async def delete_child(table: type[Table], tenant_id: int, child_id: int) -> ProjectDetailOut:
    """Delete a part of an open project; the answer is the project as it is after."""
    async with atomic():
        row = await _child(table, tenant_id, child_id)
        if table is PaymentPlan:
            if row["status"] == "approved":
                raise Conflict(PLAN_APPROVED_DELETE, code="payment_plan.approved")
            await Installment.delete().where(
                (Installment.tenant_id == tenant_id) & (Installment.payment_plan_id == child_id)
            )
        await table.delete().where(_child_where(table, tenant_id, child_id))
        await _child_changed(tenant_id, table, "deleted", row)
        return await load_detail(tenant_id, int(row["project_id"]))


# --- payment plans ------------------------------------------------------------------


def _clean_installments(items: list[InstallmentIn]) -> list[tuple[Any, Decimal, str]]:
    return [
        (i.due_date, amount_field(i.amount, f"installments[{n}].amount"), i.description.strip())
        for n, i in enumerate(items)
    ]


async def _write_installments(
    tenant_id: int, project_id: int, plan_id: int, items: list[tuple[Any, Decimal, str]]
) -> None:
    await Installment.delete().where((Installment.tenant_id == tenant_id) & (Installment.payment_plan_id == plan_id))
    await Installment.insert(
        *[
            Installment(
                tenant_id=tenant_id, project_id=project_id, payment_plan_id=plan_id, due_date=d, amount=a, description=t
            )
            for d, a, t in items
        ]
    )


async def add_plan(tenant_id: int, project_id: int, data: Any) -> PaymentPlanOut:
    title = required_text(data.title, "title", PLAN_TITLE)
    items = _clean_installments(data.installments)
    async with atomic():
        await _changeable(tenant_id, project_id)
        plan_id = await _insert(PaymentPlan, tenant_id=tenant_id, project_id=project_id, title=title)
        await _write_installments(tenant_id, project_id, plan_id, items)
        await _log(tenant_id, "payment_plan_added", project_id)
        return await load_plan(tenant_id, plan_id)


async def _changeable_plan(tenant_id: int, plan_id: int) -> dict[str, Any]:
    row = await _child(PaymentPlan, tenant_id, plan_id)
    if row["status"] == "approved":
        raise Conflict(PLAN_APPROVED, code="payment_plan.approved")
    return row


async def update_plan(tenant_id: int, plan_id: int, data: Any) -> PaymentPlanOut:
    title = required_text(data.title, "title", PLAN_TITLE) if data.title is not None else None
    items = _clean_installments(data.installments) if data.installments is not None else None
    async with atomic():
        row = await _changeable_plan(tenant_id, plan_id)
        if title is not None:
            await PaymentPlan.update({PaymentPlan.title: title}).where(_child_where(PaymentPlan, tenant_id, plan_id))
        if items is not None:
            await _write_installments(tenant_id, int(row["project_id"]), plan_id, items)
        await _log(tenant_id, "payment_plan_edited", int(row["project_id"]))
        return await load_plan(tenant_id, plan_id)


# The e-mail with the approval link, in the organization's language (core.approvals.email_link).
EMAIL = {
    "sv": ("Betalplan för projekt %(number)s från %(org)s",
           "%(org)s ber dig godkänna betalplanen %(title)s.\n\nÖppna den här: %(link)s\n"),
    "en": ("Payment plan for project %(number)s from %(org)s",
           "%(org)s asks you to approve the payment plan %(title)s.\n\nOpen it here: %(link)s\n"),
}


async def send_plan(tenant_id: int, plan_id: int, email: str, message: str) -> PaymentPlanOut:
    """E-mail a fresh approval link to the customer (an earlier link stops working)."""
    address = normalize_email(email, "email", required=True)
    assert address is not None
    async with atomic():
        row = await _changeable_plan(tenant_id, plan_id)
        project = await PROJECTS.get(tenant_id, int(row["project_id"]))
        await send_link(PaymentPlan, _child_where(PaymentPlan, tenant_id, plan_id), tenant_id, address, PUBLIC_PATH,
                        message, EMAIL, number=project["number"], title=row["title"])
        await _log(tenant_id, "payment_plan_sent", int(row["project_id"]))
        return await load_plan(tenant_id, plan_id)


async def find_public_plan(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plan and project behind an approval token, or 404 (unknown token, a deleted,
    closed or anonymized project, or a tenant that turned the projects module off)."""
    plan = await row_by_link(PaymentPlan, token)
    if plan is None:
        raise NotFound(LINK_INVALID, code="payment_plan.link_invalid")
    tenant_id = int(plan["tenant_id"])
    project = (
        await Project.select().where((Project.tenant_id == tenant_id) & (Project.id == plan["project_id"])).first()
    )
    if (
        project is None
        or project["deleted_at"] is not None
        or project["anonymized_at"] is not None
        or project["status"] != "open"
        or MODULE not in await enabled_modules(get_host(), tenant_id)
    ):
        raise NotFound(LINK_INVALID, code="payment_plan.link_invalid")
    bind_tenant(tenant_id)  # the rest of the request sees only this tenant's rows
    return plan, project


async def view_public_plan(token: str) -> tuple[dict[str, Any], dict[str, Any], str, list[InstallmentOut]]:
    plan, project = await find_public_plan(token)
    tenant_id = int(plan["tenant_id"])
    tenant = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
    return plan, project, tenant["name"], (await installments_of(tenant_id, [int(plan["id"])]))[int(plan["id"])]


async def approve_public_plan(
    token: str, name: str, email: str, challenge_id: str | None, user_agent: str
) -> tuple[str, Any]:
    """Record the customer's approval, asking for an SMS code first when the tenant wants
    one. Returns ("approved", approved_at) or ("second_factor_required", decision)."""
    approver = required_text(name, "name", APPROVER_NEEDED)
    address = normalize_email(email, "email", required=True)
    plan, project = await find_public_plan(token)
    if plan["status"] == "declined":
        raise Conflict(PLAN_DECLINED, code="payment_plan.declined")
    if plan["status"] != "sent":
        raise Conflict(PLAN_ALREADY_APPROVED, code="payment_plan.already_approved")
    tenant_id = int(plan["tenant_id"])
    challenge, signed = await sign_by_link(
        tenant_id=tenant_id, customer_id=int(project["customer_id"]),
        contact_person_id=int(project["contact_person_id"]), context="payment_plans",
        subject=f"payment_plan:{int(plan['id'])}:approve",  # this plan only
        challenge_id=challenge_id, user_agent=user_agent, name=approver,
        item=SignedItem("betalplan", "payment plan", of_sv="projekt", of_en="project",
                        of_number=int(project["number"]), amount=sum(
                            (i.amount for i in (await installments_of(tenant_id, [int(plan["id"])]))[int(plan["id"])]),
                            Decimal("0.00"))),
    )
    if signed is None:
        return "second_factor_required", challenge
    async with atomic():
        updated = await PaymentPlan.update(
            {
                PaymentPlan.status: "approved",
                PaymentPlan.approved_at: signed.at,
                **approver_values(PaymentPlan, signed, address),
            }
        ).where(
            (PaymentPlan.id == plan["id"]) & (PaymentPlan.tenant_id == tenant_id) & (PaymentPlan.status == "sent")
        ).returning(PaymentPlan.approved_at)
        if not updated:
            raise Conflict(CHANGED_MEANWHILE, code="payment_plan.changed_meanwhile")
        await log_event(tenant_id, user=None, action="project.payment_plan_approved", plugin=MODULE,
                        record_type=PROJECT.name, record_id=int(project["id"]))
    return "approved", updated[0]["approved_at"]
