"""The API's answer to a step that waits for an SMS code (two-factor signing).

Signing the GDPR inventory, approving an extra cost or a quote, reading a vault entry: the
first call answers ``202 Accepted`` with the challenge (``second_factor``) and stores nothing;
after the code was verified the client calls again with ``challenge_id``. Every such route
answers the same way, so the shape is built here once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request, Response
from litestar.status_codes import HTTP_202_ACCEPTED

from core.contracts import SecondFactorDecision
from core.problems import translations_of
from core.routes.schemas import SecondFactorOut

T = TypeVar("T")


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
