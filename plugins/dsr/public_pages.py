"""The public page of an organization's data-subject requests, "Mina personuppgifter"
(/dsr/ask/<organization>): a person asks, confirms with the link or the code, and gets the
request's number and deadline. No login; built on :mod:`plugins.dsr.public`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Request, Response
from litestar.params import PathParameter, QueryParameter

from core.errors import GallraError
from core.pages import PageController, language_of, page_get, page_post, read_form, render, t_for
from core.pages.forms import error_of
from core.web import client_ip
from plugins.dsr import public
from plugins.dsr.pages import KINDS

PUBLIC = {"public": True}
Slug = Annotated[str, PathParameter(min_length=1, max_length=63)]
Token = Annotated[str | None, QueryParameter(max_length=128)]


async def _page(request: Request[Any, Any, Any], org: public.Organization, step: str,
                context: dict[str, Any] | None = None, status: int = 200) -> Response[Any]:
    return await render(request, "dsr/ask.html", {
        "org": org, "step": step, "kinds": KINDS, "errors": {}, "values": {}, **(context or {}),
    }, status_code=status, user=None)


class AskPages(PageController):
    path = "/dsr/ask"

    @page_get("/{slug:str}", opt=PUBLIC)
    async def form(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        return await _page(request, await public.organization(slug), "ask")

    @page_post("/{slug:str}", opt=PUBLIC)
    async def ask(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        org = await public.organization(slug)
        form = await read_form(request)
        values = {k: form.get(k, "")[:limit] for k, limit in
                  (("kind", 16), ("email", 254), ("phone", 32), ("details", public.MAX_DETAILS))}
        try:
            asked = await public.ask(org, values["kind"], values["email"], values["phone"], values["details"],
                                     language_of(request, None), client_ip(request))
        except GallraError as exc:
            return await _page(request, org, "ask", {"errors": error_of(exc, t_for(request, None)),
                                                     "values": values}, exc.status)
        if asked.channel == "email":
            return await _page(request, org, "sent")
        return await _page(request, org, "code", {"ticket": asked.ticket})

    @page_post("/{slug:str}/code", opt=PUBLIC)
    async def code(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        org = await public.organization(slug)
        form = await read_form(request)
        ticket = form.get("ticket", "")[:128]
        try:
            row = await public.confirm(org, ticket, form.get("code", "")[:12])
        except GallraError as exc:
            return await _page(request, org, "code", {"ticket": ticket, "errors": error_of(exc, t_for(request, None))},
                               exc.status)
        return await _page(request, org, "done", {"r": row})

    @page_get("/{slug:str}/confirm", opt=PUBLIC)
    async def confirm_form(self, request: Request[Any, Any, Any], slug: Slug, token: Token = None) -> Response[Any]:
        org = await public.organization(slug)
        try:
            await public.peek(org, token or "")
        except GallraError as exc:
            return await _page(request, org, "gone", {"message": exc.text(t_for(request, None))}, exc.status)
        return await _page(request, org, "confirm", {"ticket": token})

    @page_post("/{slug:str}/confirm", opt=PUBLIC)
    async def confirm(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        org = await public.organization(slug)
        form = await read_form(request)
        try:
            row = await public.confirm(org, form.get("ticket", "")[:128])
        except GallraError as exc:
            return await _page(request, org, "gone", {"message": exc.text(t_for(request, None))}, exc.status)
        return await _page(request, org, "done", {"r": row})

    # -- the answer: downloads after a new code ----------------------------------------------

    @page_get("/{slug:str}/answer", opt=PUBLIC)
    async def answer(self, request: Request[Any, Any, Any], slug: Slug, token: Token = None) -> Response[Any]:
        org = await public.organization(slug)
        try:
            await public.peek(org, token or "", "download")
        except GallraError as exc:
            return await _page(request, org, "gone", {"message": exc.text(t_for(request, None))}, exc.status)
        return await _page(request, org, "answer", {"ticket": token})

    @page_post("/{slug:str}/answer/send", opt=PUBLIC)
    async def answer_send(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        org = await public.organization(slug)
        form = await read_form(request)
        ticket = form.get("ticket", "")[:128]
        try:
            channel = await public.send_download_code(org, ticket, client_ip(request))
        except GallraError as exc:
            return await _page(request, org, "gone", {"message": exc.text(t_for(request, None))}, exc.status)
        return await _page(request, org, "answer_code", {"ticket": ticket, "channel": channel})

    @page_post("/{slug:str}/answer/code", opt=PUBLIC)
    async def answer_code(self, request: Request[Any, Any, Any], slug: Slug) -> Response[Any]:
        org = await public.organization(slug)
        form = await read_form(request)
        ticket = form.get("ticket", "")[:128]
        try:
            row = await public.confirm_download(org, ticket, form.get("code", "")[:12])
        except GallraError as exc:
            return await _page(request, org, "answer_code",
                               {"ticket": ticket, "errors": error_of(exc, t_for(request, None))}, exc.status)
        return await _page(request, org, "answer_ready", {"ticket": ticket, "kind": row["kind"]})

    async def _export(self, request: Request[Any, Any, Any], slug: str, token: str | None,
                      as_json: bool) -> Response[Any]:
        org = await public.organization(slug)
        try:
            req, export = await public.download(org, token or "")
        except GallraError as exc:
            return await _page(request, org, "gone", {"message": exc.text(t_for(request, None))}, exc.status)
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        if as_json:
            name = f"personuppgifter-{org.slug}-{req['number']}.json"
            return Response(export["document"] or "{}", media_type=MediaType.JSON,
                            headers={**headers, "Content-Disposition": f'attachment; filename="{name}"'})
        return Response(export["html"] or "", media_type=MediaType.HTML,
                        headers={**headers, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    @page_get("/{slug:str}/answer/export.html", opt=PUBLIC)
    async def export_html(self, request: Request[Any, Any, Any], slug: Slug, token: Token = None) -> Response[Any]:
        return await self._export(request, slug, token, False)

    @page_get("/{slug:str}/answer/export.json", opt=PUBLIC)
    async def export_json(self, request: Request[Any, Any, Any], slug: Slug, token: Token = None) -> Response[Any]:
        return await self._export(request, slug, token, True)
