"""GDPR (the module "privacy"): the organization's own GDPR paperwork.

The record of processing activities (article 30), pre-filled from what the installed
modules declare and signed with an SMS code when two-factor context 9 ("gdpr_inventory")
is on; the personal-data breach log (article 33) with its 72-hour deadline; and the
data-protection officer and other GDPR contacts. The plugin object is this module: its
@hookimpl functions. Its own records (personal data, retention rules, search places)
are declared once, as record specs, in :mod:`plugins.privacy.gdpr`.
"""

from __future__ import annotations

from typing import Any

from core.plugins import answer_from, hookimpl, module_hooks

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
# Contact persons, incident reports, processing activities and signed inventory versions:
# their personal data, retention rules, search places and record types are derived from
# these specs; the first three are the record layer's, routes and pages included.
declare_records = answer_from(f"{__name__}.gdpr", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")


@hookimpl
def gdpr_overview(tenant_id: int) -> Any:
    """Open incidents and their 72-hour deadlines, for the GDPR overview."""
    from plugins.privacy.services import overview_panel

    return overview_panel(tenant_id)
