"""Slash commands served by external apps (Slack-style): the signed form POST, immediate
ephemeral and in-channel replies, the acknowledgement deadline, delayed replies through
response_url (30 minutes, a few uses), registration rules and audit."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client
from django.utils import timezone

from hub.models import AuditEvent
from messaging.events import user_group
from messaging.integrations.models import CommandInvocation
from messaging.integrations.signing import verify_hub_signature
from messaging.models import Message
from tests.conftest import World
from tests.integrations.conftest import path_of
from tests.integrations.receiver import Receiver, Script
from tests.integrations.test_bots import make_bot
from tests.messaging.helpers_http import create_conversation, error_code


@pytest.fixture
def deploy(world: World, app_server: Receiver) -> dict[str, Any]:
    bot = make_bot(world, "发布系统")
    res = world.api(world.admin).post(
        f"/api/v1/workspaces/{world.workspace.pk}/app-commands",
        {
            "bot_id": bot.user.pk,
            "name": "/deploy",
            "url": app_server.url + "cmd",
            "usage": "/deploy <环境>",
            "description": "发布到指定环境",
        },
    )
    assert res.status_code == 201, res.content
    conv = create_conversation(world, world.owner, "public", "发布", member_ids=[world.member.user.pk])
    return {**res.json(), "conv": conv}


def run(world: World, conv: int, text: str) -> Any:
    return world.api(world.member).post(
        f"/api/v1/conversations/{conv}/commands", {"text": text, "client_id": str(uuid.uuid4())}
    )


def form_of(server: Receiver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(server.requests[-1].body.decode()).items()}


def test_ephemeral_reply_and_the_signed_form(world: World, deploy: dict[str, Any], app_server: Receiver) -> None:
    app_server.script = Script(body=json.dumps({"text": "*开始部署* prod"}).encode(), content_type="application/json")
    res = run(world, deploy["conv"], "/deploy prod")
    assert res.status_code == 200, res.content
    assert res.json()["visibility"] == "ephemeral" and res.json()["text"] == "**开始部署** prod"
    form = form_of(app_server)
    assert form["token"] == deploy["token"] and form["command"] == "/deploy" and form["text"] == "prod"
    assert form["team_id"] == str(world.workspace.pk) and form["channel_id"] == str(deploy["conv"])
    assert form["user_id"] == str(world.member.user.pk) and form["response_url"].startswith(
        "http://testserver/hooks/commands/"
    )
    received = app_server.requests[-1]
    assert verify_hub_signature(deploy["signing_secret"], received.body, received.headers["x-hub-signature"])
    assert Message.objects.filter(conversation_id=deploy["conv"]).count() == 0  # ephemeral: nothing stored


def test_in_channel_reply_is_posted_with_credit(world: World, deploy: dict[str, Any], app_server: Receiver) -> None:
    body = {"response_type": "in_channel", "text": "部署完成 :tada:", "blocks": [{"type": "divider"}]}
    app_server.script = Script(body=json.dumps(body).encode(), content_type="application/json")
    res = run(world, deploy["conv"], "/deploy staging")
    assert res.json()["visibility"] == "in_channel"
    message = res.json()["message"]
    assert message["sender_is_bot"] and message["body"] == "部署完成 :tada:"
    assert message["blocks"][-1] == {"type": "context", "text": "张三 · /deploy staging"}


def test_plain_text_and_empty_acknowledgements(world: World, deploy: dict[str, Any], app_server: Receiver) -> None:
    app_server.script = Script(body="收到".encode())
    assert run(world, deploy["conv"], "/deploy a").json()["text"] == "收到"
    app_server.script = Script(body=b"")
    assert "发布系统" in run(world, deploy["conv"], "/deploy a").json()["text"]
    app_server.script = Script(status=500)
    assert "HTTP 500" in run(world, deploy["conv"], "/deploy a").json()["text"]


def test_slow_app_then_a_late_reply_through_response_url(
    world: World, deploy: dict[str, Any], app_server: Receiver, settings: Any
) -> None:
    settings.HUB_APP_COMMAND_TIMEOUT_MS = 200
    app_server.script = Script(delay=1.0)
    res = run(world, deploy["conv"], "/deploy prod")
    assert res.json()["visibility"] == "ephemeral" and "没有及时响应" in res.json()["text"]
    response_url = form_of(app_server)["response_url"]
    late = Client().post(
        path_of(response_url), {"response_type": "in_channel", "text": "*部署完成*"}, content_type="application/json"
    )
    assert (late.status_code, late.content) == (200, b"ok")
    posted = Message.objects.filter(conversation_id=deploy["conv"]).latest("id")
    assert posted.body == "**部署完成**" and posted.sender.is_bot


def test_delayed_ephemeral_reply_reaches_only_the_person(
    world: World, deploy: dict[str, Any], app_server: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    run(world, deploy["conv"], "/deploy prod")
    response_url = form_of(app_server)["response_url"]
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(world.member.user.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        res = Client().post(path_of(response_url), {"text": "只有你能看到"}, content_type="application/json")
    assert res.status_code == 200
    frame = async_to_sync(layer.receive)(channel)["frame"]
    assert (
        frame["type"] == "command.reply"
        and frame["text"] == "只有你能看到"
        and frame["conversation_id"] == deploy["conv"]
    )
    assert Message.objects.filter(conversation_id=deploy["conv"]).count() == 0


def test_response_url_expires_and_is_limited(world: World, deploy: dict[str, Any], app_server: Receiver) -> None:
    run(world, deploy["conv"], "/deploy prod")
    url = path_of(form_of(app_server)["response_url"])
    post = lambda body: Client().post(url, body, content_type="application/json")  # noqa: E731
    assert (post("not json").status_code, post("not json").content) == (400, b"invalid_payload")
    for _ in range(5):
        assert post({"text": "进度"}).status_code == 200
    assert post({"text": "进度"}).content == b"used_url"
    CommandInvocation.objects.update(responses=0, expires_at=timezone.now() - timedelta(seconds=1))
    assert post({"text": "迟到"}).content == b"expired_url"
    assert Client().post("/hooks/commands/nope", {"text": "x"}, content_type="application/json").status_code == 404


def test_registration_rules_listing_and_revocation(world: World, deploy: dict[str, Any]) -> None:
    ws = world.workspace.pk
    listed = world.api(world.member).get(f"/api/v1/workspaces/{ws}/commands").json()["commands"]
    assert {"name": "deploy", "usage": "/deploy <环境>", "summary": "发布到指定环境"} in listed
    bot_id = deploy["bot_user_id"]
    clash = world.api(world.admin).post(
        f"/api/v1/workspaces/{ws}/app-commands", {"bot_id": bot_id, "name": "help", "url": "http://127.0.0.1/"}
    )
    assert clash.status_code == 409
    bad = world.api(world.admin).post(
        f"/api/v1/workspaces/{ws}/app-commands", {"bot_id": bot_id, "name": "坏 名", "url": "http://127.0.0.1/"}
    )
    assert bad.status_code == 400 and error_code(bad) == "invalid_name"
    assert (
        world.api(world.member)
        .post(f"/api/v1/workspaces/{ws}/app-commands", {"bot_id": bot_id, "name": "x", "url": "http://127.0.0.1/"})
        .status_code
        == 403
    )
    assert world.api(world.admin).delete(f"/api/v1/app-commands/{deploy['id']}").status_code == 204
    assert run(world, deploy["conv"], "/deploy prod").status_code == 404
    actions = set(AuditEvent.objects.filter(action__startswith="app_command.").values_list("action", flat=True))
    assert actions == {"app_command.register", "app_command.revoke"}
