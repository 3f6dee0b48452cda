"""Request and response shapes of the core API (the public contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.params import PathParameter

from core.listing import Page

Str200 = Annotated[str, msgspec.Meta(max_length=200)]
Str254 = Annotated[str, msgspec.Meta(max_length=254)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Role = Literal["admin", "user"]
ChallengeId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""The challenge a repeated call answers, after its SMS code was verified (a request
shape of every module whose step may ask for an SMS code imports it)."""
Id = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
"""A row's id in a route's path: a positive integer the database's INTEGER column can hold
(a larger one is a 400, never an overflow in the query)."""


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug
    email: Str254
    password: Password


class SecondFactorOut(msgspec.Struct):
    challenge_id: str | None
    masked_phone: str | None
    message: str | None


class LoginOut(msgspec.Struct):
    status: Literal["logged_in", "second_factor_required"]
    employee_id: int | None = None
    name: str | None = None
    role: str | None = None
    second_factor: SecondFactorOut | None = None


class MeOut(msgspec.Struct):
    employee_id: int
    tenant: str
    name: str
    email: str
    role: str
    language: str
    permissions: list[str]


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant: Slug
    email: Str254


class ResetCompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=128)]
    password: Password
    # Re-submission after the SMS code of the reset was entered (two-factor, M4 2).
    challenge_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None


class ResetCompleteOut(msgspec.Struct):
    message: str
    status: Literal["changed", "second_factor_required"] = "changed"
    second_factor: SecondFactorOut | None = None


class MessageOut(msgspec.Struct):
    message: str


class TenantIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Str200
    language: Literal["sv", "en"] = "sv"
    modules: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=200)] | None = None


class TenantOut(msgspec.Struct):
    id: int
    slug: str
    name: str
    language: str
    created_at: datetime


class ModuleOut(msgspec.Struct):
    name: str
    label_sv: str
    label_en: str
    enabled: bool


class ModuleIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


class EmployeeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Str254
    role: Role = "user"
    mobile_phone: Phone | None = None
    private_phone: Phone | None = None
    work_phone: Phone | None = None
    notes: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    password: Password | None = None


class EmployeePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    email: Str254 | None = None
    role: Role | None = None
    mobile_phone: Phone | None = None
    private_phone: Phone | None = None
    work_phone: Phone | None = None
    notes: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None


class EmployeeOut(msgspec.Struct):
    id: int
    name: str
    email: str
    role: str
    mobile_phone: str | None
    private_phone: str | None
    work_phone: str | None
    notes: str
    created_at: datetime
    deleted_at: datetime | None


# Caps keep a request's size and its work bounded (issue #10); ids are 32-bit in the tables.
Permissions = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=100)]
EmployeeId = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]


class GroupIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    permissions: Permissions = []


class GroupPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    permissions: Permissions | None = None


class MembersIn(msgspec.Struct, forbid_unknown_fields=True):
    employee_ids: Annotated[list[EmployeeId], msgspec.Meta(max_length=10_000)]


class GroupOut(msgspec.Struct):
    id: int
    name: str
    description: str
    permissions: list[str]
    member_ids: list[int]


class EmployeePage(Page):
    items: list[EmployeeOut]


class GroupPage(Page):
    items: list[GroupOut]


class TenantPage(Page):
    items: list[TenantOut]


class HealthOut(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: bool
    broker: bool
