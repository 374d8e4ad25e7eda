"""Managing incoming webhooks, and the security floor: capability URLs and secrets shown
once and not stored in the clear, revocation, permissions, size and rate limits in each
platform's style, impersonation and markup injection staying inert, the audit log."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from hub.crypto import hash_secret
from hub.models import AuditEvent
from messaging.integrations.models import IncomingWebhook
from tests.conftest import World
from tests.integrations.conftest import post_json
from tests.integrations.test_incoming import last_message, message_count
from tests.messaging.helpers_http import error_code

Hook = Callable[..., dict[str, Any]]


def test_create_list_revoke(world: World, conv: int, make_hook: Hook) -> None:
    created = make_hook("slack", "CI")
    key = created["url"].rsplit("/", 1)[1]
    assert len(key) >= 43  # 256 bits
    listed = world.api(world.owner).get(f"/api/v1/conversations/{conv}/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "url" not in listed[0] and "secret" not in listed[0]  # shown once
    assert post_json(created["url"], {"text": "第一条"}).status_code == 200
    assert world.api(world.owner).delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    # Revoked: stops at once, in Slack's words.
    res = post_json(created["url"], {"text": "第二条"})
    assert (res.status_code, res.content) == (404, b"no_service")
    assert message_count(world, conv) == 1
    assert world.api(world.owner).get(f"/api/v1/conversations/{conv}/webhooks").json()["webhooks"] == []
    actions = list(AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True))
    assert sorted(actions) == ["webhook.create", "webhook.revoke"]


def test_key_and_secret_are_not_stored_in_the_clear(world: World, make_hook: Hook) -> None:
    created = make_hook("feishu")
    key = created["url"].rsplit("/", 1)[1]
    row = IncomingWebhook.objects.get(pk=created["id"])
    assert row.key_hash == hash_secret(key)
    dumped = json.dumps(list(IncomingWebhook.objects.values()), default=str)
    assert key not in dumped and created["secret"] not in dumped
    assert row.secret_sealed  # sealed, readable only with SECRET_KEY


def test_every_kind_has_its_platforms_url_shape(make_hook: Hook) -> None:
    shapes = {
        "slack": "http://testserver/hooks/slack/",
        "mattermost": "http://testserver/hooks/",
        "dingtalk": "http://testserver/robot/send?access_token=",
        "wecom": "http://testserver/cgi-bin/webhook/send?key=",
        "feishu": "http://testserver/open-apis/bot/v2/hook/",
    }
    for kind, prefix in shapes.items():
        assert make_hook(kind)["url"].startswith(prefix), kind


@pytest.mark.parametrize("persona", ["member", "guest", "outsider"])
def test_who_may_manage_webhooks(world: World, conv: int, make_hook: Hook, persona: str) -> None:
    who = getattr(world, persona)
    res = world.api(who).post(f"/api/v1/conversations/{conv}/webhooks", {"kind": "slack", "name": "x"})
    assert res.status_code == (403 if persona == "member" else 404)
    hook = make_hook("slack")
    assert world.api(who).delete(f"/api/v1/webhooks/{hook['id']}").status_code in (403, 404)
    assert world.api(who).get(f"/api/v1/conversations/{conv}/webhooks").status_code in (403, 404)


def test_bad_kind_is_a_clear_error(world: World, conv: int) -> None:
    res = world.api(world.owner).post(f"/api/v1/conversations/{conv}/webhooks", {"kind": "teams", "name": "x"})
    assert res.status_code == 422 and error_code(res) == "invalid_request"


# --- size and rate limits, in each platform's style ------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("slack", lambda r: (r.status_code, r.content) == (413, b"payload_too_large")),
        ("mattermost", lambda r: r.status_code == 413),
        ("dingtalk", lambda r: r.json()["errcode"] == 460101),
        ("wecom", lambda r: r.json()["errcode"] == 45002),
        ("feishu", lambda r: r.json()["code"] == 9499),
    ],
)
def test_oversized_payloads_are_refused(
    world: World, conv: int, make_hook: Hook, settings: Any, kind: str, check: Callable[[Any], bool]
) -> None:
    settings.HUB_WEBHOOK_MAX_BYTES = 1000
    hook = make_hook(kind, signed=False)
    res = post_json(hook["url"], {"text": "大" * 2000, "msgtype": "text", "msg_type": "text"})
    assert check(res), res.content
    assert message_count(world, conv) == 0


@pytest.mark.parametrize(
    ("kind", "body", "check"),
    [
        ("slack", {"text": "x"}, lambda r: (r.status_code, r.content) == (429, b"rate_limited")),
        ("dingtalk", {"msgtype": "text", "text": {"content": "x"}}, lambda r: r.json()["errcode"] == 130101),
        ("wecom", {"msgtype": "text", "text": {"content": "x"}}, lambda r: r.json()["errcode"] == 45009),
        ("feishu", {"msg_type": "text", "content": {"text": "x"}}, lambda r: r.json()["code"] == 11232),
    ],
)
def test_floods_are_rate_limited_per_webhook(
    world: World, conv: int, make_hook: Hook, settings: Any, kind: str, body: Any, check: Callable[[Any], bool]
) -> None:
    settings.HUB_WEBHOOK_PER_MINUTE = 3
    hook, other = make_hook(kind, signed=False), make_hook(kind, "另一个", signed=False)
    answers = [post_json(hook["url"], body) for _ in range(5)]
    assert not any(check(a) for a in answers[:3])
    assert all(check(a) for a in answers[3:])
    assert message_count(world, conv) == 3
    assert not check(post_json(other["url"], body))  # the limit is per webhook


# --- impersonation and markup --------------------------------------------------------------------------


def test_payloads_cannot_impersonate_people_or_inject_markup(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("slack", "监控")
    res = post_json(
        hook["url"],
        {
            "text": "<script>alert(1)</script> <javascript:alert(1)|点我> [x](javascript:alert(2)) "
            "<img src=x onerror=alert(3)>",
            "username": "王老板",
            "icon_url": "https://evil.example.com/boss.png",
            "blocks": [
                {"type": "image", "image_url": "javascript:alert(4)", "alt_text": "x"},
                {"type": "section", "text": {"type": "mrkdwn", "text": '<a href="javascript:alert(5)">y</a>'}},
            ],
        },
    )
    assert res.status_code == 200
    message = last_message(world, conv)
    # The sender is the webhook's bot, not 王老板; the payload's name is only a labelled note.
    assert message["sender_is_bot"] is True and message["sender_id"] != world.owner.user.pk
    assert message["sender_name"] == "监控"
    assert message["blocks"][-1]["text"].startswith("王老板 · 通过 Webhook「监控」")
    # What clients render as HTML: no tags beyond the allow-list, no javascript: links (the
    # text may still *mention* javascript:, as inert text).
    rendered = message["html"] + "".join(b.get("html", "") for b in message["blocks"])
    assert (
        "<script" not in rendered and "<img" not in rendered and "<a href" not in rendered.replace('<a href="http', "")
    )
    assert 'href="javascript' not in rendered and "onerror=alert(3)</p>" in rendered  # escaped text, not an attribute
    assert all(b["type"] != "image" for b in message["blocks"])  # the javascript: image was dropped


def test_broadcast_from_a_robot_in_a_big_channel_stays_inert(world: World, conv: int, make_hook: Hook) -> None:
    world.workspace.broadcast_mention_threshold = 1
    world.workspace.save()
    hook = make_hook("dingtalk", signed=False)
    res = post_json(hook["url"], {"msgtype": "text", "text": {"content": "@all 发布"}, "at": {"isAtAll": True}})
    assert res.json()["errcode"] == 0
    message = last_message(world, conv)
    assert message["body"] == "＠all 发布"


def test_capability_keys_are_not_written_to_the_access_log(make_hook: Hook, caplog: Any) -> None:
    hook = make_hook("slack")
    with caplog.at_level(logging.INFO, logger="hub.access"):
        post_json(hook["url"], {"text": "x"})
    key = hook["url"].rsplit("/", 1)[1]
    assert caplog.records and all(key not in r.getMessage() for r in caplog.records)


def test_archived_conversation_refuses(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("slack")
    assert world.api(world.owner).post(f"/api/v1/conversations/{conv}/archive", {}).status_code in (200, 204)
    res = post_json(hook["url"], {"text": "x"})
    assert (res.status_code, res.content) == (410, b"channel_is_archived")


def test_the_integration_calls_are_in_the_openapi_document(db: Any) -> None:
    from django.test import Client

    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    for call in [
        ("post", "/api/v1/conversations/{conversation_id}/webhooks"),
        ("get", "/api/v1/conversations/{conversation_id}/webhooks"),
        ("delete", "/api/v1/webhooks/{webhook_id}"),
        ("post", "/api/v1/workspaces/{ws}/bots"),
        ("post", "/api/v1/workspaces/{ws}/bots/{bot_id}/subscriptions"),
        ("get", "/api/v1/subscriptions/{subscription_id}/deliveries"),
        ("post", "/api/v1/workspaces/{ws}/app-commands"),
    ]:
        assert call in documented, call


def test_error_log_lines_do_not_quote_capability_keys() -> None:
    from hub.logging import CapabilityFilter, JsonFormatter

    key = "Xze0LtThNl2Ji8aVBevQvsyKCAiCUjRL8som3D71W4Y"
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (f"/hooks/slack/{key}",), None
    )
    record.request = f"<ASGIRequest: POST '/robot/send?access_token={key}'>"
    assert CapabilityFilter().filter(record)
    line = JsonFormatter().format(record)
    assert key not in line and "/hooks/slack/***" in line and "access_token=***" in line
