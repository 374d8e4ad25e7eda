"""``/ws/`` hot paths stay off the single sync DB thread, and the socket survives the layer
or the cache failing (docs/performance.md, Messaging)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer

from messaging.events import LAYER_EPHEMERAL, LAYER_EVENT, conversation_group
from tests.conftest import World
from tests.messaging.socket_client import (
    connect,
    create_conversation,
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
    presence = {"type": "presence", "workspace_id": world.workspace.pk, "user_id": 999, "status": "online"}
    await layer.group_send(conversation_group(conv), {"type": LAYER_EPHEMERAL, "frame": presence})
    assert (await sock.expect("presence", skip=()))["user_id"] == 999
    assert hops.calls == []
    monkeypatch.undo()
    await sock.close()
