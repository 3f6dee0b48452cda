"""Work orders (Arbetsordrar) with extra costs the customer approves.

Retention rule M18 is declared in :mod:`plugins.workorders.records`; the core's engine runs it.
Comments, work reports, notes and customer conversations on a work order are core activity
(``/api/activity/workorders/work_order/{id}``). Approving an extra cost can require an SMS
code: the two-factor context "extra_costs" is declared here and asked through the
``challenge_second_factor`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.approvals import approvals_by
from core.contracts import TwoFactorContext
from core.plugins import answer_from, hookimpl, module_hooks

NAME = "workorders"

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")
# The portal lists and decides this module's extra costs through this kind.
declare_kinds = approvals_by("extra_cost", f"{__name__}.portal")


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    return [
        TwoFactorContext(
            key="extra_costs",
            label_sv="Extrakostnader – SMS-signering",
            label_en="Extra costs – SMS signing",
            module=NAME,
            order=60,
        )
    ]
