"""The field shapes the record schemas of plugins share (msgspec constraints of the
public contract): a record's title, number, references, free text and the customer's
contact fields. A plugin's ``schemas.py`` imports these instead of repeating them, so a
limit (a title's 200 characters, an id's 32 bits) is the same in every module."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_ID = 2_147_483_647  # the ids are 32-bit integers on PostgreSQL and SQLite

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Str200 = Annotated[str, msgspec.Meta(max_length=200)]
Address = Annotated[str, msgspec.Meta(max_length=400)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Description = Annotated[str, msgspec.Meta(max_length=20_000)]
Number = Annotated[int, msgspec.Meta(ge=1, le=2_000_000_000)]  # the number people know
RefId = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]  # a reference; 0 for none

__all__ = ["MAX_ID", "Address", "Description", "Email", "Number", "Phone", "RefId", "Str200", "Title"]
