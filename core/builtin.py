"""The core's own hook implementations: defaults every installation has.

Registered as the plugin named ``core``. Delivery defaults run last, so any gateway plugin
(SMTP here, or an SMS provider) answers first when it is configured.
"""

from __future__ import annotations

import asyncio
import smtplib
import sys
from collections.abc import Awaitable, Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from core.config import get_settings
from core.contracts import (
    AnonymizeContext,
    Field,
    NotPersonal,
    OutgoingMessage,
    PersonalDataField,
    RecordSpec,
    RetentionRule,
    ScheduledJob,
    SearchSource,
)
from core.gdpr import jobs as _gdpr_jobs  # noqa: F401  (declares the sweep task)
from core.gdpr import search as _gdpr_search  # noqa: F401  (the index commits with the data)
from core.plugins import hookimpl, provide_core_plugin


@hookimpl(trylast=True)
def send_email(message: OutgoingMessage) -> Awaitable[str] | None:
    """Without a gateway the outbox itself is the delivery: administrators read it there."""
    return _outbox_answer(message)


@hookimpl(trylast=True)
def send_sms(message: OutgoingMessage) -> Awaitable[str] | None:
    return _outbox_answer(message)


async def _outbox_answer(message: OutgoingMessage) -> str:
    return f"outbox:{message.outbox_id}"


class SmtpGateway:
    """E-mail over SMTP when GALLRA_SMTP_HOST is set."""

    @hookimpl
    def send_email(self, message: OutgoingMessage) -> Awaitable[str] | None:
        settings = get_settings()
        if not settings.smtp_host:
            return None
        return asyncio.to_thread(self._send, message)

    @staticmethod
    def _send(message: OutgoingMessage) -> str:
        settings = get_settings()
        mail = EmailMessage()
        mail["From"] = settings.smtp_from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        msgid = make_msgid(domain="gallra")
        mail["Message-ID"] = msgid
        mail.set_content(message.body)
        assert settings.smtp_host
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(mail)
        return f"smtp:{msgid}"


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["core.piccolo_app"]


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from core.auth import purge_expired
    from core.delivery import redeliver_stale
    from core.gdpr.jobs import enqueue_sweeps, prune_runs

    return [
        ScheduledJob(id="core.redeliver_outbox", func=redeliver_stale, minutes=5),
        ScheduledJob(id="core.purge_expired_auth", func=purge_expired, minutes=15),
        ScheduledJob(
            id="core.gdpr_sweeps",
            func=enqueue_sweeps,
            minutes=max(1, get_settings().sweep_interval_minutes),
        ),
        ScheduledJob(id="core.gdpr_prune_runs", func=prune_runs, minutes=24 * 60),
    ]


# --- GDPR: the core's own routes, rules and fields ----------------------------------------


@hookimpl
def register_routes() -> Sequence[Any]:
    from core.activity.routes import ActivityController
    from core.gdpr.routes import GdprController
    from core.gdpr.search_routes import SearchController

    return [GdprController, SearchController, ActivityController]


@hookimpl
def start_up(app: Any) -> Awaitable[Any]:
    """Check every plugin's GDPR declarations now: a bad one stops the start, loudly; then
    make sure the person-search index watches every declared place."""
    from core.gdpr.registry import get_declarations

    get_declarations()
    return _ensure_index()


async def _ensure_index() -> None:
    """The index's triggers are DDL: done as the tables' owner. An application whose role
    may not do that (no GALLRA_DATABASE_OWNER_URL given) starts anyway and says so once;
    ``gallra migrate`` installs them."""
    import logging

    from core.gdpr.search import ensure_index_once

    try:
        await ensure_index_once()
    except Exception as exc:  # only a missing privilege is tolerated
        if type(exc).__name__ != "InsufficientPrivilegeError":
            raise
        logging.getLogger("gallra").warning(
            "the person-search triggers could not be checked at start-up (the database role "
            "is not the tables' owner); run `gallra migrate` after installing a plugin"
        )


EVENT_LOG_RULE = "core.event_log"
SYSTEM_LOG_RULE = "core.system_log"
EMPLOYEES_RULE = "core.employees"
OUTBOX_RULE = "core.outbox"
OUTBOX_DAYS = 30
EXPORTS_RULE = "core.subject_exports"
EXPORT_DAYS = 7


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from core.eventlog import EventLog, SystemLog
    from core.gdpr.tables import SubjectExport
    from core.tables import Outbox

    return [
        # M23: fixed by the product, shown but not changeable.
        RetentionRule(
            key=EVENT_LOG_RULE,
            label_sv="Händelser: IP-nummer, e-postadress och användarnamn tas bort",
            label_en="Event logs: IP number, e-mail address and user name removed",
            clock="created",
            table=EventLog,
            clock_columns=("at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=30,
            fixed=True,
        ),
        # M24
        RetentionRule(
            key=SYSTEM_LOG_RULE,
            label_sv="Övriga loggar (inloggningar, felkoder) raderas",
            label_en="Other logs (logins, error codes) deleted",
            clock="created",
            table=SystemLog,
            clock_columns=("at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=90,
            fixed=True,
        ),
        # Sent e-mail and SMS hold addresses, numbers and texts: personal data (decision 5).
        RetentionRule(
            key=OUTBOX_RULE,
            label_sv="Utkorg (e-post och SMS) raderas",
            label_en="Outbox (e-mail and SMS) deleted",
            clock="created",
            table=Outbox,
            clock_columns=("created_at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=OUTBOX_DAYS,
            fixed=True,
        ),
        # A data subject's access export is deleted after seven days.
        RetentionRule(
            key=EXPORTS_RULE,
            label_sv="Registerutdrag (export av en persons uppgifter) raderas",
            label_en="Subject access exports deleted",
            clock="created",
            table=SubjectExport,
            clock_columns=("created_at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=EXPORT_DAYS,
            fixed=True,
        ),
    ]


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from core.activity.tables import Activity
    from core.eventlog import EventLog, SystemLog
    from core.gdpr.tables import (
        GdprRun,
        RetentionSetting,
        SearchDirty,
        SearchField,
        SearchTerm,
        SubjectExport,
    )
    from core.tables import (
        AttemptCounter,
        EmployeeGroup,
        GroupMember,
        Outbox,
        PasswordResetToken,
        SchedulerLock,
        Session,
        Tenant,
        TenantModule,
    )

    F = PersonalDataField
    N = NotPersonal
    ev, emp, sys_log = EVENT_LOG_RULE, EMPLOYEES_RULE, SYSTEM_LOG_RULE
    return [
        F(SubjectExport, "document", "free_text", "delete_row", "Registerutdrag", "Subject access export",
          rule=EXPORTS_RULE),
        F(SubjectExport, "html", "free_text", "delete_row", "Registerutdrag (sida)",
          "Subject access export (page)", rule=EXPORTS_RULE),
        # Free text typed about a record: comments, notes, reports, conversations. The
        # rules of the records clear it (clears_activity); an erasure redacts the person in it.
        F(Activity, "body", "free_text", "empty", "Aktivitet", "Activity"),
        # Logins, logouts and failed logins of a person (M24): the row goes after 90 days.
        F(SystemLog, "kind", "other", "delete_row", "Logghändelse", "Log event", rule=sys_log),
        F(SystemLog, "at", "other", "delete_row", "Tidpunkt", "Time", rule=sys_log),
        F(SystemLog, "code", "other", "delete_row", "Kod", "Code", rule=sys_log),
        # A session's browser and address, deleted with the session.
        F(Session, "ip", "ip", "delete_row", "Inloggning, IP-nummer", "Session, IP number"),
        F(Session, "user_agent", "other", "delete_row", "Inloggning, webbläsare",
          "Session, browser"),
        # The outbox: who a message went to, what it said, what the gateway answered.
        F(Outbox, "recipient", "other", "delete_row", "Mottagare", "Recipient", rule=OUTBOX_RULE),
        F(Outbox, "subject", "free_text", "delete_row", "Ämne", "Subject", rule=OUTBOX_RULE),
        F(Outbox, "error", "other", "delete_row", "Felmeddelande", "Error", rule=OUTBOX_RULE),
        # Groups are named and described by administrators in free text.
        F(EmployeeGroup, "name", "free_text", "replace", "Grupp, namn", "Group, name"),
        F(EmployeeGroup, "description", "free_text", "empty", "Grupp, beskrivning",
          "Group, description"),
        N(Tenant, ("slug", "name", "language", "anonymization_word"),
          "the organization's own name and settings, not a person's"),
        N(TenantModule, ("module",), "a module's name"),
        N(EmployeeGroup, ("permissions",), "permission names from a fixed list"),
        N(Session, ("token_hash", "kind"), "a hash of a secret token, the kind of person"),
        N(AttemptCounter, ("key_hash",),
          "a hash of what is limited and who; the row lives one window (core.throttle)"),
        N(PasswordResetToken, ("token_hash", "kind", "purpose"),
          "a hash of a secret token, the kind of person, the link's purpose"),
        N(Outbox, ("channel", "status", "provider", "provider_id", "sender"),
          "delivery state, the gateway's id and the organization's sender name"),
        N(SchedulerLock, ("name", "holder"), "a job's name and the process holding it"),
        N(RetentionSetting, ("rule_key", "mode"), "a rule's key and mode"),
        N(GdprRun, ("plugin", "rule_key", "trigger", "outcome", "error"),
          "the audit of a sweep or erasure: counts and texts that never hold personal data"),
        N(SearchField, ("tbl", "col"), "names of tables and columns"),
        N(SearchTerm, ("kind", "term"),
          "the person-search index: derived from the declared columns and rewritten with them"),
        N(SearchDirty, ("tbl",), "a table's name"),
        N(SubjectExport, ("token", "status", "identifiers_hash", "error"),
          "a secret token, the state, a keyed hash and an error class"),
        N(Activity, ("plugin", "record_type", "kind"), "what the entry is attached to"),
        N(EventLog, ("action", "plugin", "record_type"), "what was done, to which kind of record"),
        F(EventLog, "detail", "other", "empty", "Sökning (nyckelhash)", "Search (keyed hash)", rule=ev),
        # The event log after 30 days (M23).
        F(EventLog, "user_name", "name", "null", "Användarnamn", "User name", rule=ev),
        F(EventLog, "email", "email", "null", "E-postadress", "E-mail address", rule=ev),
        F(EventLog, "ip", "ip", "null", "IP-nummer", "IP number", rule=ev),
        # The system log after 90 days: the row goes (M24).
        F(SystemLog, "detail", "other", "delete_row", "Loggrad", "Log row", rule=SYSTEM_LOG_RULE),
        # The outbox after 30 days: the message goes.
        F(Outbox, "body", "free_text", "delete_row", "Meddelande", "Message", rule=OUTBOX_RULE),
        # ... and what other core tables hold about them, found through their id.
        F(Activity, "author_name", "name", "replace", "Författare", "Author", rule=emp,
          parent_column="author_id"),
        F(EventLog, "user_name", "name", "null", "Användarnamn", "User name", rule=emp,
          parent_column="employee_id"),
        F(EventLog, "email", "email", "null", "E-postadress", "E-mail address", rule=emp,
          parent_column="employee_id"),
        F(EventLog, "ip", "ip", "null", "IP-nummer", "IP number", rule=emp,
          parent_column="employee_id"),
        # References to an employee: cleared in every table when the employee is anonymized.
        F(Activity, "author_id", "employee_ref", "null", "Författare", "Author"),
        F(EventLog, "employee_id", "employee_ref", "null", "Användare", "User"),
        F(SystemLog, "employee_id", "employee_ref", "null", "Användare", "User"),
        F(Session, "employee_id", "employee_ref", "delete_row", "Inloggning", "Session"),
        F(PasswordResetToken, "employee_id", "employee_ref", "delete_row",
          "Återställningslänk", "Password reset link"),
        F(GroupMember, "employee_id", "employee_ref", "delete_row", "Gruppmedlemskap",
          "Group membership"),
    ]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    """The core's own places besides the employee (its spec, :func:`declare_records`): group
    membership, activity, the event log, the outbox (by recipient only).

    Activity and event-log rows name the record they belong to (plugin, record_type,
    record_id); search links a hit to that record.

    Declared text left out on purpose (erasure still redacts and verifies it): a group's
    name and description (organisational text, found through its members), the outbox's
    subject (a secret column: reset links, codes) and its error (the gateway's answer).
    """
    from core.activity.tables import Activity
    from core.eventlog import EventLog
    from core.tables import GroupMember, Outbox

    S = SearchSource
    out = [
        S(GroupMember, "employee_id", "employee_ref", "settings", "Grupper", "Groups",
          record_type="group_member"),
        S(Activity, "body", "free_text", "workcloud", "Aktivitet (kommentarer, rapporter, anteckningar, "
          "konversationer)", "Activity (comments, reports, notes, conversations)", record_type="activity"),
        S(Activity, "author_name", "name", "workcloud", "Aktivitet – författare", "Activity – author",
          record_type="activity"),
        S(Activity, "author_id", "employee_ref", "workcloud", "Aktivitet – författare", "Activity – author",
          record_type="activity"),
        S(EventLog, "user_name", "name", "workcloud", "Händelser", "Events", record_type="event"),
        S(EventLog, "email", "email", "workcloud", "Händelser", "Events", record_type="event"),
        S(EventLog, "ip", "ip", "workcloud", "Händelser", "Events", record_type="event"),
        S(EventLog, "employee_id", "employee_ref", "workcloud", "Händelser", "Events", record_type="event"),
        S(Outbox, "recipient", "email", "settings", "Utkorg (e-post och SMS)", "Outbox (e-mail and SMS)",
          record_type="outbox"),
        S(Outbox, "recipient", "phone", "settings", "Utkorg (e-post och SMS)", "Outbox (e-mail and SMS)",
          record_type="outbox"),
        # Never the subject or body: they carry reset links and one-time codes (the columns
        # are secret, and the registry refuses them). A message is found by its recipient.
    ]
    return out


def _employee_link(record_id: int) -> str:
    return f"/api/employees/{record_id}"


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    """The employee is the core's one record (M25): its personal data, retention rule,
    search place and record type are derived from this spec. Its routes are the admin's
    (core.routes.admin), so the spec has no ``path``.

    The core's other tables are not records and keep the old declarations above: logs,
    sessions, tokens, the outbox, exports and the search index have no record type, no page
    and no link; one column can be a place under two categories (an outbox recipient is an
    e-mail address or a phone number) or two places (activity text and its author); and
    children of the employee rule live in other tables (``parent_column``)."""
    from core.tables import Employee

    emp = EMPLOYEES_RULE
    return [
        RecordSpec(
            name="employee", table=Employee, label_sv="Användare", label_en="User",
            plural_sv="Användare", plural_en="Users", title_column="name",
            link=_employee_link, can_open=_admin_only, area="settings",
            fields=(
                # A deleted employee (M25). The e-mail becomes anonymized-<id>@invalid in
                # anonymize().
                Field("name", "name", "replace", "Namn", "Name", rule=emp),
                Field("email", "email", "replace", "E-postadress", "E-mail address", rule=emp),
                Field("mobile_phone", "phone", "null", "Mobiltelefon", "Mobile phone", rule=emp),
                Field("private_phone", "phone", "null", "Privat telefon", "Private phone", rule=emp),
                Field("work_phone", "phone", "null", "Arbetstelefon", "Work phone", rule=emp),
                Field("notes", "free_text", "empty", "Anteckningar", "Notes", rule=emp),
                # A secret: erased, never a place person search looks.
                Field("password_hash", "other", "null", "Lösenord (hash)", "Password hash", rule=emp,
                      search=False),
            ),
            not_personal=((("role", "language"), "a choice from a fixed list"),),
            rules=(
                RetentionRule(
                    key=emp, label_sv="Användare (borttagna)", label_en="Users (deleted employees)",
                    clock="deleted", clock_columns=("deleted_at",),
                    allowed_modes=("immediately", "days", "off"), default_mode="days", default_days=90,
                    subject="employee",
                ),
            ),
        )
    ]


def _admin_only(user: Any, record: dict[str, Any], write: bool) -> bool:
    """Employees are managed by administrators (core.routes.admin), and so is their activity."""
    return bool(user.is_admin)


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    if context.rule == EMPLOYEES_RULE:
        return _anonymize_employees(context)
    return None


async def _anonymize_employees(context: AnonymizeContext) -> None:
    """E-mail addresses stay unique per tenant: each becomes anonymized-<id>@invalid."""
    from core.db import raw
    from core.gdpr.sql import ids_in

    id_sql, id_args = ids_in('"id"', context.record_ids)
    await raw(
        "UPDATE \"employee\" SET \"email\" = 'anonymized-' || CAST(\"id\" AS TEXT) || '@invalid' "
        f'WHERE "tenant_id" = {{}} AND {id_sql}',
        context.tenant_id,
        *id_args,
    )


# Every plugin host starts with these (core.plugins does not import this module: #18.6).
provide_core_plugin("core", sys.modules[__name__])
provide_core_plugin("core-smtp", SmtpGateway())
