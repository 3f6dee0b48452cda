"""Data-subject requests (Registrerades begäranden): people's requests under articles
15-21 GDPR and the tenant's queue that answers them within the month of article 12(3).

The plugin object is this module: its hook implementations. The request is declared once,
as a record spec, in :mod:`plugins.dsr.records`.
"""

from __future__ import annotations

from core.contracts import ModuleInfo
from core.plugins import answer_from, hookimpl, piccolo_app_of, routes_of

NAME = "dsr"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Registrerades begäranden",
        label_en="Data-subject requests",
        description_sv="Begäranden om tillgång, dataportabilitet, rättelse, radering, begränsning och "
                       "invändning, med lagens svarsfrist.",
        description_en="Requests for access, portability, rectification, erasure, restriction and "
                       "objection, with the legal deadline.",
        area="gdpr",
    )


register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")
