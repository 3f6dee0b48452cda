"""The API for integrators (#18.9): a query parameter an operation does not declare is a
400 naming it, on every API route (walked, so a new route is held to it); pages ignore
unknown parameters; lists share one pagination shape, ``sort`` and ``updated_since``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.security import matrix

UNKNOWN = "zz_not_a_parameter"


def _fill(op: matrix.Operation) -> str:
    return op.url({name: (1 if kind is int else "x") for name, kind in op.params})


def _headers(op: matrix.Operation) -> dict[str, str]:
    if op.openapi_path.startswith("/api/platform"):
        return {"authorization": "Bearer " + os.environ["GALLRA_PLATFORM_TOKEN"]}
    return {}


async def test_every_get_api_route_refuses_an_unknown_query_parameter(app: Any, admin_client: Any) -> None:
    ops = [op for op in matrix.operations(app) if op.method == "GET" and op.openapi_path.startswith("/api/")]
    assert len(ops) > 60  # the walk sees the plugins' routes
    wrong = []
    for op in ops:
        params = {**op.query_required, UNKNOWN: "1"}
        r = await admin_client.get(_fill(op), params=params, headers=_headers(op))
        if r.status_code != 400 or UNKNOWN not in r.text:
            wrong.append(f"{op}: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)


async def test_an_unknown_parameter_is_refused_before_login_and_on_writes(anon_client: Any, admin_client: Any) -> None:
    r = await anon_client.post("/api/auth/login?remember=1", json={"tenant": "x", "email": "a@b.se", "password": "p"})
    assert r.status_code == 400 and "remember" in r.json()["detail"]
    r = await admin_client.post("/api/groups/?dry_run=true", json={"name": "G"})
    assert r.status_code == 400, r.text
    assert "dry_run" in r.json()["detail"] and r.json()["extra"]["field"] == "dry_run"
    assert (await admin_client.get("/api/groups/")).json()["total"] == 0  # nothing was made
    # the message names what the operation takes
    r = await admin_client.get("/api/employees/", params={"page": 2})
    assert r.status_code == 400
    assert "'page'" in r.json()["detail"] and "offset" in r.json()["detail"] and "limit" in r.json()["detail"]
    # declared parameters still work, and so does a parameter of a dependency
    assert (await admin_client.get("/api/employees/", params={"offset": 0, "limit": 1})).status_code == 200


async def test_pages_ignore_unknown_parameters(admin_client: Any) -> None:
    """Browsers, bookmarks and trackers add parameters a person cannot remove."""
    r = await admin_client.get("/settings/employees", params={"utm_source": "mail", "fbclid": "x"})
    assert r.status_code == 200, r.text


async def test_sort_and_updated_since_on_core_lists(admin_client: Any, tenant: Any) -> None:
    before = datetime.now(UTC)
    for name in ("Bertil", "Adam", "Cesar"):
        r = await admin_client.post("/api/employees/", json={"name": name, "email": f"{name.lower()}@example.se"})
        assert r.status_code == 201, r.text
    r = await admin_client.get("/api/employees/", params={"sort": "name"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == {"total", "offset", "limit", "items"}
    names = [e["name"] for e in page["items"]]
    assert names == sorted(names) and page["total"] == 4
    desc = [e["name"] for e in (await admin_client.get("/api/employees/", params={"sort": "-name"})).json()["items"]]
    assert desc == names[::-1]
    two = (await admin_client.get("/api/employees/", params={"sort": "name", "offset": 1, "limit": 2})).json()
    assert [e["name"] for e in two["items"]] == names[1:3] and (two["offset"], two["limit"]) == (1, 2)
    # unknown sort keys, repeated keys and bad directions are 400s naming the parameter
    for bad in ("password_hash", "name,name", "+name", "name;drop", "name,-name"):
        r = await admin_client.get("/api/employees/", params={"sort": bad})
        assert r.status_code == 400 and "sort" in r.text, (bad, r.text)
    # updated_since: only what changed; an edit counts; a time without an offset is a 400
    since = (await admin_client.get("/api/employees/", params={"updated_since": before.isoformat()})).json()
    assert {e["name"] for e in since["items"]} == {"Adam", "Bertil", "Cesar"}
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert (await admin_client.get("/api/employees/", params={"updated_since": later.isoformat()})).json()["total"] == 0
    r = await admin_client.get("/api/employees/", params={"updated_since": "2026-01-01T12:00:00"})
    assert r.status_code == 400 and "updated_since" in r.text
    r = await admin_client.get("/api/employees/", params={"updated_since": "yesterday"})
    assert r.status_code == 400
    mark = datetime.now(UTC)
    adam = next(e for e in page["items"] if e["name"] == "Adam")
    assert (await admin_client.patch(f"/api/employees/{adam['id']}", json={"notes": "x"})).status_code == 200
    changed = (await admin_client.get("/api/employees/", params={"updated_since": mark.isoformat()})).json()
    assert [e["id"] for e in changed["items"]] == [adam["id"]]
    # a deletion is a change a sync must see
    mark = datetime.now(UTC)
    assert (await admin_client.delete(f"/api/employees/{adam['id']}")).status_code == 200
    gone = (await admin_client.get("/api/employees/", params={"updated_since": mark.isoformat(),
                                                            "include_deleted": "true"})).json()
    assert [e["id"] for e in gone["items"]] == [adam["id"]] and gone["items"][0]["deleted_at"]

    # groups: a page too, and a member change is a change of the group
    g1 = (await admin_client.post("/api/groups/", json={"name": "Beta"})).json()
    g2 = (await admin_client.post("/api/groups/", json={"name": "Alfa"})).json()
    groups = (await admin_client.get("/api/groups/")).json()
    assert [g["name"] for g in groups["items"]] == ["Alfa", "Beta"] and groups["total"] == 2
    assert [g["name"] for g in (await admin_client.get("/api/groups/", params={"sort": "-id"})).json()["items"]] == [
        "Alfa", "Beta"]
    mark = datetime.now(UTC)
    r = await admin_client.put(f"/api/groups/{g1['id']}/members", json={"employee_ids": [tenant.admin_id]})
    assert r.status_code == 200, r.text
    changed = (await admin_client.get("/api/groups/", params={"updated_since": mark.isoformat()})).json()
    assert [g["id"] for g in changed["items"]] == [g1["id"]] and g2["id"] != g1["id"]


async def test_activity_and_runs_sort_and_filter(admin_client: Any) -> None:
    r = await admin_client.get(
        "/api/gdpr/runs", params={"sort": "-finished_at", "updated_since": "2026-01-01T00:00:00Z"}
    )
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"total", "offset", "limit", "items"}
    assert (await admin_client.get("/api/gdpr/runs", params={"sort": "error"})).status_code == 400


async def test_person_search_pages_by_offset_and_limit(admin_client: Any) -> None:
    from tests.search.test_search import make_customer, unique_word

    word = unique_word()
    ids = [(await make_customer(admin_client, name=f"{word} {i}"))["id"] for i in range(5)]

    async def hits(**params: Any) -> list[int]:
        r = await admin_client.get("/api/gdpr/search", params={"q": word, **params})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["offset"], body["limit"]) == (params.get("offset", 0), params.get("limit", 20))
        assert "page" not in body and "page_size" not in body
        group = next(g for g in body["groups"] if g["record_type"] == "customer")
        assert group["total"] == 5
        return [h["record_id"] for h in group["hits"]]

    everything = await hits(limit=5)
    assert sorted(everything) == sorted(ids)
    assert await hits(offset=2, limit=2) == everything[2:4]  # aligned: one page
    assert await hits(offset=1, limit=3) == everything[1:4]  # any window
    assert await hits(offset=4, limit=3) == everything[4:]
    r = await admin_client.get("/api/gdpr/search", params={"q": word, "page": 2})
    assert r.status_code == 400 and "page" in r.text
