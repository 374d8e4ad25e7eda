"""``/ws/`` hot paths stay off the single sync DB thread, and the socket survives the layer
or the cache failing (docs/performance.md, Messaging)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import SyncToAsync, sync_to_async
from channels.layers import get_channel_layer

from bench.cluster import RedisServer
from messaging.events import LAYER_EPHEMERAL, LAYER_EVENT, conversation_group
from tests.conftest import World, require_binary
from tests.messaging.socket_client import (
    connect,
    create_conversation,
    send_http,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


class _SyncHops:
    """Counts every ``sync_to_async`` / ``database_sync_to_async`` call (hops to the sync thread)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        original = SyncToAsync.__call__

        async def counting(inner: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(getattr(inner.func, "__qualname__", repr(inner.func)))
            return await original(inner, *args, **kwargs)

        monkeypatch.setattr(SyncToAsync, "__call__", counting)


async def test_delivered_layer_event_does_not_touch_the_sync_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "快", (world.member,))
    sock = await connect(world.member)
    cursor = next(c["last_seq"] for c in sock.ready["conversations"] if c["id"] == conv)
    hops = _SyncHops(monkeypatch)
    layer = get_channel_layer()
    frame = {"type": "message.updated", "conversation_id": conv, "seq": cursor + 1, "message": {"id": 1}}
    await layer.group_send(conversation_group(conv), {"type": LAYER_EVENT, "event": frame})
    got = await sock.expect("message.updated")
    assert got["seq"] == cursor + 1
    # Every ephemeral frame of a conversation group names its conversation (the fan-out
    # routes by it): typing, read.updated.
    typing = {"type": "typing", "conversation_id": conv, "user_id": 999, "user_name": "某人"}
    await layer.group_send(conversation_group(conv), {"type": LAYER_EPHEMERAL, "frame": typing})
    assert (await sock.expect("typing", skip=("presence", "presence.snapshot")))["user_id"] == 999
    assert hops.calls == []
    monkeypatch.undo()
    await sock.close()


@pytest.fixture
def private_redis_layer(settings: Any) -> Iterator[RedisServer]:
    """The Redis pub/sub channel layer on a redis-server of our own (free port), so the test
    can drop its connections."""
    require_binary("redis-server", "redis-server")
    server = RedisServer(Path(tempfile.mkdtemp(prefix="hub-redis-")))
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": None}], "prefix": "hubtest-drop"},
        }
    }
    try:
        yield server
    finally:
        server.stop()


def _kill_clients(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    finally:
        client.close()


@pytest.mark.redis
async def test_socket_connects_after_the_layer_connection_dropped(
    world: World, private_redis_layer: RedisServer
) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "断线", (world.member,))
    first = await connect(world.member)
    _kill_clients(private_redis_layer.url)  # blocking on purpose: the layer must not notice first
    second = await connect(world.member)  # was: HTTP 500 at the handshake
    sent = await send_http(world.owner, conv, "重连后")
    frames = await second.until(lambda f: f.get("seq") == sent["seq"])
    assert frames[-1]["type"] == "message.new"
    await first.close()
    await second.close()
    await get_channel_layer().flush()


@pytest.mark.redis
async def test_disconnect_with_redis_down_is_clean(world: World, private_redis_layer: RedisServer) -> None:
    await create_conversation(world.owner, world.workspace.pk, "private", "停", (world.member,))
    sock = await connect(world.member)
    private_redis_layer.stop()
    await sock.close()  # group_discard fails: logged, not raised
    await get_channel_layer().flush()


def test_send_rate_check_fails_open_when_the_cache_errors(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    from messaging.actions import _common

    settings.HUB_SEND_RATE_PER_MINUTE = 1

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis down")

    monkeypatch.setattr(_common.cache, "add", broken)
    monkeypatch.setattr(_common.cache, "incr", broken)
    for _ in range(3):
        _common.check_send_rate(12345)  # allowed, with a warning


async def test_on_commit_sends_are_handed_to_the_loop_in_order() -> None:
    from messaging import publish

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("conv.order-test", channel)

    def from_the_sync_thread() -> bool:
        for seq in range(1, 51):
            publish.group_send_now("conv.order-test", {"type": "conv.event", "event": {"seq": seq}})
        return publish._caller_loop() is not None

    assert await sync_to_async(from_the_sync_thread)()  # queued, not sent in the thread
    got = [(await layer.receive(channel))["event"]["seq"] for _ in range(50)]
    assert got == list(range(1, 51))
    await layer.group_discard("conv.order-test", channel)


async def test_failed_layer_send_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from messaging import publish

    layer = get_channel_layer()

    async def broken(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(layer, "group_send", broken)
    await sync_to_async(publish.group_send_now)("conv.1", {"type": "conv.event", "event": {}})
    sender = publish._sender(asyncio.get_running_loop())
    while sender.scheduled:
        await asyncio.sleep(0.01)
    assert [r.getMessage() for r in caplog.records if r.name == "messaging.publish" and r.levelname == "WARNING"] == [
        "channel layer send to conv.1 failed"
    ]


async def test_connect_makes_two_trips_to_the_sync_thread(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Token lookup, then one ``socket_start`` (access, last seqs, members); presence's cache
    I/O runs in worker threads (thread_sensitive=False), never on the sync DB thread."""
    await create_conversation(world.owner, world.workspace.pk, "private", "一次", (world.member,))
    sensitive: list[str] = []
    original = SyncToAsync.__call__

    async def counting(inner: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        if inner._thread_sensitive:
            sensitive.append(getattr(inner.func, "__qualname__", repr(inner.func)))
        return await original(inner, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    sock = await connect(world.member, sync=False)
    snapshot = await sock.expect("presence.snapshot", skip=())
    assert snapshot["workspace_id"] == world.workspace.pk
    assert sensitive == ["user_for_token", "socket_start"], sensitive
    monkeypatch.undo()
    await sock.close()


async def test_presence_changes_are_batched_per_workspace(world: World) -> None:
    from messaging.presence import tracker, workspace_group

    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = workspace_group(world.workspace.pk)
    await layer.group_add(group, channel)
    people = [world.member.user.pk, world.member2.user.pk, world.admin.user.pk]
    presence = tracker()
    for uid in people:
        await presence.connect(uid, f"fake.{uid}", [world.workspace.pk])
    message = await layer.receive(channel)  # one layer message for the three of them
    assert message["type"] == LAYER_EPHEMERAL
    assert [(f["user_id"], f["status"]) for f in message["frames"]] == [(uid, "online") for uid in sorted(people)]
    for uid in people:
        await presence.disconnect(uid, f"fake.{uid}")
    await layer.group_discard(group, channel)


async def test_socket_forwards_a_presence_batch_as_single_frames(world: World) -> None:
    from messaging.presence import workspace_group

    sock = await connect(world.owner)
    frames = [
        {"type": "presence", "workspace_id": world.workspace.pk, "user_id": uid, "status": "online"}
        for uid in (901, 902, 903)
    ]
    await get_channel_layer().group_send(
        workspace_group(world.workspace.pk), {"type": LAYER_EPHEMERAL, "frames": frames}
    )
    got = await sock.until(lambda f: f["type"] == "presence" and f["user_id"] == 903, skip=())
    assert [f["user_id"] for f in got if f["type"] == "presence" and f["user_id"] > 900] == [901, 902, 903]
    await sock.close()


async def test_out_of_order_layer_events_are_reordered_without_a_replay(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' publishes can reach the layer swapped: the socket holds the later one
    for the earlier one instead of querying the database at once."""
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "乱序", (world.member,))
    sock = await connect(world.member)
    cursor = next(c["last_seq"] for c in sock.ready["conversations"] if c["id"] == conv)
    hops = _SyncHops(monkeypatch)
    layer = get_channel_layer()
    for seq in (cursor + 2, cursor + 1):
        frame = {"type": "message.updated", "conversation_id": conv, "seq": seq, "message": {"id": seq}}
        await layer.group_send(conversation_group(conv), {"type": LAYER_EVENT, "event": frame})
    assert [(await sock.expect("message.updated"))["seq"] for _ in range(2)] == [cursor + 1, cursor + 2]
    assert hops.calls == []
    monkeypatch.undo()
    await sock.close()
