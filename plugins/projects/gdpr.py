"""What the projects module does beside its declarations: the SMS-signing context of a
payment plan's approval, and forgetting the approval links when M20 anonymizes a project.

The project and its parts (sub-projects, extra costs, payment plans, installments, partner
invitations: their personal-data fields, rule M20, record types and person-search places)
are declared once in :mod:`plugins.projects.records`.
"""

from __future__ import annotations

from core.contracts import AnonymizeContext, TwoFactorContext
from core.db import raw

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        "payment_plans", "Betalplaner – SMS-autentisering", "Payment plans – SMS signing", module="projects", order=70
    ),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The approval links of the projects' payment plans die with the personal data."""
    if not context.record_ids:
        return
    placeholders = ", ".join("{}" for _ in context.record_ids)
    await raw(
        "UPDATE project_payment_plan SET public_token_hash = NULL "
        f"WHERE tenant_id = {{}} AND project_id IN ({placeholders})",
        context.tenant_id,
        *context.record_ids,
    )
