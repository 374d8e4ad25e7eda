"""The per-process conversation fan-out (``messaging.consumers.fanout``): one layer
subscription per conversation per process, each event encoded once, handed to every local
socket in order — and the sockets' own guarantees (held events, gap replay) still hold."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer

from bench.cluster import RedisServer
from messaging.consumers import fanout as fanout_module
from messaging.consumers import socket as socket_module
from messaging.consumers.fanout import ConversationFanout, fanout
from messaging.events import LAYER_EVENT, conversation_group
from tests.conftest import World, require_binary, require_redis
from tests.messaging.socket_client import (
    Socket,
    connect,
    create_conversation,
    send_http,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


def _group_channels(conv: int) -> set[str]:
    """The layer channels joined to the conversation's group (in-memory layer)."""
    return set(get_channel_layer().groups.get(conversation_group(conv), {}))


async def _events(sock: Socket, conv: int, last_seq: int) -> list[int]:
    frames = await sock.until(lambda f: f.get("conversation_id") == conv and f.get("seq") == last_seq)
    return [f["seq"] for f in frames if f.get("conversation_id") == conv and "seq" in f]


async def test_one_layer_subscription_per_process_and_conversation(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "大群", (world.member, world.member2))
    socks = [await connect(p) for p in (world.owner, world.member, world.member2, world.member)]
    local = fanout()
    assert _group_channels(conv) == {local.channel}  # not one per socket
    assert len(local.streaming(conv)) == 4
    # The sockets' own channels carry only their user and workspace groups.
    assert all(sock_consumer.channel_name != local.channel for sock_consumer in local.streaming(conv))
    for sock in socks:
        await sock.close()
    assert local.streaming(conv) == []
    assert _group_channels(conv) == set()  # the last socket out left the group


async def test_each_event_is_encoded_once_per_process(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "编码", (world.member, world.member2))
    socks = [await connect(p) for p in (world.owner, world.member, world.member2)]
    encoded: list[str] = []
    per_socket: list[str] = []

    def counting(into: list[str], original: Any) -> Any:
        def encode(frame: Any) -> str:
            into.append(str(frame.get("type")))
            return str(original(frame))

        return encode

    monkeypatch.setattr(fanout_module, "encode_frame", counting(encoded, fanout_module.encode_frame))
    monkeypatch.setattr(socket_module, "encode_frame", counting(per_socket, socket_module.encode_frame))
    sent = [await send_http(world.owner, conv, f"一次 {i}") for i in range(3)]
    for sock in socks:
        assert await _events(sock, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
    assert encoded.count("message.new") == 3  # three events, three sockets: three encodes
    assert "message.new" not in per_socket
    monkeypatch.undo()
    for sock in socks:
        await sock.close()


async def test_every_local_socket_gets_every_event_once_in_order(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "顺序", (world.member, world.member2))
    socks = [await connect(p) for p in (world.member, world.member2, world.member2)]

    async def sender(persona: Any, label: str) -> list[dict[str, Any]]:
        return [await send_http(persona, conv, f"{label}{i}") for i in range(8)]

    batches = await asyncio.gather(sender(world.owner, "a"), sender(world.member, "b"))
    last = max(m["seq"] for batch in batches for m in batch)
    for sock in socks:
        seqs = await _events(sock, conv, last)
        assert seqs == list(range(2, last + 1)), seqs  # seq 1 is conversation.created
        assert await sock.silent()
    for sock in socks:
        await sock.close()


async def test_a_busy_socket_does_not_hold_up_the_others(world: World) -> None:
    """One socket's lock held (as during a replay): its events queue in its backlog and
    follow in order once it is free; the other sockets get theirs meanwhile."""
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "忙", (world.member, world.member2))
    busy = await connect(world.member)
    free = await connect(world.member2)
    busy_consumer = next(s for s in fanout().streaming(conv) if getattr(s, "user_id", 0) == world.member.user.pk)
    await busy_consumer.lock.acquire()  # type: ignore[attr-defined]
    sent = [await send_http(world.owner, conv, f"{i}") for i in range(3)]
    assert await _events(free, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
    assert await busy.silent()
    busy_consumer.lock.release()  # type: ignore[attr-defined]
    assert await _events(busy, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
    await busy.close()
    await free.close()


async def test_lost_event_is_replayed_on_every_socket_through_the_fanout(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process receives seq N+1 but never N: each socket holds N+1 for the reorder wait,
    then replays N from the log, then delivers N+1 — once each, in order."""
    monkeypatch.setattr(socket_module.HubSocketConsumer, "REORDER_WAIT_SECONDS", 0.05)
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "补", (world.member, world.member2))
    socks = [await connect(world.member), await connect(world.member2)]
    layer = get_channel_layer()
    original = layer.group_send
    dropped: list[int] = []

    async def lossy(group: str, message: dict[str, Any]) -> None:
        if message.get("type") == LAYER_EVENT and not dropped:
            dropped.append(message["event"]["seq"])
            return
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", lossy)
    sent = [await send_http(world.owner, conv, f"m{i}") for i in range(4)]
    assert dropped == [sent[0]["seq"]]
    for sock in socks:
        assert await _events(sock, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
        assert await sock.silent()
    for sock in socks:
        await sock.close()


async def test_out_of_order_events_are_held_then_delivered_in_order(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "乱", (world.member, world.member2))
    socks = [await connect(world.member), await connect(world.member2)]
    cursor = next(c["last_seq"] for c in socks[0].ready["conversations"] if c["id"] == conv)
    layer = get_channel_layer()
    for seq in (cursor + 3, cursor + 2, cursor + 1):
        frame = {"type": "message.updated", "conversation_id": conv, "seq": seq, "message": {"id": seq}}
        await layer.group_send(conversation_group(conv), {"type": LAYER_EVENT, "event": frame})
    for sock in socks:
        got = [(await sock.expect("message.updated"))["seq"] for _ in range(3)]
        assert got == [cursor + 1, cursor + 2, cursor + 3]
    for sock in socks:
        await sock.close()


async def test_unsubscribe_detaches_and_the_last_one_leaves_the_group(world: World) -> None:
    public = await create_conversation(world.owner, world.workspace.pk, "public", "公告")
    first = await connect(world.member)
    second = await connect(world.member2)
    for sock in (first, second):
        await sock.send({"type": "subscribe", "conversation_id": public})
        await sock.expect("subscribed")
    local = fanout()
    assert len(local.streaming(public)) == 2
    await first.send({"type": "unsubscribe", "conversation_id": public})
    await first.expect("unsubscribed")
    assert len(local.streaming(public)) == 1 and _group_channels(public) == {local.channel}
    sent = await send_http(world.owner, public, "还在听")
    assert (await second.expect("message.new"))["seq"] == sent["seq"]
    assert await first.silent()
    await second.send({"type": "unsubscribe", "conversation_id": public})
    await second.expect("unsubscribed")
    assert local.streaming(public) == [] and _group_channels(public) == set()
    await first.close()
    await second.close()


async def test_unshare_detaches_the_guest_and_keeps_the_staff(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await set_shared(world.owner, conv, world.customer, True)
    guest = await connect(world.guest)
    staff = await connect(world.owner)
    assert len(fanout().streaming(conv)) == 2
    await set_shared(world.owner, conv, world.customer, False)
    await guest.until(lambda f: f["type"] == "conversation.removed")
    streaming = fanout().streaming(conv)
    assert [getattr(s, "user_id", 0) for s in streaming] == [world.owner.user.pk]
    sent = await send_http(world.owner, conv, "内部")
    frames = await staff.until(lambda f: f.get("seq") == sent["seq"])
    assert frames[-1]["type"] == "message.new"
    assert await guest.silent()
    await guest.close()
    await staff.close()


async def test_attach_and_detach_race_keeps_one_subscription() -> None:
    """A socket attaching while the last one leaves: its SUBSCRIBE comes after the
    UNSUBSCRIBE, so the group stays joined for it."""
    layer = get_channel_layer()
    local = ConversationFanout(layer)

    class Fake:
        channel_name = "fake"

        async def live_event(self, event: dict[str, Any], text: str, appended_at: Any) -> None:
            self.got = text

        async def live_ephemeral(self, frame: dict[str, Any], text: str) -> None:
            pass

    leaving, arriving = Fake(), Fake()
    await local.attach(77, leaving)
    assert _group_channels(77) == {local.channel}
    await asyncio.gather(local.detach(77, leaving), local.attach(77, arriving))
    assert local.streaming(77) == [arriving]
    assert _group_channels(77) == {local.channel}
    await layer.group_send(conversation_group(77), {"type": LAYER_EVENT, "event": {"conversation_id": 77, "seq": 1}})
    for _ in range(100):
        if hasattr(arriving, "got"):
            break
        await asyncio.sleep(0.01)
    assert arriving.got == '{"conversation_id":77,"seq":1}'
    await local.detach(77, arriving)
    assert _group_channels(77) == set()
    assert local.receiver is not None
    local.receiver.cancel()


@pytest.fixture
async def redis_layer(settings: Any) -> AsyncIterator[None]:
    url = require_redis()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}], "prefix": f"hubfan-{uuid.uuid4().hex[:8]}"},
        }
    }
    yield
    await get_channel_layer().flush()


@pytest.mark.redis
@pytest.mark.usefixtures("redis_layer")
async def test_one_redis_subscription_per_process_and_conversation(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "红群", (world.member, world.member2))
    socks = [await connect(p) for p in (world.owner, world.member, world.member2)]
    loop_layer = get_channel_layer()._get_layer()
    group_channel = loop_layer._get_group_channel_name(conversation_group(conv))
    assert loop_layer.groups[group_channel] == {fanout().channel}
    sent = [await send_http(world.owner, conv, f"{i}") for i in range(3)]
    for sock in socks:
        assert await _events(sock, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
    for sock in socks:
        await sock.close()
    assert group_channel not in loop_layer.groups


async def test_many_held_events_replay_at_once_without_waiting(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """More than ``REORDER_MAX_HELD`` events ahead of the cursor: the socket stops waiting for
    the late one and replays from the log right away (in its gap task, not in the fan-out)."""
    monkeypatch.setattr(socket_module.HubSocketConsumer, "REORDER_WAIT_SECONDS", 3600.0)
    monkeypatch.setattr(socket_module.HubSocketConsumer, "REORDER_MAX_HELD", 2)
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "堆", (world.member,))
    sock = await connect(world.member)
    layer = get_channel_layer()
    original = layer.group_send
    dropped: list[int] = []

    async def lossy(group: str, message: dict[str, Any]) -> None:
        if message.get("type") == LAYER_EVENT and not dropped:
            dropped.append(message["event"]["seq"])
            return
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", lossy)
    sent = [await send_http(world.owner, conv, f"m{i}") for i in range(5)]
    assert await _events(sock, conv, sent[-1]["seq"]) == [m["seq"] for m in sent]
    assert await sock.silent()
    await sock.close()


@pytest.mark.redis
async def test_fanout_survives_the_layer_connection_dropping(world: World, settings: Any) -> None:
    """Redis drops the layer's pub/sub connection: the process's existing subscriptions come
    back with the reconnect, and a conversation attached afterwards (whose first SUBSCRIBE
    fails once) is joined by the retry."""
    require_binary("redis-server", "redis-server")
    server = RedisServer(Path(tempfile.mkdtemp(prefix="hub-redis-")))
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": None}], "prefix": "hubfan-drop"},
        }
    }
    try:
        old = await create_conversation(world.owner, world.workspace.pk, "private", "旧群", (world.member,))
        first = await connect(world.member)
        client = redis.Redis.from_url(server.url)
        try:
            client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        finally:
            client.close()
        public = await create_conversation(world.owner, world.workspace.pk, "public", "新群")
        await first.send({"type": "subscribe", "conversation_id": public})
        await first.expect("subscribed")
        second = await connect(world.member)
        for conv, sockets in ((old, (first, second)), (public, (first,))):
            sent = await send_http(world.owner, conv, "重连后")
            for sock in sockets:
                assert (await _events(sock, conv, sent["seq"]))[-1] == sent["seq"]
        await first.close()
        await second.close()
        await get_channel_layer().flush()
    finally:
        server.stop()
