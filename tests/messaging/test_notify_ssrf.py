"""Server-side request forgery: with HUB_NOTIFY_ALLOW_PRIVATE_TARGETS off (the default), targets
and push endpoints may only be public hosts — refused when saved, and blocked again at
connection time (DNS answers change; apprise builds its own URLs)."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from messaging.delivery import netguard, pipeline
from messaging.delivery.models import ForwardTarget, NotifyDelivery
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, send
from tests.messaging.notify_receivers import Receiver, add_target, receiver_fixture  # noqa: F401

PRIVATE_URLS = [
    "https://127.0.0.1/cgi-bin/webhook/send?key=x",
    "https://localhost:8443/robot/send",
    "https://10.1.2.3/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.5/hook",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fd00::1]/hook",
    "https://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_robot_urls_are_refused(world: World, url: str) -> None:
    res = world.api(world.member).post("/api/v1/me/notify/targets", {"kind": "wecom", "url": url})
    assert res.status_code == 400, res.content
    assert error_code(res) == "target_not_public"
    assert not ForwardTarget.objects.exists()


@pytest.mark.parametrize(
    "url", ["json://127.0.0.1:8080/x", "mmost://localhost/key123", "ntfy://10.0.0.8/topic", "jsons://[::1]/x"]
)
def test_private_apprise_urls_are_refused(world: World, url: str) -> None:
    res = world.api(world.member).post("/api/v1/me/notify/targets", {"kind": "apprise", "url": url})
    assert res.status_code == 400, res.content
    assert error_code(res) == "target_not_public"


def test_plain_http_is_refused_for_public_hosts_too(world: World) -> None:
    res = world.api(world.member).post("/api/v1/me/notify/targets", {"kind": "dingtalk", "url": "http://8.8.8.8/x"})
    assert res.status_code == 400 and error_code(res) == "invalid_url"
    assert "https://" in res.json()["error"]["message"]


def test_private_push_endpoints_are_refused(world: World) -> None:
    body = {"endpoint": "https://169.254.169.254/push", "keys": {"p256dh": "x", "auth": "y"}}
    res = world.api(world.member).post("/api/v1/me/notify/push/subscriptions", body)
    assert res.status_code == 400 and error_code(res) == "target_not_public"


def test_public_hosts_are_accepted(world: World) -> None:
    """IP literals need no DNS (the test machine has no internet); a name that does not
    resolve is accepted too: the connection-time guard decides later."""
    for url in ["https://8.8.8.8/cgi-bin/webhook/send?key=k", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"]:
        res = world.api(world.member).post("/api/v1/me/notify/targets", {"kind": "wecom", "url": url})
        assert res.status_code == 201, res.content
    masked = list(ForwardTarget.objects.order_by("pk").values_list("masked", flat=True))
    assert masked == ["8.8.8.8…ey=k", "qyapi.weixin.qq.com…ey=k"]


def test_guard_blocks_at_connection_time(world: World, receiver: Receiver, settings: Any) -> None:
    """Saved while private targets were allowed (or via a DNS answer that changed since):
    the delivery never connects, and says why."""
    settings.HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = True
    conv = create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])
    add_target(world, world.member, "wecom", receiver.url("/r/send?key=abc123456"))
    add_target(world, world.member, "apprise", f"json://127.0.0.1:{receiver.port}/apprise-path")
    settings.HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = False
    send(world, world.owner, conv, "@张三 hi")
    assert pipeline.run_due(timezone.now() + timedelta(seconds=30)) == 0
    assert receiver.requests == []
    errors = sorted(NotifyDelivery.objects.values_list("status", "last_error"))
    assert [status for status, _ in errors] == ["failed", "failed"]  # permanent: no retries
    assert all("not a public address" in error for _, error in errors)
    # The "send test" button says the same.
    target = ForwardTarget.objects.filter(kind="wecom").get()
    res = world.api(world.member).post(f"/api/v1/me/notify/targets/{target.pk}/test")
    assert res.json()["ok"] is False and "not a public address" in res.json()["detail"]


def test_guard_is_scoped_to_its_block(receiver: Receiver, settings: Any) -> None:
    settings.HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = False
    with netguard.guarded(), pytest.raises(requests.ConnectionError) as caught:
        requests.post(receiver.url("/x"), json={}, timeout=5)
    assert netguard.was_blocked(caught.value)
    with netguard.guarded(), pytest.raises(socket.gaierror):
        socket.getaddrinfo("localhost", 80)
    # Outside the block the rest of the process resolves and connects as before.
    assert requests.post(receiver.url("/x"), json={}, timeout=5).status_code == 200
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert netguard.is_public_address("8.8.8.8") and not netguard.is_public_address("::ffff:10.0.0.1")
