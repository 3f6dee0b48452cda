"""One login system: passwords, sessions, single-use links and login throttling of every
kind of person who logs in (employees, and portal people of plugins/portal), and the
employees' own use of them.

Sessions live in the database (two web processes must agree on them); the browser holds a
random token whose SHA-256 is the key. Sessions and link tokens carry a ``kind``
(:data:`core.tables.LOGIN_KINDS`) and the person's id within it (``subject_id``): the
generic functions below (:func:`open_session`, :func:`live_session`, :func:`issue_link`,
:func:`find_link`, :func:`check_login`...) work for any kind, and each kind's lookup never
sees another kind's rows. Failed logins are counted atomically in the database
(:mod:`core.throttle`), per kind through the throttle key's scope. Everything here answers
the same way whether or not an account exists, so the login and reset forms reveal nothing
about who is a user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import throttle
from core.config import get_settings
from core.contracts import SecondFactorDecision, SecondFactorRequest
from core.db import atomic, bind_tenant, is_sqlite, lock_row, raw, raw_self_scoped, utcnow
from core.errors import GallraError, _
from core.eventlog import log_system
from core.plugins import await_me_maybe, get_host
from core.security import new_token, token_hash
from core.tables import (
    Employee,
    EmployeeGroup,
    GroupMember,
    PasswordResetToken,
    Session,
    Tenant,
)

EMPLOYEE = "employee"
PORTAL = "portal"
MAX_TOKEN_LENGTH = 128

log = logging.getLogger(__name__)

#: OWASP's Argon2id baseline: 19 MiB memory, 2 iterations, 1 lane. The test kit swaps
#: :data:`HASHER` for one of the lowest cost in its own processes only
#: (``core.testing.pytest_plugin.cheap_password_hashing``).
ARGON2_PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
HASHER = PasswordHasher(
    time_cost=ARGON2_PARAMETERS["time_cost"],
    memory_cost=ARGON2_PARAMETERS["memory_cost"],
    parallelism=ARGON2_PARAMETERS["parallelism"],
)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


class AuthError(GallraError):
    """A refusal that is safe to show as it is (401 unless another status is given)."""

    title = "Unauthorized"
    default_code = "auth"

    def __init__(self, message: str, status: int = 401, *, code: str | None = None, **params: Any):
        self.status = status
        super().__init__(message, code=code, **params)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash(new_token())


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            "The password must be at least %(n)s characters.", 400, code="password_too_short", n=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(
            "The password must be at most %(n)s characters.", 400, code="password_too_long", n=MAX_PASSWORD_LENGTH
        )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash."""

    def _verify() -> bool:
        try:
            return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


# --- the machinery every kind shares ---------------------------------------------------


async def check_login(
    key: str,
    password: str,
    find: Callable[[], Awaitable[dict | None]],
    store_hash: Callable[[dict, str], Awaitable[Any]],
    *,
    code: str | None = None,
) -> dict:
    """The account ``find`` answers if ``password`` is its password, else AuthError: 401
    alike for a wrong password and an unknown account, 429 once ``key`` (:mod:`core.throttle`,
    the kind's scope with organization and e-mail) has no attempt left.

    An attempt is reserved atomically *before* the password is checked, so parallel guesses
    get no more than ``login_max_failures`` checks between them; a right password gives its
    attempt back, a wrong one keeps it counted. ``find`` returns the account row (with its
    ``password_hash``) or None; ``store_hash`` saves a re-hashed password when the hasher's
    parameters changed. ``code`` prefixes the answers' codes (``portal.`` → ``portal.throttled``).
    """
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    if not await throttle.reserve(key, settings.login_max_failures, window):
        raise AuthError(THROTTLED, 429, code=f"{code}throttled" if code else None)
    account = await find()
    ok = await verify_password(account["password_hash"] if account else None, password)
    if not ok or account is None:
        raise AuthError(WRONG_LOGIN, code=f"{code}wrong_login" if code else None)
    await throttle.give_back(key)
    if HASHER.check_needs_rehash(account["password_hash"]):
        await store_hash(account, await hash_password(password))
    return account


async def open_session(
    kind: str,
    tenant_id: int,
    subject_id: int,
    *,
    employee_id: int = 0,
    ip: str = "",
    user_agent: str = "",
    replaces: str | None = None,
) -> str:
    """A new session of the person; returns the cookie's token (only its hash is stored).
    ``replaces``: the browser's session token before login, which ends, so a token planted
    before login is worthless."""
    settings = get_settings()
    token = new_token()
    now = utcnow()
    async with atomic():
        if replaces and len(replaces) <= MAX_TOKEN_LENGTH:
            await Session.delete().where((Session.token_hash == token_hash(replaces)) & (Session.kind == kind))
        await Session.insert(
            Session(
                token_hash=token_hash(token),
                tenant_id=tenant_id,
                kind=kind,
                subject_id=subject_id,
                employee_id=employee_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=settings.session_max_hours),
                ip=ip[:64],
                user_agent=user_agent[:200],
            )
        )
    return token


def session_over(row: dict, now: datetime) -> bool:
    """Whether a session ran out: its absolute limit or its idle time."""
    last_seen = _aware(row["last_seen_at"])
    idle_limit = last_seen + timedelta(minutes=get_settings().session_idle_minutes)
    return _aware(row["expires_at"]) <= now or idle_limit <= now


async def touch_session(session_id: int, last_seen: Any, now: datetime) -> None:
    """Note the session's use, at most once a minute: an idle timer needs no write per request."""
    if (now - _aware(last_seen)).total_seconds() > 60:
        await Session.update({Session.last_seen_at: now}).where(Session.id == session_id)


async def live_session(kind: str, token: str | None) -> dict | None:
    """The running session of ``kind`` behind a cookie token (touched), or None; a session
    that ran out is deleted. The caller still checks that its person may log in."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if is_sqlite():
        row = await Session.select().where((Session.token_hash == token_hash(token)) & (Session.kind == kind)).first()
    else:
        # A function that sets its own scope (as the employees' lookup, authenticate): the
        # connection stays set to the tenant of its requests.
        rows = await raw_self_scoped("SELECT * FROM gallra_session_row({}, {})", kind, token_hash(token))
        row = rows[0] if rows else None
    if row is None:
        return None
    now = utcnow()
    if session_over(row, now):
        await Session.delete().where(Session.id == row["id"])
        return None
    await touch_session(int(row["id"]), row["last_seen_at"], now)
    return row


async def drop_session(session_id: int) -> None:
    await Session.delete().where(Session.id == session_id)


async def end_session(kind: str, token: str | None) -> int | None:
    """End the session behind the token; returns its tenant (for the system log)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    rows = await Session.delete().where(
        (Session.token_hash == token_hash(token)) & (Session.kind == kind)
    ).returning(Session.tenant_id)
    return int(rows[0]["tenant_id"]) if rows else None


async def end_sessions_of(kind: str, tenant_id: int, subject_ids: Sequence[int]) -> None:
    """End every session of these people of ``kind``."""
    if subject_ids:
        await Session.delete().where(
            (Session.tenant_id == tenant_id) & (Session.kind == kind) & Session.subject_id.is_in(list(subject_ids))
        )


async def issue_link(
    kind: str,
    tenant_id: int,
    subject_id: int,
    purpose: str,
    ttl: timedelta,
    *,
    employee_id: int = 0,
) -> str:
    """A single-use link token for the person (``purpose``: "reset" or "invite"); returns
    the token, which only the e-mail holds. An older unused link of the same purpose stops
    working: one live link per person and purpose. (Callers hold the person's row, so two
    requests handled at once cannot both keep theirs.)"""
    token = new_token()
    now = utcnow()
    await drop_links(kind, tenant_id, [subject_id], purpose, unused_only=True)
    await PasswordResetToken.insert(
        PasswordResetToken(
            token_hash=token_hash(token),
            tenant_id=tenant_id,
            kind=kind,
            subject_id=subject_id,
            purpose=purpose,
            employee_id=employee_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


async def find_link(kind: str, token: str | None, purpose: str, tenant_id: int | None = None) -> dict | None:
    """The live (unused, unexpired) link of ``kind`` and ``purpose`` behind the token, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    where = (
        (PasswordResetToken.token_hash == token_hash(token))
        & (PasswordResetToken.kind == kind)
        & (PasswordResetToken.purpose == purpose)
    )
    if tenant_id is not None:
        where = where & (PasswordResetToken.tenant_id == tenant_id)
    row = await PasswordResetToken.select().where(where).first()
    if row is None or row["used_at"] is not None or row["expires_at"] <= utcnow():
        return None
    return row


async def link_by_id(tenant_id: int, link_id: int) -> dict | None:
    """A link by its id, if it is still live (a pending step that waited for its SMS code)."""
    row = await PasswordResetToken.select().where(
        (PasswordResetToken.tenant_id == tenant_id) & (PasswordResetToken.id == link_id)
    ).first()
    if row is None or row["used_at"] is not None or row["expires_at"] <= utcnow():
        return None
    return row


async def claim_link(link_id: int) -> bool:
    """Mark the link used, in the statement that checks it was not: single use under races."""
    claimed = await PasswordResetToken.update({PasswordResetToken.used_at: utcnow()}).where(
        (PasswordResetToken.id == link_id) & PasswordResetToken.used_at.is_null()
    ).returning(PasswordResetToken.id)
    return bool(claimed)


async def drop_links(
    kind: str,
    tenant_id: int,
    subject_ids: Sequence[int],
    purpose: str | None = None,
    *,
    unused_only: bool = False,
) -> None:
    """Delete the people's links (of one purpose, or only the unused ones)."""
    if not subject_ids:
        return
    where = (
        (PasswordResetToken.tenant_id == tenant_id)
        & (PasswordResetToken.kind == kind)
        & PasswordResetToken.subject_id.is_in(list(subject_ids))
    )
    if purpose is not None:
        where = where & (PasswordResetToken.purpose == purpose)
    if unused_only:
        where = where & PasswordResetToken.used_at.is_null()
    await PasswordResetToken.delete().where(where)


async def link_expires_at(kind: str, tenant_id: int, subject_id: int, purpose: str) -> datetime | None:
    """When the person's live link of ``purpose`` stops working (None: there is none)."""
    row = (
        await PasswordResetToken.select(PasswordResetToken.expires_at)
        .where(
            (PasswordResetToken.tenant_id == tenant_id)
            & (PasswordResetToken.kind == kind)
            & (PasswordResetToken.subject_id == subject_id)
            & (PasswordResetToken.purpose == purpose)
            & PasswordResetToken.used_at.is_null()
            & (PasswordResetToken.expires_at > utcnow())
        )
        .order_by(PasswordResetToken.expires_at, ascending=False)
        .first()
    )
    return row["expires_at"] if row else None


async def purge_logins(kind: str | None = None, now: datetime | None = None) -> int:
    """Delete ended sessions and used or expired links (of one kind, or of all); returns how
    many rows went."""
    now = now or utcnow()
    idle_cut = now - timedelta(minutes=get_settings().session_idle_minutes)
    sessions: Any = (Session.expires_at <= now) | (Session.last_seen_at <= idle_cut)
    links: Any = (PasswordResetToken.expires_at <= now) | PasswordResetToken.used_at.is_not_null()
    if kind is not None:
        sessions = (Session.kind == kind) & sessions
        links = (PasswordResetToken.kind == kind) & links
    async with atomic():
        gone = len(await Session.delete().where(sessions).returning(Session.id))
        gone += len(await PasswordResetToken.delete().where(links).returning(PasswordResetToken.id))
    return gone


@dataclass
class SessionUser:
    session_id: int
    tenant_id: int
    tenant_slug: str
    employee_id: int
    name: str
    email: str
    role: str
    language: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions


async def find_tenant(slug: str) -> dict | None:
    return await Tenant.select().where(Tenant.slug == slug.strip().lower()).first()


def login_key(tenant_slug: str, email: str, kind: str = EMPLOYEE) -> str:
    """The login throttle's key (:mod:`core.throttle`) of a kind of person: the same for
    existing and unknown accounts, and apart from every other kind's key of the same
    address (scope ``<kind>_login``)."""
    return throttle.key_for(f"{kind}_login", tenant_slug, email)


THROTTLED = _("Too many failed logins for this account. Wait 15 minutes or reset the password.")
WRONG_LOGIN = _("Wrong organization, e-mail or password.")


async def log_failed_login(tenant_slug: str, email: str, error: AuthError) -> None:
    """Note a refused employee login in the system log (M24: kept 90 days, never the
    address or the password). When the organization and e-mail name an employee, the row
    names that employee, so their subject-access export shows it and their erasure deletes
    it; the answer to the client is the same either way."""
    tenant = await find_tenant(tenant_slug)
    tenant_id = int(tenant["id"]) if tenant else 0
    employee_id = None
    if tenant is not None:
        row = (
            await Employee.select(Employee.id)
            .where((Employee.tenant_id == tenant_id) & (Employee.email == email.strip().lower()))
            .first()
        )
        employee_id = int(row["id"]) if row else None
    await log_system(
        tenant_id,
        "login_failed",
        error.status,
        "throttled" if error.status == 429 else "wrong organization, e-mail or password",
        employee_id=employee_id,
    )


async def check_credentials(tenant_slug: str, email: str, password: str) -> dict:
    """The employee for these credentials, or AuthError (throttled, counted, uniform).

    An attempt is reserved atomically before the password is checked (:mod:`core.throttle`),
    so parallel guesses get no more than ``login_max_failures`` checks between them; a
    right password gives its attempt back, a wrong one keeps it counted."""

    async def find() -> dict | None:
        # One statement: the tenant, its employee of that address, the tenant's module
        # choices (the login's hooks ask for them next).
        join = "group_concat({}, ',')" if is_sqlite() else "string_agg({}, ',')"
        rows = await raw(
            _CREDENTIALS_SQL.format(aggregate_modules=join.format(_MODULE_ITEM)),
            email.strip().lower(), tenant_slug.strip().lower(),
        )
        if not rows:
            return None
        row = dict(rows[0])
        tenant_id = int(row.pop("found_tenant"))
        bind_tenant(tenant_id)
        get_host().remember_enabled_modules(tenant_id, _module_choices(row.pop("gallra_modules")))
        return row if row["id"] is not None else None

    async def store_hash(employee: dict, new_hash: str) -> None:
        await Employee.update({Employee.password_hash: new_hash}).where(Employee.id == employee["id"])

    return await check_login(login_key(tenant_slug, email), password, find, store_hash)


async def create_session(tenant_id: int, employee_id: int, ip: str, user_agent: str) -> str:
    return await open_session(
        EMPLOYEE, tenant_id, employee_id, employee_id=employee_id, ip=ip, user_agent=user_agent
    )


async def ask_login_second_factor(
    tenant_id: int, employee_id: int, device_token: str | None, user_agent: str
) -> SecondFactorDecision | None:
    """Whether the employee's login (password already checked) needs a second factor: the
    ``challenge_second_factor`` hook's answer for context ``employee_login`` (None: no
    plugin asks one). A "required" answer has already started its challenge."""
    hooks = await get_host().for_tenant(tenant_id)
    return await await_me_maybe(
        hooks.challenge_second_factor(
            request=SecondFactorRequest(
                tenant_id=tenant_id,
                person_kind="employee",
                person_id=employee_id,
                context="employee_login",
                device_token=device_token,
                user_agent=user_agent,
            )
        )
    )


async def sign_in(tenant_id: int, employee_id: int, ip: str, user_agent: str, replaces: str | None) -> str:
    """The end of a successful employee login (credentials and second factor done): the
    browser's session before login (``replaces``, its cookie token) ends, so a token planted
    before login is worthless; a new session opens and the system log notes the login.
    Returns the new session's cookie token."""
    await logout(replaces)
    token = await create_session(tenant_id, employee_id, ip, user_agent)
    await log_system(tenant_id, "login", 200, "", employee_id=employee_id)
    return token


_SESSION_SQL = """
SELECT s.id AS session_id, s.tenant_id AS tenant_id, s.employee_id AS employee_id,
       s.expires_at AS expires_at, s.last_seen_at AS last_seen_at,
       e.id AS found_employee, e.name AS name, e.email AS email, e.role AS role,
       e.language AS employee_language, e.deleted_at AS deleted_at,
       t.id AS found_tenant, t.slug AS tenant_slug, t.language AS tenant_language,
       (SELECT {aggregate} FROM group_member m
          JOIN employee_group g ON g.id = m.group_id AND g.tenant_id = m.tenant_id
         WHERE m.tenant_id = s.tenant_id AND m.employee_id = s.employee_id) AS permissions,
       (SELECT {aggregate_modules} FROM tenant_module tm
         WHERE tm.tenant_id = s.tenant_id) AS modules
  FROM session s
  LEFT JOIN employee e ON e.id = s.employee_id AND e.tenant_id = s.tenant_id
  LEFT JOIN tenant t ON t.id = s.tenant_id
 WHERE s.token_hash = {{}} AND s.kind = 'employee'
"""


_CREDENTIALS_SQL = """
SELECT t.id AS found_tenant,
       (SELECT {aggregate_modules} FROM tenant_module tm
         WHERE tm.tenant_id = t.id) AS gallra_modules,
       e.*
  FROM tenant t
  LEFT JOIN employee e
    ON e.tenant_id = t.id AND e.email = {{}} AND e.deleted_at IS NULL
 WHERE t.slug = {{}}
"""


def _session_sql() -> str:
    join = "group_concat({}, ',')" if is_sqlite() else "string_agg({}, ',')"
    return _SESSION_SQL.format(
        aggregate=join.format("g.permissions"), aggregate_modules=join.format(_MODULE_ITEM)
    )


# "module=1,other=0" (a module's name is its plugin's: letters, digits, _ and -)
_MODULE_ITEM = "tm.module || '=' || (CASE WHEN tm.enabled THEN '1' ELSE '0' END)"


def _module_choices(text: str | None) -> dict[str, bool]:
    choice: dict[str, bool] = {}
    for item in (text or "").split(","):
        name, _, on = item.rpartition("=")
        if name:
            choice[name] = on == "1"
    return choice


async def authenticate(token: str | None) -> SessionUser | None:
    """The session behind a cookie token, or None if it is unknown, idle or expired.

    One statement reads the session, its employee, the tenant and the employee's groups'
    permissions (before: five queries per request)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if is_sqlite():
        rows = await raw(_session_sql(), token_hash(token))
    else:
        # The same statement, in a function that sets its own scope (migration
        # core_2026_12_07t10_00): the connection stays set to the tenant of its requests.
        rows = await raw_self_scoped("SELECT * FROM gallra_employee_session({})", token_hash(token))
    if not rows:
        return None
    row = rows[0]
    tenant_id = int(row["tenant_id"])
    bind_tenant(tenant_id)  # this request now sees only its tenant's rows
    now = utcnow()
    if session_over(row, now) or row["found_employee"] is None or row["deleted_at"] is not None:
        await drop_session(int(row["session_id"]))
        return None
    if row["found_tenant"] is None:
        return None
    await touch_session(int(row["session_id"]), row["last_seen_at"], now)
    permissions = frozenset(p for p in (row["permissions"] or "").split(",") if p)
    # The tenant's module choices came with the session: the module guard, the tenant's
    # hooks and the handler read them from the request's cache, not with another query.
    get_host().remember_enabled_modules(tenant_id, _module_choices(row["modules"]))
    return SessionUser(
        session_id=int(row["session_id"]),
        tenant_id=tenant_id,
        tenant_slug=row["tenant_slug"],
        employee_id=int(row["employee_id"]),
        name=row["name"],
        email=row["email"],
        role=row["role"],
        language=row["employee_language"] or row["tenant_language"],
        permissions=permissions,
    )


def _aware(value: Any) -> datetime:
    """A timestamp read with raw SQL: SQLite gives it back as text or naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


async def permissions_of(tenant_id: int, employee_id: int) -> frozenset[str]:
    member_of = await GroupMember.select(GroupMember.group_id).where(
        (GroupMember.tenant_id == tenant_id) & (GroupMember.employee_id == employee_id)
    )
    ids = [m["group_id"] for m in member_of]
    if not ids:
        return frozenset()
    groups = await EmployeeGroup.select(EmployeeGroup.permissions).where(
        (EmployeeGroup.tenant_id == tenant_id) & EmployeeGroup.id.is_in(ids)
    )
    perms: set[str] = set()
    for g in groups:
        perms.update(p for p in (g["permissions"] or "").split(",") if p)
    return frozenset(perms)


async def logout(token: str | None) -> None:
    await end_session(EMPLOYEE, token)


async def rotate_session(token: str) -> str | None:
    """Give the session a new id (after a privilege change); the old token stops working."""
    fresh = new_token()
    rows = await Session.update({Session.token_hash: token_hash(fresh)}).where(
        (Session.token_hash == token_hash(token)) & (Session.kind == EMPLOYEE)
    ).returning(Session.id)
    return fresh if rows else None


async def end_sessions(tenant_id: int, employee_id: int) -> None:
    await end_sessions_of(EMPLOYEE, tenant_id, [employee_id])


# --- password reset -----------------------------------------------------------------


RESET_LIMITED = _(
    "Too many password-reset requests from here or for this address. Wait a while and try "
    "again."
)


async def limit_reset_request(scope: str, tenant_slug: str, email: str, ip: str) -> None:
    """Count one password-reset request against the limits (:mod:`core.throttle`), before
    anything is sent: per client address (employees' and the portal's requests together)
    and per account (``scope`` with organization and e-mail, counted alike whether or not
    the account exists, so the answer reveals nothing). AuthError 429 past either."""
    settings = get_settings()
    window = timedelta(minutes=settings.reset_window_minutes)
    by_address = throttle.key_for("reset_address", ip)
    if not await throttle.reserve(by_address, settings.reset_max_per_address, window):
        raise AuthError(RESET_LIMITED, 429)
    by_account = throttle.key_for(scope, tenant_slug, email)
    if not await throttle.reserve(by_account, settings.reset_max_per_account, window):
        raise AuthError(RESET_LIMITED, 429)


async def start_password_reset(tenant_slug: str, email: str) -> str | None:
    """Create a reset token and mail the link, if the account exists; an older unused
    link of the person stops working. Returns the token. (Requests from the web are
    counted first by :func:`limit_reset_request`.)"""
    settings = get_settings()
    tenant = await find_tenant(tenant_slug)
    if tenant is None:
        return None
    employee = (
        await Employee.select(Employee.id, Employee.email)
        .where(
            (Employee.tenant_id == tenant["id"])
            & (Employee.email == email.strip().lower())
            & Employee.deleted_at.is_null()
        )
        .first()
    )
    if employee is None:
        return None
    from core.delivery import queue_message

    employee_id = int(employee["id"])
    async with atomic():
        # One live link per person: a new request replaces the older one (the person's row
        # is held so that two requests handled at once cannot both keep theirs).
        await lock_row("employee", employee_id)
        token = await issue_link(
            EMPLOYEE,
            int(tenant["id"]),
            employee_id,
            "reset",
            timedelta(minutes=settings.reset_token_minutes),
            employee_id=employee_id,
        )
        await queue_message(
            "email",
            employee["email"],
            "Öppna länken för att välja ett nytt lösenord / Open the link to choose a new "
            f"password:\n\n{settings.base_url}/reset?token={token}\n\n"
            f"Länken gäller i {settings.reset_token_minutes} minuter och kan användas en gång.",
            subject="Återställ lösenord / Reset password",
            tenant_id=int(tenant["id"]),
        )
    return token


async def check_reset_token(token: str) -> dict:
    row = await find_link(EMPLOYEE, token, "reset")
    if row is None:
        raise AuthError(
            "This reset link is invalid, used or expired. Ask for a new one.", status=400
        )
    bind_tenant(int(row["tenant_id"]))  # the rest of the request sees only this tenant's rows
    return row


async def complete_password_reset(token: str, new_password: str) -> dict:
    """Set the new password, burn the token, end every session; do not log in (M8)."""
    check_password_rules(new_password)
    row = await check_reset_token(token)
    new_hash = await hash_password(new_password)
    async with atomic():
        # Claim the token in the same statement that checks it: single use under races.
        if not await claim_link(int(row["id"])):
            raise AuthError("This reset link has already been used.", status=400)
        await Employee.update({Employee.password_hash: new_hash}).where(
            (Employee.id == row["employee_id"]) & (Employee.tenant_id == row["tenant_id"])
        )
        await end_sessions(int(row["tenant_id"]), int(row["employee_id"]))
        await drop_links(EMPLOYEE, int(row["tenant_id"]), [int(row["employee_id"])], unused_only=True)
        await fire_password_changed(int(row["tenant_id"]), "employee", int(row["employee_id"]))
    return row


async def fire_password_changed(tenant_id: int, person_kind: str, person_id: int) -> None:
    hooks = await get_host().for_tenant(tenant_id)
    for result in hooks.password_changed(
        tenant_id=tenant_id, person_kind=person_kind, person_id=person_id
    ):
        await await_me_maybe(result)


async def set_password(tenant_id: int, employee_id: int, password: str) -> None:
    check_password_rules(password)
    new_hash = await hash_password(password)
    async with atomic():
        await Employee.update({Employee.password_hash: new_hash}).where(
            (Employee.id == employee_id) & (Employee.tenant_id == tenant_id)
        )
        await end_sessions(tenant_id, employee_id)
        await fire_password_changed(tenant_id, "employee", employee_id)


async def purge_expired() -> int:
    """Forget ended sessions, old reset tokens and throttling rows."""
    settings = get_settings()
    now = utcnow()
    idle_cut = now - timedelta(minutes=settings.session_idle_minutes)
    await Session.delete().where((Session.expires_at < now) | (Session.last_seen_at < idle_cut))
    await PasswordResetToken.delete().where(
        PasswordResetToken.expires_at < now - timedelta(days=1)
    )
    longest = max(settings.login_window_minutes, settings.reset_window_minutes)
    await throttle.purge(max(timedelta(days=1), timedelta(minutes=longest * 2)))
    return 0
