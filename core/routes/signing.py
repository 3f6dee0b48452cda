"""The API's answer to a step that waits for an SMS code (two-factor signing).

Signing the GDPR inventory, approving an extra cost or a quote, reading a vault entry: the
first call answers ``202 Accepted`` with the challenge (``second_factor``) and stores nothing;
after the code was verified the client calls again with ``challenge_id``. Every such route
answers the same way, so the shape is built here once.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, cast

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from core.approvals import MAX_LINK_TOKEN
from core.contracts import SecondFactorDecision
from core.problems import translations_of
from core.records.shapes import Email
from core.routes.schemas import ChallengeId, SecondFactorOut
from core.web import PUBLIC

T = TypeVar("T")

LinkToken = Annotated[str, PathParameter(min_length=1, max_length=MAX_LINK_TOKEN)]
"""The token of a link e-mailed to a customer (``/{token:str}``): the link is the key."""

class LinkSignIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who approves or accepts through an e-mailed link (a quote, a payment plan)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Email
    # Given when re-submitting after the SMS code was entered for this challenge.
    challenge_id: ChallengeId | None = None


class LinkSendIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where a link is e-mailed (a quote, a payment plan) and the message that goes with it."""

    email: Email
    message: Annotated[str, msgspec.Meta(max_length=2000)] = ""


LinkStep = Callable[[str, str, str, str | None, str], Awaitable[tuple[str, Any]]]
"""A service signing by link: ``(token, name, email, challenge_id, user_agent)`` answering
``("second_factor_required", decision)`` or ``(done, value)``."""


def second_factor_out(decision: SecondFactorDecision, t: Any = None) -> SecondFactorOut:
    """The challenge a person must answer, as the API shows it (never the code); the
    message ("A code was sent to …") in the language of ``t`` (the request's
    ``Accept-Language``, :func:`core.problems.translations_of`), English without."""
    return SecondFactorOut(
        challenge_id=decision.challenge_id,
        masked_phone=decision.masked_phone,
        message=decision.message_text(t),
    )


def second_factor_required(
    out: type[T], decision: SecondFactorDecision | None, request: Request[Any, Any, Any] | None = None, **fields: Any
) -> Response[T]:
    """``202`` with ``out(status="second_factor_required", second_factor=..., **fields)``:
    the step is not done until the SMS code of ``decision``'s challenge is verified. With
    the ``request``, the message is in the language it asks for."""
    if decision is None:  # the service answers either the result or the challenge
        raise ValueError("a step without its result must answer the challenge it waits for")
    t = translations_of(request) if request is not None else None
    body = out(status="second_factor_required", second_factor=second_factor_out(decision, t), **fields)  # type: ignore[call-arg]
    return Response(body, status_code=HTTP_202_ACCEPTED)


async def sign_by_link(
    request: Request[Any, Any, Any],
    step: LinkStep,
    token: str,
    data: LinkSignIn,
    out: type[T],
    done: Callable[[Any], T],
) -> Response[T]:
    """Run ``step`` for the signer ``data`` of the link ``token``: ``202`` with the challenge
    while it waits for an SMS code (:func:`second_factor_required`), else ``done(value)``."""
    outcome, value = await step(token, data.name, data.email, data.challenge_id, request.headers.get("user-agent", ""))
    if outcome == "second_factor_required":
        return second_factor_required(out, value, request=request)
    return Response(done(value))


def link_signed_out(name: str, done: str, at: str, module: str) -> Any:
    """The answer of signing through a link, as a struct named ``name``: ``status`` is
    ``done`` with the time ``at``, or ``second_factor_required`` with the challenge
    (``second_factor``). (Typed ``Any``: a class made at run time.)"""
    status = cast(Any, Literal)[done, "second_factor_required"]
    return msgspec.defstruct(
        name, [("status", status), (at, datetime | None, None), ("second_factor", SecondFactorOut | None, None)],
        module=module,
    )


def link_sign_routes(
    path: str,
    verb: str,
    step: LinkStep,
    show: Callable[[Request[Any, Any, Any], str], Awaitable[Any]],
    shown: type[Any],
    signed: type[Any],
    done: Callable[[Any], Any],
    *,
    what: str,
    tags: Sequence[str],
    module: str,
) -> list[Any]:
    """The customer's side of a link (a quote, a payment plan), without login, the token
    being the key: ``GET <path>/{token}`` answers ``show(request, token)`` (a ``shown``),
    ``POST <path>/{token}/<verb>`` signs through ``step`` and answers ``done(signed_at)``, a
    ``signed`` (:func:`link_signed_out`; 202 with the challenge while it waits for an SMS
    code). ``module`` is the plugin's routes module the handlers are credited to."""
    kw = inspect.Parameter.KEYWORD_ONLY
    request_param = inspect.Parameter("request", kw, annotation=Request[Any, Any, Any])
    token_param = inspect.Parameter("token", kw, annotation=LinkToken)
    body = inspect.Parameter("data", kw, annotation=cast(Any, JSONBody)[LinkSignIn])

    async def show_link(request: Any, token: str) -> Any:
        return await show(request, token)

    async def sign(request: Any, token: str, data: LinkSignIn) -> Any:
        return await sign_by_link(request, step, token, data, signed, done)

    handlers = []
    fn: Any
    for fn, name, ps, ret, doc in (
        (show_link, "show", [request_param, token_param], shown,
         f"The {what} behind a customer's link, without login (the token is the key)."),
        (sign, verb, [request_param, token_param, body], cast(Any, Response)[signed],
         f"{verb.capitalize()} the {what}. With SMS signing on, the first answer is 202 with a challenge; "
         "enter the code, then send the same request again with its challenge_id."),
    ):
        fn.__signature__ = inspect.Signature(ps, return_annotation=ret)
        fn.__annotations__ = {p.name: p.annotation for p in ps} | {"return": ret}
        fn.__doc__, fn.__module__, fn.__qualname__, fn.__name__ = doc, module, name, name
        route = get("/{token:str}", opt=PUBLIC, tags=list(tags)) if fn is show_link else post(
            f"/{{token:str}}/{verb}", status_code=HTTP_200_OK, opt=PUBLIC, tags=list(tags))
        handlers.append(route(fn))
    return [Router(path=path, route_handlers=handlers)]
