"""Work orders (Arbetsordrar) with extra costs the customer approves.

Retention rule M18 is declared in :mod:`plugins.workorders.records`; the core's engine runs it.
Comments, work reports, notes and customer conversations on a work order are core activity
(``/api/activity/workorders/work_order/{id}``). Approving an extra cost can require an SMS
code: the two-factor context "extra_costs" is declared here and asked through the
``challenge_second_factor`` hook.
"""

from __future__ import annotations

from core.approvals import approvals_by
from core.plugins import answer_from, module_hooks

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_two_factor_contexts = answer_from(f"{__name__}.records", "TWO_FACTOR_CONTEXTS")
# The portal lists and decides this module's extra costs through this kind.
declare_kinds = approvals_by("extra_cost", f"{__name__}.portal")
