"""Settings > GDPR > Search for data, and the data subjects' rights (access and erasure).

Open to administrators and to members of a group holding the "gdpr" permission.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, get, post
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core.auth import SessionUser
from core.db import atomic
from core.eventlog import log_event
from core.gdpr import search as search_index
from core.gdpr import subjects
from core.listing import Limit
from core.security import keyed_hash
from core.web import AuthUser, client_ip

SearchOffset = Annotated[
    int,
    QueryParameter(ge=0, le=10_000, description="How many hits of each group to skip (0 to 10000)."),
]
"""Shallower than other lists' offset: a search is refined, not paged ten thousand deep."""


Short = Annotated[str, msgspec.Meta(max_length=254)]
Ids = Annotated[list[Short], msgspec.Meta(max_length=subjects.MAX_IDENTIFIERS)]


class SubjectIn(msgspec.Struct, forbid_unknown_fields=True):
    """The person: any of their e-mail addresses, phone numbers, personal identity numbers
    and customer numbers (written any accepted way)."""

    emails: Ids = []
    phones: Ids = []
    national_ids: Ids = []
    customer_numbers: Annotated[
        list[Annotated[int, msgspec.Meta(le=2_147_483_647)]], msgspec.Meta(max_length=subjects.MAX_IDENTIFIERS)
    ] = []

    def identifiers(self) -> subjects.Identifiers:
        return subjects.Identifiers.parse(self.emails, self.phones, self.national_ids, self.customer_numbers)


class EraseIn(SubjectIn, forbid_unknown_fields=True):
    dry_run: bool = True


class ExportOut(msgspec.Struct):
    id: int
    status: str
    records: int
    created_at: str
    expires_at: str
    status_url: str
    html_url: str
    document: dict[str, Any] | None = None


class PlannedOut(msgspec.Struct):
    plugin: str
    rule: str | None
    table: str
    record_type: str
    place: str
    record_id: int
    status: str
    action: str
    reason: str


class AuditOut(msgspec.Struct):
    run_id: int
    outcome: str
    summary: str


class EraseOut(msgspec.Struct):
    dry_run: bool
    records: list[PlannedOut]
    per_plugin: dict[str, dict[str, int]]
    vetoed: list[PlannedOut]
    anonymized: int | None = None
    remaining: list[PlannedOut] | None = None
    audit: AuditOut | None = None


def export_out(row: dict[str, Any], with_document: bool = False) -> ExportOut:
    import json

    base = f"/api/gdpr/subjects/exports/{row['id']}"
    return ExportOut(
        id=int(row["id"]),
        status=row["status"],
        records=int(row["records"]),
        created_at=row["created_at"].isoformat(),
        expires_at=row["expires_at"].isoformat(),
        status_url=base,
        html_url=f"{base}/html",
        document=json.loads(row["document"]) if with_document and row["status"] == "done" else None,
    )


class HitOut(msgspec.Struct):
    record_id: int
    number: int | str | None
    field: str
    category: str
    status: str
    value: str
    link: str | None


class GroupOut(msgspec.Struct):
    area: str
    module: str
    record_type: str
    place: str
    total: int
    hits: list[HitOut]
    capped: bool = False
    """``total`` is a floor, not a count: more than this many records match (shown "10 000+")."""


class SearchOut(msgspec.Struct):
    """The API's one pagination shape (core.listing), applied per group: ``offset`` and
    ``limit`` window each group's hits (a group's ``total`` counts all of them), and
    ``total`` counts every hit of every group. The groups themselves are few (one per
    place a value is stored) and always all listed, so they are ``groups``, not ``items``.

    A group matching more than 10,000 records has ``total`` 10,000 and ``capped`` true (the
    page shows "10 000+"); ``total_capped`` says the answer's ``total`` is such a floor too.

    ``truncated``: what is linked to the records found was not followed for all of them:
    more than 20 people of a kind found (their linked records), or more than 1,000 records
    of a type (the activity on them). A name or a fragment of one finds that many; an
    e-mail address, phone or personal identity number finds one person's everything."""

    query_kind: str
    total: int
    offset: int
    limit: int
    truncated: bool
    groups: list[GroupOut]
    total_capped: bool = False


def require_gdpr(user: SessionUser) -> SessionUser:
    if not user.can("gdpr"):
        raise PermissionDeniedException(
            "Only an administrator or a member of a group with the GDPR permission may do this."
        )
    return user


async def audit_lookup(user: SessionUser, action: str, text: str, ip: str) -> None:
    """The event log gets who searched and when, and a keyed hash of what: enough to answer
    "was this person looked up?", never the value itself."""
    await log_event(user.tenant_id, user, action, plugin="core", ip=ip, detail=keyed_hash(text.strip().casefold()))


class SearchController(Controller):
    path = "/api/gdpr"
    tags = ("gdpr",)

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        user: AuthUser,
        q: Annotated[str, QueryParameter(min_length=1, max_length=search_index.MAX_QUERY)],
        offset: SearchOffset = 0,
        limit: Limit = 20,
    ) -> SearchOut:
        """Every place this organization stores a value matching ``q``: e-mail (whole or part),
        phone number (any way written), personal identity or organization number (any accepted
        form), or words of a name, address or text by prefix. Grouped by area, module, record
        type and place; each group has its total and the hits from ``offset`` to
        ``offset + limit``."""
        require_gdpr(user)
        if offset % limit == 0:  # the usual walk (offset += limit): exactly one page
            page, page_size = offset // limit + 1, limit
        else:  # any other window: the first offset + limit hits, cut below
            page, page_size = 1, offset + limit
        # One transaction and connection for the lookup and its audit row: no answer
        # without the row that says it was given, and the tenant is set once.
        async with atomic():
            result = await search_index.search(
                user.tenant_id, q, viewer=user, page=page, page_size=page_size,
                language=user.language or "sv",
            )
            await audit_lookup(user, "gdpr.search", q, client_ip(request))
        result = dict(result)
        result.pop("page", None)
        result.pop("page_size", None)
        if page == 1 and offset:
            result["groups"] = [{**g, "hits": g["hits"][offset:]} for g in result["groups"]]
        result["offset"], result["limit"] = offset, limit
        return msgspec.convert(result, SearchOut)



    @post("/subjects/export", status_code=HTTP_200_OK)
    async def export(
        self, request: Request[Any, Any, Any], user: AuthUser, data: JSONBody[SubjectIn]
    ) -> Response[ExportOut]:
        """Access: every record and field holding the person's data, from every plugin, as
        JSON and as a readable page. Small exports answer 201 at once; large ones 202 and run
        in the background (poll ``status_url``). Exports are deleted after 7 days."""
        require_gdpr(user)
        ids = data.identifiers()
        async with atomic():
            row = await subjects.create_export(user.tenant_id, user.employee_id, ids, language=user.language or "sv")
            await log_event(user.tenant_id, user, "gdpr.subject_export", plugin="core",
                            record_id=int(row["id"]), ip=client_ip(request))
        code = HTTP_201_CREATED if row["status"] == "done" else HTTP_202_ACCEPTED
        return Response(export_out(row, with_document=True), status_code=code)

    @get("/subjects/exports/{export_id:int}")
    async def export_status(self, user: AuthUser, export_id: FromPath[int]) -> ExportOut:
        """An export's status, with its document once done."""
        require_gdpr(user)
        row = await subjects.export_row(user.tenant_id, export_id)
        if row is None:
            raise NotFoundException("No such export (exports are deleted after 7 days).")
        return export_out(row, with_document=True)

    @get("/subjects/exports/{export_id:int}/html", media_type=MediaType.HTML)
    async def export_page(self, user: AuthUser, export_id: FromPath[int]) -> Response[str]:
        """The export as a readable page."""
        require_gdpr(user)
        row = await subjects.export_row(user.tenant_id, export_id)
        if row is None:
            raise NotFoundException("No such export (exports are deleted after 7 days).")
        if row["status"] != "done":
            raise ClientException(f"The export is not ready yet (status: {row['status']}).", status_code=409)
        return Response(row["html"], media_type=MediaType.HTML,
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    @post("/subjects/erase", status_code=HTTP_200_OK)
    async def erase(self, request: Request[Any, Any, Any], user: AuthUser, data: JSONBody[EraseIn]) -> EraseOut:
        """Erasure: with ``dry_run`` (the default) what would be anonymized, per plugin and
        record, and what a plugin keeps and why; with ``dry_run: false`` it is done, the
        identifiers are searched again and the audit row says what remains, if anything."""
        require_gdpr(user)
        ids = data.identifiers()
        result = await subjects.erase(user.tenant_id, ids, dry_run=data.dry_run, language=user.language or "sv")
        await log_event(user.tenant_id, user, "gdpr.subject_erasure" + ("_preview" if data.dry_run else ""),
                        plugin="core", ip=client_ip(request))
        return msgspec.convert(result, EraseOut)


__all__ = ["SearchController", "audit_lookup", "require_gdpr"]
