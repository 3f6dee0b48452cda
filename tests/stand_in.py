"""A test plugin standing in for the owner of a kind of person, for a few people.

One plugin owns each kind (``declare_kinds``; two owners stop Gallra at start-up), so a
test plugin cannot simply declare "customer" beside the customers plugin. Tests that make up
a few customers or contact persons (with phones the real register does not have) put their
``PersonKind`` in front of the real owner for the test instead: it answers first, and the
real owner answers the people it does not know (``None``), exactly as a plugin registered
last answered the old ``describe_person`` hook first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from core.contracts import PersonContact, PersonKind
from core.plugins import get_host


def _first_of(front: PersonKind, owner: PersonKind | None) -> PersonKind:
    if owner is None:
        return front

    async def describe(tenant_id: int, person_id: int) -> PersonContact | None:
        found = await front.describe(tenant_id, person_id)
        if found is not None:
            return found
        return await owner.describe(tenant_id, person_id)

    return PersonKind(front.kind, describe=describe)


@contextmanager
def standing_in(plugin_name: str, *kinds: PersonKind) -> Iterator[None]:
    """Put ``kinds`` in front of their owners while the ``with`` block runs, as part of the
    (registered) test plugin ``plugin_name``: a tenant that turned it off does not hear them."""
    host = get_host()
    original = host.kinds
    nested = "kinds" in vars(host)

    def kinds_in_front(of: type, disabled: Iterable[str] = ()) -> dict[str, Any]:
        disabled = set(disabled)
        found = original(of, disabled)
        if plugin_name in disabled:
            return found
        for kind in kinds:
            if isinstance(kind, of):
                found[kind.kind] = _first_of(kind, found.get(kind.kind))
        return found

    host.kinds = kinds_in_front  # type: ignore[method-assign]
    try:
        yield
    finally:
        if nested:
            host.kinds = original  # type: ignore[method-assign]
        else:
            del host.kinds
