"""core.listing (#18.9): the sort parameter's parsing and ordering, the aware-time check and
the generated page type."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from litestar.exceptions import ClientException

from core.listing import Page, Sort, changed_since, page_of


def test_sort_parses_keys_directions_and_the_default() -> None:
    sort = Sort("id", "name", "created_at", default="-created_at")
    assert sort.parse(None) == [("created_at", True)]
    assert sort.parse("") == [("created_at", True)]
    assert sort.parse("name,-id") == [("name", False), ("id", True)]
    for bad, says in (("email", "one of: id, name, created_at"), ("name,name", "only once"), ("-", "sort by")):
        with pytest.raises(ClientException) as err:
            sort.parse(bad)
        assert says in err.value.detail.lower() or says in err.value.detail
        assert err.value.extra == {"field": "sort"}
    import re

    pattern = re.compile(sort.pattern)
    assert pattern.match("-name,created_at") and pattern.match("id")
    assert not pattern.match("name;drop") and not pattern.match("+name") and not pattern.match("")


def test_sort_refuses_bad_declarations() -> None:
    with pytest.raises(ValueError):
        Sort("id", default="name")
    with pytest.raises(ValueError):
        Sort("Name")
    with pytest.raises(ValueError):
        Sort()


def test_sort_rows_orders_like_the_database() -> None:
    sort = Sort("id", "name", default="id")
    rows = [{"id": 1, "name": "b"}, {"id": 2, "name": None}, {"id": 3, "name": "A"}, {"id": 4, "name": "b"}]
    assert [r["id"] for r in sort.sort_rows(rows, "name")] == [2, 3, 1, 4]
    assert [r["id"] for r in sort.sort_rows(rows, "-name")] == [4, 1, 3, 2]


def test_updated_since_must_be_aware() -> None:
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    assert changed_since(aware) is aware
    with pytest.raises(ClientException) as err:
        changed_since(datetime(2026, 1, 1))
    assert "updated_since" in err.value.detail


def test_page_of_makes_a_named_page_type() -> None:
    class ThingOut(msgspec.Struct):
        id: int

    ThingPage = page_of(ThingOut)
    assert ThingPage.__name__ == "ThingPage" and issubclass(ThingPage, Page)
    page = ThingPage(total=1, offset=0, limit=10, items=[ThingOut(id=5)])
    assert msgspec.json.decode(msgspec.json.encode(page)) == {
        "total": 1, "offset": 0, "limit": 10, "items": [{"id": 5}]
    }
