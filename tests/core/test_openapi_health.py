"""The OpenAPI document lists every endpoint, typed; /health reports database and broker."""

from __future__ import annotations

from litestar.routes import HTTPRoute

SCHEMA_PREFIX = "/schema"


async def test_openapi_lists_every_endpoint(app, client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "Gallra"
    paths = doc["paths"]
    expected = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(SCHEMA_PREFIX):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                expected.add((route.path_format, method.lower()))
    assert expected, "the app has no routes?"
    missing = sorted(e for e in expected if e[0] not in paths or e[1] not in paths[e[0]])
    assert not missing, f"not in /schema/openapi.json: {missing}"
    for path in ("/health", "/api/auth/login", "/api/employees/{employee_id}", "/api/groups/{group_id}/members",
                 "/api/modules/{name}", "/api/platform/tenants"):
        assert path in paths


async def test_every_operation_is_typed(client):
    doc = (await client.get("/schema/openapi.json")).json()
    untyped = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            ok = [code for code in op.get("responses", {}) if code.startswith("2")]
            if not ok:
                untyped.append((path, method, "no success response"))
                continue
            response = op["responses"][ok[0]]
            if ok[0] != "204" and "content" in response:
                schema = next(iter(response["content"].values())).get("schema")
                if not schema:
                    untyped.append((path, method, "response without schema"))
            if method in ("post", "put", "patch") and "requestBody" in op:
                body = next(iter(op["requestBody"]["content"].values()))
                if not body.get("schema"):
                    untyped.append((path, method, "body without schema"))
            for param in op.get("parameters", []):
                if not param.get("schema"):
                    untyped.append((path, method, f"parameter {param['name']} without schema"))
    assert not untyped, untyped
    login = doc["paths"]["/api/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(doc["components"]["schemas"][ref]["properties"]) == {"tenant", "email", "password"}


async def test_health_is_ok_on_the_stub_broker(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": True, "broker": True}
