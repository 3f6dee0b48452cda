"""/api/dsr: the tenant's queue of data-subject requests, for the GDPR
administrators (the "gdpr" permission; administrators have it).

The record layer's routes (list with search, filters, sort and paging; record; get; edit;
delete), and the request's own steps: ``/extend`` (one or two further months, with the
reason told to the person), ``/answer`` and ``/refuse`` (with the reason and the right to
complain to IMY). ``/api/dsr/settings``: the retention of the requests kept as proof.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from core.errors import Forbidden
from core.errors import mark as _
from core.gdpr.search_routes import EraseOut
from core.routes.records import record_router
from core.routes.schemas import Id
from core.web import AuthUser
from plugins.dsr import services
from plugins.dsr.records import PERMISSION
from plugins.dsr.schemas import AnswerIn, ExtendIn, RefuseIn, RequestIn, RequestOut, RequestPatch

GDPR_ONLY = _("Only an administrator or a member of a group with the GDPR permission may do this.")


def gdpr_user(user: Any) -> Any:
    if not user.can(PERMISSION):
        raise Forbidden(GDPR_ONLY, code="dsr.gdpr_only")
    return user


async def _create(user: Any, data: RequestIn) -> dict[str, Any]:
    gdpr_user(user)
    return await services.create_request(user.tenant_id, user.employee_id, data)


def _scope(user: Any, kwargs: dict[str, Any]) -> None:
    gdpr_user(user)
    return None


async def _opened(user: Any, record_id: int) -> None:
    gdpr_user(user)
    await services.RECORDS.get(user.tenant_id, record_id)


class RequestSteps(Controller):
    path = "/api/dsr"
    tags = ("dsr",)

    @post("/{request_id:int}/extend", status_code=HTTP_200_OK)
    async def extend(self, user: AuthUser, request_id: Id, data: JSONBody[ExtendIn]) -> RequestOut:
        """Extend the deadline by one or two further months (two in all at most, decided
        within the first month); the person is told the new deadline and the reason."""
        await _opened(user, request_id)
        return services.out(await services.extend(user.tenant_id, request_id, data.months, data.reason))

    @post("/{request_id:int}/answer", status_code=HTTP_200_OK)
    async def answer(self, user: AuthUser, request_id: Id, data: JSONBody[AnswerIn]) -> RequestOut:
        """Answer a verified request (what was done); the person is told by e-mail."""
        await _opened(user, request_id)
        return services.out(await services.answer(user.tenant_id, request_id, data.text, user.employee_id))

    @get("/{request_id:int}/erasure")
    async def erasure_preview(self, user: AuthUser, request_id: Id) -> EraseOut:
        """An erasure request: what erasing the person would anonymize, and what would be
        kept and why (nothing changes)."""
        await _opened(user, request_id)
        result = await services.erasure_preview(user.tenant_id, request_id, user.language or "sv")
        return msgspec.convert(result, EraseOut)

    @post("/{request_id:int}/erase", status_code=HTTP_200_OK)
    async def erase(self, user: AuthUser, request_id: Id) -> RequestOut:
        """Erase the person of a verified erasure request with the existing erasure (it
        searches again and audits what remains) and answer the request with what was
        erased and what is kept and why; the person is told by e-mail."""
        await _opened(user, request_id)
        row, _result = await services.erase_and_answer(user.tenant_id, request_id)
        return services.out(row)

    @post("/{request_id:int}/refuse", status_code=HTTP_200_OK)
    async def refuse(self, user: AuthUser, request_id: Id, data: JSONBody[RefuseIn]) -> RequestOut:
        """Refuse the request with a reason; the person is told it and that they may
        complain to IMY."""
        await _opened(user, request_id)
        return services.out(await services.refuse(user.tenant_id, request_id, data.reason))


def route_handlers() -> list[Any]:
    return [
        record_router(services.RECORDS, RequestIn, RequestPatch, RequestOut, create=_create,
                      module=__name__, tag="dsr", output=services.out, scope=_scope),
        RequestSteps,
    ]
