"""The common API routes of a record, generated from its spec and service (core.records).

``record_router(service, RecordIn, RecordPatch, RecordOut, create=..., edit=...)`` gives

* ``GET    /api/<path>/``               list: ``offset``, ``limit``, ``q``, ``sort``,
  ``updated_since``, ``include_deleted`` and the spec's filters;
* ``POST   /api/<path>/``               create (201);
* ``GET    /api/<path>/{id}``           one record;
* ``PATCH  /api/<path>/{id}``           edit;
* ``POST   /api/<path>/{id}/close``     and ``/reopen``, for records with states;
* ``DELETE /api/<path>/{id}``           soft delete (200 with the record).

``create(user, data)`` and ``edit(user, record_id, data)`` are the plugin's own: they
validate the plugin's fields and call the service. A plugin whose service functions take
``(tenant_id, employee_id, data)`` and ``(tenant_id, record_id, data)`` (as the record pages'
``create_record``/``edit_record`` do) names them instead: ``create_record=``, ``edit_record=``.
A plugin adds routes of its own beside the router (lines of an order, a PDF ...). Access is
checked by the spec's ``can_open`` (404 for a record one may not open, 403 for one one may
read but not change), the same rule activity and person search ask.

Optional, for records whose list is more than the spec's filters (time reports: a period,
and an employee sees only their own): ``list_params`` adds query parameters to the list,
``scope(user, params)`` turns them into a condition of the plugin's own (it may refuse),
``access(user, row, write)`` refuses with the plugin's own reason before ``can_open`` is
asked, and ``limit`` is the list's default page size. ``guards``: Litestar guards of every
route of the record (a permission the whole module needs, :func:`core.web.permission_guard`:
403 before anything is read, the list and create included, where ``can_open`` judges rows).

This module has no ``from __future__ import annotations``: the handlers are closures
whose annotations must be real types when Litestar reads them.
"""

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, cast

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.errors import READ_ONLY, RECORD_NOT_FOUND, Forbidden, NotFound
from core.listing import Limit, Offset, UpdatedSince, page_of
from core.plugins import await_me_maybe
from core.records.service import RecordService
from core.records.shapes import out_of
from core.routes.schemas import Id
from core.web import AuthUser

Q = Annotated[str | None, QueryParameter(required=False, max_length=200,
                                         description="A part of the title, or the number.")]
Sort = Annotated[str | None, QueryParameter(required=False, max_length=40,
                                            description="A column to sort by; -column descends.")]
IncludeDeleted = Annotated[bool, QueryParameter(description="Also deleted records.")]
RefFilter = Annotated[int | None, QueryParameter(required=False, ge=0, le=2_147_483_647)]
TextFilter = Annotated[str | None, QueryParameter(required=False, max_length=32)]


def converter(out: type[msgspec.Struct]) -> Callable[[dict[str, Any]], Any]:
    return lambda row: out_of(out, row)


async def check_open(service: RecordService, user: Any, row: dict[str, Any], write: bool) -> None:
    """The spec's ``can_open``: a record one may not open does not exist for them."""
    rule = service.spec.can_open
    if rule is None or not await await_me_maybe(rule(user, row, False)):
        raise NotFound(RECORD_NOT_FOUND, code=service.code("not_found"), what=service.what,
                       id=row["id"])
    if write and not await await_me_maybe(rule(user, row, True)):
        raise Forbidden(READ_ONLY, code=service.code("read_only"))


def _filter_param(service: RecordService, column: str) -> Any:
    return RefFilter if column.endswith("_id") or column == "number" else TextFilter


def record_router(
    service: RecordService,
    schema_in: type[msgspec.Struct],
    schema_patch: type[msgspec.Struct],
    schema_out: type[msgspec.Struct],
    *,
    create: Callable[[Any, Any], Awaitable[dict[str, Any]]] | None = None,
    edit: Callable[[Any, int, Any], Awaitable[dict[str, Any]]] | None = None,
    module: str,
    create_record: Callable[[int, int, Any], Awaitable[dict[str, Any]]] | None = None,
    edit_record: Callable[[int, int, Any], Awaitable[dict[str, Any]]] | None = None,
    tag: str | None = None,
    output: Callable[[dict[str, Any]], Any] | None = None,
    list_params: Sequence[tuple[str, Any]] = (),
    scope: Callable[[Any, dict[str, Any]], Any] | None = None,
    access: Callable[[Any, dict[str, Any], bool], Any] | None = None,
    limit: int = 50,
    summary: type[msgspec.Struct] | None = None,
    guards: Sequence[Any] = (),
) -> Router:
    """The common routes of ``service``'s record; ``module`` is the plugin module they are
    credited to (its routes module), so route ownership (the isolation matrix, guards)
    sees the plugin's routes, not core's.

    ``output(row)`` builds the answer from a record's row; it may be a coroutine function
    (an order's lines, a project's parts are read beside the row). By default the row's
    columns fill ``schema_out``. ``summary``: the list's items are this shape, filled from
    the row's columns (an order in a list, without its lines), instead of ``output``'s."""
    spec = service.spec
    name = spec.name
    label = spec.label_en.lower()
    build = output or converter(schema_out)
    create_record = create_record or service.create_record
    edit_record = edit_record or service.edit_record
    if create is None and create_record is not None:
        made = create_record

        def create(user: Any, data: Any) -> Awaitable[dict[str, Any]]:
            return made(user.tenant_id, user.employee_id, data)

    if edit is None and edit_record is not None:
        changed = edit_record

        def edit(user: Any, record_id: int, data: Any) -> Awaitable[dict[str, Any]]:
            return changed(user.tenant_id, record_id, data)

    if create is None or edit is None:
        raise TypeError(f"record_router({name}): give create (or create_record) and edit (or edit_record), "
                        "or mark the service's functions @service.creates / @service.edits")
    do_create, do_edit = create, edit

    async def out(row: dict[str, Any]) -> Any:
        return await await_me_maybe(build(row))

    async def opened(user: Any, record_id: int, write: bool) -> dict[str, Any]:
        row = await service.get(user.tenant_id, record_id)
        if access is not None:
            await await_me_maybe(access(user, row, write))
        await check_open(service, user, row, write)
        return row

    page_cls = (page_of(summary, schema_out.__name__.removesuffix("Out") + "Page") if summary is not None
                else page_of(schema_out))
    list_item = converter(summary) if summary is not None else None
    opid = f"{service.plugin}_{name}"
    tags = [tag or service.plugin]

    # -- the list, with the spec's filters as declared query parameters ---------------------
    async def list_records(user: Any, **kwargs: Any) -> Any:
        filters = {c: kwargs.get(c) for c in spec.filters}
        where = await await_me_maybe(scope(user, kwargs)) if scope is not None else None
        total, rows = await service.list(
            user.tenant_id, kwargs["offset"], kwargs["limit"], q=kwargs.get("q"), filters=filters,
            sort=kwargs.get("sort"), updated_since=kwargs.get("updated_since"),
            include_deleted=kwargs.get("include_deleted", False), where=where,
        )
        items = []
        for row in rows:
            if spec.can_open is None or await await_me_maybe(spec.can_open(user, row, False)):
                items.append(list_item(row) if list_item is not None else await out(row))
        return page_cls(total=total, offset=kwargs["offset"], limit=kwargs["limit"], items=items)

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("user", kw, annotation=AuthUser),
        inspect.Parameter("offset", kw, annotation=Offset, default=0),
        inspect.Parameter("limit", kw, annotation=Limit, default=limit),
        inspect.Parameter("q", kw, annotation=Q, default=None),
        inspect.Parameter("sort", kw, annotation=Sort, default=None),
    ]
    if service.has("updated_at"):  # synchronizing needs the time of the last change
        params.append(inspect.Parameter("updated_since", kw, annotation=UpdatedSince, default=None))
    if spec.soft_delete:
        params.append(inspect.Parameter("include_deleted", kw, annotation=IncludeDeleted, default=False))
    params += [inspect.Parameter(c, kw, annotation=_filter_param(service, c), default=None)
               for c in spec.filters]
    params += [inspect.Parameter(n, kw, annotation=a, default=None) for n, a in list_params]
    list_records.__signature__ = inspect.Signature(params, return_annotation=page_cls)  # type: ignore[attr-defined]
    list_records.__annotations__ = {p.name: p.annotation for p in params} | {"return": page_cls}
    list_records.__doc__ = (
        f"The organization's {spec.plural_en.lower() or label}: a page, filtered, sorted."
    )
    list_records.__module__ = module
    list_records.__qualname__ = list_records.__name__ = f"{name}_list"
    handlers: list[Any] = [get("/", operation_id=f"{opid}_list", tags=tags)(list_records)]

    id_name = f"{name}_id"
    # a record's id is a positive database integer: 0 or beyond it is a 400, not a lookup
    id_param = inspect.Parameter(id_name, kw, annotation=Id)
    user_param = params[0]

    def make(fn: Any, extra: list[inspect.Parameter], ret: Any, doc: str, called: str = "") -> Any:
        ps = [user_param, *extra]
        fn.__name__ = called or fn.__name__
        fn.__signature__ = inspect.Signature(ps, return_annotation=ret)
        fn.__annotations__ = {p.name: p.annotation for p in ps} | {"return": ret}
        fn.__doc__ = doc
        fn.__module__ = module
        fn.__qualname__ = fn.__name__ = f"{name}_{fn.__name__}"
        return fn

    async def create_handler(user: Any, data: Any) -> Any:
        return await out(await do_create(user, data))

    body_in = inspect.Parameter("data", kw, annotation=cast(Any, JSONBody)[schema_in])
    body_patch = inspect.Parameter("data", kw, annotation=cast(Any, JSONBody)[schema_patch])
    handlers.append(post("/", status_code=HTTP_201_CREATED, operation_id=f"{opid}_create", tags=tags)(
        make(create_handler, [body_in], schema_out, f"Create a {label}.", "create_record")))

    async def get_record(user: Any, **kwargs: Any) -> Any:
        return await out(await opened(user, kwargs[id_name], False))

    handlers.append(get(f"/{{{id_name}:int}}", operation_id=f"{opid}_get", tags=tags)(
        make(get_record, [id_param], schema_out, f"One {label}.")))

    async def edit_handler(user: Any, data: Any, **kwargs: Any) -> Any:
        record_id = kwargs[id_name]
        await opened(user, record_id, True)
        return await out(await do_edit(user, record_id, data))

    handlers.append(patch(f"/{{{id_name}:int}}", operation_id=f"{opid}_edit", tags=tags)(
        make(edit_handler, [id_param, body_patch], schema_out,
             f"Change a {label}; fields left out stay as they are.", "edit_record")))

    def state_change(action: str, doc: str) -> Any:
        async def change(user: Any, **kwargs: Any) -> Any:
            record_id = kwargs[id_name]
            await opened(user, record_id, True)
            return await out(await getattr(service, action)(user.tenant_id, record_id))

        change.__name__ = action
        return make(change, [id_param], schema_out, doc)

    if spec.status_column:
        verb = spec.close_verb[0]
        handlers.append(post(f"/{{{id_name}:int}}/{verb}", status_code=HTTP_200_OK,
                             operation_id=f"{opid}_{verb}", tags=tags)(
            state_change("close", f"{verb.capitalize()} a {label}; this starts its retention clock.")))
    if spec.status_column and spec.reopenable:
        handlers.append(post(f"/{{{id_name}:int}}/reopen", status_code=HTTP_200_OK,
                             operation_id=f"{opid}_reopen", tags=tags)(
            state_change("reopen", f"Open a closed {label} again; this stops its retention clock.")))
    if spec.soft_delete:
        handlers.append(delete(f"/{{{id_name}:int}}", status_code=HTTP_200_OK,
                               operation_id=f"{opid}_delete", tags=tags)(
            state_change("delete", f"Delete a {label}: it stays readable until its retention "
                                   "rule anonymizes it.")))

    return Router(path=f"/api{spec.path}", route_handlers=handlers, guards=list(guards))
