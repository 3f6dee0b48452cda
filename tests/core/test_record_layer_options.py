"""The record layer's options a module uses to keep its own contract: the prefix of a
record's refusal codes (``RecordService(codes=...)``) and guards on every route of a
record (``record_router(guards=...)``, :func:`core.web.permission_guard`)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.exceptions import PermissionDeniedException

from core.auth import SessionUser
from core.contracts import RecordSpec
from core.records import RecordService
from core.routes.records import record_router
from core.tables import Employee
from core.web import permission_guard

SPEC = RecordSpec(name="thing", table=Employee, label_sv="Sak", label_en="Thing", path="/things")


class ThingIn(msgspec.Struct):
    name: str


def test_codes_default_to_the_spec_name_and_take_a_prefix():
    assert RecordService(SPEC, "things").code("not_found") == "thing.not_found"
    kept = RecordService(SPEC, "things", codes="things.thing")
    assert kept.code("deleted") == "things.thing.deleted"
    assert kept.spec.name == "thing"  # the record type (event log, activity) is unchanged


def _user(role: str = "user", permissions: frozenset[str] = frozenset()) -> SessionUser:
    return SessionUser(1, 1, "t", 2, "N", "n@example.se", role, "sv", permissions)


class _Connection:
    def __init__(self, user: SessionUser | None):
        self.scope: dict[str, Any] = {"state": {"gallra_user": user}}


@pytest.mark.parametrize(
    "user, allowed",
    [
        (_user(), False),
        (_user(permissions=frozenset({"gdpr"})), True),
        (_user(role="admin"), True),
        (None, True),  # no session: the handler's own login check answers
    ],
)
async def test_permission_guard(user, allowed):
    guard = permission_guard("gdpr", "Only for GDPR.")
    if allowed:
        await guard(_Connection(user), None)  # type: ignore[arg-type]
    else:
        with pytest.raises(PermissionDeniedException):
            await guard(_Connection(user), None)  # type: ignore[arg-type]


def test_record_router_guards_every_route():
    service = RecordService(SPEC, "things")

    async def made(tenant_id: int, employee_id: int, data: Any) -> dict[str, Any]:
        return {}

    guard = permission_guard("gdpr", "Only for GDPR.")
    router = record_router(service, ThingIn, ThingIn, ThingIn, module=__name__, create_record=made,
                           edit_record=made, guards=[guard])
    assert router.guards == [guard]
    assert record_router(service, ThingIn, ThingIn, ThingIn, module=__name__, create_record=made,
                         edit_record=made).guards == []


async def test_record_pages_read_checkbox_groups_as_lists(monkeypatch):
    """``RecordPages.multi_fields``: a group of checkboxes arrives as the list of its
    non-empty values (also when none is checked), every other field as its last value."""
    from core.pages import records as record_pages

    async def posted(request: Any) -> dict[str, list[str]]:
        return {"modules": ["cases", "", "orders"], "name": ["first", "last"]}

    monkeypatch.setattr(record_pages, "read_form_lists", posted)

    class Pages(record_pages.RecordPages):
        multi_fields = ("modules", "tags")

    form = await Pages._read_form(object.__new__(Pages), None)  # type: ignore[arg-type]
    assert form == {"modules": ["cases", "orders"], "name": "last", "tags": []}
