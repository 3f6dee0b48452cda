"""Asking for a second factor from any module, without knowing which plugin answers.

A module guarding a step (approve extra costs, accept a quote, reset a password) calls
:func:`ask_second_factor` twice: first without ``challenge_id`` (the answer says a code was
sent, with the challenge id and the masked phone), then, after the person entered the code
at ``POST /api/twofactor/challenges/{id}/verify``, with the ``challenge_id``: the answer is
"not required" plus who signed and when, or an ``error`` to show. ``None`` means no
plugin wants a second factor for this step (none installed, or the context is off).

A decision's ``message`` and ``error`` are message ids with a ``code`` and ``params``, never
finished text: the step raises ``decision.refusal()`` (problem details with the code and
params in the API, the page's language on a page) or shows ``decision.message_text(t)``.
"""

from __future__ import annotations

from core.contracts import (
    AppSetup,
    OwnFactors,
    PasskeyInfo,
    PasskeyRegistration,
    PersonContact,
    PersonKind,
    PersonStanding,
    RecoveryCodes,
    SecondFactor,
    SecondFactorDecision,
    SecondFactorRequest,
)
from core.plugins import await_me_maybe, get_host


async def ask_second_factor(request: SecondFactorRequest) -> SecondFactorDecision | None:
    """The decision of the plugin answering ``challenge_second_factor`` for this tenant."""
    hooks = await get_host().for_tenant(request.tenant_id)
    decision = await await_me_maybe(hooks.challenge_second_factor(request=request))
    return decision


async def second_factor_ready(tenant_id: int, context: str) -> bool:
    """Whether a code would be asked for in this context now; False with no plugin.

    Every provider's answer is awaited (none is left un-awaited), and one ``True`` is
    enough."""
    hooks = await get_host().for_tenant(tenant_id)
    ready = False
    for answer in hooks.second_factor_ready(tenant_id=tenant_id, context=context):
        ready = bool(await await_me_maybe(answer)) or ready
    return ready


async def second_factors_of(tenant_id: int, person_kind: str, person_id: int) -> list[str]:
    """The second factors the person can use now, from every plugin answering
    ``second_factors_of`` (each answer awaited), sorted and without repeats; ``[]`` with
    no plugin."""
    hooks = await get_host().for_tenant(tenant_id)
    found: set[str] = set()
    for answer in hooks.second_factors_of(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id):
        names = await await_me_maybe(answer)
        found.update(str(n) for n in names or ())
    return sorted(found)


async def second_factor(tenant_id: int, name: str) -> SecondFactor | None:
    """The declaration of the second factor ``name`` (:class:`SecondFactor` in
    ``declare_kinds``) by the one plugin that owns it, when the tenant has that module
    enabled; ``None`` otherwise (an unknown factor)."""
    hooks = await get_host().for_tenant(tenant_id)
    return hooks.kinds(SecondFactor).get(name)


async def strong_second_factors(tenant_id: int) -> set[str]:
    """The names of the declared second factors of this tenant's modules that say they are
    ``strong``; a factor that does not say so is not (fail closed)."""
    hooks = await get_host().for_tenant(tenant_id)
    return {name for name, decl in hooks.kinds(SecondFactor).items() if decl.strong is True}


async def recovery_codes(tenant_id: int, person_kind: str, person_id: int, renew: bool = False) -> RecoveryCodes | None:
    """The person's recovery codes from the plugin keeping them (``recovery_codes``), a
    new set with ``renew``; ``None`` when no plugin keeps codes for this kind of person."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.recovery_codes(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id, renew=renew)
    )
    return answer


# --- a person's own factors, set up on their own pages (the customer portal's) ------------
# Each returns ``None`` when no plugin keeps that factor for this kind of person: the
# caller says the factor is not available, never pretends it was done. A refusal (wrong
# code, forged answer, another person's passkey) is the plugin's coded error, raised.


async def own_second_factors(tenant_id: int, person_kind: str, person_id: int) -> OwnFactors | None:
    """The person's app and passkeys for a devices page (``own_second_factors``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.own_second_factors(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)
    )
    return answer


async def start_authenticator_app(tenant_id: int, person_kind: str, person_id: int) -> AppSetup | None:
    """A new pending authenticator app for the person (``start_authenticator_app``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.start_authenticator_app(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)
    )
    return answer


async def confirm_authenticator_app(tenant_id: int, person_kind: str, person_id: int, code: str) -> bool | None:
    """Activate the pending app with a current code (``confirm_authenticator_app``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.confirm_authenticator_app(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id, code=code)
    )
    return answer


async def remove_authenticator_app(tenant_id: int, person_kind: str, person_id: int) -> bool | None:
    """Remove the person's app (``remove_authenticator_app``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.remove_authenticator_app(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)
    )
    return answer


async def start_passkey_registration(tenant_id: int, person_kind: str, person_id: int) -> PasskeyRegistration | None:
    """Options and a single-use challenge to add a passkey (``start_passkey_registration``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.start_passkey_registration(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)
    )
    return answer


async def finish_passkey_registration(
    tenant_id: int, person_kind: str, person_id: int, challenge_id: str, credential: str, name: str
) -> PasskeyInfo | None:
    """Store the passkey from the browser's answer (``finish_passkey_registration``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.finish_passkey_registration(
            tenant_id=tenant_id, person_kind=person_kind, person_id=person_id,
            challenge_id=challenge_id, credential=credential, name=name,
        )
    )
    return answer


async def remove_passkey(tenant_id: int, person_kind: str, person_id: int, passkey_id: int) -> bool | None:
    """Remove one of the person's passkeys (``remove_passkey``)."""
    hooks = await get_host().for_tenant(tenant_id)
    answer = await await_me_maybe(
        hooks.remove_passkey(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id, passkey_id=passkey_id)
    )
    return answer


async def remove_second_factors(tenant_id: int, person_kind: str, person_id: int) -> int:
    """Remove every second factor of the person from every plugin keeping one
    (``remove_second_factors``, each answer awaited); how many things went."""
    hooks = await get_host().for_tenant(tenant_id)
    removed = 0
    for answer in hooks.remove_second_factors(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id):
        removed += int(await await_me_maybe(answer) or 0)
    return removed


async def describe_person(tenant_id: int, person_kind: str, person_id: int) -> PersonContact | None:
    """Name and phones of a person, from the plugin that declared that kind of person
    (``PersonKind`` in ``declare_kinds``); ``None`` when no enabled plugin owns the kind or
    the person is not the tenant's."""
    hooks = await get_host().for_tenant(tenant_id)
    owner = hooks.kinds(PersonKind).get(person_kind)
    if owner is None:
        return None
    answer = await await_me_maybe(owner.describe(tenant_id, person_id))
    return answer


async def person_standing(tenant_id: int, person_kind: str, person_id: int) -> PersonStanding | None:
    """Whether a person may hold an own login (the customer portal), from the plugin that
    declared that kind of person (``PersonKind.standing``); ``None`` when no enabled plugin
    owns the kind, the kind has no such accounts, or the person is not the tenant's."""
    hooks = await get_host().for_tenant(tenant_id)
    owner = hooks.kinds(PersonKind).get(person_kind)
    if owner is None or owner.standing is None:
        return None
    answer = await await_me_maybe(owner.standing(tenant_id, person_id))
    return answer
