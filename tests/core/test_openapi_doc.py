"""The OpenAPI document is what an integrator reads (#18.9): every operation says in one line
what it does, names the security scheme it needs, and documents its error answers with
the RFC 9457 problem-details schema."""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "field", "errors", "confirm"}


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS and path.startswith(("/api/", "/health"))
    ]


async def _doc(client: Any) -> dict:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_every_operation_has_a_one_line_summary_and_a_description(client: Any) -> None:
    doc = await _doc(client)
    ops = _operations(doc)
    assert len(ops) > 150
    missing = [f"{m.upper()} {p}" for p, m, op in ops if not (op.get("description") or "").strip()]
    assert not missing, f"{len(missing)} operations without a description (write a docstring):\n" + "\n".join(missing)
    long = [
        f"{m.upper()} {p}: {op['summary']!r}" for p, m, op in ops if "\n" in op["summary"] or len(op["summary"]) > 120
    ]
    assert not long, long
    # the summary is the first sentence of the docstring, not Litestar's name of the function
    assert doc["paths"]["/api/employees"]["get"]["summary"].startswith("The organization's employees")


async def test_security_schemes_are_named_and_applied(client: Any) -> None:
    doc = await _doc(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {**schemes["sessionCookie"], "type": "apiKey", "in": "cookie",
                                        "name": "gallra_session"}
    assert schemes["platformToken"]["type"] == "http" and schemes["platformToken"]["scheme"] == "bearer"
    paths = doc["paths"]
    assert paths["/api/employees"]["get"]["security"] == [{"sessionCookie": []}]
    assert paths["/api/customers"]["post"]["security"] == [{"sessionCookie": []}]
    assert paths["/api/platform/tenants"]["get"]["security"] == [{"platformToken": []}]
    for public in (("/api/auth/login", "post"), ("/api/auth/password-reset", "post")):
        assert "security" not in paths[public[0]][public[1]], public
    # every operation that needs the session says so (it answers 401 without one)
    unnamed = [
        f"{m.upper()} {p}" for p, m, op in _operations(doc)
        if "401" in op["responses"] and not op.get("security")
    ]
    assert not unnamed, unnamed


async def test_error_answers_are_problem_details(client: Any, anon_client: Any) -> None:
    doc = await _doc(client)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == PROBLEM_MEMBERS
    assert not problem.get("required")  # RFC 9457: every member is optional

    def statuses(path: str, method: str) -> dict[str, Any]:
        return {
            code: r for code, r in doc["paths"][path][method]["responses"].items() if not code.startswith("2")
        }

    write = statuses("/api/customers/{customer_id}", "patch")
    for code in ("401", "403", "404", "409", "413", "415", "429"):
        ref = write[code]["content"]["application/problem+json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Problem", code
        assert write[code]["description"]
    read = statuses("/api/employees", "get")
    assert {"401", "403"} <= set(read) and not {"409", "413", "415"} & set(read)
    assert "401" not in statuses("/api/auth/login", "post")
    assert {"413", "415", "429"} <= set(statuses("/api/auth/login", "post"))
    # every state-changing API operation documents the edge's answers
    missing = [
        f"{m.upper()} {p}" for p, m, op in _operations(doc)
        if m != "get" and p.startswith("/api/") and not {"403", "409", "413", "415", "429"} <= set(op["responses"])
    ]
    assert not missing, missing
    # what is documented is what is answered: a 401 has the documented members' types
    r = await anon_client.get("/api/employees")
    assert r.status_code == 401
    body = r.json()
    for member, kind in (("detail", str), ("status", int), ("title", str), ("code", str), ("field", str)):
        assert body.get(member) is None or isinstance(body[member], kind), (member, body)


async def test_lists_and_search_share_the_pagination_parameters(client: Any) -> None:
    doc = await _doc(client)
    for path in ("/api/employees", "/api/groups", "/api/platform/tenants", "/api/gdpr/runs", "/api/gdpr/search",
                 "/api/customers"):
        names = {p["name"] for p in doc["paths"][path]["get"].get("parameters", [])}
        assert {"offset", "limit"} <= names and not {"page", "page_size"} & names, path
    for path in ("/api/employees", "/api/groups", "/api/platform/tenants", "/api/gdpr/runs"):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert {"sort", "updated_since"} <= set(params), path
        assert "-key" in params["sort"]["schema"].get("description", params["sort"].get("description", ""))
