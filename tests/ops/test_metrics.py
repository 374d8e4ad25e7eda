"""``/metrics`` (Prometheus text format), its access rule, and the figures it exposes."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from hub import metrics
from hub.logging import JsonFormatter, RequestIdFilter
from hub.search.indexer import index_pending
from tests.conftest import World
from tests.messaging.socket_client import (
    connect,
    create_conversation,
    send_http,
    socket_env,  # noqa: F401  (fixture)
)


def scrape(client: Client | None = None, **headers: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics`` as {(name, sorted labels): value}."""
    response = (client or Client()).get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_answers_loopback_only_without_a_token() -> None:
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


@pytest.mark.django_db
def test_metrics_token_is_required_when_configured(settings: Any) -> None:
    settings.HUB_METRICS_TOKEN = "s3cret-scrape"
    client = Client()
    # With a token configured, loopback alone is not enough (a proxy on the same host is loopback too).
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert right.status_code == 200
    assert b"hub_http_requests_total" in right.content


@pytest.mark.django_db
def test_http_requests_are_counted_by_route_pattern_and_status(world: World) -> None:
    before = scrape()
    api = world.api(world.member)
    conv_route = "/api/v1/conversations"
    assert api.get(conv_route, workspace=world.workspace.pk).status_code == 200
    assert api.get(conv_route, workspace=world.other_workspace.pk).status_code == 404
    assert Client().get("/no/such/page/12345").status_code == 404
    after = scrape()
    assert value(after, "hub_http_requests_total", route=conv_route, method="GET", status="200") == (
        value(before, "hub_http_requests_total", route=conv_route, method="GET", status="200") + 1
    )
    assert value(after, "hub_http_requests_total", route=conv_route, method="GET", status="404") == (
        value(before, "hub_http_requests_total", route=conv_route, method="GET", status="404") + 1
    )
    # Unknown paths share one label instead of creating a series per probe.
    assert value(after, "hub_http_requests_total", route="unmatched", method="GET", status="404") >= 1
    assert not any("12345" in str(key) for key in after)
    count = value(after, "hub_http_request_duration_seconds_count", route=conv_route, method="GET")
    assert count == value(before, "hub_http_request_duration_seconds_count", route=conv_route, method="GET") + 2


@pytest.mark.django_db
def test_events_appended_and_search_queue_depth(world: World, django_capture_on_commit_callbacks: Any) -> None:
    index_pending()
    before = scrape()
    assert value(before, "hub_search_queue_depth") == 0
    conv = world.api(world.owner).post(
        "/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": "public", "name": "指标"}
    )
    assert conv.status_code == 201, conv.content
    conv_id = conv.json()["id"]
    for n in range(3):
        # Counted on commit: run the test transaction's on-commit callbacks.
        with django_capture_on_commit_callbacks(execute=True):
            sent = world.api(world.owner).post(
                f"/api/v1/conversations/{conv_id}/messages", {"body": f"第{n}条", "client_id": str(uuid.uuid4())}
            )
        assert sent.status_code == 201, sent.content
    after = scrape()
    appended = value(after, "hub_events_appended_total") - value(before, "hub_events_appended_total")
    assert appended >= 3
    # Nobody indexes in the test settings: the queue holds what was appended…
    assert value(after, "hub_search_queue_depth") >= 3
    index_pending()
    # …and is empty once the indexer has run.
    assert value(scrape(), "hub_search_queue_depth") == 0


@pytest.mark.django_db
def test_task_queue_depth_counts_ready_tasks() -> None:
    from django_tasks_db.models import DBTaskResult

    assert value(scrape(), "hub_task_queue_depth", queue="default") == 0
    DBTaskResult.objects.create(task_path="hub.tasks.send_invitation_email", args_kwargs={"args": [], "kwargs": {}})
    DBTaskResult.objects.create(
        task_path="hub.tasks.send_invitation_email", args_kwargs={"args": [], "kwargs": {}}, queue_name="digests"
    )
    samples = scrape()
    assert value(samples, "hub_task_queue_depth", queue="default") == 1
    assert value(samples, "hub_task_queue_depth", queue="digests") == 1


@pytest.mark.django_db
def test_erp_sync_lag_is_set_per_source() -> None:
    metrics.set_erp_sync_lag("odoo-主账套", 42.5)
    metrics.set_erp_sync_lag("erp-lite", -3)  # a clock skew never shows a negative lag
    samples = scrape()
    assert value(samples, "hub_erp_sync_lag_seconds", source="odoo-主账套") == 42.5
    assert value(samples, "hub_erp_sync_lag_seconds", source="erp-lite") == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("socket_env")
async def test_open_sockets_and_fanout_latency(world: World) -> None:
    def read() -> dict[Any, float]:
        return scrape()

    conv = await create_conversation(world.owner, world.workspace.pk, "private", "扇出", (world.member,))
    before = await database_sync_to_async(read)()
    open_before = value(before, "hub_websockets_open", endpoint="/ws/")
    alice = await connect(world.member)
    bob = await connect(world.owner)
    during = await database_sync_to_async(read)()
    assert value(during, "hub_websockets_open", endpoint="/ws/") == open_before + 2
    await send_http(world.owner, conv, "大家好")
    await alice.expect("message.new")
    await bob.expect("message.new")
    after_send = await database_sync_to_async(read)()
    deliveries = value(after_send, "hub_fanout_latency_seconds_count") - value(
        before, "hub_fanout_latency_seconds_count"
    )
    assert deliveries == 2
    await alice.close()
    await bob.close()
    closed = await database_sync_to_async(read)()
    assert value(closed, "hub_websockets_open", endpoint="/ws/") == open_before


# --- logs ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_log_lines_carry_the_request_id(caplog: Any) -> None:
    formatter = JsonFormatter()
    with caplog.at_level(logging.INFO, logger="hub.access"):
        response = Client().get("/healthz", HTTP_X_REQUEST_ID="req-测试-1".encode().hex())
    rid = "req-测试-1".encode().hex()
    assert response["X-Request-ID"] == rid
    records = [r for r in caplog.records if r.name == "hub.access"]
    assert records, "no access log line"
    RequestIdFilter().filter(records[-1])
    line = json.loads(formatter.format(records[-1]))
    assert line["request_id"] == rid
    assert line["route"] == "/healthz" and line["status"] == 200 and "duration_ms" in line
    assert set(line) >= {"ts", "level", "logger", "msg", "pid"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("socket_env")
async def test_socket_log_lines_carry_the_connections_request_id(world: World, caplog: Any) -> None:
    from channels.testing import WebsocketCommunicator

    from hub.asgi import application

    headers = [(b"authorization", f"Bearer {world.member.token}".encode()), (b"x-request-id", b"sock-42")]
    with caplog.at_level(logging.INFO, logger="hub.access"):
        comm = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await comm.connect(timeout=10)
        assert connected
        await comm.disconnect()
    lines = [r for r in caplog.records if r.name == "hub.access" and r.getMessage().startswith("WS /ws/")]
    assert [r.getMessage() for r in lines] == ["WS /ws/ open", "WS /ws/ closed"]
    for record in lines:
        RequestIdFilter().filter(record)
        assert json.loads(JsonFormatter().format(record))["request_id"] == "sock-42"


def test_socket_request_id_comes_from_the_upgrade_header() -> None:
    assert metrics.request_id_from_headers([(b"X-Request-ID", b"abc-123")]) == "abc-123"
    generated = metrics.request_id_from_headers([(b"x-request-id", b"bad\nvalue")])
    assert len(generated) == 32 and generated.isalnum()


def test_text_format_is_switchable() -> None:
    from hub.logging import logging_config

    text = logging_config("text", "INFO")
    assert "request_id" in text["formatters"]["main"]["format"]  # type: ignore[index]
    assert logging_config("json", "INFO")["formatters"]["main"] == {"()": "hub.logging.JsonFormatter"}  # type: ignore[index]
    with pytest.raises(ValueError, match="HUB_LOG_FORMAT"):
        logging_config("xml", "INFO")
