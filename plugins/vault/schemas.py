"""Request and response shapes of the vault API (the public contract).

Responses for forms and entries never hold an encrypted field's value or ciphertext:
only ``has_value``. Decrypted values appear in :class:`RevealOut` alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.routes.schemas import ChallengeId, SecondFactorOut

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Purpose = Literal["customer", "internal"]
FieldKind = Literal["text", "password", "url", "note"]
Level = Literal["plain", "encrypted"]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
Value = Annotated[str, msgspec.Meta(max_length=10_000)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
IdList = Annotated[list[Id], msgspec.Meta(max_length=500)]


class FieldIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    type: FieldKind = "text"
    # Not given: a saved field keeps its setting; a new field is encrypted when its type is
    # password or its name says it holds a secret ("Lösenord", "PIN"). A password field is
    # always encrypted. A saved plain field given true has its stored values encrypted in
    # the same transaction; an encrypted field never goes back to plain text.
    encrypted: bool | None = None
    # Position in the form; fields without one keep the order they are given in.
    order: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    # Set to keep (and rename/reorder) an existing field when editing a form.
    id: Id | None = None


class AccessListIn(msgspec.Struct, forbid_unknown_fields=True):
    users: IdList = []
    groups: IdList = []


class AccessIn(msgspec.Struct, forbid_unknown_fields=True):
    plain: AccessListIn = msgspec.field(default_factory=AccessListIn)
    encrypted: AccessListIn = msgspec.field(default_factory=AccessListIn)


class FormIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    purpose: Purpose
    fields: Annotated[list[FieldIn], msgspec.Meta(min_length=1, max_length=100)]
    auto_delete_days: Days | None = None
    require_two_factor: bool = False
    access: AccessIn | None = None


class FormPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the given members change. ``fields`` replaces the field list: an item with an
    id keeps that field; an existing field left out is removed with its stored values."""

    name: Name | None = None
    auto_delete_days: Days | msgspec.UnsetType | None = msgspec.UNSET
    require_two_factor: bool | None = None
    fields: Annotated[list[FieldIn], msgspec.Meta(min_length=1, max_length=100)] | None = None


class FieldOut(msgspec.Struct):
    id: int
    name: str
    type: str
    encrypted: bool
    order: int


class AccessListOut(msgspec.Struct):
    users: list[int]
    groups: list[int]


class AccessOut(msgspec.Struct):
    plain: AccessListOut
    encrypted: AccessListOut


class MyAccessOut(msgspec.Struct):
    plain: bool
    encrypted: bool


class FormOut(msgspec.Struct):
    id: int
    name: str
    purpose: str
    auto_delete_days: int | None
    require_two_factor: bool
    fields: list[FieldOut]
    my_access: MyAccessOut
    # Shown to those who manage forms only.
    access: AccessOut | None = None
    entry_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # For a form that requires two-factor: whether a code can be asked for now (SMS active
    # and "Secure data – decryption" on). While false, its entries cannot be revealed.
    two_factor_ready: bool | None = None
    # When the user is not on the form's plain list (so may not add entries): the names of
    # those who manage forms and can put them on it.
    grant_by: list[str] | None = None


class ValueIn(msgspec.Struct, forbid_unknown_fields=True):
    field_id: Id
    # null clears the field
    value: Value | None


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    form_id: Id
    values: Annotated[list[ValueIn], msgspec.Meta(max_length=100)] = []
    customer_id: Id | None = None


class EntryPatch(msgspec.Struct, forbid_unknown_fields=True):
    values: Annotated[list[ValueIn], msgspec.Meta(max_length=100)] | None = None
    customer_id: Id | None = None


class EntryFieldOut(msgspec.Struct):
    field_id: int
    name: str
    type: str
    encrypted: bool
    has_value: bool
    # The value of a plain field; always null for an encrypted one (use reveal).
    value: str | None


class EntryOut(msgspec.Struct):
    id: int
    form_id: int
    form_name: str
    purpose: str
    customer_id: int | None
    fields: list[EntryFieldOut]
    created_at: datetime
    updated_at: datetime
    can_edit: bool
    can_reveal: bool


class EntryGroupOut(msgspec.Struct):
    """Entries of one form for one customer (or the form's internal entries)."""

    purpose: str
    form_id: int
    form_name: str
    customer_id: int | None
    entries: list[EntryOut]


class EntryPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    groups: list[EntryGroupOut]


class RevealIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password
    challenge_id: ChallengeId | None = None
    # Reveal only these encrypted fields (default: all of the form's encrypted fields).
    field_ids: IdList | None = None


class RevealedValueOut(msgspec.Struct):
    field_id: int
    name: str
    type: str
    value: str | None


class RevealOut(msgspec.Struct):
    status: Literal["revealed", "second_factor_required"]
    entry_id: int
    values: list[RevealedValueOut] = []
    second_factor: SecondFactorOut | None = None


class AuditOut(msgspec.Struct):
    id: int
    employee_id: int
    entry_id: int
    form_id: int
    action: str
    outcome: str
    field_names: list[str]
    ip: str
    at: datetime


class GrantOut(msgspec.Struct):
    id: int
    form_id: int
    form_name: str
    level: str
    # one of the two is set
    user_id: int | None
    group_id: int | None


class AuditPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[AuditOut]


class DeletedOut(msgspec.Struct):
    id: int
    deleted: bool
    entries_deleted: int = 0
