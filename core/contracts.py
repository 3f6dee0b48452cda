"""The data a plugin hands the core through hooks.

These are plain dataclasses so that a third-party plugin needs nothing but `core` to
describe itself. The core interprets them (decision 2 in docs/architecture.md:
declarations over code).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from core.errors import GallraError

if TYPE_CHECKING:
    from piccolo.table import Table


Category = Literal[
    "name",
    "email",
    "phone",
    "national_id",
    "address",
    "free_text",
    "ip",
    "customer_ref",
    "employee_ref",
    "contact_ref",
    "other",
]
Strategy = Literal["replace", "null", "zero", "empty", "delete_row"]
Clock = Literal["closed", "deleted", "invoiced", "dated", "created"]
Mode = Literal["immediately", "days", "off"]
ActivityKind = Literal["comment", "work_report", "note", "conversation"]


@dataclass(frozen=True)
class ModuleInfo:
    """What a tenant administrator sees when turning modules on and off."""

    name: str
    label_sv: str
    label_en: str
    description_sv: str = ""
    description_en: str = ""
    # Modules a tenant gets when it is created. Administrators change it per tenant.
    enabled_by_default: bool = True
    # Group in the person search and the brief: "workcloud", "time", "gdpr", "settings".
    area: str = "workcloud"
    # Modules this one builds on (the customer portal on the customer register): it is off
    # for a tenant while any of them is off or not installed, whatever the tenant chose for
    # it (fail closed). Enabling it does not turn them on.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalDataField:
    """One column that can hold personal data, and how anonymization treats it."""

    table: type[Table]
    column: str
    category: Category
    strategy: Strategy
    label_sv: str = ""
    label_en: str = ""
    # The retention rule key that anonymizes this column (None: only by erasure/reference).
    rule: str | None = None
    # For a child table of the rule's table (extra costs of a work order): the column that
    # holds the parent record's id. The engine anonymizes children of every due parent.
    parent_column: str | None = None


@dataclass(frozen=True)
class NotPersonal:
    """Text columns of a table that hold no personal data, and why (a status, a currency, a
    hash, a token, a choice from a fixed list ...).

    Returned from ``declare_personal_data`` next to the :class:`PersonalDataField` entries:
    every text column of a plugin's tables is declared one way or the other, so a column
    nobody thought about fails the conformance kit instead of slipping past erasure. Columns
    declared here are not scanned when an erasure is verified; a column a person can type
    free text into belongs in a ``PersonalDataField``, not here.
    """

    table: type[Table]
    columns: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RetentionRule:
    """A row in Settings > GDPR > Anonymization.

    `table` holds the records the rule ages; `clock_columns` are the timestamp columns
    whose earliest non-null value starts the clock (e.g. closed_at, deleted_at).
    """

    key: str
    label_sv: str
    label_en: str
    clock: Clock | tuple[Clock, ...]
    table: type[Table] | None = None
    clock_columns: tuple[str, ...] = ()
    allowed_modes: tuple[Mode, ...] = ("immediately", "days", "off")
    default_mode: Mode = "off"
    default_days: int = 365
    # Fixed rules (event logs 30 days, other logs 3 months) show but cannot be changed.
    fixed: bool = False
    # Activity kinds attached to the record that the rule clears.
    clears_activity: tuple[ActivityKind, ...] = ()
    # Module whose settings page also shows this rule (defaults to the declaring plugin).
    module: str | None = None
    # Record type (see RecordType) of the rule's rows; activity is attached by it.
    record_type: str = ""
    # When the rule's rows are people referenced elsewhere ("customer", "contact",
    # "employee"), every declared field of category customer_ref / contact_ref /
    # employee_ref in every plugin gets its strategy for the anonymized ids.
    subject: Literal["customer", "contact", "employee"] | None = None
    # Extra condition on due rows, as (column, value) pairs that must hold (e.g. kind=service).
    where: tuple[tuple[str, Any], ...] = ()
    # The column marking a row as done; the rule's table must have it.
    marker_column: str = "anonymized_at"


@dataclass(frozen=True)
class RecordType:
    """A kind of record a plugin owns: activity attaches to it, search links to it."""

    key: str
    table: type[Table]
    label_sv: str
    label_en: str
    # Path of the record's page or API resource, from its id.
    link: Callable[[int], str] | None = None
    # Column holding the record's human number (shown in search hits), if any.
    number_column: str | None = None
    # Who may open a record of this type, asked before its activity (comments, notes, work
    # reports, conversations) is shown or added to: ``can_open(user, record, write)`` with
    # the logged-in employee (core.auth.SessionUser), the record's row (already known to be
    # the tenant's) and whether the caller writes (adds an entry) or only reads. Answers a
    # bool or an awaitable of one, exactly as the plugin's own routes decide for the record
    # (read: may the user see it; write: may the user change it). ``None``, the default,
    # answers no for everybody: activity on a type whose plugin says nothing is refused.
    can_open: Callable[[Any, dict[str, Any], bool], bool | Awaitable[bool]] | None = None


def any_employee(user: Any, record: dict[str, Any], write: bool) -> bool:
    """``RecordType.can_open`` of records every employee of the tenant may see and change
    (the module being turned on for the tenant, which the core checks first)."""
    return True


@dataclass(frozen=True)
class SearchSource:
    """A place where person search looks for a value.

    Only identifiers a person is looked up by (name, e-mail address, phone number, personal
    identity or organization number, address, IP number, free text a person typed about a
    person) and references to a person (``*_ref``); never a secret, token, code, hash or
    message body. The core refuses any other declaration (core/gdpr/registry.py).
    """

    table: type[Table]
    column: str
    category: Category
    area: str
    place_sv: str
    place_en: str
    # Builds the link shown for a hit, from the record's id.
    link: Callable[[int], str] | None = None
    record_type: str = ""
    # Rows this place covers, as (column, value) pairs that must hold: one table holding
    # two kinds of record shown as two places (cases and service cases, by "kind").
    # Same shape as RetentionRule.where; empty means every row of the table.
    where: tuple[tuple[str, Any], ...] = ()
    # Who may read a hit is the record type's ``can_open`` (read-only), the rule of the
    # record's own page: a record the searcher may not open is found only through a
    # reference (``*_ref``), shown by place and record without its value.


@dataclass
class AnonymizeContext:
    """Passed to the `anonymize` hook for each batch, inside the batch's transaction."""

    tenant_id: int
    plugin: str
    rule: str
    record_ids: list[int]
    word: str
    now: datetime


@dataclass(frozen=True)
class TwoFactorContext:
    """A place in the product where an SMS code can be required (Settings > Two-factor)."""

    key: str
    label_sv: str
    label_en: str
    module: str | None = None
    order: int = 100
    # "login": a login from a new device (a verified code makes the device trusted);
    # "reset": choosing a password; "sign": a signature step (approve, accept, decrypt),
    # the only kind POST /api/twofactor/sign may start.
    purpose: Literal["login", "reset", "sign"] = "sign"
    # A passkey must verify the person (PIN, fingerprint, face: WebAuthn user verification),
    # not only their presence, to pass this step (the vault's decryption).
    user_verification: bool = False


@dataclass(frozen=True)
class PersonContact:
    """A person two-factor can send a code to, answered by the plugin that owns them.

    ``fix_hint_sv``/``fix_hint_en`` say where an administrator adds a missing phone number
    (M6), e.g. "Inställningar > Användare" / "Settings > Employees".
    """

    name: str
    mobile_phone: str | None = None
    private_phone: str | None = None
    work_phone: str | None = None
    fix_hint_sv: str = ""
    fix_hint_en: str = ""


@dataclass(frozen=True)
class PersonStanding:
    """Whether a person may hold an account of a module that gives people their own login
    (the customer portal), answered by the plugin that owns the person's kind.

    ``refusal`` is ``None`` when the person may, else why not: ``"gone"`` (the person is
    deleted or anonymized), ``"company"`` (a company customer, whose people are its contact
    persons) or ``"customer_gone"`` (a contact person whose customer is deleted or
    anonymized). ``customer_id`` is the customer the person belongs to (a private
    customer's own id), ``contact_id`` the contact person's id (0 for a customer).
    """

    name: str
    customer_id: int
    contact_id: int = 0
    email: str | None = None
    refusal: str | None = None


KIND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")


def _check_kind(declaration: object, kind: str, functions: dict[str, object]) -> None:
    name = type(declaration).__name__
    if not (isinstance(kind, str) and 0 < len(kind) <= 32 and set(kind) <= KIND_CHARS):
        raise ValueError(f"{name}: kind {kind!r} must be 1-32 characters a-z or _")
    for field_name, fn in functions.items():
        if not callable(fn):
            raise ValueError(f"{name}({kind!r}): {field_name} must be a function")


@dataclass(frozen=True)
class PersonKind:
    """A kind of person the plugin owns ("employee", "customer", "contact"), declared through
    ``declare_kinds``.

    ``describe(tenant_id, person_id)`` is an async function answering the person's name and
    phones (:class:`PersonContact`), or ``None`` when the person is not one of the tenant's.
    The core calls only the one plugin that declared the kind (``core.secondfactor.
    describe_person``), so two-factor and the pages find a person without importing the
    plugin that owns them. Two plugins declaring the same kind is a start-up error.
    """

    kind: str
    describe: Callable[[int, int], Awaitable[PersonContact | None]]
    # ``standing(tenant_id, person_id)``: whether the person may hold an own login
    # (:class:`PersonStanding`), ``None`` when the person is not one of the tenant's (also
    # deleted ones are answered, with a refusal). Kinds without it get no such account.
    standing: Callable[[int, int], Awaitable[PersonStanding | None]] | None = None
    # ``link(person_id)``: the person's page ("/customers/7"), where pages that name the
    # person link to; ``None``: the name is shown without a link.
    link: Callable[[int], str] | None = None

    def __post_init__(self) -> None:
        functions: dict[str, object] = {"describe": self.describe}
        if self.standing is not None:
            functions["standing"] = self.standing
        _check_kind(self, self.kind, functions)


@dataclass(frozen=True)
class ApprovalKind:
    """A kind of item a portal person approves or declines ("quote", "extra_cost",
    "payment_plan"), declared through ``declare_kinds``.

    ``pending(person)`` is an async function listing the items of this kind that wait for the
    portal person's decision (``core.approvals.PortalApproval``, each with this ``kind``);
    ``decide(request)`` approves or declines one (``core.approvals.PortalDecisionRequest``
    -> ``PortalDecisionResult``). The core lists every enabled kind (``core.approvals.
    list_for``) and hands a decision to the one plugin that declared ``request.kind``
    (``core.approvals.decide``). Two plugins declaring the same kind is a start-up error.
    """

    kind: str
    pending: Callable[[PortalPerson], Awaitable[Sequence[PortalApproval]]]
    decide: Callable[[PortalDecisionRequest], Awaitable[PortalDecisionResult]]

    def __post_init__(self) -> None:
        _check_kind(self, self.kind, {"pending": self.pending, "decide": self.decide})


@dataclass(frozen=True)
class FactorAnswer:
    """One answer to a step's second-factor challenge, handed to the plugin that declared
    the factor (:class:`SecondFactor`). ``challenge`` is a stable reference of the challenge
    (a hash of its id, never the id itself): an answer made for one challenge must not be
    accepted for another. ``answer`` is what the person entered: never log it."""

    tenant_id: int
    person_kind: str
    person_id: int
    context: str
    purpose: str
    challenge: str
    answer: str


@dataclass(frozen=True)
class SecondFactor:
    """A second factor another plugin provides ("hardware_token"), declared through
    ``declare_kinds``; ``kind`` is the factor's name, as ``second_factors_of`` answers it.

    ``check(answer)`` is an async function answering ``True`` only when the
    :class:`FactorAnswer` is right for this person and challenge (anything else is a wrong
    answer; raising refuses the step). The two-factor plugin owns the challenge, counts the
    attempt first, and completes the step in the transaction that asked ``check``.
    ``strong``: the factor is as strong as an authenticator app or a passkey, so a rule
    requiring one of those accepts it; undeclared, it does not (fail closed). The names of
    the two-factor plugin's own factors ("sms", "app", "passkey", "recovery") cannot be
    declared.
    """

    kind: str
    check: Callable[[FactorAnswer], Awaitable[bool]]
    strong: bool = False

    def __post_init__(self) -> None:
        _check_kind(self, self.kind, {"check": self.check})


# What ``declare_kinds`` may answer; the core keeps one dictionary kind -> owner per type.
KIND_DECLARATIONS: tuple[type[PersonKind] | type[ApprovalKind] | type[SecondFactor], ...] = (
    PersonKind,
    ApprovalKind,
    SecondFactor,
)


@dataclass(frozen=True)
class CustomerChoice:
    """A customer suggested by ``find_customers`` for a record form's customer picker.

    ``id`` is what a record stores as its ``customer_id``; ``number`` is the customer number
    people know; ``detail`` a short extra line (city, organization number), may be empty.
    """

    id: int
    number: int
    name: str
    detail: str = ""


@dataclass(frozen=True)
class ContactChoice:
    """A contact person of one customer, listed by ``find_contacts`` for a record form's
    contact picker (which follows the chosen customer).

    ``id`` is what a record stores as its ``contact_person_id``; ``detail`` a short extra
    line (the person's title), may be empty.
    """

    id: int
    name: str
    detail: str = ""


@dataclass(frozen=True)
class OverviewDeadline:
    """One open matter with a deadline on the GDPR overview (an incident's 72 hours, a
    data-subject request's month). ``title_*`` carry no personal data (a number and a
    kind, never the person's name); ``link`` is the matter's page."""

    title_sv: str
    title_en: str
    due_at: datetime
    link: str = ""


@dataclass(frozen=True)
class OverviewPanel:
    """A plugin's panel on the GDPR overview (``gdpr_overview``): a heading, how many
    matters are open, and the open ones with their deadlines, earliest first."""

    key: str
    title_sv: str
    title_en: str
    open_count: int
    deadlines: Sequence[OverviewDeadline] = ()
    link: str = ""


@dataclass(frozen=True)
class PartyFound:
    """The customer register's answer to ``look_up_party``: whether the customer exists in
    the organization (and may be named by a new reference: not deleted), and which customer
    the contact person belongs to (``None``: no such contact person in the organization).
    Asked with 0 for a field not given; the answer for 0 is ignored."""

    customer: bool
    contact_customer_id: int | None = None


@dataclass
class SecondFactorRequest:
    """Asked at login (and other guarded steps) whether a second factor is needed."""

    tenant_id: int
    person_kind: Literal["employee", "customer", "contact"]
    person_id: int
    context: str
    device_token: str | None
    user_agent: str
    # Re-submission of a guarded step after the SMS code was entered: the plugin that issued
    # this challenge answers "not required" (with the masked phone) once it is verified.
    challenge_id: str | None = None
    # What the step decides, when it is about one thing ("quote:12:accept"): a code sent for
    # one subject is refused for any other, even of the same person and context. Empty for
    # steps about the person alone (login, reset).
    subject: str = ""
    # The employee who starts this step for the person (an employee recording a customer's
    # approval, an administrator asking for a signature); 0 when the person started it
    # themselves (their own login, portal or link). Wrong codes of a step someone else
    # started count against that someone, so they cannot lock the person out.
    requested_by: int = 0
    # With ``challenge_id``: send a new code for that challenge, which must be this
    # person's in this tenant and context and not yet verified (the old code stops working),
    # once the wait between two codes to one person has passed.
    resend: bool = False
    # What the code signs, named in the SMS (``core.approvals.code_sms``): kind, number and
    # amount of the item. ``None``: the SMS names only the context.
    item: SignedItem | None = None


@dataclass
class RecoveryCodes:
    """A person's one-time recovery codes as the ``recovery_codes`` hook answers them:
    how many are unused of the set, when the set was made (``None``: never), and, only in
    the answer that made a new set, the new ``codes`` themselves, to be shown once."""

    remaining: int
    total: int
    created_at: datetime | None = None
    codes: list[str] = field(default_factory=list)


@dataclass
class AppSetup:
    """An authenticator app waiting for its first code: the key (base32), the
    ``otpauth://`` URI and the URI as an inline SVG QR code. Shown to the person only,
    never logged or stored in clear by the caller."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def secret_groups(self) -> str:
        """The key in groups of four, for typing it into the app by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


@dataclass
class PasskeyInfo:
    """One of a person's passkeys as a devices page lists it (no key material)."""

    id: int
    name: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass
class PasskeyRegistration:
    """A started passkey registration: the single-use ``challenge_id`` and the
    ``publicKey`` options for ``navigator.credentials.create`` (JSON-ready)."""

    challenge_id: str
    options: dict[str, Any]


@dataclass
class OwnFactors:
    """What a person's own devices page shows (``own_second_factors``): the authenticator
    app's state (``None``: none, "pending": waiting for its first code, "active"), the
    pending setup to show again, and the passkeys."""

    app_status: str | None = None
    app_confirmed_at: datetime | None = None
    app_last_used_at: datetime | None = None
    app_setup: AppSetup | None = None
    passkeys: list[PasskeyInfo] = field(default_factory=list)


@dataclass
class SecondFactorDecision:
    """The answer of ``challenge_second_factor``; ``core.secondfactor`` explains the steps.

    ``message`` and ``error`` are constant English message ids (gettext msgids) with
    ``%(name)s`` placeholders, never finished text: ``params`` fills them, in the language
    of whoever reads them. ``code`` is the refusal's stable machine code
    (``twofactor.send_gap``). An edge does not format them itself: it raises
    :meth:`refusal` (the API answers problem details with the code and params; a page
    shows ``refusal().text(t)`` in its language) or shows :meth:`message_text`.
    """

    required: bool
    challenge_id: str | None = None
    masked_phone: str | None = None
    message: str | None = None
    error: str | None = None
    # HTTP status for ``error`` (409 missing phone, 429 throttled, 423 locked).
    status: int = 409
    # On a verified re-submission of a signing step: who signed and when (M4 6-9).
    signer_name: str | None = None
    signed_at: datetime | None = None
    code: str | None = None
    # What fills the placeholders of ``message`` and ``error`` (never a code or a token).
    params: dict[str, Any] = field(default_factory=dict)
    # When an SMS code was sent (or a resend refused): seconds until a new code may be
    # asked for with ``SecondFactorRequest.resend`` (0: now; None: not offered).
    resend_in: int | None = None

    @classmethod
    def refused(cls, exc: GallraError) -> SecondFactorDecision:
        """A decision carrying the refusal ``exc`` (its message id, code, params, status)."""
        return cls(required=True, error=exc.message, code=exc.code, params=dict(exc.params), status=exc.status)

    def refusal(self) -> GallraError | None:
        """``error`` as the refusal to raise (``None`` when there is none): its code, its
        params and its HTTP status (a 4xx; 409 otherwise)."""
        if not self.error:
            return None
        exc = GallraError(self.error, code=self.code or "second_factor.refused", **self.params)
        exc.status = self.status if 400 <= self.status < 500 else 409
        exc.title = "Refused"
        return exc

    def error_text(self, t: Any = None) -> str | None:
        """``error`` filled in, in the language of the translations ``t`` (English without)."""
        refusal = self.refusal()
        return refusal.text(t) if refusal is not None else None

    def message_text(self, t: Any = None) -> str | None:
        """``message`` filled in, in the language of ``t`` (English without)."""
        return GallraError(self.message, **self.params).text(t) if self.message else None


@dataclass
class OutgoingMessage:
    """An e-mail or SMS on its way out. `body` may hold a code: never log it."""

    outbox_id: int
    tenant_id: int | None
    channel: Literal["email", "sms"]
    recipient: str
    subject: str
    body: str
    sender: str | None = None


@dataclass(frozen=True)
class ScheduledJob:
    """A periodic job run by the single active scheduler."""

    id: str
    func: Callable[[], Awaitable[Any]]
    minutes: int = 60
    extra: dict[str, Any] = field(default_factory=dict)


# --- one declaration per record: core/records ------------------------------------------


@dataclass(frozen=True)
class Field:
    """A column of a record that can hold personal data: how anonymization treats it and
    whether person search looks there. The table is the record's (:class:`RecordSpec`).

    The same column may be declared once per retention rule that clears it (``rule``);
    ``rule=None`` means only erasure on request or a reference sweep touches it.
    ``search=False`` keeps a column out of person search (it is still erased and
    anonymized); person search refuses anything but identifiers anyway.
    """

    column: str
    category: Category
    strategy: Strategy
    label_sv: str = ""
    label_en: str = ""
    rule: str | None = None
    search: bool = True
    parent_column: str | None = None


@dataclass(frozen=True)
class Place:
    """Where person search shows a record's hits ("Ärenden"); ``where`` picks rows when one
    table holds two kinds shown as two places (cases and service cases); ``columns``, when
    given, names the searched columns whose hits show here (a place per column: "created
    by", "changed by"), else every searched column of the record shows here."""

    label_sv: str
    label_en: str
    where: tuple[tuple[str, Any], ...] = ()
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordSpec:
    """Everything the core needs to know about one kind of record a plugin keeps.

    Returned from the ``declare_records`` hook. From it the core derives what used to be
    declared four times (personal-data fields, retention rules, search sources, the record
    type), and :class:`core.records.RecordService` gives the record its get, list, create,
    edit, close/reopen and soft delete with the shared rules: tenant scope, read-only
    deleted and anonymized records, reference checks, numbering, immediate anonymization
    and the event log. The core knows which plugin declared it; the spec never repeats it.
    """

    name: str  # the record type key, unique in the plugin ("case")
    table: type[Table]
    label_sv: str  # one record, for messages and pages ("Ärende")
    label_en: str
    plural_sv: str = ""  # the record list and its place in person search ("Ärenden")
    plural_en: str = ""
    path: str = ""  # pages under ``path``, the API under ``/api`` + path ("/cases")
    title_column: str | None = "title"
    number_column: str | None = None  # the record's number people know, max + 1 per tenant
    status_column: str | None = None  # "open"/"closed" records (close and reopen)
    closed_at_column: str = "closed_at"
    open_state: str = "open"
    closed_state: str = "closed"
    # the close action's route and event ("end" and "ended" for a contract)
    close_verb: tuple[str, str] = ("close", "closed")
    reopenable: bool = True
    # The state actions (a route ``/{id}/<action>`` each) and the states each may be taken
    # from: ``(("close", ("draft", "sent")), ("void", ("draft", "sent")), ("reopen",
    # ("closed",)))``. Empty: close from every state but ``closed_state``, reopen from it.
    # The detail page offers only the actions of the record's state (:meth:`actions_in`).
    actions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    soft_delete: bool = True  # ``deleted_at`` marks a deleted record; it stays readable
    customer_column: str | None = None  # a customer reference, checked with the contact
    contact_column: str | None = None
    search_columns: tuple[str, ...] = ()  # what a list's ``q`` matches (a part of)
    filters: tuple[str, ...] = ()  # columns a list filters on with ``?column=value``
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # allowed values of columns
    sort: tuple[str, ...] = ()  # columns a list may be sorted by (``sort=-number``)
    default_sort: str = "-id"
    fields: tuple[Field, ...] = ()
    not_personal: tuple[tuple[tuple[str, ...], str], ...] = ()  # (columns, reason)
    rules: tuple[RetentionRule, ...] = ()
    # The retention rule a deleted record falls under (its "immediately" mode anonymizes
    # inside the delete); default: the only rule of the spec, if there is one.
    rule_of: Callable[[dict[str, Any]], str | None] | None = None
    places: tuple[Place, ...] = ()  # default: one place named by the plural labels
    can_open: Callable[[Any, dict[str, Any], bool], bool | Awaitable[bool]] | None = None
    link: Callable[[int], str] | None = None  # default: ``/api`` + path + ``/{id}``
    area: str = ""  # person search group; default: the module's area
    # False for rows a plugin keeps about people that nobody opens (two-factor codes,
    # trusted devices): no record type is derived (no activity, no record link; search
    # hits link only by ``link``), only the personal-data fields, rules and search places.
    opens: bool = True
    # A part of another record (a quote's lines, a project's payment plans): its rows belong
    # to the parent record through this column, so the parent's rules clear its fields; person
    # search links a hit to the part itself (``link``).
    parent_column: str | None = None
    # Shown read-only in the customer portal to the customer it names (``PortalView``:
    # which columns, which rows); ``None``: the portal never shows it.
    portal: PortalView | None = None

    def api_link(self, record_id: int) -> str:
        if self.link is not None:
            return self.link(record_id)
        return f"/api{self.path}/{record_id}"

    def page_link(self, record_id: int) -> str:
        return f"{self.path}/{record_id}"

    def rule_for(self, row: dict[str, Any]) -> str | None:
        if self.rule_of is not None:
            return self.rule_of(row)
        return self.rules[0].key if len(self.rules) == 1 else None

    def actions_in(self, state: str | None) -> tuple[str, ...]:
        """The state actions a record in ``state`` may take, in declared order."""
        if not self.status_column or state is None:
            return ()
        if self.actions:
            return tuple(action for action, states in self.actions if state in states)
        if state == self.closed_state:
            return ("reopen",) if self.reopenable else ()
        return (self.close_verb[0],)

    def states_for(self, action: str) -> tuple[str, ...]:
        """The states ``action`` may be taken from (declared, or the default's)."""
        for name, states in self.actions:
            if name == action:
                return states
        choices = self.choices_of(self.status_column or "") or (self.open_state, self.closed_state)
        if action == "reopen":
            return (self.closed_state,)
        return tuple(s for s in choices if s != self.closed_state)

    def choices_of(self, column: str) -> tuple[str, ...] | None:
        for name, values in self.choices:
            if name == column:
                return values
        return None

    # -- what the core derives ----------------------------------------------------------
    def personal_data(self) -> list[PersonalDataField | NotPersonal]:
        out: list[PersonalDataField | NotPersonal] = [
            PersonalDataField(
                self.table, f.column, f.category, f.strategy, f.label_sv, f.label_en,
                rule=f.rule, parent_column=f.parent_column or self.parent_column,
            )
            for f in self.fields
        ]
        out.extend(NotPersonal(self.table, cols, reason) for cols, reason in self.not_personal)
        return out

    def record_type(self) -> RecordType:
        return RecordType(
            self.name, self.table, self.label_sv, self.label_en, link=self.api_link,
            number_column=self.number_column, can_open=self.can_open,
        )

    def retention_rules(self) -> list[RetentionRule]:
        from dataclasses import replace

        return [
            replace(
                r,
                table=r.table if r.table is not None else self.table,
                record_type=r.record_type or (self.name if self.opens else ""),
            )
            for r in self.rules
        ]

    def search_sources(self, area: str) -> list[SearchSource]:
        places = self.places or (
            Place(self.plural_sv or self.label_sv, self.plural_en or self.label_en),
        )
        seen: dict[str, Category] = {}
        for f in self.fields:
            if f.search and f.parent_column is None and f.column not in seen:
                seen[f.column] = f.category
        return [
            SearchSource(
                self.table, column, category, self.area or area, place.label_sv,
                place.label_en, link=self.api_link if self.opens else self.link,
                record_type=self.name if self.opens else "", where=place.where,
            )
            for place in places
            for column, category in seen.items()
            if not place.columns or column in place.columns
        ]


# -- the customer portal's approvals (core.approvals explains them; docs/hooks.md) ----------


@dataclass(frozen=True)
class PortalPerson:
    """Who is logged in to the customer portal: a private customer, or a contact person of
    ``customer_id`` (then ``person_id`` is the contact person's id)."""

    tenant_id: int
    customer_id: int
    person_kind: Literal["customer", "contact"]
    person_id: int


@dataclass(frozen=True)
class PortalApprovalLine:
    description: str
    amount: Decimal


@dataclass(frozen=True)
class PortalApproval:
    """One item waiting for the person's decision.

    ``kind`` names the kind of item across plugins ("quote", "extra_cost",
    "payment_plan"); ``(kind, item_id)`` is what the kind's ``ApprovalKind.decide`` gets back.
    ``title`` and the lines are the module's own text (no translation); ``label_sv`` /
    ``label_en`` name the kind of item for the page ("Offert 12").
    """

    kind: str
    item_id: int
    module: str
    label_sv: str
    label_en: str
    title: str
    total: Decimal
    number: int | None = None
    lines: tuple[PortalApprovalLine, ...] = ()
    sent_at: datetime | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class PortalDecisionRequest:
    person: PortalPerson
    kind: str
    item_id: int
    approve: bool
    # The portal person's name and login e-mail, recorded as who decided when no SMS
    # signature names them.
    signer_name: str
    signer_email: str
    # After the SMS code was verified: the challenge to use (once).
    challenge_id: str | None
    user_agent: str
    # The language the person uses the portal in: the SMS code's text is in it.
    language: str = "sv"


@dataclass
class PortalDecisionResult:
    """``approved`` / ``declined`` (with ``decided_at``), ``second_factor_required`` (with
    the challenge in ``second_factor``), or ``refused`` (``error`` and its HTTP
    ``status_code``: 404 not the person's, 409 already decided or no longer open, or the
    two-factor plugin's own 409/423/429)."""

    status: Literal["approved", "declined", "second_factor_required", "refused"]
    decided_at: datetime | None = None
    second_factor: SecondFactorDecision | None = None
    error: str | None = None
    status_code: int = 200
    extra: dict[str, str] = field(default_factory=dict)


# -- what a portal person asks of the organization (docs/hooks.md, data_requests_of) ----------


@dataclass(frozen=True)
class PortalDataRequest:
    """One of the portal person's own data-subject requests, as the portal shows it.

    ``kind_text`` and ``status_text`` are English message ids ("Erasure (art. 17)",
    "Verified") that the page translates; nothing here names anyone else."""

    number: int
    kind: str
    status: str
    kind_text: str
    status_text: str
    received_on: date
    due_on: date
    details: str = ""
    answered: bool = False


@dataclass(frozen=True)
class DataRequestDesk:
    """What the portal's "My personal data" page needs from the plugin keeping the
    organization's data-subject requests: the kinds a person may ask for (``(kind, message
    id)``, in the order to show) and the person's own requests, newest first."""

    choices: tuple[tuple[str, str], ...]
    requests: tuple[PortalDataRequest, ...] = ()


@dataclass(frozen=True)
class PortalDataAsk:
    """A request a logged-in portal person makes (``ask_as_portal_person``). The person is
    verified by the portal login (and its SMS step where the organization asks for one);
    ``name``, ``email`` and ``phone`` are what the organization holds for them (the login's
    e-mail, the person's phone), where the answer goes and by which the person's data is
    found."""

    person: PortalPerson
    name: str
    email: str
    phone: str
    kind: str
    details: str
    language: str


# -- how a record shows in the customer portal (RecordSpec.portal; core.records.portal) -------


@dataclass(frozen=True)
class PortalColumn:
    """A column of a record a customer may read in the portal. ``format`` is how the page
    shows it ("text", "date", "datetime", "money", "money_minor" (whole öre), "choice"); a
    "choice" column's ``values``
    are ``(value, label_sv, label_en)``, and a value not listed is shown as it is."""

    column: str
    label_sv: str
    label_en: str
    format: Literal["text", "date", "datetime", "money", "money_minor", "choice"] = "text"
    values: tuple[tuple[str, str, str], ...] = ()
    in_list: bool = True

    def value_label(self, value: Any, lang: str) -> Any:
        for key, sv, en in self.values:
            if key == value:
                return en if lang == "en" else sv
        return value


@dataclass(frozen=True)
class PortalPart:
    """Rows of a part of a record shown on its portal page (a quote's lines): ``table``'s
    rows whose ``parent_column`` is the record's id, ``columns`` of them, ordered by
    ``order_by``."""

    label_sv: str
    label_en: str
    table: type[Table]
    parent_column: str
    columns: tuple[PortalColumn, ...]
    order_by: str = "id"
    total: tuple[str, ...] = ()
    """Columns whose product is a row's amount (a quote line's quantity and unit price);
    given, the page shows each row's amount and their sum, in kronor."""


@dataclass(frozen=True)
class PortalView:
    """A record the customer it names reads in the customer portal, read-only.

    Only ``columns`` are ever read for the portal (no internal notes, no employee, no
    other person); only the rows whose customer reference is the portal person's customer
    and that name no contact person or this one, neither deleted nor anonymized, and that
    match ``where`` (``(column, allowed values)``) and have every ``not_null`` column set (a
    quote once it was sent)."""

    columns: tuple[PortalColumn, ...]
    where: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    not_null: tuple[str, ...] = ()  # columns that must be set (a quote's ``sent_at``)
    parts: tuple[PortalPart, ...] = ()


# -- what an SMS code signs (core.approvals.code_sms) --------------------------------------------


@dataclass(frozen=True)
class SignedItem:
    """What a signing step's SMS code approves, named in the SMS so the person knows what
    the code does: "Godkänn extrakostnad 2 500 kr för arbetsorder 1042: kod 123456".

    ``what_*`` names the item ("extrakostnad", "offert") and ``number`` its number when it
    has its own; ``of_*`` and ``of_number`` the record it belongs to ("arbetsorder", 1042);
    ``amount`` what it costs. No free text: the SMS says what kind of item, which one and
    how much, never its description. ``approve`` False: the code declines it. The text is
    built once, by :func:`core.approvals.code_sms`, in ``language``."""

    what_sv: str
    what_en: str
    amount: Decimal | None = None
    number: int | None = None
    of_sv: str = ""
    of_en: str = ""
    of_number: int | None = None
    approve: bool = True
    language: str = "sv"
