"""Outgoing events for bots: signed JSON to the app's URL for messages, mentions, reactions
and joins in the bot's conversations; retries with doubling back-off; a delivery log; auto-
disable after repeated failure with a notice to the owner; the SSRF guard."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hub.models import AuditEvent
from messaging.integrations import outgoing
from messaging.integrations.models import Delivery, EventSubscription
from messaging.integrations.signing import verify_hub_signature
from messaging.models import Conversation, Message
from tests.conftest import World
from tests.integrations.receiver import Receiver, Script
from tests.integrations.test_bots import make_bot
from tests.messaging.helpers_http import create_conversation, error_code, send

ALL_EVENTS = ["message", "app_mention", "reaction", "member_joined"]


@pytest.fixture
def setup(world: World, app_server: Receiver) -> dict[str, Any]:
    bot = make_bot(world, "工单机器人")
    conv = create_conversation(world, world.owner, "private", "工单", member_ids=[world.member.user.pk, bot.user.pk])
    res = world.api(world.admin).post(
        f"/api/v1/workspaces/{world.workspace.pk}/bots/{bot.user.pk}/subscriptions",
        {"url": app_server.url + "events", "events": ALL_EVENTS},
    )
    assert res.status_code == 201, res.content
    return {"bot": bot, "conv": conv, "subscription": res.json()}


def bodies(server: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.requests]


def test_events_arrive_signed(
    world: World, setup: dict[str, Any], app_server: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    secret = setup["subscription"]["secret"]
    conv, bot = setup["conv"], setup["bot"]
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, world.member, conv, "@工单机器人 新工单：打印机坏了")
    got = bodies(app_server)
    assert [b["type"] for b in got] == ["message", "app_mention"]
    assert got[0]["event"]["message"]["id"] == message["id"] and got[0]["bot_user_id"] == bot.user.pk
    for received in app_server.requests:
        assert verify_hub_signature(secret, received.body, received.headers["x-hub-signature"])
        assert not verify_hub_signature("wrong", received.body, received.headers["x-hub-signature"])
        assert not verify_hub_signature(secret, received.body + b" ", received.headers["x-hub-signature"])
        assert received.headers["x-hub-delivery"] in {b["id"] for b in got}
    with django_capture_on_commit_callbacks(execute=True):
        world.api(world.member).post(f"/api/v1/messages/{message['id']}/reactions", {"emoji": "👍"})
        world.api(world.owner).post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.member2.user.pk]})
        # The bot's own posts are not sent back to it.
        from tests.conftest import ApiClient

        ApiClient(bot).post(
            f"/api/v1/conversations/{conv}/messages", {"body": "已受理", "client_id": str(uuid.uuid4())}
        )
    assert [b["type"] for b in bodies(app_server)][2:] == ["reaction", "member_joined"]
    log = world.api(world.admin).get(f"/api/v1/subscriptions/{setup['subscription']['id']}/deliveries").json()
    assert [d["status"] for d in log["deliveries"]] == ["succeeded"] * 4
    assert all(d["attempts"] == 1 and d["last_status_code"] == 200 for d in log["deliveries"])


def test_replay_window_rejects_old_signatures() -> None:
    from messaging.integrations.signing import hub_signature

    old = hub_signature("s", b"{}", timestamp=int(timezone.now().timestamp()) - 600)
    assert not verify_hub_signature("s", b"{}", old)
    assert verify_hub_signature("s", b"{}", hub_signature("s", b"{}"))
    assert not verify_hub_signature("s", b"{}", "garbage")


def test_failures_retry_with_doubling_back_off(
    world: World, setup: dict[str, Any], app_server: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HUB_OUTGOING_RETRY_SECONDS = 10
    settings.HUB_OUTGOING_MAX_ATTEMPTS = 3
    app_server.script = Script(status=500)
    subscription = EventSubscription.objects.get(pk=setup["subscription"]["id"])
    subscription.events = ["message"]
    subscription.save()
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "会失败")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert timedelta(seconds=8) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=10)
    assert outgoing.deliver_due() == 0  # not due yet
    assert outgoing.deliver_due(timezone.now() + timedelta(seconds=11)) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert timedelta(seconds=18) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=20)  # doubled
    app_server.script = Script(status=204)
    assert outgoing.deliver_due(timezone.now() + timedelta(seconds=21)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert len({r.headers["x-hub-delivery"] for r in app_server.requests}) == 1  # same id on every retry
    assert EventSubscription.objects.get(pk=subscription.pk).failure_streak == 0


def test_gives_up_after_the_last_attempt(
    world: World, setup: dict[str, Any], app_server: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HUB_OUTGOING_MAX_ATTEMPTS = 2
    app_server.script = Script(status=404)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "x")
    outgoing.deliver_due(timezone.now() + timedelta(hours=1))
    assert list(Delivery.objects.values_list("status", "attempts")) == [("failed", 2)]
    log = world.api(world.admin).get(f"/api/v1/subscriptions/{setup['subscription']['id']}/deliveries", status="failed")
    assert log.json()["deliveries"][0]["last_error"] == "HTTP 404"


def test_repeated_failure_disables_and_tells_the_owner(
    world: World, setup: dict[str, Any], app_server: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HUB_OUTGOING_DISABLE_AFTER = 3
    app_server.script = Script(status=503)
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, world.member, setup["conv"], f"第 {n} 条")
    subscription = EventSubscription.objects.get(pk=setup["subscription"]["id"])
    assert subscription.active is False and subscription.disabled_at is not None
    assert not Delivery.objects.filter(status="pending").exists()
    # The owner (the admin who created it) has a DM from the assistant saying so.
    dm = Conversation.objects.get(kind="dm", participants__user=world.admin.user)
    notice = Message.objects.filter(conversation=dm).latest("id")
    assert notice.sender.is_bot and "事件订阅已自动停用" in notice.body and app_server.url in notice.body
    assert AuditEvent.objects.filter(action="subscription.auto_disable").count() == 1
    before = len(app_server.requests)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "停用后")
    assert len(app_server.requests) == before  # nothing is sent while disabled
    enabled = world.api(world.admin).post(f"/api/v1/subscriptions/{subscription.pk}/enable").json()
    assert enabled["active"] is True and enabled["failure_streak"] == 0


def test_ssrf_guard_refuses_private_urls(world: World, settings: Any) -> None:
    settings.HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    bot = make_bot(world)
    path = f"/api/v1/workspaces/{world.workspace.pk}/bots/{bot.user.pk}/subscriptions"
    for url in (
        "http://example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest",
    ):
        res = world.api(world.admin).post(path, {"url": url, "events": ["message"]})
        assert res.status_code == 400, url
        assert error_code(res) in ("invalid_url", "url_not_public")


def test_a_url_that_turns_private_is_not_called(
    world: World, setup: dict[str, Any], app_server: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS = False  # as if DNS now pointed the host at loopback
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "x")
    assert app_server.requests == []
    assert "loopback or private" in Delivery.objects.get(event_type="message").last_error


def test_subscription_management_permissions(world: World, setup: dict[str, Any]) -> None:
    sub = setup["subscription"]["id"]
    for who in (world.member, world.guest):
        assert world.api(who).get(f"/api/v1/subscriptions/{sub}/deliveries").status_code == 403
    assert world.api(world.outsider).get(f"/api/v1/subscriptions/{sub}/deliveries").status_code == 404
    listed = world.api(world.admin).get(f"/api/v1/workspaces/{world.workspace.pk}/subscriptions").json()
    assert [s["id"] for s in listed["subscriptions"]] == [sub] and "secret" not in listed["subscriptions"][0]
    bad = world.api(world.admin).post(
        f"/api/v1/workspaces/{world.workspace.pk}/bots/{setup['bot'].user.pk}/subscriptions",
        {"url": "http://127.0.0.1/", "events": ["everything"]},
    )
    assert bad.status_code == 422
    assert world.api(world.admin).delete(f"/api/v1/subscriptions/{sub}").status_code == 204
    actions = set(AuditEvent.objects.filter(action__startswith="subscription.").values_list("action", flat=True))
    assert actions == {"subscription.create", "subscription.delete"}


def test_the_periodic_sweep_retries_overdue_deliveries(
    world: World, setup: dict[str, Any], app_server: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from hub.periodic import periodic_jobs

    assert outgoing.sweep_due_deliveries.module_path in {job.path for job in periodic_jobs()}
    app_server.script = Script(status=502)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "x")
    app_server.script = Script(status=200)
    assert outgoing.sweep_due_deliveries.call() == 0  # due in 30 s: the deferred job's turn
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    assert outgoing.sweep_due_deliveries.call() == 1
    assert Delivery.objects.get().status == "succeeded"


def test_a_name_that_turns_private_at_connection_time_is_blocked(
    world: World,
    setup: dict[str, Any],
    app_server: Receiver,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """DNS rebinding: the host passed the check, then resolves to loopback when connecting."""
    from messaging.integrations import netguard

    settings.HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    settings.HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = False
    monkeypatch.setattr(netguard, "check_host", lambda host: None)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, setup["conv"], "x")
    assert app_server.requests == []
    assert Delivery.objects.get(event_type="message").last_error.startswith("ConnectionError")
