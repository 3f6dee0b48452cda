"""The tenant's queue of data-subject requests: recording, assigning, verifying, extending,
answering and refusing, with the legal deadline of article 12(3).

Reading, listing, numbering, deleting, the tenant checks and the event log are the record
layer's (:class:`core.records.RecordService`); what is this module's own is the request's
life:

``received`` -> ``verified`` -> ``in_progress`` -> (``extended``) -> ``answered`` | ``refused``

An answered or refused request is closed: it cannot change any more, and its retention
clock (rule ``dsr.answered``) starts. Every step is in the event log; the person is told by
e-mail (or SMS when only a phone number is known) of an extension, an answer and a refusal.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.contracts import OverviewDeadline, OverviewPanel
from core.db import atomic, utcnow
from core.delivery import queue_message
from core.errors import Conflict, Invalid
from core.errors import mark as _
from core.records import RecordService
from core.tables import Employee, Tenant
from core.validation import normalize_email, normalize_phone
from plugins.dsr import deadline
from plugins.dsr.records import ARTICLES, OPEN_STATUSES, REQUEST
from plugins.dsr.schemas import Deadline, RequestIn, RequestOut, RequestPatch

PLUGIN = "dsr"
RECORDS = RecordService(REQUEST, PLUGIN)




NOT_OPEN = _("Request %(number)s is already answered and can no longer be changed.")
NO_ASSIGNEE = _("There is no such employee in this organization.")
RECEIVED_IN_FUTURE = _("A request cannot be received in the future.")
EXTENDED_TOO_MUCH = _("The deadline can be extended by at most two further months in all.")
EXTENDED_TOO_LATE = _("The extension must be decided within the first month (by %(due)s).")
REASON_REQUIRED = _("Give the reason; it is told to the person.")
NOT_VERIFIED = _("Verify the person's identity before answering request %(number)s.")
NO_ADDRESS = _("The request has no e-mail address or phone number to deliver the answer to; add one first.")
NOT_ERASURE = _("Only a request for erasure is answered by erasing.")


def today() -> date:
    return deadline.local_date(utcnow())


def out(row: dict[str, Any]) -> RequestOut:
    """The API's shape of a request, with its deadline as of today."""
    left = deadline.days_left(row["due_on"], today())
    is_open = row["status"] in OPEN_STATUSES
    values = {k: row[k] for k in RequestOut.__struct_fields__ if k in row}
    values["article"] = ARTICLES.get(row["kind"], 0)
    values["deadline"] = Deadline(
        due_on=row["due_on"], days_left=left, overdue=is_open and left < 0,
        extension_months=int(row["extension_months"]),
    )
    return RequestOut(**values)


async def _check_assignee(tenant_id: int, employee_id: int) -> None:
    if employee_id and not await Employee.exists().where(
        (Employee.tenant_id == tenant_id) & (Employee.id == employee_id) & Employee.deleted_at.is_null()
    ):
        raise Invalid("assignee_id", NO_ASSIGNEE, code="dsr.no_such_assignee")


def _person(values: dict[str, Any]) -> dict[str, Any]:
    if "requester_name" in values:
        values["requester_name"] = values["requester_name"].strip()
    if "requester_email" in values:
        values["requester_email"] = normalize_email(values["requester_email"], "requester_email")
    if "requester_phone" in values:
        values["requester_phone"] = normalize_phone(values["requester_phone"], "requester_phone")
    if "details" in values:
        values["details"] = values["details"].strip()
    return values


def _open(row: dict[str, Any]) -> None:
    RECORDS.writable(row)
    if row["status"] not in OPEN_STATUSES:
        raise Conflict(NOT_OPEN, code="dsr.not_open", number=row["number"])


async def create_request(
    tenant_id: int, employee_id: int, data: RequestIn, *, channel: str = "staff", party: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    """Record a request; the deadline runs from the day it was received. ``party``: the
    customer and contact person of the portal person who asked (checked by the caller)."""
    values = _person({k: getattr(data, k) for k in RequestIn.__struct_fields__})
    values |= {"customer_id": party[0], "contact_person_id": party[1]}
    received = values.pop("received_on") or today()
    if received > today():
        raise Invalid("received_on", RECEIVED_IN_FUTURE, code="dsr.received_in_future")
    await _check_assignee(tenant_id, values["assignee_id"])
    values |= {
        "received_on": received, "due_on": deadline.due_on(received), "channel": channel,
        "created_by": employee_id, "status": "received",
    }
    return await RECORDS.create(tenant_id, values)


@RECORDS.edits
async def edit_request(tenant_id: int, record_id: int, data: RequestPatch) -> dict[str, Any]:
    """Change the person's details, the assignee, or move the request on to ``verified`` or
    ``in_progress``; only while it is open."""
    changes = {k: getattr(data, k) for k in RequestPatch.__struct_fields__}
    changes = _person({k: v for k, v in changes.items() if v is not None})
    async with atomic():
        row = await RECORDS.get(tenant_id, record_id)
        _open(row)
        if "assignee_id" in changes:
            await _check_assignee(tenant_id, changes["assignee_id"])
        status = changes.get("status")
        moved = any(k in changes and changes[k] != row[k] for k in ("requester_email", "requester_phone"))
        if moved and row["verified_at"] is not None and status != "verified":
            # the answer goes to the address the person proved: a new one is proved again
            changes["verified_at"] = None
            if row["status"] != "extended":
                changes["status"] = "received"
        if status == "verified" and (row["verified_at"] is None or moved):
            changes["verified_at"] = utcnow()
        if status and row["status"] == "extended":
            changes.pop("status")  # an extended request stays marked as extended
        row = await RECORDS.edit(tenant_id, record_id, changes, row=row)
        if status:
            await RECORDS.log(tenant_id, f"status_{status}", record_id)
        return row


async def extend(tenant_id: int, record_id: int, months: int, reason: str) -> dict[str, Any]:
    """Extend the deadline by ``months`` (article 12(3): at most two further months, decided
    within the first month); the person is told the new deadline and the reason."""
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", REASON_REQUIRED, code="dsr.reason_required")
    async with atomic():
        row = await RECORDS.get(tenant_id, record_id)
        _open(row)
        total = int(row["extension_months"]) + months
        if total > deadline.MAX_EXTENSION_MONTHS:
            raise Conflict(EXTENDED_TOO_MUCH, code="dsr.extended_too_much")
        first_due = deadline.due_on(row["received_on"])
        if today() > first_due:
            raise Conflict(EXTENDED_TOO_LATE, code="dsr.extended_too_late", due=first_due.isoformat())
        now = utcnow()
        text = f"{row['extension_reason']}\n\n{reason}".strip() if row["extension_reason"] else reason
        row = await RECORDS.edit(tenant_id, record_id, {
            "extension_months": total, "due_on": deadline.due_on(row["received_on"], total),
            "extension_reason": text, "extended_at": now, "status": "extended",
        }, row=row)
        await RECORDS.log(tenant_id, "extended", record_id)
        await tell(tenant_id, row, "extended", reason=reason)
        return row


async def answer_parts(tenant_id: int, row: dict[str, Any]) -> list[str]:
    """What the plugins add to the answer (hook ``answer_data_subject``), in the person's
    language."""
    from core.plugins import await_me_maybe, get_host

    ids = identifiers(row)
    parts: list[str] = []
    for answer in get_host().hook.answer_data_subject(
        tenant_id=tenant_id, kind=row["kind"], emails=list(ids.emails), phones=list(ids.phones),
        language=row["language"],
    ):
        parts += [str(p).strip() for p in (await await_me_maybe(answer) or []) if str(p).strip()]
    return parts


async def _finish(tenant_id: int, record_id: int, status: str, text: str, told: str | None = None) -> dict[str, Any]:
    async with atomic():
        row = await RECORDS.get(tenant_id, record_id)
        _open(row)
        if status == "answered":
            parts = await answer_parts(tenant_id, row)
            if parts:
                extra = "\n\n".join(parts)
                text = f"{text}\n\n{extra}".strip()
                told = f"{told}\n\n{extra}".strip() if told is not None else None
        now = utcnow()
        row = await RECORDS.edit(tenant_id, record_id, {
            "status": status, "answer": text, "answered_at": now, "closed_at": now,
        }, row=row)
        await RECORDS.log(tenant_id, status, record_id)
        await tell(tenant_id, row, status, reason=text if told is None else told)
        return row


def _ready(row: dict[str, Any]) -> None:
    _open(row)
    if row["verified_at"] is None:
        raise Conflict(NOT_VERIFIED, code="dsr.not_verified", number=row["number"])


def identifiers(row: dict[str, Any]) -> Any:
    """The person's identifiers as person search takes them: the address(es) they gave."""
    from core.gdpr.subjects import Identifiers

    return Identifiers(emails=[row["requester_email"]] if row["requester_email"] else [],
                       phones=[row["requester_phone"]] if row["requester_phone"] else [])


async def answer(tenant_id: int, record_id: int, text: str, employee_id: int = 0) -> dict[str, Any]:
    """The request is answered (what was done is recorded); this closes it. A request is
    answered only once the person's identity is verified.

    Access and portability are answered with the subject-access export
    (:mod:`core.gdpr.subjects`, the same as Settings > GDPR): the person gets an expiring
    link, and downloads it after proving the address again (:mod:`plugins.dsr.public`)."""
    row = await RECORDS.get(tenant_id, record_id)
    _ready(row)
    text = text.strip()
    if row["kind"] not in ("access", "portability"):
        return await _finish(tenant_id, record_id, "answered", text)
    if not (row["requester_email"] or row["requester_phone"]):
        raise Conflict(NO_ADDRESS, code="dsr.no_address")
    from core.gdpr.subjects import create_export
    from plugins.dsr import public

    async with atomic():
        export = await create_export(tenant_id, employee_id or None, identifiers(row), language=row["language"])
        await RECORDS.edit(tenant_id, record_id, {"export_id": int(export["id"])}, row=row)
        link = await public.download_link(tenant_id, row, export["expires_at"])
        note = DOWNLOAD_NOTE[row["language"] if row["language"] in DOWNLOAD_NOTE else "sv"].format(
            link=link, until=export["expires_at"].date().isoformat())
        return await _finish(tenant_id, record_id, "answered", text, told=f"{text}\n\n{note}".strip())


async def erasure_preview(tenant_id: int, record_id: int, language: str = "sv") -> dict[str, Any]:
    """What erasing the person would anonymize and what would be kept, and why (the
    existing erasure's dry run)."""
    from core.gdpr.subjects import erase

    row = await RECORDS.get(tenant_id, record_id)
    if row["kind"] != "erasure":
        raise Conflict(NOT_ERASURE, code="dsr.not_erasure")
    if not (row["requester_email"] or row["requester_phone"]):
        raise Conflict(NO_ADDRESS, code="dsr.no_address")
    return await erase(tenant_id, identifiers(row), dry_run=True, language=language)


async def erase_and_answer(tenant_id: int, record_id: int, language: str = "sv") -> tuple[dict[str, Any], dict]:
    """Erase the person (the existing erasure, which searches again afterwards and audits
    what remains), then answer the request with what was erased and what is kept and why.
    This request itself is kept as proof (``veto_erasure``)."""
    from core.gdpr.subjects import erase

    row = await RECORDS.get(tenant_id, record_id)
    if row["kind"] != "erasure":
        raise Conflict(NOT_ERASURE, code="dsr.not_erasure")
    _ready(row)
    if not (row["requester_email"] or row["requester_phone"]):
        raise Conflict(NO_ADDRESS, code="dsr.no_address")
    lang = row["language"] if row["language"] in ERASED else "sv"
    async with atomic():
        result = await erase(tenant_id, identifiers(row), dry_run=False, language=lang)
        kept = [f"- {k['place']} {k['record_id']}: {k['reason']}" for k in result["records"]
                if k["action"] == "keep" and not (k["table"] == "dsr_request" and k["record_id"] == record_id)]
        text = ERASED[lang].format(count=result["anonymized"]) + (
            "\n\n" + KEPT[lang] + "\n" + "\n".join(kept) if kept else "")
        done = await _finish(tenant_id, record_id, "answered", text)
    return done, result


async def refuse(tenant_id: int, record_id: int, reason: str) -> dict[str, Any]:
    """Refuse the request with a reason; the person is told it and that they may complain
    to IMY (article 12(4))."""
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", REASON_REQUIRED, code="dsr.reason_required")
    return await _finish(tenant_id, record_id, "refused", reason)


# --- telling the person ------------------------------------------------------------------

IMY = {
    "sv": "Du har rätt att klaga hos Integritetsskyddsmyndigheten (IMY), www.imy.se, "
          "och att vända dig till domstol.",
    "en": "You have the right to lodge a complaint with the Swedish Authority for Privacy "
          "Protection (IMY), www.imy.se, and to seek a judicial remedy.",
}
DOWNLOAD_NOTE = {
    "sv": "Hämta dina uppgifter här (till och med {until}); du bekräftar först att det är du med en kod:\n{link}",
    "en": "Download your data here (until {until}); you first confirm it is you with a code:\n{link}",
}
ERASED = {
    "sv": "Dina personuppgifter är raderade eller avidentifierade i {count} poster.",
    "en": "Your personal data is erased or anonymized in {count} records.",
}
KEPT = {
    "sv": "Följande sparas, med skälet:",
    "en": "The following is kept, with the reason:",
}
KIND_NAMES = {
    "sv": {"access": "tillgång till dina personuppgifter (artikel 15)",
           "portability": "en kopia av dina personuppgifter att flytta (artikel 20)",
           "correction": "rättelse (artikel 16)", "erasure": "radering (artikel 17)",
           "restriction": "begränsning av behandlingen (artikel 18)",
           "objection": "invändning mot behandlingen (artikel 21)"},
    "en": {"access": "access to your personal data (article 15)",
           "portability": "a portable copy of your personal data (article 20)",
           "correction": "rectification (article 16)", "erasure": "erasure (article 17)",
           "restriction": "restriction of processing (article 18)",
           "objection": "objection to processing (article 21)"},
}
MESSAGES = {
    "sv": {
        "received": ("Din begäran hos {org} är mottagen",
                     "Vi har tagit emot din begäran om {kind}. Den har nummer {number} och vi "
                     "svarar senast {due}."),
        "extended": ("Din begäran hos {org}: förlängd tid",
                     "Vi behöver mer tid för din begäran om {kind} (nummer {number}). Vi svarar "
                     "senast {due}.\n\nSkäl: {reason}"),
        "answered": ("Din begäran hos {org} är besvarad",
                     "Din begäran om {kind} (nummer {number}) är besvarad.\n\n{reason}"),
        "refused": ("Din begäran hos {org}",
                    "Vi kan inte tillmötesgå din begäran om {kind} (nummer {number}).\n\n"
                    "Skäl: {reason}\n\n{imy}"),
    },
    "en": {
        "received": ("Your request to {org} is received",
                     "We received your request for {kind}. Its number is {number} and we will "
                     "answer by {due}."),
        "extended": ("Your request to {org}: more time",
                     "We need more time for your request for {kind} (number {number}). We will "
                     "answer by {due}.\n\nReason: {reason}"),
        "answered": ("Your request to {org} is answered",
                     "Your request for {kind} (number {number}) is answered.\n\n{reason}"),
        "refused": ("Your request to {org}",
                    "We cannot grant your request for {kind} (number {number}).\n\n"
                    "Reason: {reason}\n\n{imy}"),
    },
}


async def organization(tenant_id: int) -> str:
    row = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
    return str(row["name"]) if row else ""


async def tell(tenant_id: int, row: dict[str, Any], what: str, **params: Any) -> int | None:
    """Queue the message ``what`` to the person who asked, in their language: by e-mail,
    else by SMS; nothing when neither is known (a letter is the administrator's)."""
    language = row["language"] if row["language"] in MESSAGES else "sv"
    subject, body = MESSAGES[language][what]
    values = {
        "org": await organization(tenant_id), "kind": KIND_NAMES[language].get(row["kind"], row["kind"]),
        "number": row["number"], "due": row["due_on"].isoformat(), "imy": IMY[language], **params,
    }
    text = body.format(**values).strip()
    if row["requester_email"]:
        return await queue_message("email", row["requester_email"], text,
                                   subject=subject.format(**values), tenant_id=tenant_id)
    if row["requester_phone"]:
        return await queue_message("sms", row["requester_phone"], text, tenant_id=tenant_id)
    return None


async def mark_verified(tenant_id: int, record_id: int) -> dict[str, Any]:
    """The person proved the address (the public page's link or code): the request is
    verified at once, and the person gets its number and deadline."""
    row = await RECORDS.edit(tenant_id, record_id, {"status": "verified", "verified_at": utcnow()})
    await RECORDS.log(tenant_id, "status_verified", record_id)
    await tell(tenant_id, row, "received")
    return row


# --- erasure of a later request, and reminders ------------------------------------------------

KEEP_OPEN = "an open data-subject request, kept as proof until it is answered"


async def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> dict[int, str]:
    """An erasure keeps the requests still being answered (the one that asked for the
    erasure among them); answered requests are erased like any record."""
    from plugins.dsr.records import RULE

    if rule != RULE or not record_ids:
        return {}
    from plugins.dsr.tables import DsrRequest

    rows = await DsrRequest.select(DsrRequest.id).where(
        (DsrRequest.tenant_id == tenant_id) & DsrRequest.id.is_in(record_ids)
        & DsrRequest.status.is_in(list(OPEN_STATUSES))
    )
    return {int(r["id"]): KEEP_OPEN for r in rows}


REMINDER = {
    "sv": ("Påminnelse: begäran {number} ska besvaras senast {due}",
           "Begäran {number} ({kind}) hos {org} ska besvaras senast {due}, om {days} dag(ar).\n\n{link}"),
    "en": ("Reminder: request {number} must be answered by {due}",
           "Request {number} ({kind}) at {org} must be answered by {due}, in {days} day(s).\n\n{link}"),
}


async def remind(now: Any = None) -> int:
    """E-mail the assignee of every open request a week and a day before its deadline
    (once each; a request without an assignee goes to nobody). Returns how many were sent."""
    from core.config import get_settings
    from plugins.dsr.tables import DsrRequest

    day = deadline.local_date(now or utcnow())
    sent = 0
    for days, column in ((7, "reminded_week_at"), (1, "reminded_day_at")):
        due = date.fromordinal(day.toordinal() + days)
        rows = await DsrRequest.select().where(
            DsrRequest.status.is_in(list(OPEN_STATUSES)) & (DsrRequest.due_on <= due)
            & (DsrRequest.due_on >= day) & (DsrRequest.assignee_id > 0)
            & getattr(DsrRequest, column).is_null() & DsrRequest.deleted_at.is_null()
        )
        for row in rows:
            if column == "reminded_week_at" and deadline.days_left(row["due_on"], day) <= 1:
                continue  # the day-before reminder covers it
            async with atomic():
                employee = await Employee.select(Employee.email, Employee.language).where(
                    (Employee.tenant_id == row["tenant_id"]) & (Employee.id == row["assignee_id"])
                    & Employee.deleted_at.is_null()).first()
                await DsrRequest.update({getattr(DsrRequest, column): utcnow()}).where(DsrRequest.id == row["id"])
                if employee is None or not employee["email"]:
                    continue
                lang = employee["language"] if employee["language"] in REMINDER else "sv"
                subject, body = REMINDER[lang]
                values = {"number": row["number"], "due": row["due_on"].isoformat(),
                          "days": deadline.days_left(row["due_on"], day),
                          "kind": KIND_NAMES[lang].get(row["kind"], row["kind"]),
                          "org": await organization(int(row["tenant_id"])),
                          "link": f"{get_settings().base_url}/dsr/{row['id']}"}
                await queue_message("email", employee["email"], body.format(**values),
                                    subject=subject.format(**values), tenant_id=int(row["tenant_id"]))
                sent += 1
    return sent


async def purge_pending(now: Any = None) -> int:
    """Delete confirmations a day after they expired (rule ``dsr.pending``, also when the
    GDPR sweeps are not scheduled)."""
    from datetime import timedelta

    from plugins.dsr.tables import DsrPending

    cutoff = (now or utcnow()) - timedelta(days=1)
    return len(await DsrPending.delete().where(DsrPending.expires_at <= cutoff).returning(DsrPending.id))


# --- the GDPR overview ----------------------------------------------------------------

KIND_WORDS = {
    "access": ("tillgång", "access"),
    "portability": ("dataportabilitet", "portability"),
    "correction": ("rättelse", "rectification"),
    "erasure": ("radering", "erasure"),
    "restriction": ("begränsning", "restriction"),
    "objection": ("invändning", "objection"),
}


async def overview_panel(tenant_id: int) -> OverviewPanel:
    """Open requests for the GDPR overview, earliest deadline first (titled by number and
    kind, never by the person); a deadline is 23:59 of its last day in Sweden."""
    from datetime import datetime, time

    from plugins.dsr.tables import DsrRequest

    open_ = (
        (DsrRequest.tenant_id == tenant_id)
        & DsrRequest.status.is_in(list(OPEN_STATUSES))
        & DsrRequest.deleted_at.is_null()
    )
    count = await DsrRequest.count().where(open_)
    rows = (
        await DsrRequest.select(DsrRequest.id, DsrRequest.number, DsrRequest.kind, DsrRequest.due_on)
        .where(open_)
        .order_by(DsrRequest.due_on)
        .order_by(DsrRequest.id)
        .limit(10)
    )
    items = []
    for r in rows:
        sv, en = KIND_WORDS.get(r["kind"], (r["kind"], r["kind"]))
        end = datetime.combine(r["due_on"], time(23, 59), tzinfo=deadline.ZONE)
        items.append(
            OverviewDeadline(
                title_sv=f"Begäran {r['number']} ({sv})",
                title_en=f"Request {r['number']} ({en})",
                due_at=end,
                link=f"/dsr/{r['id']}",
            )
        )
    return OverviewPanel(
        key="dsr.requests",
        title_sv="Öppna registrerades begäranden",
        title_en="Open data-subject requests",
        open_count=int(count),
        deadlines=items,
        link="/dsr",
    )
