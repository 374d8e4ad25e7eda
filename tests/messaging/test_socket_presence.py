"""``/ws/`` ephemeral frames: typing (throttled, never stored) and presence (several devices
per person, coalesced, staff only)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from messaging import presence
from messaging.models import Event
from tests.conftest import World
from tests.messaging.socket_client import (
    Socket,
    connect,
    create_conversation,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


async def _presence_of(sock: Socket, user_id: int) -> dict[str, Any]:
    frames = await sock.until(lambda f: f["type"] == "presence" and f["user_id"] == user_id, skip=())
    return frames[-1]


async def _no_presence_of(sock: Socket, user_id: int, wait: float = 0.3) -> bool:
    """No presence frame about ``user_id`` arrives within ``wait`` seconds."""
    while not await sock.comm.receive_nothing(wait):
        frame = await sock.recv(skip=())
        if frame["type"] == "presence" and frame["user_id"] == user_id:
            return False
    return True


async def test_typing_is_throttled_not_echoed_and_not_stored(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "打字", (world.member, world.member2))
    typist = await connect(world.member)
    reader = await connect(world.member2)
    events_before = await database_sync_to_async(lambda: Event.objects.filter(conversation_id=conv).count())()
    for _ in range(5):
        await typist.send({"type": "typing", "conversation_id": conv})
    frame = await reader.expect("typing", skip=("presence", "presence.snapshot"))
    assert (frame["conversation_id"], frame["user_id"], frame["user_name"]) == (conv, world.member.user.pk, "张三")
    await typist.send({"type": "ping"})
    await typist.expect("pong", skip=("presence", "presence.snapshot"))  # and no typing echo before it
    await reader.send({"type": "ping"})
    await reader.expect("pong", skip=("presence", "presence.snapshot"))  # only one typing frame came
    events_after = await database_sync_to_async(lambda: Event.objects.filter(conversation_id=conv).count())()
    assert events_after == events_before
    await typist.close()
    await reader.close()


async def test_typing_in_unreadable_conversation_is_not_found(world: World) -> None:
    private = await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.admin,))
    shared = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await set_shared(world.owner, shared, world.customer, True)
    admin = await connect(world.admin)
    for persona, conv in ((world.member, private), (world.outsider, private), (world.guest, 999_999)):
        sock = await connect(persona)
        await sock.send({"type": "typing", "conversation_id": conv})
        error = await sock.expect("error")
        assert (error["code"], error["conversation_id"]) == ("not_found", conv)
        await sock.close()
    await admin.send({"type": "ping"})
    await admin.expect("pong")  # nobody's typing leaked into the private channel
    await admin.close()


async def test_presence_counts_devices_and_reaches_staff_only(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(presence, "MIN_BROADCAST_INTERVAL", 0.0)
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await set_shared(world.owner, conv, world.customer, True)
    boss = await connect(world.owner)
    guest = await connect(world.guest)
    uid = world.member.user.pk
    phone = await connect(world.member)
    assert (await _presence_of(boss, uid))["status"] == "online"
    desktop = await connect(world.member)
    assert await _no_presence_of(boss, uid)  # a second device changes nothing
    await phone.send({"type": "presence.set", "status": "away"})
    assert await _no_presence_of(boss, uid)  # the desktop is still active: still online
    await desktop.send({"type": "presence.set", "status": "away"})
    assert (await _presence_of(boss, uid))["status"] == "away"
    await desktop.send({"type": "presence.set", "status": "online"})
    assert (await _presence_of(boss, uid))["status"] == "online"
    await desktop.close()
    assert (await _presence_of(boss, uid))["status"] == "away"  # the phone (away) is still there
    await phone.close()
    offline = await _presence_of(boss, uid)
    assert (offline["status"], offline["workspace_id"]) == ("offline", world.workspace.pk)
    # Guests never see the staff directory, presence included.
    while not await guest.comm.receive_nothing(0.2):
        frame = await guest.recv(skip=())
        assert frame["type"] not in ("presence", "presence.snapshot"), frame
    await boss.close()
    await guest.close()


async def test_snapshot_lists_who_is_online(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(presence, "MIN_BROADCAST_INTERVAL", 0.0)
    member = await connect(world.member)
    await member.send({"type": "presence.set", "status": "away"})
    await member.send({"type": "ping"})
    await member.expect("pong")
    comm_sock = await connect(world.owner, sync=False)
    snapshot = await comm_sock.expect("presence.snapshot", skip=("presence",))
    assert snapshot["workspace_id"] == world.workspace.pk
    assert snapshot["statuses"] == {str(world.member.user.pk): "away", str(world.owner.user.pk): "online"}
    outsider = await connect(world.outsider, sync=False)
    theirs = await outsider.expect("presence.snapshot", skip=("presence",))
    assert theirs["statuses"] == {str(world.outsider.user.pk): "online"}  # never another workspace's people
    for sock in (member, comm_sock, outsider):
        await sock.close()


async def test_presence_flaps_are_coalesced(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(presence, "MIN_BROADCAST_INTERVAL", 0.4)
    boss = await connect(world.owner)
    uid = world.member.user.pk
    first = await connect(world.member)
    assert (await _presence_of(boss, uid))["status"] == "online"
    # A phone switching networks: gone and back within the window — nobody hears "offline".
    await first.close()
    second = await connect(world.member)
    assert await _no_presence_of(boss, uid, wait=0.8)
    await second.close()
    # A real departure is still reported, once the window has passed.
    assert (await _presence_of(boss, uid))["status"] == "offline"
    await asyncio.sleep(0)
    await boss.close()
