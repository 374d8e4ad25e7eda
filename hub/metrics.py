"""Prometheus metrics: ``GET /metrics`` in the text exposition format.

Each process counts for itself (Prometheus' own model: scrape every process as a target; see
docs/operations.md "Metrics"). Counters and histograms live in this module and are touched by
the code paths that own the numbers:

* HTTP requests and their duration — :class:`HttpMetricsMiddleware` (first in ``MIDDLEWARE``).
* open sockets and the request id of a WebSocket — :class:`SocketMetricsMiddleware`, which wraps
  the ASGI websocket stack in ``hub/asgi.py``.
* events appended / fan-out latency — :func:`event_appended` and :func:`observe_fanout`, called by
  messaging's event log and socket (``hub`` imports no app above it; they call down into it).
* ERP sync lag — :func:`set_erp_sync_lag`, for the ERP bridge's sync jobs.

Queue depths (search indexing, background tasks) are read from the database when scraped, by
:class:`QueueCollector`: they are properties of the shared database, not of one process, so
every process reports the same figure (aggregate them with ``max``, not ``sum``).

Access: with ``HUB_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``;
without it only loopback clients are answered (everything else gets 404, as if there were no
such page).
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.middleware import request_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("hub.access")

# --- the metrics -----------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "hub_http_requests",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer an HTTP request (Django middleware to response), by route pattern.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
SOCKETS_OPEN = Gauge("hub_websockets_open", "WebSockets open in this process, by endpoint.", ["endpoint"])
SOCKETS_ACCEPTED = Counter("hub_websockets_accepted", "WebSockets accepted since start, by endpoint.", ["endpoint"])
EVENTS_APPENDED = Counter(
    "hub_events_appended", "Conversation events committed to the event log by this process (rate() = events/s)."
)
FANOUT_LATENCY = Histogram(
    "hub_fanout_latency_seconds",
    "From appending an event (before commit) to sending it down a subscriber's socket, per delivery.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# Series exist from the start (0), so dashboards and rate() see them before the first socket.
for _endpoint in ("/ws/", "/ws/docs/"):
    SOCKETS_OPEN.labels(endpoint=_endpoint)
    SOCKETS_ACCEPTED.labels(endpoint=_endpoint)
ERP_SYNC_LAG = Gauge(
    "hub_erp_sync_lag_seconds", "Age of the newest change fetched from an ERP/CRM source, by source.", ["source"]
)

# Frames older than this are replays of old events, not fan-out: leave them out of the histogram.
_FANOUT_MAX_AGE_S = 60.0


def event_appended(count: int = 1) -> None:
    EVENTS_APPENDED.inc(count)


def observe_fanout(appended_at: object) -> None:
    """Record one delivery of an event stamped with ``appended_at`` (``time.time()``)."""
    if not isinstance(appended_at, int | float):
        return
    age = time.time() - appended_at
    if 0 <= age <= _FANOUT_MAX_AGE_S:
        FANOUT_LATENCY.observe(age)


def set_erp_sync_lag(source: str, seconds: float) -> None:
    """The ERP bridge reports, after each sync pass, how far behind ``source`` it is."""
    ERP_SYNC_LAG.labels(source=source).set(max(0.0, float(seconds)))


# --- queue depths, read at scrape time ------------------------------------------------------


def search_queue_depth() -> int:
    """Log entries not yet applied to the search index, over every source and workspace."""
    from hub.search.models import SearchCursor
    from hub.search.sources import sources

    depth = 0
    for source in sources():
        for workspace_id in source.dirty_workspaces():
            positions = source.log_positions(workspace_id)
            applied = dict(
                SearchCursor.objects.filter(workspace_id=workspace_id, source=source.name).values_list(
                    "key", "position"
                )
            )
            depth += sum(max(0, end - applied.get(key, 0)) for key, end in positions.items())
    return depth


def task_queue_depth() -> dict[str, int]:
    """Background tasks waiting for a worker, by queue (django-tasks database backend)."""
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.ready().values("queue_name").annotate(n=Count("id"))
    return {str(row["queue_name"]): int(row["n"]) for row in rows}


class QueueCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Without describe() the registry would call collect() at registration, i.e. query the
        # database while the module is imported.
        yield GaugeMetricFamily("hub_search_queue_depth", "")
        yield GaugeMetricFamily("hub_task_queue_depth", "", labels=["queue"])
        yield GaugeMetricFamily("hub_metrics_collect_errors", "", labels=["what"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        search = GaugeMetricFamily("hub_search_queue_depth", "Event-log entries not yet in the search index.")
        tasks = GaugeMetricFamily(
            "hub_task_queue_depth", "Background tasks ready and waiting for a worker, by queue.", labels=["queue"]
        )
        errors = GaugeMetricFamily(
            "hub_metrics_collect_errors", "1 when a queue depth could not be read (database down?).", labels=["what"]
        )
        try:
            search.add_metric([], search_queue_depth())
            errors.add_metric(["search_queue"], 0)
        except Exception:
            logger.warning("search queue depth unavailable", exc_info=True)
            errors.add_metric(["search_queue"], 1)
        try:
            depths = task_queue_depth()
            for queue in sorted(depths) or ["default"]:
                tasks.add_metric([queue], depths.get(queue, 0))
            errors.add_metric(["task_queue"], 0)
        except Exception:
            logger.warning("task queue depth unavailable", exc_info=True)
            errors.add_metric(["task_queue"], 1)
        yield search
        yield tasks
        yield errors


_queue_collector = QueueCollector()
REGISTRY.register(_queue_collector)


# --- the endpoint ---------------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "::1"}


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.HUB_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return request.META.get("REMOTE_ADDR") in _LOOPBACK


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        # 404 rather than 403: a public site does not advertise its internals.
        return HttpResponse("not found\n", status=404, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type="text/plain; version=0.0.4; charset=utf-8")


# --- HTTP middleware -------------------------------------------------------------------------


def _route_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + str(match.route)
    if request.path.startswith(settings.STATIC_URL):
        return settings.STATIC_URL  # WhiteNoise answered before URL resolution
    # Unresolved paths are not used as labels: every scanner's probe would be a new series.
    return "unmatched"


# URL parameters that are capabilities (webhook keys, invitation and response tokens): a path
# holding one is logged as its route pattern, so that log files never hand out a working URL.
_SECRET_URL_KWARGS = frozenset({"key", "token"})


def _loggable_path(request: HttpRequest, route: str) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and _SECRET_URL_KWARGS & set(match.kwargs):
        return route
    return request.path


class HttpMetricsMiddleware:
    """Counts and times every request by its route *pattern*, and writes one access log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = _route_label(request)
        method = request.method or "-"
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            method = "other"
        HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        HTTP_DURATION.labels(route=route, method=method).observe(elapsed)
        access_logger.info(
            "%s %s %s",
            method,
            _loggable_path(request, route),
            response.status_code,
            extra={"route": route, "status": response.status_code, "duration_ms": round(elapsed * 1000, 2)},
        )
        return response


# --- ASGI wrapper for WebSockets ------------------------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def request_id_from_headers(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1")
            if 0 < len(text) <= 64 and text.isascii() and text.isprintable():
                return text
    return uuid.uuid4().hex


class SocketMetricsMiddleware:
    """Counts open WebSockets and gives each connection a request id (from ``X-Request-ID`` on
    the upgrade request, or a new one) that every log record of the connection carries.

    The id is set in a context variable before the consumer runs; channels runs the whole
    connection in this task (and ``database_sync_to_async`` copies the context into the sync
    thread), so records logged anywhere while serving the socket see it.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        endpoint = "/ws/docs/" if str(scope.get("path", "")).startswith("/ws/docs/") else "/ws/"
        accepted = False
        started = time.perf_counter()

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if not accepted and message.get("type") == "websocket.accept":
                accepted = True
                SOCKETS_OPEN.labels(endpoint=endpoint).inc()
                SOCKETS_ACCEPTED.labels(endpoint=endpoint).inc()
                access_logger.info("WS %s open", endpoint, extra={"route": endpoint})
            await send(message)

        token = request_id_var.set(request_id_from_headers(scope.get("headers", [])))
        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                SOCKETS_OPEN.labels(endpoint=endpoint).dec()
                seconds = round(time.perf_counter() - started, 3)
                access_logger.info("WS %s closed", endpoint, extra={"route": endpoint, "open_seconds": seconds})
            request_id_var.reset(token)
