"""GDPR (the module "privacy"): the organization's own GDPR paperwork.

The record of processing activities (article 30), pre-filled from what the installed
modules declare and signed with an SMS code when two-factor context 9 ("gdpr_inventory")
is on; the personal-data breach log (article 33) with its 72-hour deadline; and the
data-protection officer and other GDPR contacts. The plugin object is this module: its
@hookimpl functions. Its own records (personal data, retention rules, search places)
are declared once, as record specs, in :mod:`plugins.privacy.gdpr`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ModuleInfo, RecordSpec, TwoFactorContext
from core.plugins import hookimpl

NAME = "privacy"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="GDPR",
        label_en="GDPR",
        description_sv=(
            "Registerförteckning, incidentrapporter och kontaktpersoner för dataskydd."
        ),
        description_en=(
            "Record of processing activities, incident reports and data-protection contacts."
        ),
        area="gdpr",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.privacy.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.privacy.pages import pages
    from plugins.privacy.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    """Contact persons, incident reports, processing activities and signed inventory
    versions: their personal data, retention rules, search places and record types are
    derived from these specs (the module serves their routes and pages itself)."""
    from plugins.privacy.gdpr import RECORDS

    return RECORDS


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.privacy.gdpr import TWO_FACTOR_CONTEXTS

    return TWO_FACTOR_CONTEXTS


@hookimpl
def gdpr_overview(tenant_id: int) -> Any:
    """Open incidents and their 72-hour deadlines, for the GDPR overview."""
    from plugins.privacy.services import overview_panel

    return overview_panel(tenant_id)
