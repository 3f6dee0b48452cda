"""Projects (Projekt): projects with sub-projects, extra costs, payment plans the customer
approves through a link, partner invitations, and retention rule M20. The plugin object is
this module: its hook implementations."""

from __future__ import annotations

from core.approvals import approvals_by
from core.contracts import ModuleInfo
from core.plugins import anonymize_by, answer_from, describes, piccolo_app_of, routes_of

NAME = "projects"

describe_module = describes(
    ModuleInfo(
        name=NAME,
        label_sv="Projekt",
        label_en="Projects",
        description_sv="Projekt med delprojekt, extrakostnader, betalplaner och partnerinbjudningar.",
        description_en="Projects with sub-projects, extra costs, payment plans and partner invitations.",
        area="workcloud",
    )
)
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
# The one declaration of the project and its parts (personal data, retention, record types and
# person-search places are derived from it).
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")
anonymize = anonymize_by(NAME, f"{__name__}.gdpr")
# The portal lists and decides this module's payment plans through this kind.
declare_kinds = approvals_by("payment_plan", f"{__name__}.portal")
