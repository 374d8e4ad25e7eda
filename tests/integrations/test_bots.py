"""Bots created by admins: a token shown once, the full HTTP API and /ws/ — but only inside
the conversations the bot was added to (the scope is one rule, messaging.access.is_bot)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from hub.models import ApiToken, AuditEvent
from tests.conftest import ApiClient, Persona, World
from tests.messaging.helpers_http import create_conversation
from tests.messaging.socket_client import connect, send_http, socket_env  # noqa: F401  (fixture)


def make_bot(world: World, name: str = "订单助手") -> Persona:
    res = world.api(world.admin).post(f"/api/v1/workspaces/{world.workspace.pk}/bots", {"name": name})
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["token"].startswith("xwh_") and body["name"] == name
    from hub.models import User

    return Persona(user=User.objects.get(pk=body["id"]), token=body["token"])


def test_only_admins_create_bots_and_the_token_is_shown_once(world: World) -> None:
    for who in (world.member, world.guest, world.outsider):
        res = world.api(who).post(f"/api/v1/workspaces/{world.workspace.pk}/bots", {"name": "x"})
        assert res.status_code in (403, 404)
    bot = make_bot(world)
    listed = world.api(world.admin).get(f"/api/v1/workspaces/{world.workspace.pk}/bots").json()["bots"]
    assert listed == [{"id": bot.user.pk, "name": "订单助手", "active": True}]
    assert bot.user.is_bot and not bot.user.has_usable_password()
    assert ApiToken.objects.get(user=bot.user).key_hash == ApiToken.hash_key(bot.token)
    assert AuditEvent.objects.filter(action="bot.create", workspace=world.workspace).exists()


def test_bot_token_is_scoped_to_the_conversations_it_is_in(world: World) -> None:
    bot = make_bot(world)
    api = ApiClient(bot)
    inside = create_conversation(world, world.owner, "private", "订单", member_ids=[world.member.user.pk])
    public = create_conversation(world, world.owner, "public", "公告")
    # Not added yet: even a public channel (which any staff member may read) is invisible.
    assert api.get(f"/api/v1/conversations/{public}/messages").status_code == 404
    assert api.get(f"/api/v1/conversations/{inside}/messages").status_code == 404
    res = world.api(world.owner).post(f"/api/v1/conversations/{inside}/members", {"user_ids": [bot.user.pk]})
    assert res.status_code in (200, 201), res.content
    sent = api.post(
        f"/api/v1/conversations/{inside}/messages", {"body": "订单 SO-1 已发货", "client_id": str(uuid.uuid4())}
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["sender_is_bot"] is True
    assert api.get(f"/api/v1/conversations/{inside}/messages").status_code == 200
    assert api.get(f"/api/v1/conversations/{public}/messages").status_code == 404
    assert api.post(f"/api/v1/conversations/{public}/join", {}).status_code in (403, 404)
    listed = api.get("/api/v1/conversations", workspace=world.workspace.pk).json()
    assert {c["id"] for c in listed} == {inside}


def test_rotating_and_deactivating_stop_old_tokens(world: World) -> None:
    bot = make_bot(world)
    base = f"/api/v1/workspaces/{world.workspace.pk}/bots/{bot.user.pk}"
    rotated = world.api(world.admin).post(f"{base}/token").json()["token"]
    assert ApiClient(bot).get("/api/v1/me").status_code == 401
    assert ApiClient(Persona(bot.user, rotated)).get("/api/v1/me").status_code == 200
    assert world.api(world.member).delete(base).status_code == 403
    assert world.api(world.admin).delete(base).status_code == 204
    assert ApiClient(Persona(bot.user, rotated)).get("/api/v1/me").status_code == 401
    actions = set(AuditEvent.objects.filter(action__startswith="bot.").values_list("action", flat=True))
    assert actions == {"bot.create", "bot.token_rotate", "bot.deactivate"}


def test_built_in_and_webhook_bots_are_not_manageable_as_apps(world: World) -> None:
    from hub.bots import ASSISTANT, ensure_bot

    assistant = ensure_bot(world.workspace, ASSISTANT)
    res = world.api(world.admin).post(f"/api/v1/workspaces/{world.workspace.pk}/bots/{assistant.user_id}/token")
    assert res.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("socket_env")
async def test_bot_socket_streams_only_its_conversations(world: World) -> None:
    bot = await database_sync_to_async(make_bot)(world)

    @database_sync_to_async
    def setup() -> tuple[int, int]:
        inside = create_conversation(
            world, world.owner, "private", "订单", member_ids=[world.member.user.pk, bot.user.pk]
        )
        public = create_conversation(world, world.owner, "public", "公告", member_ids=[world.member.user.pk])
        return inside, public

    inside, public = await setup()
    sock = await connect(bot)
    assert {c["id"] for c in sock.ready["conversations"]} == {inside}
    await send_http(world.member, public, "公告内容")
    await send_http(world.member, inside, "请发货")
    frame: dict[str, Any] = await sock.expect("message.new")
    assert frame["conversation_id"] == inside and frame["message"]["body"] == "请发货"
    # Asking to replay a public channel it is not in: "not found", and nothing from it.
    await sock.send({"type": "sync", "cursors": {str(public): 0}})
    seen = await sock.until(lambda f: f["type"] == "sync.done")
    assert [f["type"] for f in seen] == ["error", "sync.done"] and seen[0]["code"] == "not_found"
    assert seen[1]["cursors"] == {}
    await sock.close()


def test_people_set_the_mobile_number_robots_mention_them_by(world: World) -> None:
    api = world.api(world.member)
    assert api.patch("/api/v1/me", {"mobile": "+86 138-0013-8000"}).json()["mobile"] == "13800138000"
    res = api.patch("/api/v1/me", {"mobile": "12"})
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_mobile"
    assert api.patch("/api/v1/me", {"mobile": ""}).json()["mobile"] == ""


def test_a_bot_token_cannot_found_or_join_another_workspace(world: World) -> None:
    bot = make_bot(world)
    res = ApiClient(bot).post("/api/v1/workspaces", {"name": "逃逸公司"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "bot_not_allowed"
    invite = world.api(world.outsider).post(
        f"/api/v1/workspaces/{world.other_workspace.pk}/invitations", {"role": "member", "max_uses": 5}
    )
    assert invite.status_code == 201, invite.content
    token = invite.json()["url"].rstrip("/").rsplit("/", 1)[1]
    res = ApiClient(bot).post(f"/api/v1/invitations/{token}/accept")
    assert res.status_code == 403 and res.json()["error"]["code"] == "bot_not_allowed"
