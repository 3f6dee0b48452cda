"""What the projects module does beside its declarations: the SMS-signing context of a
payment plan's approval, and forgetting the approval links when M20 anonymizes a project.

The project and its parts (sub-projects, extra costs, payment plans, installments, partner
invitations: their personal-data fields, rule M20, record types and person-search places)
are declared once in :mod:`plugins.projects.records`.
"""

from __future__ import annotations

from core.approvals import forget_links
from core.contracts import AnonymizeContext, TwoFactorContext

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        "payment_plans", "Betalplaner – SMS-autentisering", "Payment plans – SMS signing", module="projects", order=70
    ),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The approval links of the projects' payment plans die with the personal data."""
    from plugins.projects.tables import PaymentPlan

    await forget_links(PaymentPlan, context.tenant_id, context.record_ids, key="project_id")
