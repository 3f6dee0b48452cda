"""GET /metrics (#19.4): guarded like the platform API, and it shows the request path."""

from __future__ import annotations

import json
import logging
import os

from core.testing.client import AppClient


async def test_metrics_needs_the_platform_token(app):
    async with AppClient(app=app) as anon:
        r = await anon.get("/metrics")
        assert r.status_code == 401
        r = await anon.get("/metrics", headers={"authorization": "Bearer wrong-token"})
        assert r.status_code == 401


async def test_metrics_closed_without_a_configured_token(app, env_settings):
    env_settings(GALLRA_PLATFORM_TOKEN=None)
    async with AppClient(app=app) as anon:
        r = await anon.get("/metrics", headers={"authorization": "Bearer "})
        assert r.status_code == 403
        r = await anon.get("/metrics", headers={"authorization": "Bearer anything"})
        assert r.status_code == 403


async def test_metrics_show_a_request_by_route_template(client, tenant):
    from tests.support import login

    assert (await login(client, tenant)).status_code == 200
    r = await client.get("/api/auth/me")
    assert r.status_code == 200
    token = os.environ["GALLRA_PLATFORM_TOKEN"]
    r = await client.get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    text = r.text
    assert 'gallra_http_request_duration_seconds_count{method="GET",route="/api/auth/me",status="200"}' in text
    assert 'gallra_http_request_queries_count{method="GET",route="/api/auth/me"}' in text
    assert "gallra_queue_depth" in text
    # Ids never become labels: a path with an id is counted under its template.
    r = await client.get("/api/employees/2147483000")
    text = (await client.get("/metrics", headers={"authorization": f"Bearer {token}"})).text
    assert "2147483000" not in text
    assert 'route="/api/employees/{employee_id}"' in text


def test_json_log_line_parses():
    from core.metrics import JsonFormatter

    record = logging.LogRecord("gallra.test", logging.WARNING, __file__, 1, "sent %s message(s)", (3,), None)
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "gallra.test"
    assert data["message"] == "sent 3 message(s)"
    assert "time" in data


async def test_a_finished_run_counts_for_its_plugin(tenant):
    from core.db import utcnow
    from core.gdpr.engine import finish_run, start_run
    from core.metrics import REGISTRY

    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"plugin": "metricsprobe"}) or 0.0

    before = value("gallra_sweep_records_total")
    runs = value("gallra_sweep_duration_seconds_count")
    run_id = await start_run(tenant.id, "metricsprobe", "probe", "sweep", utcnow())
    await finish_run(run_id, 7, "ok")
    assert value("gallra_sweep_records_total") == before + 7
    assert value("gallra_sweep_duration_seconds_count") == runs + 1


def test_a_run_started_without_a_zone_counts_as_utc():
    """A database may give ``started_at`` back as naive text; it is read as UTC (this path
    once named an unimported ``timezone`` and silently dropped the metric)."""
    from datetime import UTC, datetime, timedelta

    from core.metrics import REGISTRY, observe_run

    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"plugin": "naiveprobe"}) or 0.0

    before = value("gallra_sweep_records_total")
    seconds = value("gallra_sweep_duration_seconds_sum")
    finished = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    observe_run("naiveprobe", 3, (finished - timedelta(seconds=2)).replace(tzinfo=None).isoformat(), finished)
    assert value("gallra_sweep_records_total") == before + 3
    assert value("gallra_sweep_duration_seconds_sum") == seconds + 2.0
