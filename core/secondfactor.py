"""Asking for a second factor from any module, without knowing which plugin answers.

A module guarding a step (approve extra costs, accept a quote, reset a password) calls
:func:`ask_second_factor` twice: first without ``challenge_id`` (the answer says a code was
sent, with the challenge id and the masked phone), then, after the person entered the code
at ``POST /api/twofactor/challenges/{id}/verify``, with the ``challenge_id``: the answer is
"not required" plus who signed and when, or an ``error`` to show. ``None`` means no
plugin wants a second factor for this step (none installed, or the context is off).
"""

from __future__ import annotations

from typing import Any

from core.contracts import PersonContact, SecondFactorDecision, SecondFactorRequest
from core.plugins import await_me_maybe, get_host


async def first_answer(caller: Any, **kwargs: Any) -> Any:
    """``firstresult`` for hooks whose implementations may answer with a coroutine.

    pluggy stops at the first non-None value, and an un-awaited coroutine is not None even
    when it would resolve to None; this awaits each implementation in call order instead.
    """
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        args = {name: kwargs[name] for name in impl.argnames}
        value = await await_me_maybe(impl.function(**args))
        if value is not None:
            return value
    return None


async def ask_second_factor(request: SecondFactorRequest) -> SecondFactorDecision | None:
    """The decision of the plugin answering ``challenge_second_factor`` for this tenant."""
    hooks = await get_host().for_tenant(request.tenant_id)
    decision = await await_me_maybe(hooks.challenge_second_factor(request=request))
    return decision  # type: ignore[no-any-return]


async def second_factor_ready(tenant_id: int, context: str) -> bool:
    """Whether a code would be asked for in this context now; False with no plugin."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await first_answer(hooks.second_factor_ready, tenant_id=tenant_id, context=context)
    return bool(answer)


async def describe_person(tenant_id: int, person_kind: str, person_id: int) -> PersonContact | None:
    """Name and phones of a person, from the plugin owning that kind of person."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await first_answer(
        hooks.describe_person, tenant_id=tenant_id, person_kind=person_kind, person_id=person_id
    )
    return answer  # type: ignore[no-any-return]
