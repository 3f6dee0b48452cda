"""Quotes (Offerter): quotes with lines, a public link the customer opens and accepts,
and retention rule M19. The plugin object is this module: its @hookimpl functions."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.approvals import PortalApproval, PortalDecisionRequest, PortalDecisionResult, PortalPerson
from core.contracts import (
    AnonymizeContext,
    ApprovalKind,
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    RecordSpec,
    SearchSource,
    TwoFactorContext,
)
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
    from core.gdpr.routes import module_settings_router
    from plugins.quotes.pages import pages
    from plugins.quotes.routes import PublicQuotesController, QuotesController

    return [QuotesController, PublicQuotesController, module_settings_router(NAME), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.quotes.records import QUOTE

    return [QUOTE]


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.quotes.gdpr import FIELDS, TEXT_FIELDS

    return [*FIELDS, *TEXT_FIELDS]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.quotes.gdpr import SEARCH_SOURCES

    return SEARCH_SOURCES


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
    return [ApprovalKind("quote", pending=_pending, decide=_decide)]


async def _pending(person: PortalPerson) -> Sequence[PortalApproval]:
    from plugins.quotes.portal import pending

    return await pending(person)


async def _decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    from plugins.quotes.portal import decide

    return await decide(request)
