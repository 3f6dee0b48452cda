"""Projects (Projekt): projects with sub-projects, extra costs, payment plans the customer
approves through a link, partner invitations, and retention rule M20. The plugin object is
this module: its @hookimpl functions."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import AnonymizeContext, ApprovalKind, ModuleInfo, RecordSpec, TwoFactorContext
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
    from plugins.projects.pages import pages
    from plugins.projects.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    """The one declaration of the project and its parts (personal data, M20, record types
    and person-search places are derived from it)."""
    from plugins.projects.records import RECORDS

    return RECORDS


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
    from core.approvals import approval_kind

    return [approval_kind("payment_plan", "plugins.projects.portal")]
