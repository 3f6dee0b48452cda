"""The customer portal (Kundportal): logins of private customers and contact persons, their
pages and API, and the approvals they decide (issue 7, M4-M8; its own plugin since #18.6).
The plugin object is this module: its hook implementations.

The portal builds on the customer register (``requires=("customers",)``: it is off for a
tenant while the register is) but imports nothing of it: who may hold an account, and the
name and phones of that person, come from the plugin that declared the kinds "customer"
and "contact" (``PersonKind.describe``/``standing`` through core.secondfactor). Sessions,
throttling and links are the core's (core.auth, kind "portal"). Its personal data is
declared under the register's retention rules (:mod:`plugins.portal.gdpr`).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.contracts import ScheduledJob
from core.plugins import anonymize_by, answer_from, describes, hookimpl, module_info_of, piccolo_app_of, routes_of

# Loading the plugin declares its background task (the password-reset mail).
from plugins.portal import services as _services  # noqa: F401

NAME = "portal"
PEOPLE_PLUGIN = "customers"


describe_module = describes(module_info_of(__name__))


# What the plugin answers lives in its modules, imported at the first call (core.plugins).
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
declare_personal_data = answer_from(f"{__name__}.gdpr", "PERSONAL_DATA")
declare_search_sources = answer_from(f"{__name__}.gdpr", "SEARCH_SOURCES")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "TWO_FACTOR_CONTEXTS")
# The accounts are declared under the customer register's rules: the engine calls this for
# them with that plugin's context.
anonymize = anonymize_by(PEOPLE_PLUGIN, f"{__name__}.gdpr")


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from plugins.portal import services

    return [ScheduledJob(id="portal.purge_expired", func=services.purge_expired, minutes=15)]
