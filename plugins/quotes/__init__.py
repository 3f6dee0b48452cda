"""Quotes (Offerter): quotes with lines, a public link the customer opens and accepts,
and retention rule M19. The plugin object is this module: its hook implementations."""

from __future__ import annotations

from core.approvals import approvals_by
from core.contracts import ModuleInfo
from core.plugins import anonymize_by, answer_from, describes, piccolo_app_of, routes_of

NAME = "quotes"

describe_module = describes(
    ModuleInfo(
        name=NAME,
        label_sv="Offerter",
        label_en="Quotes",
        description_sv="Offerter med rader, en publik länk som kunden öppnar och godkänner.",
        description_en="Quotes with lines, and a public link the customer opens and accepts.",
        area="workcloud",
    )
)
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
# The one declaration of the quote, its lines and its view log (personal data, retention,
# record types and person-search places are derived from it).
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")
anonymize = anonymize_by(NAME, f"{__name__}.gdpr")
# The portal lists and decides this module's quotes through this kind.
declare_kinds = approvals_by("quote", f"{__name__}.portal")
