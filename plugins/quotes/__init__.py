"""Quotes (Offerter): quotes with lines, a public link the customer opens and accepts,
and retention rule M19. The plugin object is this module: its hook implementations."""

from __future__ import annotations

from collections.abc import Sequence

from core.contracts import ApprovalKind, ModuleInfo
from core.plugins import anonymize_by, answer_from, hookimpl, piccolo_app_of, routes_of

NAME = "quotes"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Offerter",
        label_en="Quotes",
        description_sv="Offerter med rader, en publik länk som kunden öppnar och godkänner.",
        description_en="Quotes with lines, and a public link the customer opens and accepts.",
        area="workcloud",
    )


# What the plugin answers lives in its modules, imported at the first call (core.plugins).
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
# The one declaration of the quote, its lines and its view log (personal data, retention, record types and
# person-search places are derived from it).
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")
anonymize = anonymize_by(NAME, f"{__name__}.gdpr")


@hookimpl
def declare_kinds() -> Sequence[ApprovalKind]:
    """The portal lists and decides this module's quotes through this kind."""
    from core.approvals import approval_kind

    return [approval_kind("quote", f"{__name__}.portal")]
