"""``/ws/`` and access changes while connected: unshare, removal, deactivation and token
revocation take effect on open sockets at once."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from hub import actions as hub_actions
from hub.models import ApiToken, Member
from messaging import actions
from messaging.models import Conversation
from messaging.protocol import CLOSE_FORBIDDEN
from tests.conftest import World
from tests.messaging.socket_client import (
    TIMEOUT,
    Socket,
    communicator,
    connect,
    create_conversation,
    member_of,
    send_http,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


async def _browser_socket(world: World) -> Socket:
    """The member's socket signed in by session cookie (a browser), beside their token sockets."""

    def login() -> str:
        client = Client()
        assert client.login(email=world.member.user.email, password="pw-Secret-123")
        return client.cookies["sessionid"].value

    cookie = await database_sync_to_async(login)()
    browser_comm = communicator(cookie=cookie, origin=True)
    assert (await browser_comm.connect(timeout=TIMEOUT))[0]
    browser = Socket(browser_comm)
    await browser.expect("ready")
    return browser


async def _closed(sock: Socket) -> int | None:
    frames = await sock.until(lambda f: f["type"] == "__closed__")
    return frames[-1]["code"]


async def test_unshare_removes_the_channel_from_guest_sockets_at_once(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await set_shared(world.owner, conv, world.customer, True)
    guest = await connect(world.guest)
    staff = await connect(world.owner)
    sent = await send_http(world.owner, conv, "报价单")
    assert (await guest.expect("message.new"))["seq"] == sent["seq"]
    await set_shared(world.owner, conv, world.customer, False)
    frames = await guest.until(lambda f: f["type"] == "conversation.removed")
    assert frames[-1]["conversation_id"] == conv
    # The log entries about the unshare itself were still theirs to see; nothing after.
    assert [f["type"] for f in frames[:-1]] == ["conversation.unshared", "member.left"]
    await send_http(world.owner, conv, "内部讨论")
    assert await guest.silent()
    await guest.send({"type": "typing", "conversation_id": conv})
    assert (await guest.expect("error"))["code"] == "not_found"
    await guest.send({"type": "sync", "cursors": {str(conv): 0}})
    assert (await guest.expect("error"))["code"] == "not_found"
    # Staff keep streaming it.
    staff_frames = await staff.until(lambda f: f.get("message", {}).get("body") == "内部讨论")
    assert "conversation.removed" not in [f["type"] for f in staff_frames]
    await guest.close()
    await staff.close()


async def test_share_while_connected_adds_the_channel(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    guest = await connect(world.guest)
    assert guest.ready["conversations"] == []
    await set_shared(world.owner, conv, world.customer, True)
    added = await guest.until(lambda f: f["type"] == "conversation.added")
    assert added[-1]["conversation_id"] == conv
    sent = await send_http(world.owner, conv, "欢迎西湖茶馆")
    live = await guest.expect("message.new")
    assert (live["seq"], live["message"]["body"]) == (sent["seq"], "欢迎西湖茶馆")
    await guest.close()


async def test_removal_from_private_channel_unsubscribes(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.member,))
    sock = await connect(world.member)

    def remove() -> None:
        actions.check_remove_member(
            member_of(world.owner, world.workspace.pk), Conversation.objects.get(pk=conv), world.member.user.pk
        )

    await database_sync_to_async(remove)()
    frames = await sock.until(lambda f: f["type"] == "conversation.removed")
    assert frames[-1]["conversation_id"] == conv
    await send_http(world.owner, conv, "他看不到")
    assert await sock.silent()
    await sock.close()


async def test_deactivated_member_socket_closes_4403(world: World) -> None:
    sock = await connect(world.member)

    def deactivate() -> None:
        hub_actions.do_deactivate_member(
            member_of(world.owner, world.workspace.pk), member_of(world.member, world.workspace.pk)
        )

    await database_sync_to_async(deactivate)()
    assert await _closed(sock) == CLOSE_FORBIDDEN


async def test_losing_one_of_two_workspaces_closes_4403(world: World) -> None:
    def join_other() -> None:
        Member.objects.create(workspace=world.other_workspace, user=world.member.user, role=Member.Role.MEMBER)

    await database_sync_to_async(join_other)()
    sock = await connect(world.member)
    assert sock.ready["workspace_ids"] == sorted([world.workspace.pk, world.other_workspace.pk])

    def deactivate() -> None:
        hub_actions.do_deactivate_member(
            member_of(world.outsider, world.other_workspace.pk), member_of(world.member, world.other_workspace.pk)
        )

    await database_sync_to_async(deactivate)()
    assert await _closed(sock) == CLOSE_FORBIDDEN
    again = await connect(world.member)  # reconnecting gets what remains
    assert again.ready["workspace_ids"] == [world.workspace.pk]
    await again.close()


async def test_revoked_token_closes_only_that_tokens_socket(world: World) -> None:
    browser = await _browser_socket(world)
    bot = await connect(world.member)

    def revoke() -> None:
        token = ApiToken.objects.get(key_hash=ApiToken.hash_key(world.member.token))
        hub_actions.do_revoke_api_token(world.member.user, token)

    await database_sync_to_async(revoke)()
    assert await _closed(bot) == CLOSE_FORBIDDEN
    await browser.send({"type": "ping", "t": "still here"})
    assert (await browser.expect("pong"))["t"] == "still here"
    await browser.close()


async def test_deactivated_user_loses_every_socket(world: World) -> None:
    browser = await _browser_socket(world)
    bot = await connect(world.member)

    def deactivate() -> None:
        hub_actions.do_deactivate_user(world.owner.user, world.member.user)

    await database_sync_to_async(deactivate)()
    assert await _closed(bot) == CLOSE_FORBIDDEN
    assert await _closed(browser) == CLOSE_FORBIDDEN


async def test_access_changed_for_a_still_readable_conversation_changes_nothing(world: World) -> None:
    from channels.layers import get_channel_layer

    conv = await create_conversation(world.owner, world.workspace.pk, "private", "x", (world.member,))
    sock = await connect(world.member)
    message: dict[str, Any] = {"type": "access.changed", "workspace_id": world.workspace.pk, "conversation_id": conv}
    await get_channel_layer().group_send(f"user.{world.member.user.pk}", message)
    await sock.send({"type": "ping"})
    assert (await sock.expect("pong"))["type"] == "pong"
    sent = await send_http(world.owner, conv, "照常")
    assert (await sock.expect("message.new"))["seq"] == sent["seq"]
    await sock.close()


async def test_added_to_private_channel_or_joining_public_starts_streaming(world: World) -> None:
    private = await create_conversation(world.owner, world.workspace.pk, "private", "新项目", (world.admin,))
    public = await create_conversation(world.owner, world.workspace.pk, "public", "大厅")
    sock = await connect(world.member)
    assert sock.ready["conversations"] == []

    def add_and_join() -> None:
        actions.check_add_members(
            member_of(world.owner, world.workspace.pk), Conversation.objects.get(pk=private), [world.member.user.pk]
        )
        actions.check_join_conversation(
            member_of(world.member, world.workspace.pk), Conversation.objects.get(pk=public)
        )

    await database_sync_to_async(add_and_join)()
    added = [
        f for f in await sock.until(lambda f: f.get("conversation_id") == public and f["type"] == "conversation.added")
    ]
    assert [f["conversation_id"] for f in added if f["type"] == "conversation.added"] == [private, public]
    sent = await send_http(world.admin, private, "欢迎")
    assert (await sock.expect("message.new"))["seq"] == sent["seq"]
    await sock.close()


@pytest.mark.parametrize("kind", ["dm", "group"])
async def test_a_new_dm_or_group_appears_live_for_its_members(world: World, kind: str) -> None:
    member_sock = await connect(world.member)
    assert member_sock.ready["conversations"] == []
    others = (world.member,) if kind == "dm" else (world.member, world.member2)
    conv = await create_conversation(world.owner, world.workspace.pk, kind, "", others)
    added = await member_sock.until(lambda f: f["type"] == "conversation.added")
    assert added[-1]["conversation_id"] == conv
    sent = await send_http(world.owner, conv, "新建的群聊")
    live = await member_sock.expect("message.new")
    assert (live["conversation_id"], live["seq"]) == (conv, sent["seq"])
    await member_sock.close()
