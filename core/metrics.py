"""Observability of the request path (#19.4): Prometheus metrics and JSON logs.

``GET /metrics`` (Prometheus' text format) is guarded like the platform API: the bearer
token in ``GALLRA_PLATFORM_TOKEN``, and closed (403) when none is configured. It shows, per
web process (each process of ``--workers N`` has its own counts; scrape each, or run one):

- ``gallra_http_request_duration_seconds{method,route,status}``: latency by route
  *template* (``/api/customers/{customer_id:int}``, never the ids or the query string);
- ``gallra_http_request_queries{method,route}``: SQL statements per request;
- ``gallra_sweep_records_total{plugin}`` and ``gallra_sweep_duration_seconds{plugin}``:
  what the retention sweeps of this process did (:func:`observe_sweep`);
- ``gallra_queue_depth{queue}``: messages waiting in the broker's queues, read at scrape.

Dramatiq's own Prometheus middleware serves its metrics from an HTTP server of its own in
each worker process (and needs a shared multiprocess directory); it is not mounted here.
Workers run in separate processes; add ``dramatiq.middleware.prometheus.Prometheus`` to
the broker there when needed (see docs).

``GALLRA_LOG_FORMAT=json`` makes every log line one JSON object (time, level, logger,
message, and the exception's text when there is one). The message is the one the code
logs, and the code never logs secrets, codes or tokens; arguments are formatted into it
as with the plain format, nothing more is added.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.db import count_queries

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "gallra_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
REQUEST_QUERIES = Histogram(
    "gallra_http_request_queries",
    "SQL statements run for one HTTP request, by route template.",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
SWEEP_RECORDS = Counter(
    "gallra_sweep_records_total", "Records anonymized or deleted by retention sweeps.",
    ["plugin"], registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "gallra_sweep_duration_seconds", "Duration of one retention sweep run.",
    ["plugin"], registry=REGISTRY,
    buckets=(0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)


def observe_sweep(plugin: str, records: int, seconds: float) -> None:
    """Count one sweep run of ``plugin`` (the retention engine calls it per run)."""
    SWEEP_RECORDS.labels(plugin).inc(records)
    SWEEP_SECONDS.labels(plugin).observe(seconds)


def observe_run(plugin: str, records: int, started: Any, finished: datetime) -> None:
    """:func:`observe_sweep` from a run's audit row (``started_at`` as the database gave it
    back: SQLite may answer with text). Never fails the run it describes."""
    try:
        if isinstance(started, str):
            started = datetime.fromisoformat(started)
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        observe_sweep(plugin, records, max(0.0, (finished - started).total_seconds()))
    except Exception:  # metrics never break a sweep
        logging.getLogger(__name__).debug("sweep metric not recorded", exc_info=True)


class _QueueDepth:
    """Messages waiting per queue of the current broker, read when scraped."""

    def collect(self) -> Any:
        family = GaugeMetricFamily("gallra_queue_depth", "Messages waiting in the broker's queue.", labels=["queue"])
        try:
            from core.worker import get_broker

            broker = get_broker()
            for queue in sorted(broker.get_declared_queues()):
                depth = _depth(broker, queue)
                if depth is not None:
                    family.add_metric([queue], depth)
        except Exception:
            logging.getLogger(__name__).debug("queue depth unavailable", exc_info=True)
        yield family


def _depth(broker: Any, queue: str) -> float | None:
    client = getattr(broker, "client", None)  # Redis: one list per queue
    if client is not None and hasattr(client, "llen"):
        return float(client.llen(f"{broker.namespace}:{queue}"))
    queues = getattr(broker, "queues", None)  # the stub broker (tests, embedded)
    if isinstance(queues, dict) and queue in queues:
        return float(queues[queue].qsize())
    return None


REGISTRY.register(_QueueDepth())


def render() -> bytes:
    return generate_latest(REGISTRY)


def metrics_middleware(app: Any) -> Any:
    """Time each HTTP request and count its statements, labelled by route template."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        status = [500]

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        start = time.perf_counter()
        with count_queries() as counter:
            try:
                await app(scope, receive, send_wrapper)
            finally:
                route = scope.get("path_template") or "unmatched"
                method = scope.get("method", "")
                REQUEST_SECONDS.labels(method, route, str(status[0])).observe(time.perf_counter() - start)
                REQUEST_QUERIES.labels(method, route).observe(counter[0])

    return middleware


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``GALLRA_LOG_FORMAT=json``)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str, log_format: str | None) -> None:
    """The CLI's logging: plain lines, or JSON lines when ``log_format`` is ``json``."""
    if (log_format or "").strip().lower() == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
