"""core.records.shapes.out_of: a response shape filled from a row or an object."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest

from core.records.shapes import out_of


class ThingOut(msgspec.Struct):
    id: int
    title: str
    total: int
    note: str = "-"


@dataclass
class Thing:
    id: int
    title: str
    secret: str

    @property
    def total(self) -> int:
        return 7


def test_from_a_row_the_given_fields_win_and_extra_columns_are_left_out():
    row = {"id": 1, "title": "Altan", "total": 3, "token_hash": "x"}
    assert out_of(ThingOut, row, total=5) == ThingOut(id=1, title="Altan", total=5)


def test_from_an_object_attributes_and_properties_are_read():
    assert out_of(ThingOut, Thing(2, "Tak", "s"), note="n") == ThingOut(id=2, title="Tak", total=7, note="n")


def test_a_missing_required_field_is_refused():
    with pytest.raises(TypeError):
        out_of(ThingOut, {"id": 1, "title": "Altan"})
