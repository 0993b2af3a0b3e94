"""Prometheus metrics, served at GET /metrics (without a key: keep it private at the network's
edge, see docs/operating.md).

With several workers each process writes its samples to PROMETHEUS_MULTIPROC_DIR, which `ovp
serve` makes for them, and /metrics sums every worker's (prometheus-client's multiprocess mode):
whichever worker answers the scrape, the figures are the server's.
"""

from __future__ import annotations

import os
import time
from contextlib import suppress

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ovp.api.http import Request, Response
from ovp.api.routing import Route
from ovp.domain.clock import CLOCK
from ovp.domain.errors import ServiceUnavailable
from ovp.store import calls as call_store
from ovp.store import webhooks as webhook_store
from ovp.store.database import Database

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

REQUESTS = Counter("ovp_http_requests_total", "HTTP requests answered.", ["route", "method", "status"])
REQUEST_SECONDS = Histogram("ovp_http_request_duration_seconds", "Time to answer an HTTP request.",
                            ["route", "method"], buckets=LATENCY_BUCKETS)
IN_PROGRESS = Gauge("ovp_http_requests_in_progress", "HTTP requests being answered.", multiprocess_mode="livesum")
SHED = Counter("ovp_http_requests_shed_total", "Requests answered 503 at once because too many were in progress.")
RATE_LIMITED = Counter("ovp_rate_limited_requests_total", "Requests answered 429 by the rate limit.")
DATABASE_SECONDS = Histogram("ovp_database_operation_duration_seconds", "Time a database operation took.",
                             ["backend", "operation"], buckets=LATENCY_BUCKETS)
GROUP_SIZE = Histogram("ovp_group_commit_size", "Writes committed in one transaction (group commit).",
                       buckets=GROUP_BUCKETS)
DATABASE_AVAILABLE = Gauge("ovp_database_available", "1 while the database serves, 0 during an outage.",
                           multiprocess_mode="livemin")
AUTHORIZATIONS = Counter("ovp_call_authorizations_total", "Calls authorized or rejected.", ["decision", "code"])
ACTIVE_CALLS = Gauge("ovp_active_calls", "Calls authorized and neither ended nor expired, in every account.",
                     multiprocess_mode="mostrecent")
WEBHOOK_BACKLOG = Gauge("ovp_webhook_backlog", "Webhook events written and not yet delivered or given up, in every "
                        "account.", multiprocess_mode="mostrecent")
WEBHOOK_OLDEST = Gauge("ovp_webhook_backlog_oldest_seconds", "Age of the oldest webhook event not yet delivered "
                       "or given up (0 without a backlog).", multiprocess_mode="mostrecent")


class DatabaseMetrics:
    """What the store reports of itself (see ovp.store.database.DatabaseObserver)."""

    def __init__(self, backend: str) -> None:
        self._backend = backend
        DATABASE_AVAILABLE.set(1)

    def operation(self, name: str, seconds: float) -> None:
        DATABASE_SECONDS.labels(self._backend, name).observe(seconds)

    def group(self, size: int) -> None:
        GROUP_SIZE.observe(size)

    def availability(self, available: bool) -> None:
        DATABASE_AVAILABLE.set(1 if available else 0)


def registry() -> CollectorRegistry:
    """Every worker's samples summed, with several processes; else this process's."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def read_database_gauges(database: Database) -> None:
    """Sets ovp_active_calls and the webhook backlog's gauges; raises ServiceUnavailable when the database
    cannot count them."""
    now_ms = CLOCK.now_ms()
    ACTIVE_CALLS.set(await database.read_one(lambda tx: call_store.count_active(tx, now_ms)))
    waiting, oldest_ms = await database.read_one(webhook_store.backlog)
    WEBHOOK_BACKLOG.set(waiting)
    WEBHOOK_OLDEST.set(0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000))


async def metrics(request: Request) -> Response:
    # The rest is worth scraping all the same while the database is down: ovp_database_available says so.
    with suppress(ServiceUnavailable):
        await read_database_gauges(request.app.database)
    return Response(200, generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


routes = [Route.at("/metrics", {"GET": metrics}, public=True)]
