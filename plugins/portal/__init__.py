"""The customer portal (Kundportal): logins of private customers and contact persons, their
pages and API, and the approvals they decide (issue 7, M4-M8; its own plugin since #18.6).

The portal builds on the customer register (``requires=("customers",)``: it is off for a
tenant while the register is) but imports nothing of it: who may hold an account, and the
name and phones of that person, come from the plugin that declared the kinds "customer"
and "contact" (``PersonKind.describe``/``standing`` through core.secondfactor). Sessions,
throttling and links are the core's (core.auth, kind "portal").

Personal data: an account is declared under the customer register's retention rules
("customers" and "contact_persons", as a child through ``customer_id``/``contact_id``), so
the engine nulls its e-mail and password hash with its person and calls this plugin's
``anonymize`` for those rules too: the accounts close and their sessions and links go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import (
    AnonymizeContext,
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    ScheduledJob,
    SearchSource,
    TwoFactorContext,
)
from core.plugins import hookimpl

# Loading the plugin declares its background tasks (the password-reset mail).
from plugins.portal import accounts as _accounts  # noqa: F401

NAME = "portal"
# The plugin owning the retention rules an account is declared under.
PEOPLE_PLUGIN = "customers"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Kundportal",
        label_en="Customer portal",
        description_sv="Inloggning för privatkunder och kontaktpersoner: offerter, godkännanden och konversationer.",
        description_en="Login for private customers and contact persons: quotes, approvals and conversations.",
        area="workcloud",
        requires=(PEOPLE_PLUGIN,),
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.portal.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.portal.pages import pages
    from plugins.portal.routes import route_handlers

    return [*route_handlers(), *pages()]


# The accounts, pending steps and approval steps are no records (no number, no pages of
# their own, no delete): their personal data and search sources are declared here.
@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.portal import accounts

    return [*accounts.not_personal(), *accounts.personal_data()]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.portal import accounts

    return accounts.search_sources()


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    """Accounts of anonymized customers and contact persons close; their sessions and links
    go (the engine calls this for the customer register's rules the accounts are declared
    under)."""
    if context.plugin != PEOPLE_PLUGIN:
        return None
    from plugins.portal import accounts

    return accounts.anonymize(context)


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.portal import accounts

    return accounts.two_factor_contexts()


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from plugins.portal import accounts

    return [ScheduledJob(id="portal.purge_expired", func=accounts.purge_expired, minutes=15)]
