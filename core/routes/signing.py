"""The API's answer to a step that waits for an SMS code (two-factor signing).

Signing the GDPR inventory, approving an extra cost or a quote, reading a vault entry: the
first call answers ``202 Accepted`` with the challenge (``second_factor``) and stores nothing;
after the code was verified the client calls again with ``challenge_id``. Every such route
answers the same way, so the shape is built here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import PathParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from core.approvals import MAX_LINK_TOKEN
from core.contracts import SecondFactorDecision
from core.problems import translations_of
from core.records.shapes import Email
from core.routes.schemas import SecondFactorOut

T = TypeVar("T")

LinkToken = Annotated[str, PathParameter(min_length=1, max_length=MAX_LINK_TOKEN)]
"""The token of a link e-mailed to a customer (``/{token:str}``): the link is the key."""

ChallengeId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""The challenge a repeated call answers, after its SMS code was verified."""


class LinkSignIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who approves or accepts through an e-mailed link (a quote, a payment plan)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Email
    # Given when re-submitting after the SMS code was entered for this challenge.
    challenge_id: ChallengeId | None = None


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
