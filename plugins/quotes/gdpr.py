"""What the quotes module does beside its declarations: the SMS-signing context of an
acceptance, and forgetting the public link when M19 anonymizes a quote.

The quote, its lines and its view log (their personal-data fields, rule M19, record types
and person-search places) are declared once in :mod:`plugins.quotes.records`.
"""

from __future__ import annotations

from core.contracts import AnonymizeContext, TwoFactorContext
from core.db import raw

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        "quotes", "Offerthantering – SMS-autentisering", "Quotes – SMS signing", module="quotes", order=80
    ),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The public link dies with the personal data: forget its token hash."""
    if not context.record_ids:
        return
    placeholders = ", ".join("{}" for _ in context.record_ids)
    await raw(
        f"UPDATE quote SET public_token_hash = NULL WHERE tenant_id = {{}} AND id IN ({placeholders})",
        context.tenant_id,
        *context.record_ids,
    )
