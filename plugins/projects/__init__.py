"""Projects (Projekt): projects with sub-projects, extra costs, payment plans the customer
approves through a link, partner invitations, and retention rule M20. The plugin object is
this module: its hook implementations."""

from __future__ import annotations

from core.approvals import approvals_by
from core.plugins import anonymize_by, answer_from, module_hooks

NAME = "projects"

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
# The one declaration of the project and its parts (personal data, retention, record types and
# person-search places are derived from it).
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")
anonymize = anonymize_by(NAME, f"{__name__}.gdpr")
# The portal lists and decides this module's payment plans through this kind.
declare_kinds = approvals_by("payment_plan", f"{__name__}.portal")
