"""Limits (issue #10, part 5): the request body, every text field and list of a body, every
free-text query parameter and every page size are capped, and going over answers a 4xx a
person can act on. The field and page-size checks walk the route list, so a new endpoint
is held to them without a new test."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from msgspec import inspect as mi

from tests.security import matrix

BODY_CAP = 2 * 1024 * 1024
PAGE_PARAMS = ("limit", "page_size", "per_page")
MAX_PAGE = 500


def _uncapped(t: Any, where: str, seen: frozenset = frozenset()) -> list[str]:
    """Text, lists and maps without a maximum length, anywhere in a body type."""
    if isinstance(t, mi.StrType):
        anchored = bool(t.pattern and t.pattern.startswith("^") and t.pattern.endswith("$"))
        ok = t.max_length is not None or anchored  # "^[0-9]{6}$" bounds it as well
        return [] if ok else [f"{where}: text without max_length"]
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        own = [] if t.max_length is not None else [f"{where}: list without max_length"]
        return own + _uncapped(t.item_type, where + "[]", seen)
    if isinstance(t, mi.DictType):
        own = [] if t.max_length is not None else [f"{where}: map without max_length"]
        return own + _uncapped(t.value_type, where + "{}", seen)
    if isinstance(t, (mi.StructType, mi.DataclassType, mi.TypedDictType)):
        if t.cls in seen:
            return []
        return [
            problem
            for f in t.fields
            for problem in _uncapped(f.type, f"{where}.{f.name}", seen | {t.cls})
        ]
    if isinstance(t, mi.UnionType):
        return [p for x in t.types for p in _uncapped(x, where, seen)]
    return []


def _body_types(app: Any) -> list[tuple[str, Any]]:
    out = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                out.append((f"{sorted(handler.http_methods)[0]} {route.path}", data.annotation))
    return out


def test_every_text_and_list_of_every_body_is_capped(app: Any) -> None:
    bodies = _body_types(app)
    assert len(bodies) > 50  # the walk sees the plugins' routes, not an empty app
    problems = []
    for where, annotation in bodies:
        problems += _uncapped(mi.type_info(annotation), where + " body")
    # A top-level list body (the settings tables) loses its Meta in the handler signature;
    # its cap is checked by a request below instead.
    problems = [p for p in problems if not p.endswith(" body: list without max_length")]
    assert not problems, "\n".join(problems)


def test_every_query_text_and_page_size_is_capped(app: Any) -> None:
    schema = app.openapi_schema.to_schema()
    problems = []
    pages = 0
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for p in op.get("parameters", []):
                if p.get("in") != "query":
                    continue
                s = p.get("schema", {})
                types = {str(s.get("type"))} | {str(o.get("type")) for o in s.get("oneOf", [])}
                formats = {s.get("format")} | {o.get("format") for o in s.get("oneOf", [])}
                bounded = "maxLength" in s or "enum" in s or formats & {"date", "date-time"}
                if "string" in types and not bounded:
                    problems.append(f"{method.upper()} {path} ?{p['name']}: no maxLength")
                if p["name"] in PAGE_PARAMS:
                    pages += 1
                    if s.get("maximum") is None or float(s["maximum"]) > MAX_PAGE:
                        problems.append(f"{method.upper()} {path} ?{p['name']}: page size over {MAX_PAGE}")
    assert pages > 10
    assert not problems, "\n".join(problems)


async def test_a_page_size_over_the_cap_is_400_on_every_list(app: Any, admin_client: Any) -> None:
    lists = [
        op
        for op in matrix.operations(app)
        if op.method == "GET" and not op.params and op.openapi_path.startswith("/api/")
    ]
    schema = app.openapi_schema.to_schema()
    checked = 0
    for op in lists:
        params = schema["paths"][op.openapi_path]["get"].get("parameters", [])
        for p in params:
            if p.get("in") == "query" and p["name"] in PAGE_PARAMS:
                too_many = int(float(p["schema"]["maximum"])) + 1
                platform = op.openapi_path.startswith("/api/platform")  # its own token (#18.9: paged)
                headers = {"authorization": "Bearer " + os.environ["GALLRA_PLATFORM_TOKEN"]} if platform else {}
                response = await admin_client.get(
                    op.openapi_path, params={**op.query_required, p["name"]: too_many}, headers=headers
                )
                assert response.status_code == 400, (op.openapi_path, response.text)
                assert p["name"] in response.text  # says which parameter
                checked += 1
    assert checked > 10


async def test_a_body_over_the_cap_is_413(admin_client: Any, anon_client: Any) -> None:
    big = {"name": "Acme", "notes": "x" * (BODY_CAP + 1)}
    response = await admin_client.post("/api/customers", content=json.dumps(big),
                                       headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == "The request is larger than 2 MiB; send less data."
    # before any login too: the cap protects the public endpoints
    response = await anon_client.post(
        "/api/auth/login",
        content=json.dumps({"tenant": "x", "email": "y" * (BODY_CAP + 1), "password": "z"}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text


async def test_a_field_over_its_length_is_400_naming_the_field(admin_client: Any) -> None:
    response = await admin_client.post("/api/customers", json={"name": "x" * 201})
    assert response.status_code == 400, response.text
    assert "name" in response.text and "200" in response.text
    response = await admin_client.post("/api/groups", json={"name": "G", "permissions": ["p"] * 101})
    assert response.status_code == 400, response.text
    assert "permissions" in response.text


async def test_a_settings_list_over_its_cap_is_400(admin_client: Any) -> None:
    rows = [{"key": "customers", "mode": "off"}] * 1001
    response = await admin_client.put("/api/gdpr/retention", json=rows)
    assert response.status_code == 400, response.text


@pytest.mark.slow
async def test_an_id_no_row_can_have_is_a_4xx_on_every_route(app: Any, admin_client: Any) -> None:
    """Ids over 32 bits (or negative) in a path: "not found" (or the route's own 400), never
    the database's overflow error; on every route with an id, whatever its response type."""
    ops = [op for op in matrix.operations(app) if op.int_params and not op.public]
    assert len(ops) > 50
    for op in ops:
        for bad in (2**63, 2**31, -1) if op.method == "GET" else (2**63,):
            values = {n: (bad if t is int else "employee") for n, t in op.params}
            response = await admin_client.request(
                op.method, op.url(values), json=op.body, params=op.query_required or None
            )
            # 404, or 400 where the route declares the id's bounds itself
            assert response.status_code in (400, 404), (op.method, op.url(values), response.text)


async def test_text_with_a_nul_character_is_400(admin_client: Any, anon_client: Any) -> None:
    """PostgreSQL cannot store NUL in text: refused with a 400 before any handler runs."""
    for client, path, body in [
        (anon_client, "/api/auth/login", {"tenant": "\u0000", "email": "a@b.se", "password": "x"}),
        (admin_client, "/api/customers", {"name": "Acme\u0000 AB"}),
        (admin_client, "/api/customers", {"name": "Acme", "notes": ["\u0000"]}),
    ]:
        response = await client.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert "NUL" in response.json()["detail"]
    response = await admin_client.get("/api/customers", params={"q": "a\u0000b"})
    assert response.status_code == 400, response.text
    # a backslash and "u0000" written out is ordinary text
    response = await admin_client.post("/api/customers", json={"name": "C:\\u0000 AB"})
    assert response.status_code == 201, response.text


@pytest.mark.slow
async def test_json_nested_too_deep_is_400_on_every_route(
    app: Any, admin_client: Any, anon_client: Any
) -> None:
    """#17.16: JSON nested 2,000 levels deep ran the decoder out of stack (a 500, without
    logging in). Every route that takes a body, the API's and the pages', answers 400."""
    from core.app import MAX_JSON_DEPTH

    deep = [
        b"[" * 2000 + b"]" * 2000,
        b'{"a":' * 2000 + b"1" + b"}" * 2000,
        b'{"tenant": "x\\u0000", "deep": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),  # just over the limit
    ]
    ops = [op for op in matrix.operations(app) if op.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert len(ops) > 50
    urls = [
        (op.method, op.url({n: (1 if t is int else "employee") for n, t in op.params}))
        for op in ops
    ]
    urls += [("POST", "/login"), ("POST", "/portal/login")]
    headers = {"content-type": "application/json"}
    for method, url in urls:
        for client in (anon_client, admin_client):
            for body in deep:
                response = await client.request(method, url, content=body, headers=headers)
                assert response.status_code < 500, (method, url, response.text)
                if response.status_code == 400:
                    continue
                # Only a refusal that comes before any body is read (a guard) may differ.
                assert response.status_code in (401, 403, 404), (method, url, response.text)
    for client, url in ((anon_client, "/api/auth/login"), (admin_client, "/api/customers")):
        for body in deep:
            response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 400, response.text
            detail = response.json()["detail"]
            assert "nested more than" in detail or "NUL" in detail
    # As deep as allowed is decoded and judged by the route as usual.
    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = await admin_client.post("/api/customers", content=ok, headers=headers)
    assert response.status_code == 400 and "nested" not in response.json()["detail"]


async def test_a_body_that_is_not_json_is_a_coded_400_in_the_clients_language(
    admin_client: Any, anon_client: Any
) -> None:
    """A body cut off, not UTF-8 or not JSON at all: 400 ``malformed_body`` with the
    catalog's text in the language asked for, not the decoder's English account of the byte
    it broke at; and nothing is written."""
    from core.pages import translations
    from plugins.customers.tables import Customer

    english = "The request body is not valid JSON; send a JSON document."
    swedish = translations("sv").gettext(english)
    assert swedish != english
    before = await Customer.count()
    bodies = [b'{"name": "Acme AB"', b"not json", b'{"name": }', b"\xff\xfe{}"]
    for client, url in ((anon_client, "/api/auth/login"), (admin_client, "/api/customers")):
        for body in bodies:
            for language, text in (("sv", swedish), ("en", english)):
                response = await client.post(
                    url, content=body, headers={"content-type": "application/json", "accept-language": language}
                )
                assert response.status_code == 400, (url, body, response.text)
                problem = response.json()
                assert response.headers["content-type"].startswith("application/problem+json")
                assert (problem["code"], problem["detail"]) == ("malformed_body", text), (url, body, problem)
                assert "byte" not in json.dumps(problem) and "truncated" not in json.dumps(problem)
    assert await Customer.count() == before
