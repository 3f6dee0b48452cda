"""The API's answer to a step that waits for an SMS code (two-factor signing).

Signing the GDPR inventory, approving an extra cost or a quote, reading a vault entry: the
first call answers ``202 Accepted`` with the challenge (``second_factor``) and stores nothing;
after the code was verified the client calls again with ``challenge_id``. Every such route
answers the same way, so the shape is built here once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Response
from litestar.status_codes import HTTP_202_ACCEPTED

from core.contracts import SecondFactorDecision
from core.routes.schemas import SecondFactorOut

T = TypeVar("T")


def second_factor_out(decision: SecondFactorDecision) -> SecondFactorOut:
    """The challenge a person must answer, as the API shows it (never the code)."""
    return SecondFactorOut(
        challenge_id=decision.challenge_id,
        masked_phone=decision.masked_phone,
        message=decision.message_text(),  # English: the API's clients read the code
    )


def second_factor_required(out: type[T], decision: SecondFactorDecision | None, **fields: Any) -> Response[T]:
    """``202`` with ``out(status="second_factor_required", second_factor=..., **fields)``:
    the step is not done until the SMS code of ``decision``'s challenge is verified."""
    if decision is None:  # the service answers either the result or the challenge
        raise ValueError("a step without its result must answer the challenge it waits for")
    body = out(status="second_factor_required", second_factor=second_factor_out(decision), **fields)  # type: ignore[call-arg]
    return Response(body, status_code=HTTP_202_ACCEPTED)
