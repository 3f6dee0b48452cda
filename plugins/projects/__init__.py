"""Projects (Projekt): projects with sub-projects, extra costs, payment plans the customer
approves through a link, partner invitations, and retention rule M20. The plugin object is
this module: its @hookimpl functions."""

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

NAME = "projects"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Projekt",
        label_en="Projects",
        description_sv="Projekt med delprojekt, extrakostnader, betalplaner och partnerinbjudningar.",
        description_en="Projects with sub-projects, extra costs, payment plans and partner invitations.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.projects.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from core.gdpr.routes import module_settings_router
    from plugins.projects.pages import pages
    from plugins.projects.routes import ProjectsController, PublicPaymentPlansController

    return [ProjectsController, PublicPaymentPlansController, module_settings_router(NAME), *pages()]


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.projects.gdpr import FIELDS, NOT_PERSONAL, TEXT_FIELDS

    return [*FIELDS, *TEXT_FIELDS, *NOT_PERSONAL]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.projects.records import PROJECT

    return [PROJECT]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.projects.gdpr import SEARCH_SOURCES

    return SEARCH_SOURCES


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.projects.gdpr import TWO_FACTOR_CONTEXTS

    return TWO_FACTOR_CONTEXTS


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    if context.plugin != NAME:
        return None
    from plugins.projects.gdpr import anonymize as run

    return run(context)


@hookimpl
def declare_kinds() -> Sequence[ApprovalKind]:
    """The portal lists and decides this module's payment plans through this kind."""
    return [ApprovalKind("payment_plan", pending=_pending, decide=_decide)]


async def _pending(person: PortalPerson) -> Sequence[PortalApproval]:
    from plugins.projects.portal import pending

    return await pending(person)


async def _decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    from plugins.projects.portal import decide

    return await decide(request)
