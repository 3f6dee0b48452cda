"""What awaits a portal customer's approval, and approving or declining it, across modules.

The customer portal (plugins/customers) shows quotes, extra costs and payment plans without
importing the plugins that own them. Each module declares the kind of item it owns as a
``core.contracts.ApprovalKind`` through the ``declare_kinds`` hook (docs/hooks.md):

* ``pending(person)``: the module's items of that kind that wait for this portal person's
  decision (:class:`PortalApproval`); :func:`list_for` joins every enabled kind's;
* ``decide(request)``: approves or declines one item (:class:`PortalDecisionRequest`);
  :func:`decide` calls the one module that declared ``request.kind``. It asks its own
  two-factor context for the portal person (:func:`ask_signature`): the first call answers
  ``second_factor_required`` with the challenge; the call after the code was verified
  (``challenge_id``) uses the verified code once and records the decision.

An item is the person's when its customer is the person's customer and it names either no
contact person or this very contact person. Anything else, another tenant's included, is
answered as not found (404); a decided item as a conflict (409).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import import_module
from typing import Any

from core.config import get_settings

# The portal's data shapes are part of the hook contract, so they live in the kernel
# (core.contracts, #18.6); imported here under their old names.
from core.contracts import (
    ApprovalKind,
    PortalApproval,
    PortalApprovalLine,  # noqa: F401  (plugins import it from here)
    PortalDecisionRequest,
    PortalDecisionResult,
    PortalPerson,
    SecondFactorDecision,
    SecondFactorRequest,
    SignedItem,
)
from core.db import atomic, raw, utcnow
from core.delivery import queue_message
from core.errors import GallraError
from core.gdpr.sql import cname, ids_in, tname
from core.money import format_money
from core.plugins import await_me_maybe, get_host, hookimpl
from core.secondfactor import ask_second_factor
from core.security import new_token, token_hash
from core.tables import Tenant

NOT_FOUND = "This item was not found, or it is not yours to approve."
KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz_")


def refused(error: str, status_code: int = 409) -> PortalDecisionResult:
    return PortalDecisionResult(status="refused", error=error, status_code=status_code)


def refusal(result: PortalDecisionResult, code: str = "portal.refused") -> GallraError:
    """A ``refused`` result as the refusal to raise (API) or show (``.text(t)`` on a page):
    the two-factor plugin's own, with its code and params, when it refused; else the
    module's message with ``code``. Its status is the result's."""
    decided = result.second_factor.refusal() if result.second_factor is not None else None
    message = result.error or NOT_FOUND  # the module's own message id
    exc = decided or GallraError(message, code=code)
    exc.status = result.status_code if 400 <= result.status_code < 500 else 409
    return exc


def owns(person: PortalPerson, customer_id: int, contact_person_id: int) -> bool:
    """Whether an item of ``customer_id`` (naming ``contact_person_id``, 0 = nobody) waits
    for this person: the same customer, and no contact person or this one."""
    if customer_id <= 0 or customer_id != person.customer_id:
        return False
    if contact_person_id == 0:
        return True
    return person.person_kind == "contact" and contact_person_id == person.person_id


def owned_where(table: Any, person: PortalPerson) -> Any:
    """The query form of :func:`owns` for a plugin's table: its live rows (not deleted, not
    anonymized) of this person's tenant and customer that name no contact person or this
    one. The table needs ``tenant_id``, ``customer_id``, ``contact_person_id``,
    ``deleted_at`` and ``anonymized_at``."""
    where = (
        (table.tenant_id == person.tenant_id)
        & (table.customer_id == person.customer_id)
        & table.deleted_at.is_null()
        & table.anonymized_at.is_null()
    )
    if person.person_kind == "contact":
        return where & table.contact_person_id.is_in([0, person.person_id])
    return where & (table.contact_person_id == 0)


async def ask_signature(
    request: PortalDecisionRequest, context: str, detail: str = "", item: SignedItem | None = None
) -> tuple[PortalDecisionResult | None, SecondFactorDecision | None]:
    """The module's two-factor context, asked for the portal person.

    ``item`` names what the code approves (or declines) in the SMS (:func:`code_sms`), in
    the language the person uses the portal in.

    The code is bound to ``<kind>:<item id>:<approve|decline>``, followed by ``:<detail>``
    when the module gives one (what of the item the person signs, e.g. an extra cost's
    amount and text): a code sent before the item changed is refused after.

    Returns ``(result, None)`` when the step stops here (a code is needed first, or the
    two-factor plugin refused), else ``(None, decision)``: ``decision`` is ``None`` when no
    code is needed (context off, no plugin), or the verified signature (masked phone, who
    signed, when).
    """
    decision = await ask_second_factor(
        SecondFactorRequest(
            tenant_id=request.person.tenant_id,
            person_kind=request.person.person_kind,
            person_id=request.person.person_id,
            context=context,
            device_token=None,
            user_agent=request.user_agent[:200],
            challenge_id=request.challenge_id,
            subject=_subject(request, detail),
            item=replace(item, approve=request.approve, language=request.language) if item else None,
        )
    )
    if decision is None:
        return None, None
    if decision.error:
        # the decision goes along: its code and params (see :func:`refusal`)
        status = decision.status if 400 <= decision.status < 500 else 409
        return PortalDecisionResult(
            status="refused", error=decision.error, status_code=status, second_factor=decision
        ), None
    if decision.required:
        return PortalDecisionResult(status="second_factor_required", second_factor=decision), None
    return None, decision


def _subject(request: PortalDecisionRequest, detail: str) -> str:
    subject = f"{request.kind}:{request.item_id}:{'approve' if request.approve else 'decline'}"
    return f"{subject}:{detail}" if detail else subject


def valid_kind(kind: str) -> bool:
    return 0 < len(kind) <= 32 and set(kind) <= KIND_CHARS


async def list_for(person: PortalPerson) -> list[PortalApproval]:
    """Every item waiting for the person, from the kinds of the modules the tenant has on,
    oldest sent first."""
    hooks = await get_host().for_tenant(person.tenant_id)
    found: list[PortalApproval] = []
    for kind in hooks.kinds(ApprovalKind).values():
        items = await await_me_maybe(kind.pending(person))
        if items:
            found.extend(items)
    found.sort(key=lambda a: (a.sent_at.timestamp() if a.sent_at else 0.0, a.kind, a.item_id))
    return found


async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    """The owning module's answer; 404 when no module (on for the tenant) owns the kind."""
    if not valid_kind(request.kind) or request.item_id <= 0:
        return refused(NOT_FOUND, 404)
    hooks = await get_host().for_tenant(request.person.tenant_id)
    owner = hooks.kinds(ApprovalKind).get(request.kind)
    if owner is None:
        return refused(NOT_FOUND, 404)
    answer = await await_me_maybe(owner.decide(request))
    if answer is None:
        return refused(NOT_FOUND, 404)
    return answer


# --- the SMS of a signing step ----------------------------------------------------------------

CODE_SMS = {
    "sv": {"approve": "Godkänn", "decline": "Avböj", "of": "för", "on": "på", "code": "kod",
           "valid": "Gäller i %(minutes)s minuter."},
    "en": {"approve": "Approve", "decline": "Decline", "of": "for", "on": "of", "code": "code",
           "valid": "Valid for %(minutes)s minutes."},
}


def code_sms(item: SignedItem, code: str, minutes: int = 5) -> str:
    """The SMS that carries a signing step's code, naming what the code does, in the
    item's language: "Godkänn extrakostnad 2 500 kr för arbetsorder 1042: kod 123456.
    Gäller i 5 minuter." / "Approve quote 12 of SEK 12,500: code 123456. ...". Built here
    once for every module (the two-factor plugin sends it). Plain spaces only, so the SMS
    stays in the GSM alphabet (one message, not three)."""
    lang = "en" if item.language == "en" else "sv"
    words = CODE_SMS[lang]
    what = item.what_en if lang == "en" else item.what_sv
    text = f"{words['approve' if item.approve else 'decline']} {what}"
    amount = format_money(item.amount, lang, whole=True) if item.amount is not None else ""
    if item.number is not None:
        text += f" {item.number}"
        if amount:
            text += f" {words['on']} {amount}"
    elif amount:
        text += f" {amount}"
    of = item.of_en if lang == "en" else item.of_sv
    if of:
        text += f" {words['of']} {of}" + (f" {item.of_number}" if item.of_number is not None else "")
    text += f": {words['code']} {code}. " + words["valid"] % {"minutes": minutes}
    return text.replace("\u00a0", " ").replace("\u202f", " ")


# --- what every approval step shares (quotes, payment plans, extra costs) -----------------


@dataclass(frozen=True)
class Signed:
    """Who approved or declined, as it is stored beside the item: the verified signer's
    name (else the name the person wrote), the masked phone the code went to (empty
    without a code), and when (the verified signature's time, else now)."""

    name: str
    phone: str
    at: datetime


def signed_by(decision: SecondFactorDecision | None, name: str) -> Signed:
    """The signature of a step once no code is needed (``decision`` is ``None``) or the
    code was verified (``decision`` names who signed and when)."""
    signer = (decision.signer_name if decision is not None else None) or name
    phone = (decision.masked_phone or "") if decision is not None else ""
    at = (decision.signed_at if decision is not None else None) or utcnow()
    return Signed(name=signer[:200], phone=phone[:40], at=at)


def approver_values(table: Any, signed: Signed, email: str) -> dict[Any, Any]:
    """The approver columns of an item that stores who approved it (``approver_name``,
    ``approver_email``, ``approver_phone``) for an update."""
    return {table.approver_name: signed.name, table.approver_email: email[:254], table.approver_phone: signed.phone}


async def sign_by_link(
    *,
    tenant_id: int,
    customer_id: int,
    contact_person_id: int,
    context: str,
    subject: str,
    challenge_id: str | None,
    user_agent: str,
    name: str,
    item: SignedItem | None = None,
) -> tuple[SecondFactorDecision | None, Signed | None]:
    """The two-factor step of an approval through an e-mailed link (no login): the code
    goes to the item's contact person, else its customer, and is bound to ``subject``
    (``<kind>:<id>:<step>``).

    Returns ``(decision, None)`` while a code is needed (the challenge to show), else
    ``(None, signed)``. The two-factor plugin's refusal (409 missing phone, 429 throttled)
    is raised as it is, with its own code and params."""
    decision = await ask_second_factor(
        SecondFactorRequest(
            tenant_id=tenant_id,
            person_kind="contact" if contact_person_id else "customer",
            person_id=contact_person_id or customer_id,
            context=context,
            device_token=None,
            user_agent=user_agent[:200],
            challenge_id=challenge_id,
            subject=subject,
            item=item,
        )
    )
    if decision is not None and (refusal := decision.refusal()) is not None:
        raise refusal  # the two-factor plugin's own code, params and status
    if decision is not None and decision.required:
        return decision, None
    return None, signed_by(decision, name)


async def email_link(
    tenant_id: int, address: str, path: str, message: str, texts: dict[str, tuple[str, str]], **values: Any
) -> None:
    """E-mail the customer a link to ``path`` (under the site's address) in the
    organization's language: ``texts`` maps a language to a subject and body with
    ``%(org)s``, ``%(link)s`` and ``values`` in them (English when the language has none);
    the sender's own message, if any, comes first."""
    tenant = await Tenant.select(Tenant.name, Tenant.language).where(
        Tenant._meta.primary_key == tenant_id
    ).first()
    assert tenant is not None  # the sender's own organization
    fill = {**values, "org": tenant["name"], "link": get_settings().base_url.rstrip("/") + path}
    subject, body = (text % fill for text in texts.get(tenant["language"], texts["en"]))
    if message.strip():
        body = message.strip() + "\n\n" + body
    await queue_message("email", address, body, subject=subject, tenant_id=tenant_id)


MAX_LINK_TOKEN = 128
"""A link's token is at most this long (``core.routes.signing.LinkToken`` says the same)."""


async def send_link(
    table: Any, where: Any, tenant_id: int, address: str, path: str, message: str,
    texts: dict[str, tuple[str, str]], **values: Any,
) -> None:
    """Make the row of ``table`` that ``where`` selects ``sent`` to ``address`` with a fresh
    link token (an earlier link stops working; only its hash is stored), then e-mail the
    link ``path`` (``{token}`` in it) as :func:`email_link` does."""
    token = new_token()
    now = utcnow()
    changes = {
        table.status: "sent", table.sent_at: now, table.sent_to_email: address,
        table.public_token_hash: token_hash(token),
    }
    if "updated_at" in {c._meta.name for c in table._meta.columns}:
        changes[table.updated_at] = now
    await table.update(changes).where(where)
    await email_link(tenant_id, address, path.format(token=token), message, texts, **values)


async def row_by_link(table: Any, token: str) -> dict[str, Any] | None:
    """The row of ``table`` whose link token is ``token`` (of any tenant: the token is the
    key), or None for an empty, too long or unknown token."""
    if not token or len(token) > MAX_LINK_TOKEN:
        return None
    row: dict[str, Any] | None = await table.select().where(table.public_token_hash == token_hash(token)).first()
    return row


async def decided(request: PortalDecisionRequest, signed: Signed, update: Any, changed: str) -> PortalDecisionResult:
    """Store a portal decision: ``update`` is the item's update query, guarded so it
    changes the item only while it still waits (``.returning(...)``); when it changed
    nothing, the item was answered or changed meanwhile: 409 with ``changed``."""
    async with atomic():
        done = await update
    if not done:
        return refused(changed)
    return PortalDecisionResult(status="approved" if request.approve else "declined", decided_at=signed.at)


async def forget_links(table: Any, tenant_id: int, record_ids: Sequence[int], key: str = "id") -> None:
    """The e-mailed links of ``table``'s rows whose ``key`` column is one of ``record_ids``
    (of tenant ``tenant_id``) stop working: their ``public_token_hash`` is forgotten, as
    anonymizing a quote or a project asks (the link dies with the personal data)."""
    if not record_ids:
        return
    where, args = ids_in(cname(table, key), record_ids)
    await raw(
        f"UPDATE {tname(table)} SET {cname(table, 'public_token_hash')} = NULL "
        f"WHERE {cname(table, 'tenant_id')} = {{}} AND {where}",
        tenant_id,
        *args,
    )


def approval_kind(kind: str, module: str) -> ApprovalKind:
    """The :class:`ApprovalKind` ``kind`` answered by ``module``'s ``pending(person)`` and
    ``decide(request)``, imported on first use (a plugin's portal module reads its tables
    and services, which its ``declare_kinds`` need not load)."""

    async def pending(person: PortalPerson) -> Sequence[PortalApproval]:
        found: Sequence[PortalApproval] = await import_module(module).pending(person)
        return found

    async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
        answer: PortalDecisionResult = await import_module(module).decide(request)
        return answer

    return ApprovalKind(kind, pending=pending, decide=decide)


def approvals_by(kind: str, module: str) -> Any:
    """``declare_kinds``: the plugin's one :func:`approval_kind`, which the portal lists and
    decides: ``declare_kinds = approvals_by("quote", f"{__name__}.portal")``."""

    @hookimpl
    def declare_kinds() -> Sequence[ApprovalKind]:
        return [approval_kind(kind, module)]

    return declare_kinds


# --- what the modules' portal kinds share (pending lists and the decide step) ---------------


async def owned_parents(person: PortalPerson, table: Any, *columns: Any, where: Any = None) -> dict[int, Any]:
    """The person's rows of ``table`` (:func:`owned_where`, and ``where`` when given) by id,
    with ``columns`` (the id always): the parents (projects, work orders) whose items wait."""
    query = owned_where(table, person) if where is None else owned_where(table, person) & where
    return {int(row["id"]): row for row in await table.select(table.id, *columns).where(query)}


async def owned_item(
    person: PortalPerson, table: Any, item_id: int, parent: Any, parent_key: str, where: Any = None
) -> tuple[Any, Any]:
    """The item ``item_id`` of ``table`` (of the person's tenant) and its ``parent`` row
    (``parent_key`` names the item's column that points to it), when the parent is the
    person's (:func:`owned_where`, and ``where`` when given, then :func:`owns`); else
    ``(None, None)``, which the module answers as not found."""
    item = await table.select().where((table.tenant_id == person.tenant_id) & (table.id == item_id)).first()
    if item is None:
        return None, None
    query = owned_where(parent, person) & (parent.id == item[parent_key])
    owner = await parent.select().where(query if where is None else query & where).first()
    if owner is None or not owns(person, int(owner["customer_id"]), int(owner["contact_person_id"])):
        return None, None
    return item, owner


def portal_approval(kind: str, module: str, labels: tuple[str, str], row: Any, **fields: Any) -> PortalApproval:
    """The :class:`PortalApproval` of ``row`` (its id is the item's): ``labels`` is the
    kind's Swedish and English name, ``fields`` the rest (title, total, lines, ...)."""
    return PortalApproval(
        kind=kind, item_id=int(row["id"]), module=module, label_sv=labels[0], label_en=labels[1], **fields
    )
