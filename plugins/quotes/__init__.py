"""Quotes (Offerter): quotes with lines, a public link the customer opens and accepts,
and retention rule M19. The plugin object is this module: its @hookimpl functions."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import AnonymizeContext, ApprovalKind, ModuleInfo, RecordSpec, TwoFactorContext
from core.plugins import hookimpl

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


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.quotes.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.quotes.pages import pages
    from plugins.quotes.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    """The one declaration of the quote, its lines and its view log (personal data, M19,
    record types and person-search places are derived from it)."""
    from plugins.quotes.records import RECORDS

    return RECORDS


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.quotes.gdpr import TWO_FACTOR_CONTEXTS

    return TWO_FACTOR_CONTEXTS


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    if context.plugin != NAME:
        return None
    from plugins.quotes.gdpr import anonymize as run

    return run(context)


@hookimpl
def declare_kinds() -> Sequence[ApprovalKind]:
    """The portal lists and decides this module's quotes through this kind."""
    from core.approvals import approval_kind

    return [approval_kind("quote", "plugins.quotes.portal")]
