"""The vault's API under /api/vault (Säkra uppgifter)."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core.listing import Limit, Offset
from core.problems import problem
from core.web import AuthUser, client_ip
from plugins.vault import services
from plugins.vault.crypto import MasterKeyError, VaultIntegrityError
from plugins.vault.schemas import (
    AccessIn,
    AccessOut,
    AuditOut,
    AuditPage,
    DeletedOut,
    EntryIn,
    EntryOut,
    EntryPage,
    EntryPatch,
    FormIn,
    FormOut,
    FormPatch,
    GrantOut,
    RevealIn,
    RevealOut,
)

log = logging.getLogger(__name__)

AnyRequest = Request[Any, Any, Any]
OptId = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]


def _integrity(request: Request[Any, Any, Any], exc: VaultIntegrityError) -> Response[Any]:
    return problem(request, services.integrity_refusal(exc))


def _master_key(_: Request[Any, Any, Any], exc: MasterKeyError) -> Response[Any]:
    log.error("vault master key problem: %s", exc)
    return Response(
        {
            "status_code": 503,
            "detail": "Secure data is unavailable: the vault's master key is missing or wrong. "
            "An administrator of the installation must restore it.",
        },
        status_code=503,
    )


# The crypto layer's failures as answers (shared by the forms' and the entries' routes).
HANDLERS: dict[Any, Any] = {VaultIntegrityError: _integrity, MasterKeyError: _master_key}
TAGS = ("vault",)


class FormsController(Controller):
    path = "/api/vault/forms"
    tags = TAGS
    exception_handlers = HANDLERS

    @get("/")
    async def list_forms(self, user: AuthUser) -> list[FormOut]:
        """Forms the user is on a list of (every form for those who manage forms)."""
        return await services.list_forms(user)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, request: AnyRequest, user: AuthUser, data: JSONBody[FormIn]) -> FormOut:
        """Create a form with its fields and, optionally, its two access lists."""
        return await services.create_form(user, data, client_ip(request))

    @get("/{form_id:int}")
    async def get_one(self, user: AuthUser, form_id: FromPath[int]) -> FormOut:
        return await services.get_form(user, form_id)

    @patch("/{form_id:int}")
    async def edit(
        self, request: AnyRequest, user: AuthUser, form_id: FromPath[int], data: JSONBody[FormPatch]
    ) -> FormOut:
        """Rename, change auto-delete or two-factor, or replace the field list."""
        return await services.edit_form(user, form_id, data, client_ip(request))

    @put("/{form_id:int}/access")
    async def set_access(
        self, request: AnyRequest, user: AuthUser, form_id: FromPath[int], data: JSONBody[AccessIn]
    ) -> AccessOut:
        """Replace the form's plain and encrypted access lists (users and groups)."""
        return await services.replace_access(user, form_id, data, client_ip(request))

    @delete("/{form_id:int}", status_code=HTTP_200_OK)
    async def remove(
        self,
        request: AnyRequest,
        user: AuthUser,
        form_id: FromPath[int],
        delete_entries: Annotated[bool, QueryParameter()] = False,
    ) -> DeletedOut:
        """Delete a form; a form with entries needs ?delete_entries=true (they are shredded)."""
        n = await services.delete_form(user, form_id, delete_entries, client_ip(request))
        return DeletedOut(id=form_id, deleted=True, entries_deleted=n)


class EntriesController(Controller):
    path = "/api/vault/entries"
    tags = TAGS
    exception_handlers = HANDLERS

    @get("/")
    async def list_entries(
        self,
        user: AuthUser,
        form_id: OptId = None,
        customer_id: OptId = None,
        purpose: Annotated[Literal["customer", "internal"] | None, QueryParameter()] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> EntryPage:
        """Entries the user may see, grouped by form and by customer (or internal)."""
        return await services.list_entries(user, form_id, customer_id, purpose, offset, limit)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[EntryIn]
    ) -> EntryOut:
        return await services.create_entry(user, data, client_ip(request))

    @get("/{entry_id:int}")
    async def get_one(self, user: AuthUser, entry_id: FromPath[int]) -> EntryOut:
        """Plain values; for encrypted fields only whether a value exists."""
        return await services.get_entry(user, entry_id)

    @patch("/{entry_id:int}")
    async def edit(
        self,
        request: AnyRequest,
        user: AuthUser,
        entry_id: FromPath[int],
        data: JSONBody[EntryPatch],
    ) -> EntryOut:
        """Change values (null clears a field) or the customer."""
        return await services.edit_entry(user, entry_id, data, client_ip(request))

    @delete("/{entry_id:int}", status_code=HTTP_200_OK)
    async def remove(
        self, request: AnyRequest, user: AuthUser, entry_id: FromPath[int]
    ) -> DeletedOut:
        """Delete the entry with its data key: its encrypted values cannot be recovered."""
        await services.delete_entry(user, entry_id, client_ip(request))
        return DeletedOut(id=entry_id, deleted=True)

    @post("/{entry_id:int}/reveal", status_code=HTTP_200_OK)
    async def reveal(
        self, request: Request[Any, Any, Any], user: AuthUser, entry_id: FromPath[int], data: JSONBody[RevealIn]
    ) -> Response[RevealOut]:
        """Decrypt the entry's encrypted values with the user's password.

        Only users on the form's encrypted list may try; wrong passwords are throttled like
        logins. When the form requires two-factor the first answer is 202 with an SMS
        challenge; send the request again with its ``challenge_id`` once the code is entered.
        """
        ctx = services.RevealContext(ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))
        out, complete = await services.reveal(user, entry_id, data.password, data.challenge_id, data.field_ids, ctx)
        return Response(
            out,
            status_code=HTTP_200_OK if complete else HTTP_202_ACCEPTED,
            headers={"Cache-Control": "no-store"},
        )


def _audit_out(r: dict[str, Any]) -> AuditOut:
    return AuditOut(
        id=int(r["id"]),
        employee_id=int(r["employee_id"]),
        entry_id=int(r["entry_id"]),
        form_id=int(r["form_id"]),
        action=r["action"],
        outcome=r["outcome"],
        field_names=json.loads(r["field_names"] or "[]"),
        ip=r["ip"],
        at=r["at"],
    )


class AccessController(Controller):
    path = "/api/vault/access"
    tags = TAGS

    @get("/{access_id:int}")
    async def get_one(self, user: AuthUser, access_id: FromPath[int]) -> GrantOut:
        """One place on a form's access list (for managers; person search links here)."""
        r = await services.get_grant(user, access_id)
        return GrantOut(
            id=int(r["id"]),
            form_id=int(r["form_id"]),
            form_name=r["form_name"],
            level=r["level"],
            user_id=int(r["employee_id"]) or None,
            group_id=int(r["group_id"]) or None,
        )


class AuditController(Controller):
    path = "/api/vault/audit"
    tags = TAGS

    @get("/{audit_id:int}")
    async def get_one(self, user: AuthUser, audit_id: FromPath[int]) -> AuditOut:
        return _audit_out(await services.get_audit(user, audit_id))

    @get("/")
    async def list_audit(
        self, user: AuthUser, entry_id: OptId = None, offset: Offset = 0, limit: Limit = 50
    ) -> AuditPage:
        """Reveals and refused attempts, newest first (for those who manage forms)."""
        total, rows = await services.list_audit(user, entry_id, offset, limit)
        items = [_audit_out(r) for r in rows]
        return AuditPage(total=total, offset=offset, limit=limit, items=items)


def route_handlers() -> list[Any]:
    return [
        FormsController,
        EntriesController,
        AccessController,
        AuditController,
    ]
