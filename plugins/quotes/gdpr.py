"""What the quotes module does beside its declarations: the SMS-signing context of an
acceptance, and forgetting the public link when M19 anonymizes a quote.

The quote, its lines and its view log (their personal-data fields, rule M19, record types
and person-search places) are declared once in :mod:`plugins.quotes.records`.
"""

from __future__ import annotations

from core.approvals import forget_links
from core.contracts import AnonymizeContext, TwoFactorContext

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        "quotes", "Offerthantering – SMS-autentisering", "Quotes – SMS signing", module="quotes", order=80
    ),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The public link dies with the personal data: forget its token hash."""
    from plugins.quotes.tables import Quote

    await forget_links(Quote, context.tenant_id, context.record_ids)
