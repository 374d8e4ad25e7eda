"""``/ws/`` delivery: replay after cursors, live fan-out, acks after commit, idempotent resends,
and the exactly-once-in-order promise when the channel layer loses messages."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from messaging.consumers import socket as socket_module
from messaging.models import Message
from tests.conftest import World
from tests.messaging.socket_client import (
    Socket,
    connect,
    create_conversation,
    send_http,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


def _is_event(conv: int) -> Any:
    return lambda f: f.get("conversation_id") == conv and "seq" in f and f["type"] not in ("subscribed",)


async def _events_until(sock: Socket, conv: int, last_seq: int) -> list[dict[str, Any]]:
    frames = await sock.until(lambda f: f.get("conversation_id") == conv and f.get("seq") == last_seq)
    return [f for f in frames if _is_event(conv)(f)]


async def test_sync_replays_after_cursor_then_streams_live(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "销售", (world.member,))
    sent = [await send_http(world.owner, conv, f"订单 {i}") for i in range(5)]
    sock = await connect(world.member, sync=False)
    cursor = sent[1]["seq"]
    await sock.send({"type": "sync", "cursors": {str(conv): cursor}})
    replayed = [await sock.recv() for _ in range(3)]
    assert [f["seq"] for f in replayed] == [m["seq"] for m in sent[2:]]
    assert [f["message"]["body"] for f in replayed] == ["订单 2", "订单 3", "订单 4"]
    assert all(f["type"] == "message.new" and f["conversation_id"] == conv for f in replayed)
    done = await sock.expect("sync.done")
    assert done["cursors"] == {str(conv): sent[-1]["seq"]}
    live = await send_http(world.owner, conv, "现在")
    frame = await sock.expect("message.new")
    assert frame["seq"] == live["seq"] == sent[-1]["seq"] + 1
    await sock.close()


async def test_sync_cursor_from_the_future_is_clamped(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "x", (world.member,))
    sock = await connect(world.member, sync=False)
    await sock.send({"type": "sync", "cursors": {str(conv): 10_000}})
    done = await sock.expect("sync.done")
    assert done["cursors"] == {str(conv): 1}  # conversation.created is seq 1
    sent = await send_http(world.owner, conv, "still delivered")
    assert (await sock.expect("message.new"))["seq"] == sent["seq"]
    await sock.close()


async def test_sync_of_unreadable_or_unknown_conversation_is_not_found(world: World) -> None:
    private = await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.admin,))
    foreign = await create_conversation(world.outsider, world.other_workspace.pk, "public", "theirs")
    sock = await connect(world.member)
    await sock.send({"type": "sync", "cursors": {str(private): 0, str(foreign): 0, "999999": 0}})
    errors = [await sock.expect("error") for _ in range(3)]
    assert {e["conversation_id"] for e in errors} == {private, foreign, 999999}
    assert {e["code"] for e in errors} == {"not_found"}
    assert len({e["message"] for e in errors}) == 1  # the same words for all: nothing leaks
    assert (await sock.expect("sync.done"))["cursors"] == {}
    await sock.close()


async def test_sync_of_readable_public_channel_subscribes_it(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "公告")
    await send_http(world.owner, conv, "欢迎")
    sock = await connect(world.member)  # not a participant: not streamed by default
    assert sock.ready["conversations"] == []
    await sock.send({"type": "sync", "cursors": {str(conv): 0}})
    frames = await sock.until(lambda f: f["type"] == "sync.done")
    assert [f["seq"] for f in frames if f["type"] != "sync.done"] == [1, 2]
    await send_http(world.owner, conv, "live")
    assert (await sock.expect("message.new"))["seq"] == 3
    await sock.close()


async def test_send_over_socket_acks_after_commit_and_reaches_everyone_once(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "群", (world.member, world.member2))
    alice = await connect(world.member)
    bob = await connect(world.member2)
    client_id = str(uuid.uuid4())
    await alice.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": "**到货**了"})
    ack = await alice.expect("message.ack")
    assert ack["client_id"] == client_id and ack["created"] is True
    message = ack["message"]
    # The ack promises a commit: another connection sees the row.
    stored = await database_sync_to_async(
        lambda: Message.objects.filter(pk=message["id"]).values("seq", "body").get()
    )()
    assert stored == {"seq": message["seq"], "body": "**到货**了"}
    assert "<strong>到货</strong>" in message["html"]
    # The sender also gets the logged event (its seq keeps the cursor gap-free); the client
    # replaces its local echo by client_id.
    own = await alice.expect("message.new")
    assert own["message"]["id"] == message["id"]
    other = await bob.expect("message.new")
    assert other["seq"] == message["seq"] and other["message"]["client_id"] == client_id
    # Resend (e.g. the ack was lost on a flaky network): the same message, nothing new.
    await alice.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": "**到货**了"})
    again = await alice.expect("message.ack")
    assert again["created"] is False
    assert (again["message"]["id"], again["message"]["seq"]) == (message["id"], message["seq"])
    assert await bob.silent()
    assert await alice.silent()
    count = await database_sync_to_async(lambda: Message.objects.filter(conversation_id=conv).count())()
    assert count == 1
    await alice.close()
    await bob.close()


async def test_send_errors_carry_client_id_and_store_nothing(world: World) -> None:
    public = await create_conversation(world.owner, world.workspace.pk, "public", "大厅")
    private = await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.admin,))
    foreign = await create_conversation(world.outsider, world.other_workspace.pk, "public", "theirs")
    sock = await connect(world.member)
    cases = [
        (private, "hello", "not_found"),  # not readable: same as nonexistent
        (foreign, "hello", "not_found"),  # another workspace
        (424242, "hello", "not_found"),
        (public, "hello", "not_a_participant"),  # readable, but join first
    ]
    for conv, body, code in cases:
        client_id = str(uuid.uuid4())
        await sock.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": body})
        error = await sock.expect("error")
        assert (error["code"], error["client_id"], error["conversation_id"]) == (code, client_id, conv)
    count = await database_sync_to_async(lambda: Message.objects.count())()
    assert count == 0
    await sock.close()


async def test_send_validation_errors(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "x", (world.member,))
    sock = await connect(world.member)
    client_id = str(uuid.uuid4())
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": "   "})
    assert (await sock.expect("error"))["code"] == "empty_body"
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": "x" * 20_000})
    assert (await sock.expect("error"))["code"] == "body_too_long"
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": "not-a-uuid", "body": "hi"})
    error = await sock.expect("error")
    assert error["code"] == "invalid_frame" and "client_id" in error["message"]
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": "ok"})
    assert (await sock.expect("message.ack"))["created"] is True
    await sock.close()


async def test_guest_sends_only_in_shared_channels(world: World) -> None:
    shared = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    internal = await create_conversation(world.owner, world.workspace.pk, "public", "内部")
    await set_shared(world.owner, shared, world.customer, True)
    sock = await connect(world.guest)
    await sock.send({"type": "message.send", "conversation_id": internal, "client_id": str(uuid.uuid4()), "body": "hi"})
    assert (await sock.expect("error"))["code"] == "not_found"
    await sock.send({"type": "message.send", "conversation_id": shared, "client_id": str(uuid.uuid4()), "body": "您好"})
    assert (await sock.expect("message.ack"))["message"]["body"] == "您好"
    await sock.close()


async def test_lost_layer_messages_are_healed_exactly_once_in_order(world: World, monkeypatch: Any) -> None:
    """Drop every second event on the layer: the socket sees the gap and replays from the log."""
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "丢包", (world.member,))
    sock = await connect(world.member)
    layer = get_channel_layer()
    original = layer.group_send
    dropped: list[int] = []

    async def lossy(group: str, message: dict[str, Any]) -> None:
        if message.get("type") == "conv.event" and message["event"]["seq"] % 2 == 0:
            dropped.append(message["event"]["seq"])
            return
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", lossy)
    # seq 1 is conversation.created; messages get 2..9, so the last one (odd) gets through.
    sent = [await send_http(world.owner, conv, f"m{i}") for i in range(8)]
    assert sent[-1]["seq"] % 2 == 1
    events = await _events_until(sock, conv, sent[-1]["seq"])
    assert [e["seq"] for e in events] == [m["seq"] for m in sent]
    assert [e["message"]["body"] for e in events] == [f"m{i}" for i in range(8)]
    assert len(dropped) >= 4
    assert await sock.silent()  # the late odd ones after a replay were dropped as duplicates
    await sock.close()


async def test_lost_last_event_is_healed_by_the_heartbeat(world: World, monkeypatch: Any) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "尾巴", (world.member,))
    sock = await connect(world.member)
    layer = get_channel_layer()
    original = layer.group_send

    async def drop_events(group: str, message: dict[str, Any]) -> None:
        if message.get("type") != "conv.event":
            await original(group, message)

    monkeypatch.setattr(layer, "group_send", drop_events)
    monkeypatch.setattr(socket_module.HubSocketConsumer, "TAIL_CHECK_SECONDS", 0.0)
    sent = await send_http(world.owner, conv, "没人知道")
    assert await sock.silent()
    await sock.send({"type": "ping", "t": 1})
    pong = await sock.expect("pong")
    assert pong["t"] == 1
    healed = await sock.expect("message.new")
    assert healed["seq"] == sent["seq"]
    await sock.close()


async def test_replay_racing_live_events_keeps_order(world: World, monkeypatch: Any) -> None:
    """A paged replay while new messages commit: every seq once, in order, no matter how the
    layer's live events interleave with the replay pages."""
    monkeypatch.setattr(socket_module, "REPLAY_PAGE", 4)
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "赛跑", (world.member,))
    backlog = [await send_http(world.owner, conv, f"old {i}") for i in range(15)]
    sock = await connect(world.member, sync=False)

    async def live_sender() -> list[dict[str, Any]]:
        return [await send_http(world.owner, conv, f"new {i}") for i in range(15)]

    # Live sends start before the sync frame is even sent: events committed between ready
    # and sync must not overtake the replay.
    sender = asyncio.ensure_future(live_sender())
    await asyncio.sleep(0)
    await sock.send({"type": "sync", "cursors": {str(conv): 0}})
    live = await sender
    frames = await sock.until(lambda f: f.get("seq") == live[-1]["seq"])
    if not any(f["type"] == "sync.done" for f in frames):
        frames.append(await sock.expect("sync.done"))
    seqs = [f["seq"] for f in frames if _is_event(conv)(f)]
    assert seqs == list(range(1, live[-1]["seq"] + 1)), seqs
    assert backlog[-1]["seq"] < live[0]["seq"]
    assert await sock.silent()
    await sock.close()


async def test_read_frame_moves_cursor_and_tells_other_devices(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "已读", (world.member,))
    sent = await send_http(world.owner, conv, "请确认")
    phone = await connect(world.member)
    desktop = await connect(world.member)
    await phone.send({"type": "read", "conversation_id": conv, "seq": sent["seq"]})
    assert (await phone.expect("read.ack"))["last_read_seq"] == sent["seq"]
    update = await desktop.expect("read.updated", skip=("presence", "presence.snapshot"))
    assert (update["user_id"], update["last_read_seq"]) == (world.member.user.pk, sent["seq"])
    outsider = await connect(world.outsider)
    await outsider.send({"type": "read", "conversation_id": conv, "seq": 1})
    assert (await outsider.expect("error"))["code"] == "not_found"
    await phone.send({"type": "read", "conversation_id": conv, "seq": -1})
    assert (await phone.expect("error"))["code"] == "invalid_frame"
    for sock in (phone, desktop, outsider):
        await sock.close()


async def test_subscribe_and_unsubscribe_public_channel(world: World) -> None:
    public = await create_conversation(world.owner, world.workspace.pk, "public", "公告")
    private = await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.admin,))
    sock = await connect(world.member)
    await sock.send({"type": "subscribe", "conversation_id": public})
    assert (await sock.expect("subscribed"))["last_seq"] == 1
    sent = await send_http(world.owner, public, "大家好")
    assert (await sock.expect("message.new"))["seq"] == sent["seq"]
    await sock.send({"type": "unsubscribe", "conversation_id": public})
    await sock.expect("unsubscribed")
    await send_http(world.owner, public, "没人听")
    assert await sock.silent()
    for conv in (private, 987654):
        await sock.send({"type": "subscribe", "conversation_id": conv})
        assert (await sock.expect("error"))["code"] == "not_found"
    await sock.send({"type": "unsubscribe", "conversation_id": public})
    assert (await sock.expect("error"))["code"] == "not_found"
    guest = await connect(world.guest)
    await guest.send({"type": "subscribe", "conversation_id": public})
    assert (await guest.expect("error"))["code"] == "not_found"
    await sock.close()
    await guest.close()


async def test_client_that_never_syncs_gets_live_events_after_the_grace(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(socket_module.HubSocketConsumer, "SYNC_GRACE_SECONDS", 0.3)
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "机器人", (world.member,))
    bot = await connect(world.member, sync=False)
    early = await send_http(world.owner, conv, "held back until the grace ends")
    frame = await bot.expect("message.new")  # arrives via the grace replay, not lost
    assert frame["seq"] == early["seq"]
    late = await send_http(world.owner, conv, "live")
    assert (await bot.expect("message.new"))["seq"] == late["seq"]
    assert await bot.silent()
    await bot.close()


async def test_send_rate_limit_applies_to_the_socket(world: World, settings: Any) -> None:
    settings.HUB_SEND_RATE_PER_MINUTE = 2
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "限速", (world.member,))
    sock = await connect(world.member)
    for i in range(3):
        await sock.send(
            {"type": "message.send", "conversation_id": conv, "client_id": str(uuid.uuid4()), "body": f"{i}"}
        )
    frames = await sock.until(lambda f: f["type"] == "error")
    assert [f["type"] for f in frames if f["type"] != "message.new"] == ["message.ack", "message.ack", "error"]
    assert frames[-1]["code"] == "rate_limited" and "client_id" in frames[-1]
    count = await database_sync_to_async(lambda: Message.objects.filter(conversation_id=conv).count())()
    assert count == 2
    await sock.close()


async def test_hot_paths_do_not_touch_the_log(world: World, monkeypatch: Any) -> None:
    """Live in-order delivery reads nothing; a sync of many up-to-date conversations reads
    the log for none of them (one last_seq query decides)."""
    from messaging.consumers import state

    convs = [
        await create_conversation(world.owner, world.workspace.pk, "private", f"c{i}", (world.member,))
        for i in range(12)
    ]
    reads: list[int] = []
    original = state.events_page

    def counting(conversation_id: int, after_seq: int, limit: int) -> Any:
        reads.append(conversation_id)
        return original(conversation_id, after_seq, limit)

    monkeypatch.setattr(state, "events_page", counting)
    sock = await connect(world.member, sync=False)
    await sock.send({"type": "sync", "cursors": {str(c): 1 for c in convs}})
    await sock.expect("sync.done")
    assert reads == []
    sent = [await send_http(world.owner, convs[0], f"{i}") for i in range(5)]
    frames = await sock.until(lambda f: f.get("seq") == sent[-1]["seq"])
    assert [f["seq"] for f in frames] == [m["seq"] for m in sent]
    assert reads == []
    await sock.close()


async def test_very_old_cursor_gets_sync_reset_not_an_unbounded_replay(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(socket_module.HubSocketConsumer, "REPLAY_MAX_EVENTS", 3)
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "旧", (world.member,))
    sent = [await send_http(world.owner, conv, f"{i}") for i in range(5)]
    sock = await connect(world.member, sync=False)
    await sock.send({"type": "sync", "cursors": {str(conv): 1}})
    reset = await sock.expect("sync.reset")
    assert (reset["conversation_id"], reset["last_seq"]) == (conv, sent[-1]["seq"])
    assert (await sock.expect("sync.done"))["cursors"] == {str(conv): sent[-1]["seq"]}
    await sock.send({"type": "sync", "cursors": {str(conv): sent[-3]["seq"]}})  # 2 behind: replayed
    frames = await sock.until(lambda f: f["type"] == "sync.done")
    assert [f["seq"] for f in frames[:-1]] == [sent[-2]["seq"], sent[-1]["seq"]]
    live = await send_http(world.owner, conv, "live")
    assert (await sock.expect("message.new"))["seq"] == live["seq"]
    await sock.close()
