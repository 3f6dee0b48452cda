"""Every hook a Gallra plugin can implement: the plugin contract.

Conventions (see docs/hooks.md for each hook's signature and an example):

* Hooks are verb-first and unprefixed. Implement them in a plugin module with
  ``@hookimpl`` from :mod:`core.plugins`.
* A hook that does I/O may return an awaitable instead of a value; the core awaits it
  ("await me maybe"). A hook that does not apply returns ``None``.
* What one plugin owns by kind (a kind of person, a kind of portal item) is declared with
  ``declare_kinds``, not answered through a ``firstresult`` hook: the core looks the kind up
  and calls its one owner. ``firstresult`` is left only where the first plugin willing to
  answer is really meant (a gateway delivering a message, a second-factor provider).
* A ``@hookimpl`` whose name is no hook here stops Gallra at start-up (``check_pending``).
* pluggy does not pass spec arguments that have defaults, so no spec argument has one.
* Calls made for a tenant reach only the plugins the tenant has enabled, except the GDPR
  duties (declarations, anonymize, search), which always reach every installed plugin:
  data stored by a module stays subject to retention after the module is turned off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from litestar import Litestar
    from litestar.types import ControllerRouterHandler

    from core.contracts import (
        AnonymizeContext,
        ApprovalKind,
        AppSetup,
        ContactChoice,
        CustomerChoice,
        DataRequestDesk,
        ModuleInfo,
        NotPersonal,
        OutgoingMessage,
        OverviewPanel,
        OwnFactors,
        PartyFound,
        PasskeyInfo,
        PasskeyRegistration,
        PersonalDataField,
        PersonKind,
        PortalDataAsk,
        PortalDataRequest,
        PortalPerson,
        RecordSpec,
        RecordType,
        RecoveryCodes,
        RetentionRule,
        ScheduledJob,
        SearchSource,
        SecondFactor,
        SecondFactorDecision,
        SecondFactorRequest,
        TwoFactorContext,
    )

hookspec = pluggy.HookspecMarker("gallra")


# --- Platform -----------------------------------------------------------------------


@hookspec
def describe_module() -> ModuleInfo | None:
    """Name the module and label it in Swedish and English.

    A plugin that returns ``None`` is a service plugin (an SMS gateway, say): it has no
    pages of its own and cannot be turned off per tenant.
    """


@hookspec
def register_piccolo_apps() -> Sequence[str]:
    """Dotted paths of the plugin's Piccolo apps (``"plugins.customers.piccolo_app"``).

    Each app owns its tables and migrations; ``gallra migrate`` applies them all.
    """


@hookspec
def register_routes() -> Sequence[ControllerRouterHandler]:
    """Litestar controllers and handlers of the plugin.

    They are mounted under a router guarded by module enablement: a tenant that has the
    module turned off gets 404 from every one of them.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``gallra`` command line."""


@hookspec
def register_jobs() -> Sequence[ScheduledJob]:
    """Periodic jobs for the scheduler. Only one scheduler acts at a time."""


@hookspec
def start_up(app: Litestar) -> Awaitable[None] | None:
    """Called once when the web application starts, after migrations were checked."""


# --- GDPR ---------------------------------------------------------------------------


@hookspec
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    """Every column of the plugin that can hold personal data, with category and strategy.

    Declaring a ``customer_ref`` or ``employee_ref`` column makes the core set it to 0 (or
    null) when that customer or employee is anonymized, without the plugins knowing each
    other. Every text column of the plugin's tables is declared: the ones that hold no
    personal data (a status, a hash) as :class:`~core.contracts.NotPersonal`, with the
    reason. Erasure redacts a person's identifiers in every declared text column and
    verifies that none is left before it says nothing remains.
    """


@hookspec
def declare_retention_rules() -> Sequence[RetentionRule]:
    """The plugin's retention rules: one row each in Settings > GDPR > Anonymization."""


@hookspec
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    """Do what declarations cannot express for one batch of records of one rule.

    Runs inside the batch's transaction after the core applied the declared strategies;
    use set-based updates on ``context.record_ids`` and the tenant in ``context``.
    """


@hookspec
def veto_erasure(
    tenant_id: int, rule: str, record_ids: list[int]
) -> Mapping[int, str] | Awaitable[Mapping[int, str]] | None:
    """Keep records a data subject asked to erase, with a reason each (for example invoiced
    orders kept for bookkeeping); answer ``{record_id: reason}`` for ``rule``'s records.

    Called only for the plugin that owns ``rule``. A kept record is not anonymized; the
    person's links in it are cleared when the person is, and the reason is shown in the
    erasure's preview and audit. Reasons hold no personal data.
    """


@hookspec
def answer_data_subject(
    tenant_id: int, kind: str, emails: list[str], phones: list[str], language: str
) -> Sequence[str] | Awaitable[Sequence[str]] | None:
    """What the plugin adds to the answer of a person's request under articles 15-21 GDPR
    (``kind``: "access", "portability", "correction", "erasure", "restriction" or
    "objection"), found by the addresses the person gave: paragraphs in ``language`` ("sv"
    or "en") the answer must include, such as the purposes, recipients or retention of
    what the plugin keeps, or why something is kept. Called when a request is answered,
    for every plugin; the texts are stored with the answer and sent to the person. Texts
    hold no one else's personal data. (The records themselves reach the export and the
    erasure through ``declare_records``.)
    """


@hookspec
def declare_records() -> Sequence[RecordSpec]:
    """The kinds of record the plugin keeps, each declared once (:class:`RecordSpec`).

    A spec names the table, its labels, number and states, the references it holds, its
    personal-data fields with their strategies, its retention rules and who may open it.
    The core derives the answers of ``declare_personal_data``, ``declare_retention_rules``,
    ``declare_search_sources`` and ``declare_record_types`` from it (those hooks remain for
    tables that are not records, such as a log), and ``core.records.RecordService`` gives
    the record its shared behaviour. A GDPR hook: it reaches disabled modules too.
    """


@hookspec
def declare_record_types() -> Sequence[RecordType]:
    """The kinds of record the plugin owns (a case, a customer...).

    Activity (comments, notes, work reports, conversations) attaches to them, and person
    search links its hits to them.
    """


@hookspec
def declare_search_sources() -> Sequence[SearchSource]:
    """The columns person search looks in, and where a hit is shown."""


@hookspec
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    """Places in the module that can require an SMS code (Settings > Two-factor)."""


@hookspec
def declare_kinds() -> Sequence[PersonKind | ApprovalKind | SecondFactor]:
    """The kinds of thing the plugin owns and answers for, each with its functions: kinds of
    person (:class:`~core.contracts.PersonKind`: name and phones for two-factor and pages)
    and kinds of portal item (:class:`~core.contracts.ApprovalKind`: list and decide) and
    second factors (:class:`~core.contracts.SecondFactor`: check a step's answer).

    The core keeps one dictionary kind -> declaration and calls the one owner, only when the
    tenant has the owning module enabled. Two plugins declaring the same kind stop Gallra at
    start-up. Answer synchronously (the functions inside are async).
    """


# --- Authentication and delivery ----------------------------------------------------


@hookspec(firstresult=True)
def challenge_second_factor(
    request: SecondFactorRequest,
) -> Awaitable[SecondFactorDecision | None] | SecondFactorDecision | None:
    """Decide whether a step (login from a device, reset, signing) needs a second factor.

    The first plugin that answers decides; with no answer the step needs none. This stays a
    ``firstresult`` hook, not a kind declaration: the contexts are declared by the modules
    (``declare_two_factor_contexts``) but one provider (the SMS plugin) answers for all of
    them, including contexts declared after it was written, and a provider may stand in
    for some contexts and pass on the rest. Whether to answer is known from
    ``request.context`` alone, so a provider returns ``None`` *synchronously* to pass (a
    returned awaitable is an answer: the step is the provider's).
    """


@hookspec
def second_factor_ready(tenant_id: int, context: str) -> Awaitable[bool | None] | bool | None:
    """Whether ``challenge_second_factor`` would ask for a code in this context now (SMS
    active, the context switched on), without sending one.

    A module whose setting depends on a code (a vault form that requires two-factor) shows
    that it cannot be enforced, and refuses, instead of silently doing without. Every
    answer is awaited (``core.secondfactor.second_factor_ready``): ready when a provider
    answers ``True``; ``None``/``False`` or no provider: not ready.
    """


@hookspec
def second_factors_of(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[Sequence[str] | None] | Sequence[str] | None:
    """The second factors a person can use now, as short names ("sms", "app",
    "recovery"; a third party adds its own, "hardware_token"), never a secret.

    Every answer is awaited and joined (``core.secondfactor.second_factors_of``): a page
    lists what a person has, a rule checks that someone still has a way in. ``None`` or
    ``[]`` to pass (no factor of this plugin, or not this kind of person).
    """


@hookspec(firstresult=True)
def recovery_codes(
    tenant_id: int, person_kind: str, person_id: int, renew: bool
) -> Awaitable[RecoveryCodes | None] | RecoveryCodes | None:
    """A person's one-time recovery codes (the factor of last resort): how many are left,
    and with ``renew`` a new set replacing the old one, whose codes are in this answer only
    (shown once, never stored in clear, never logged).

    A module giving people their own login (the customer portal) offers the codes on its
    own pages without importing the two-factor plugin. The plugin keeping the codes answers
    (``core.secondfactor.recovery_codes``); ``None`` to pass (not this kind of person).
    """


@hookspec(firstresult=True)
def own_second_factors(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[OwnFactors | None] | OwnFactors | None:
    """What a person's own devices page shows of the factors they set up themselves: the
    authenticator app's state (with the pending setup's QR code again) and the passkeys
    (name, added, last used), never a secret of an active factor.

    A module giving people their own login (the customer portal) lists them without
    importing the two-factor plugin (``core.secondfactor.own_second_factors``). The plugin
    keeping the factors answers; ``None`` to pass (not this kind of person).
    """


@hookspec(firstresult=True)
def start_authenticator_app(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[AppSetup | None] | AppSetup | None:
    """Start setting up the person's own authenticator app: a new key, pending until
    ``confirm_authenticator_app``; shown once to the person. Refuses (coded error) when
    an app is already active. ``None`` to pass (not this kind of person)."""


@hookspec(firstresult=True)
def confirm_authenticator_app(
    tenant_id: int, person_kind: str, person_id: int, code: str
) -> Awaitable[bool | None] | bool | None:
    """Activate the person's pending app with a code it shows now: ``True``; a wrong or
    malformed code is a coded error. ``None`` to pass (not this kind of person)."""


@hookspec(firstresult=True)
def remove_authenticator_app(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[bool | None] | bool | None:
    """Remove the person's own app (active or pending): ``True``; none is a coded 404.
    ``None`` to pass (not this kind of person)."""


@hookspec(firstresult=True)
def start_passkey_registration(
    tenant_id: int, person_kind: str, person_id: int
) -> Awaitable[PasskeyRegistration | None] | PasskeyRegistration | None:
    """Start adding a passkey for the person: the options for
    ``navigator.credentials.create`` and a single-use challenge id (5 minutes). The relying
    party is the installation's (``GALLRA_BASE_URL``). ``None`` to pass."""


@hookspec(firstresult=True)
def finish_passkey_registration(
    tenant_id: int, person_kind: str, person_id: int, challenge_id: str, credential: str, name: str
) -> Awaitable[PasskeyInfo | None] | PasskeyInfo | None:
    """Check the browser's answer (``credential``, JSON) to the person's own registration
    ``challenge_id`` and store the passkey under ``name``; a forged, expired or foreign
    answer is a coded error. ``None`` to pass (not this kind of person)."""


@hookspec(firstresult=True)
def remove_passkey(
    tenant_id: int, person_kind: str, person_id: int, passkey_id: int
) -> Awaitable[bool | None] | bool | None:
    """Remove one of the person's own passkeys: ``True``; another person's or tenant's
    passkey is a coded 404. ``None`` to pass (not this kind of person)."""


@hookspec
def remove_second_factors(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[int | None] | int | None:
    """Remove every second factor of the person this plugin keeps (authenticator app,
    passkeys, recovery codes, remembered devices): an administrator reset the person's
    factors (#21.4). Answer how many things were removed; ``None`` or ``0`` for none.

    Every answer is awaited (``core.secondfactor.remove_second_factors``), in the caller's
    transaction: a provider that fails makes the whole reset fail, never half of it.
    """


@hookspec
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> Awaitable[None] | None:
    """A person's password was set or reset; forget what was trusted for them (M8)."""


@hookspec
def find_customers(
    tenant_id: int, query: str, limit: int
) -> Awaitable[Sequence[CustomerChoice]] | Sequence[CustomerChoice] | None:
    """Customers of the tenant whose name or number matches ``query``, at most ``limit``.

    The customer picker of record forms (cases, orders, quotes...) asks this, so a record
    plugin suggests customers without importing the customer register. Every answer is
    used (``core.pages.pickers.find_customers`` awaits and joins them); ``None`` to pass.
    """


@hookspec
def find_contacts(
    tenant_id: int, customer_id: int, limit: int
) -> Awaitable[Sequence[ContactChoice]] | Sequence[ContactChoice] | None:
    """The live contact persons of the tenant's customer ``customer_id``, at most ``limit``,
    by name.

    The contact picker of record forms asks this (``core.pages.pickers.find_contacts``), so
    the list of contact persons follows the chosen customer without a record plugin
    importing the customer register. Every answer is used; ``None`` to pass.
    """


@hookspec
def look_up_party(
    tenant_id: int, customer_id: int, contact_person_id: int
) -> Awaitable[PartyFound | None] | PartyFound | None:
    """Whether ``customer_id`` is a customer of the tenant, and whose contact person
    ``contact_person_id`` is (0: not asked), for the reference check of every record that
    names a customer (``core.references.check_party``).

    The plugin owning the customer register answers; ``None`` to pass (with more than one
    register, one vouching for the customer, or for the contact person as that customer's,
    is enough). Asked of every
    installed plugin even when the tenant turned the module off (stored customers still
    exist); with no answer at all a non-zero id is refused.
    """


@hookspec
def gdpr_overview(tenant_id: int) -> Awaitable[OverviewPanel | None] | OverviewPanel | None:
    """A panel for the tenant's GDPR overview page: open matters with deadlines (incidents,
    data-subject requests). Every answer is shown, ordered by title; ``None`` to pass.
    Asked of the plugins the tenant has enabled (``core.gdpr.overview.panels``)."""


@hookspec(firstresult=True)
def data_requests_of(
    person: PortalPerson,
) -> Awaitable[DataRequestDesk | None] | DataRequestDesk | None:
    """The customer portal's "My personal data" page: what a portal person may ask for under
    articles 15-21 and their own requests with their statuses (:class:`DataRequestDesk`).

    The plugin keeping the organization's data-subject requests answers (one register
    per organization, hence the first answer); the portal shows no such page when nobody
    does. Asked only of the modules the tenant has enabled. Return ``None``
    *synchronously* to pass.
    """


@hookspec(firstresult=True)
def ask_as_portal_person(
    ask: PortalDataAsk,
) -> Awaitable[PortalDataRequest | None] | PortalDataRequest | None:
    """Record a data-subject request a logged-in portal person makes (``ask.person``). The
    portal login proved who they are, so the request is verified at once and tied to that
    person; a ``kind`` not offered is refused with ``core.errors.Invalid("kind", ...)``.
    Same answering rule as :func:`data_requests_of`.
    """


@hookspec(firstresult=True)
def send_sms(message: OutgoingMessage) -> Awaitable[str] | None:
    """Deliver an SMS. Return ``None`` to pass, or an awaitable that sends it and
    returns the provider's message id. Raise to have the delivery retried."""


@hookspec(firstresult=True)
def send_email(message: OutgoingMessage) -> Awaitable[str] | None:
    """Deliver an e-mail. Same contract as :func:`send_sms`."""


def _hook_names() -> list[str]:
    return sorted(
        name
        for name, value in list(globals().items())
        if callable(value) and hasattr(value, "gallra_spec")
    )


HOOK_NAMES: list[str] = _hook_names()
__all__ = ["HOOK_NAMES", "hookspec"]
