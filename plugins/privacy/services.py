"""Business logic of the GDPR module, free of HTTP.

Every function takes the tenant id and filters on it; a record of another tenant is "not
found" (404), exactly like a record that does not exist.

The inventory is checked against the system: what each installed module really stores
and for how long is read from the declarations every plugin hands the core
(:func:`core.gdpr.registry.get_declarations`) and the organization's retention settings
(:func:`core.gdpr.settings.effective_settings`), never by importing another plugin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.auth import SessionUser
from core.contracts import OverviewDeadline, OverviewPanel, SecondFactorDecision, SecondFactorRequest
from core.db import atomic, request_cache, utcnow
from core.errors import (
    REQUIRED,
    Conflict,
    NotFound,
)
from core.eventlog import log_event
from core.numbering import lock_numbers, next_number
from core.plugins import get_host
from core.records import RecordService
from core.tables import Employee, Tenant
from core.tenancy import enabled_modules, get_scoped
from core.validation import FieldError, normalize_email, normalize_phone
from plugins.privacy import gdpr
from plugins.privacy.schemas import (
    ActivityIn,
    ActivityPatch,
    ContactIn,
    ContactPatch,
    IncidentIn,
    IncidentPatch,
    NotifyIn,
)
from plugins.privacy.tables import Incident, InventoryVersion, PrivacyContact, ProcessingActivity

# Article 33(1): notify the supervisory authority without undue delay and, where feasible,
# not later than 72 hours after having become aware of the breach.
NOTIFY_WITHIN = timedelta(hours=72)
# A clock a few minutes fast on the reporter's computer is not a time in the future.
CLOCK_SKEW = timedelta(minutes=5)
LIST_COLUMNS = ("data_subjects", "personal_data", "recipients", "modules")
NUMBER_LOCK = 0x4750  # advisory-lock class of this plugin's numbering (PostgreSQL)
CORE = "core"


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _loads(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _clean_items(values: list[str]) -> list[str]:
    """Trimmed, without blanks and duplicates, in the order given."""
    out: list[str] = []
    for v in values:
        item = v.strip()
        if item and item not in out:
            out.append(item)
    return out


def _required_text(value: str, name: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise FieldError(name, REQUIRED, code="required")
    return text


async def tenant_language(tenant_id: int) -> str:
    row = await Tenant.select(Tenant.language).where(Tenant.id == tenant_id).first()
    return "en" if row and row["language"] == "en" else "sv"


# --- what the system does: the installed plugins' declarations ------------------------

CATEGORY_LABELS = {
    "name": ("Namn", "Name"),
    "email": ("E-postadress", "E-mail address"),
    "phone": ("Telefonnummer", "Phone number"),
    "national_id": ("Personnummer", "Personal identity number"),
    "address": ("Adress", "Address"),
    "free_text": ("Fritext som kan nämna personer", "Free text that can name people"),
    "ip": ("IP-adress", "IP address"),
    "other": ("Övriga personuppgifter", "Other personal data"),
}
SUBJECT_LABELS = {
    "customer": ("Kunder", "Customers"),
    "contact": ("Kontaktpersoner", "Contact persons"),
    "employee": ("Anställda (användare)", "Employees (users)"),
}
REF_SUBJECT = {"customer_ref": "customer", "contact_ref": "contact", "employee_ref": "employee"}
CLOCK_WORDS = {
    "closed": ("avslut", "closing"),
    "deleted": ("borttagning", "deletion"),
    "invoiced": ("fakturering", "invoicing"),
    "dated": ("datum", "the date"),
    "created": ("registrering", "creation"),
}
CORE_LABEL = ("System (användare och loggar)", "System (users and logs)")
LEGAL_BASIS_LABELS = {
    "": ("Ej angiven", "Not given"),
    "consent": ("Samtycke (art. 6.1 a)", "Consent (art. 6(1)(a))"),
    "contract": ("Avtal (art. 6.1 b)", "Contract (art. 6(1)(b))"),
    "legal_obligation": ("Rättslig förpliktelse (art. 6.1 c)", "Legal obligation (art. 6(1)(c))"),
    "vital_interests": ("Grundläggande intressen (art. 6.1 d)", "Vital interests (art. 6(1)(d))"),
    "public_task": ("Allmänt intresse (art. 6.1 e)", "Public task (art. 6(1)(e))"),
    "legitimate_interests": (
        "Berättigat intresse (art. 6.1 f)",
        "Legitimate interests (art. 6(1)(f))",
    ),
}
ROLE_LABELS = {
    "dpo": ("Dataskyddsombud", "Data protection officer"),
    "contact": ("Kontaktperson GDPR", "GDPR contact"),
    "representative": ("Företrädare (art. 27)", "Representative (art. 27)"),
    "controller": ("Personuppgiftsansvarig", "Controller"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def retention_text(
    label: str, clocks: list[str], mode: str, days: int, lang: str, deletes: bool = False
) -> str:
    """One line of the inventory's retention text, e.g. "Ärenden: anonymiseras 365 dagar
    efter avslut eller borttagning"."""
    words = [_pick(CLOCK_WORDS.get(c, (c, c)), lang) for c in clocks]
    when = (" or " if lang == "en" else " eller ").join(words)
    done = ("deleted", "raderas") if deletes else ("anonymized", "anonymiseras")
    if mode == "off":
        what = (
            "kept, no automatic anonymization"
            if lang == "en"
            else "sparas, ingen automatisk gallring"
        )
    elif mode == "immediately":
        what = f"{done[0]} at {when}" if lang == "en" else f"{done[1]} direkt vid {when}"
    else:
        what = (
            f"{done[0]} {days} days after {when}"
            if lang == "en"
            else f"{done[1]} {days} dagar efter {when}"
        )
    return f"{label}: {what}"


@dataclass
class ModuleFacts:
    module: str
    label: str
    enabled: bool
    data_subjects: list[str] = field(default_factory=list)
    personal_data: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    retention: list[dict[str, Any]] = field(default_factory=list)

    @property
    def retention_text(self) -> str:
        return "\n".join(r["text"] for r in self.retention)


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)


async def system_processing(tenant_id: int) -> dict[str, ModuleFacts]:
    """Per installed plugin with personal data: what it stores, about whom, for how long.

    Read from the declarations (every installed plugin, also modules the organization
    turned off: their stored data is still personal data) and the organization's retention
    settings; ``enabled`` says whether the module is in use.
    """
    from core.gdpr.registry import deletes_rows, get_declarations, iter_rules
    from core.gdpr.settings import effective_settings

    host = get_host()
    lang = await tenant_language(tenant_id)
    decl = get_declarations(host)
    modules = host.modules()
    enabled = await enabled_modules(host, tenant_id)
    settings = await effective_settings(tenant_id, decl)
    facts: dict[str, ModuleFacts] = {}

    def facts_of(owner: str) -> ModuleFacts:
        if owner not in facts:
            info = modules.get(owner)
            label = _pick((info.label_sv, info.label_en), lang) if info else (
                _pick(CORE_LABEL, lang) if owner == CORE else host.plugin_label(owner, lang)
            )
            facts[owner] = ModuleFacts(owner, label, owner not in modules or owner in enabled)
        return facts[owner]

    for f in decl.fields:
        mf = facts_of(f.owner)
        cat = f.field.category
        if cat in REF_SUBJECT:
            _add(mf.data_subjects, _pick(SUBJECT_LABELS[REF_SUBJECT[cat]], lang))
            continue
        _add(mf.personal_data, _pick(CATEGORY_LABELS.get(cat, CATEGORY_LABELS["other"]), lang))
        label = _pick((f.field.label_sv, f.field.label_en), lang) or f.field.column
        _add(mf.fields, f"{f.table._meta.tablename}.{f.field.column} ({label})")
    for info in iter_rules(decl):
        # The rule's owner, and every module that declared data under it (the customer
        # portal's accounts under the customer register's rules): they keep it that long.
        owners = [info.owner, *sorted({f.owner for f in decl.fields_of_rule(info.key)} - {info.owner})]
        s = settings[info.key]
        label = _pick((info.rule.label_sv, info.rule.label_en), lang)
        for owner in owners:
            mf = facts_of(owner)
            if info.rule.subject:
                _add(mf.data_subjects, _pick(SUBJECT_LABELS[info.rule.subject], lang))
            mf.retention.append(
                {
                    "key": info.key,
                    "label": label,
                    "mode": s.mode,
                    "days": s.days,
                    "text": retention_text(
                        label, info.clocks, s.mode, s.days, lang, deletes_rows(decl, info)
                    ),
                }
            )
    return dict(sorted(facts.items(), key=lambda kv: (kv[0] != CORE, kv[0])))


def known_modules() -> set[str]:
    return set(get_host().modules()) | {CORE}


# --- processing activities ------------------------------------------------------------


def incomplete(row: dict[str, Any]) -> list[str]:
    """What article 30 asks for that the activity does not say yet."""
    missing = []
    if not (row["purpose"] or "").strip():
        missing.append("purpose")
    if not row["legal_basis"]:
        missing.append("legal_basis")
    if not _loads(row["data_subjects"]):
        missing.append("data_subjects")
    if not _loads(row["personal_data"]):
        missing.append("personal_data")
    if not (row["retention"] or "").strip():
        missing.append("retention")
    return missing


def activity_dict(row: dict[str, Any], system: dict[str, ModuleFacts] | None = None) -> dict:
    out = dict(row)
    for c in LIST_COLUMNS:
        out[c] = _loads(row[c])
    out.pop("tenant_id", None)
    system_data: list[str] = []
    for m in out["modules"]:
        if system and m in system:
            for cat in system[m].personal_data:
                _add(system_data, cat)
    out["system_personal_data"] = system_data
    out["missing_personal_data"] = [c for c in system_data if c not in out["personal_data"]]
    out["incomplete"] = incomplete(row)
    return out


ACTIVITIES = RecordService(gdpr.ACTIVITY, gdpr.PLUGIN, codes="privacy.activity")


async def system_of(tenant_id: int) -> dict[str, ModuleFacts]:
    """:func:`system_processing`, read once per request: a list's every activity is
    checked against the same facts."""
    cache = request_cache()
    key = ("privacy.system", tenant_id)
    if cache is not None and key in cache:
        return cache[key]
    facts = await system_processing(tenant_id)
    if cache is not None:
        cache[key] = facts
    return facts


async def activity_out(row: dict[str, Any]) -> dict[str, Any]:
    """An activity as the API and pages show it: its lists read, checked against the system."""
    return activity_dict(row, await system_of(int(row["tenant_id"])))


def _check_modules(modules: list[str]) -> list[str]:
    cleaned = _clean_items(modules)
    unknown = sorted(set(cleaned) - known_modules())
    if unknown:
        raise FieldError(
            "modules",
            "No installed module is called %(unknown)s; choose among %(choices)s.",
            code="privacy.unknown_module",
            unknown=", ".join(unknown),
            choices=", ".join(sorted(known_modules())),
        )
    return cleaned


async def live_activities(tenant_id: int) -> list[dict]:
    return (
        await ProcessingActivity.select()
        .where(
            (ProcessingActivity.tenant_id == tenant_id) & ProcessingActivity.deleted_at.is_null()
        )
        .order_by(ProcessingActivity.number)
    )


def _activity_values(data: ActivityIn | ActivityPatch) -> dict[str, Any]:
    """The given fields as column values (None in a patch: leave alone)."""
    values: dict[str, Any] = {}
    for name in ActivityIn.__struct_fields__:
        value = getattr(data, name)
        if value is None:
            continue
        if name == "name":
            value = _required_text(value, "name", "a name")
        elif name == "modules":
            value = json.dumps(_check_modules(value), ensure_ascii=False)
        elif name in LIST_COLUMNS:
            value = json.dumps(_clean_items(value), ensure_ascii=False)
        elif isinstance(value, str):
            value = value.strip()
        values[name] = value
    return values


@ACTIVITIES.creates
async def create_activity(tenant_id: int, employee_id: int, data: ActivityIn) -> dict:
    return await ACTIVITIES.create(tenant_id, _activity_values(data) | {"created_by": employee_id})


@ACTIVITIES.edits
async def edit_activity(tenant_id: int, activity_id: int, data: ActivityPatch) -> dict:
    return await ACTIVITIES.edit(tenant_id, activity_id, _activity_values(data))


async def prefill(tenant_id: int, employee_id: int) -> tuple[list[dict], list[str]]:
    """One activity per module in use that stores personal data and is in no activity yet.

    Categories of people and data and the retention come from the module's declarations and
    the organization's settings; purpose and legal basis are left for a person to decide
    (the inventory cannot be signed before they are filled in).
    """
    system = await system_processing(tenant_id)
    created: list[dict] = []
    skipped: list[str] = []
    async with atomic():
        # the activities' numbering, held while the covered modules are read: two prefills
        # at once do not add the same module twice
        await lock_numbers(ACTIVITIES.number_lock, tenant_id)
        covered: set[str] = set()
        for row in await live_activities(tenant_id):
            covered.update(_loads(row["modules"]))
        for name, facts in system.items():
            if not facts.enabled or not (facts.personal_data or facts.data_subjects):
                continue
            if name in covered:
                skipped.append(name)
                continue
            created.append(await ACTIVITIES.create(tenant_id, {
                "name": facts.label[:200],
                "data_subjects": json.dumps(facts.data_subjects, ensure_ascii=False),
                "personal_data": json.dumps(facts.personal_data, ensure_ascii=False),
                "retention": facts.retention_text,
                "modules": json.dumps([name]),
                "created_by": employee_id,
            }))
    return created, skipped


# --- the signed inventory -------------------------------------------------------------


def _snapshot_activity(row: dict, lang: str) -> dict:
    return {
        "number": row["number"],
        "name": row["name"],
        "purpose": row["purpose"],
        "legal_basis": row["legal_basis"],
        "legal_basis_label": _pick(LEGAL_BASIS_LABELS.get(row["legal_basis"], ("", "")), lang),
        "legal_basis_note": row["legal_basis_note"],
        "data_subjects": _loads(row["data_subjects"]),
        "personal_data": _loads(row["personal_data"]),
        "recipients": _loads(row["recipients"]),
        "transfers": row["transfers"],
        "retention": row["retention"],
        "security_measures": row["security_measures"],
        "modules": _loads(row["modules"]),
        "owner_name": row["owner_name"],
    }


def _snapshot_contact(row: dict, lang: str) -> dict:
    return {
        "role": row["role"],
        "role_label": _pick(ROLE_LABELS.get(row["role"], ("", "")), lang),
        "name": row["name"],
        "organization": row["organization"],
        "email": row["email"],
        "phone": row["phone"],
    }


async def live_contacts(tenant_id: int) -> list[dict]:
    return (
        await PrivacyContact.select()
        .where((PrivacyContact.tenant_id == tenant_id) & PrivacyContact.deleted_at.is_null())
        .order_by(PrivacyContact.id)
    )


async def current_document(tenant_id: int) -> dict[str, Any]:
    """The inventory as it stands now, in the shape a signed version keeps."""
    lang = await tenant_language(tenant_id)
    tenant = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
    return {
        "organization": tenant["name"] if tenant else "",
        "language": lang,
        "activities": [_snapshot_activity(r, lang) for r in await live_activities(tenant_id)],
        "contacts": [_snapshot_contact(r, lang) for r in await live_contacts(tenant_id)],
    }


def version_dict(row: dict[str, Any], with_content: bool = True) -> dict:
    content: dict[str, Any] = {}
    if with_content:
        try:
            content = json.loads(row["content"] or "{}")
        except ValueError:
            content = {}
    contacts: list[dict] = []
    if with_content and row["contacts"]:
        try:
            contacts = json.loads(row["contacts"])
        except ValueError:
            contacts = []
    out = {k: row[k] for k in (
        "id", "version", "signed_at", "signed_by", "signer_name", "signer_phone",
        "sms_verified", "note", "superseded_at", "anonymized_at",
    )}
    out["activities"] = content.get("activities", []) if isinstance(content, dict) else []
    out["contacts"] = contacts if isinstance(contacts, list) else []
    out["organization"] = content.get("organization", "") if isinstance(content, dict) else ""
    out["language"] = content.get("language", "sv") if isinstance(content, dict) else "sv"
    return out


async def get_version(tenant_id: int, version_id: int) -> dict:
    return await get_scoped(InventoryVersion, tenant_id, version_id, "Inventory version")


async def version_by_number(tenant_id: int, number: int) -> dict:
    row = await InventoryVersion.select().where(
        (InventoryVersion.tenant_id == tenant_id) & (InventoryVersion.version == number)
    ).first()
    if row is None:
        raise NotFound(
            "Inventory version %(number)s was not found.", code="privacy.version.not_found", number=number
        )
    return row


async def list_versions(tenant_id: int, offset: int, limit: int) -> tuple[int, list[dict]]:
    where = InventoryVersion.tenant_id == tenant_id
    total = await InventoryVersion.count().where(where)
    rows = (
        await InventoryVersion.select()
        .where(where)
        .order_by(InventoryVersion.version, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def _ready_to_sign(tenant_id: int) -> None:
    rows = await live_activities(tenant_id)
    if not rows:
        raise Conflict(
            "The inventory has no processing activities yet: add them (or pre-fill them from "
            "the modules) before signing.",
            code="privacy.inventory.empty",
        )
    gaps = [f"{r['number']} ({', '.join(incomplete(r))})" for r in rows if incomplete(r)]
    if gaps:
        raise Conflict(
            "Fill in what these processing activities lack before signing: %(gaps)s",
            code="privacy.inventory.incomplete",
            gaps="; ".join(gaps),
        )


async def _second_factor(
    user: SessionUser, challenge_id: str | None, user_agent: str
) -> SecondFactorDecision | None:
    """Ask the two-factor plugin, if any, whether signing needs an SMS code (M4 item 9).

    The signer is the logged-in employee; with no plugin answering (none installed, the
    context is off, or SMS is not active) signing needs no code.
    """
    from core.secondfactor import ask_second_factor

    return await ask_second_factor(
        SecondFactorRequest(
            tenant_id=user.tenant_id,
            person_kind="employee",
            person_id=user.employee_id,
            context=gdpr.TWO_FACTOR_CONTEXT,
            device_token=None,
            user_agent=user_agent[:200],
            challenge_id=challenge_id,
        )
    )


async def sign(
    user: SessionUser, note: str, challenge_id: str | None, user_agent: str = ""
) -> tuple[dict | None, SecondFactorDecision | None]:
    """Sign the inventory as it stands: a new version, the previous one superseded.

    Returns ``(version, None)`` when signed, ``(None, decision)`` when an SMS code must be
    entered first (nothing is stored until the step is re-submitted with the challenge id
    and the two-factor plugin answers that the code was verified). What is signed is the
    inventory at the moment of that re-submission.
    """
    tenant_id = user.tenant_id
    await _ready_to_sign(tenant_id)
    decision = await _second_factor(user, challenge_id, user_agent)
    if decision is not None and (refusal := decision.refusal()) is not None:
        raise refusal  # its code, params and status are the two-factor plugin's
    if decision is not None and decision.required:
        return None, decision
    async with atomic():
        await lock_numbers(NUMBER_LOCK + 2, tenant_id)
        await _ready_to_sign(tenant_id)  # changed meanwhile?
        document = await current_document(tenant_id)
        contacts = document.pop("contacts")
        number = await next_number(InventoryVersion.version, tenant_id)
        now = utcnow()
        await InventoryVersion.update({InventoryVersion.superseded_at: now}).where(
            (InventoryVersion.tenant_id == tenant_id) & InventoryVersion.superseded_at.is_null()
        )
        signer = user.name
        if decision is not None and decision.signer_name:
            signer = decision.signer_name
        inserted = await InventoryVersion.insert(
            InventoryVersion(
                tenant_id=tenant_id,
                version=number,
                content=json.dumps(document, ensure_ascii=False),
                contacts=json.dumps(contacts, ensure_ascii=False),
                note=note.strip(),
                signed_by=user.employee_id,
                signer_name=signer[:200],
                signer_phone=(decision.masked_phone or "")[:40] if decision is not None else "",
                sms_verified=decision is not None,
                signed_at=(decision.signed_at if decision and decision.signed_at else now),
            )
        ).returning(InventoryVersion.id)
        version = await get_version(tenant_id, int(inserted[0]["id"]))
        # the acting person (and IP) come from the context (core.context)
        await log_event(tenant_id, action="privacy.inventory_signed", plugin=gdpr.PLUGIN,
                        record_type=gdpr.RT_VERSION, record_id=int(version["id"]))
        return version, None


# --- incidents ------------------------------------------------------------------------


def deadline(row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The 72-hour notification deadline of article 33(1) and where the incident stands.

    Exactly 72 hours after discovery is still in time; a second later the deadline has
    passed. An incident the organization decided need not be reported ("no") is never
    overdue; one reported after the deadline is "notified_late", and article 33(1) then
    asks for the reasons of the delay (``authority_reason``).
    """
    now = now or utcnow()
    due = _aware(row["discovered_at"]) + NOTIFY_WITHIN
    notified = row["authority_notified_at"]
    if notified is not None:
        state = "notified_late" if _aware(notified) > due else "notified"
    elif row["authority_decision"] == "no":
        state = "not_required"
    else:
        state = "overdue" if now > due else "pending"
    return {
        "due_at": due,
        "state": state,
        "passed": now > due,
        "hours_left": round((due - now).total_seconds() / 3600, 2),
        "late_reason_missing": state in ("overdue", "notified_late")
        and not (row["authority_reason"] or "").strip(),
    }




class IncidentService(RecordService):
    """An incident's record service: it closes only once it is decided whether the
    supervisory authority must be told (or it was told)."""

    async def close(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        async with atomic():
            row = await self.get_writable(tenant_id, record_id)
            pending = row["authority_decision"] == "pending" and row["authority_notified_at"] is None
            if row["status"] != self.spec.closed_state and pending:
                raise Conflict(
                    "Decide first whether incident %(number)s must be reported to the "
                    "supervisory authority (authority_decision yes or no).",
                    code="privacy.incident.decision_pending", number=row["number"],
                )
            return await super().close(tenant_id, record_id)


INCIDENTS = IncidentService(gdpr.INCIDENT, gdpr.PLUGIN, codes="privacy.incident")


def incident_dict(row: dict[str, Any], now: datetime | None = None) -> dict:
    return {**row, "deadline": deadline(row, now)}


def _check_times(values: dict[str, Any], now: datetime) -> None:
    """The times of one incident must tell a possible story."""
    discovered = values["discovered_at"]
    for name in ("discovered_at", "occurred_at", "authority_notified_at", "subjects_notified_at"):
        value = values.get(name)
        if value is not None and value > now + CLOCK_SKEW:
            raise FieldError(name, "This time is in the future.", code="privacy.time_in_future")
    occurred = values.get("occurred_at")
    if occurred is not None and occurred > discovered:
        raise FieldError(
            "occurred_at", "The breach cannot have happened after it was discovered.",
            code="privacy.occurred_after_discovery",
        )
    for who in ("authority", "subjects"):
        notified = values.get(f"{who}_notified_at")
        if notified is not None and notified < discovered:
            raise FieldError(
                f"{who}_notified_at", "A notification cannot come before the breach was discovered.",
                code="privacy.notified_before_discovery",
            )
        if notified is not None and values.get(f"{who}_decision") == "no":
            raise FieldError(
                f"{who}_decision",
                "It says no notification is needed, but a notification time is given; "
                "choose yes, or remove the time.",
                code="privacy.notified_but_not_needed",
            )
        if notified is not None:
            values[f"{who}_decision"] = "yes"


INCIDENT_FIELDS = tuple(n for n in IncidentIn.__struct_fields__)


def _incident_values(data: IncidentIn | IncidentPatch, current: dict | None) -> dict[str, Any]:
    values: dict[str, Any] = dict(current or {})
    for name in INCIDENT_FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        if name == "title":
            value = _required_text(value, "title", "a title")
        elif isinstance(value, datetime):
            value = _aware(value)
        elif isinstance(value, str):
            value = value.strip()
        values[name] = value
    for name in getattr(data, "clear", ()):
        values[name] = None
    for name in ("discovered_at", "occurred_at", "authority_notified_at", "subjects_notified_at"):
        if values.get(name) is not None:
            values[name] = _aware(values[name])
    _check_times(values, utcnow())
    return {k: values[k] for k in INCIDENT_FIELDS if k in values}



def overdue_where(overdue: bool | None) -> Any:
    """The list's ``overdue``: true, those past the 72 hours without a notification to the
    supervisory authority (and not decided "no"); false, the others; None: no condition."""
    if overdue is None:
        return None
    late = (
        Incident.authority_notified_at.is_null()
        & (Incident.authority_decision != "no")
        & (Incident.discovered_at < utcnow() - NOTIFY_WITHIN)
    )
    if overdue:
        return late
    return (
        Incident.authority_notified_at.is_not_null()
        | (Incident.authority_decision == "no")
        | (Incident.discovered_at >= utcnow() - NOTIFY_WITHIN)
    )


@INCIDENTS.creates
async def create_incident(tenant_id: int, employee_id: int, data: IncidentIn) -> dict:
    return await INCIDENTS.create(tenant_id, _incident_values(data, None) | {"reported_by": employee_id})


@INCIDENTS.edits
async def edit_incident(tenant_id: int, incident_id: int, data: IncidentPatch) -> dict:
    """The change is checked with the incident as it stands: its times must still tell a
    possible story."""
    async with atomic():
        row = await INCIDENTS.get_writable(tenant_id, incident_id)
        values = _incident_values(data, {k: row[k] for k in INCIDENT_FIELDS})
        changes = {k: v for k, v in values.items() if v != row[k]}
        return await INCIDENTS.edit(tenant_id, incident_id, changes, row=row)


async def notify(tenant_id: int, incident_id: int, who: str, data: NotifyIn) -> dict:
    """Record when the authority (``who="authority"``) or the people affected were told."""
    async with atomic():
        row = await INCIDENTS.get_writable(tenant_id, incident_id)
        if row[f"{who}_notified_at"] is not None:
            if who == "authority":
                raise Conflict(
                    "The supervisory authority was already recorded as notified of incident %(number)s.",
                    code="privacy.authority_already_notified", number=row["number"],
                )
            raise Conflict(
                "The people affected by incident %(number)s were already recorded as notified.",
                code="privacy.subjects_already_notified", number=row["number"],
            )
        values = {k: row[k] for k in INCIDENT_FIELDS}
        if values[f"{who}_decision"] == "no":
            values[f"{who}_decision"] = "yes"  # they were told after all
        values[f"{who}_notified_at"] = _aware(data.notified_at) if data.notified_at else utcnow()
        if who == "authority" and data.reference.strip():
            values["authority_reference"] = data.reference.strip()
        _check_times(values, utcnow())
        changes = {getattr(Incident, k): v for k, v in values.items() if v != row[k]}
        changes[Incident.updated_at] = utcnow()
        await Incident.update(changes).where(INCIDENTS.where_own(tenant_id, incident_id))
        await INCIDENTS.log(tenant_id, f"{who}_notified", incident_id)
        return await INCIDENTS.get(tenant_id, incident_id)


# --- GDPR contact persons -------------------------------------------------------------

CONTACTS = RecordService(gdpr.CONTACT, gdpr.PLUGIN, codes="privacy.contact")


async def _check_employee(tenant_id: int, employee_id: int) -> None:
    if employee_id and not await Employee.exists().where(
        (Employee.tenant_id == tenant_id) & (Employee.id == employee_id)
    ):
        raise FieldError(
            "employee_id", "There is no employee %(id)s in this organization.",
            code="privacy.unknown_employee", id=employee_id,
        )


async def _contact_values(tenant_id: int, data: ContactIn | ContactPatch) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if data.name is not None:
        values["name"] = _required_text(data.name, "name", "a name")
    if data.role is not None:
        values["role"] = data.role
    if data.organization is not None:
        values["organization"] = data.organization.strip()
    if data.email is not None:
        values["email"] = normalize_email(data.email, "email")
    if data.phone is not None:
        values["phone"] = normalize_phone(data.phone, "phone")
    if data.notes is not None:
        values["notes"] = data.notes
    if data.employee_id is not None:
        await _check_employee(tenant_id, data.employee_id)
        values["employee_id"] = data.employee_id
    return values


@CONTACTS.creates
async def create_contact(tenant_id: int, employee_id: int, data: ContactIn) -> dict:
    return await CONTACTS.create(tenant_id, await _contact_values(tenant_id, data))


@CONTACTS.edits
async def edit_contact(tenant_id: int, contact_id: int, data: ContactPatch) -> dict:
    return await CONTACTS.edit(tenant_id, contact_id, await _contact_values(tenant_id, data))


# --- the GDPR overview ----------------------------------------------------------------


async def overview_panel(tenant_id: int) -> OverviewPanel:
    """Open incidents for the GDPR overview, with the 72-hour deadline of those not yet
    reported and not decided "no" (titled by number: an incident's title may name people)."""
    open_ = (Incident.tenant_id == tenant_id) & (Incident.status == "open") & Incident.deleted_at.is_null()
    count = await Incident.count().where(open_)
    rows = (
        await Incident.select(Incident.id, Incident.number, Incident.discovered_at)
        .where(open_ & Incident.authority_notified_at.is_null() & (Incident.authority_decision != "no"))
        .order_by(Incident.discovered_at)
        .order_by(Incident.id)
        .limit(10)
    )
    return OverviewPanel(
        key="privacy.incidents",
        title_sv="Öppna personuppgiftsincidenter",
        title_en="Open personal data breaches",
        open_count=int(count),
        deadlines=[
            OverviewDeadline(
                title_sv=f"Incident {r['number']}: anmälan till IMY",
                title_en=f"Incident {r['number']}: report to the authority",
                due_at=_aware(r["discovered_at"]) + NOTIFY_WITHIN,
                link=f"/privacy/incidents/{r['id']}",
            )
            for r in rows
        ],
        link="/privacy/incidents",
    )
