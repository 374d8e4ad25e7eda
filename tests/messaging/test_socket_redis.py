"""The socket over the production channel layer (Redis pub/sub) in one process: live delivery,
gap healing and access changes behave as with the in-memory layer. (Two real daphne
processes are exercised by the integration suite.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import get_channel_layer

from tests.conftest import World, require_redis
from tests.messaging.socket_client import (
    connect,
    create_conversation,
    send_http,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env"), pytest.mark.redis]


@pytest.fixture
async def redis_layer(settings: Any) -> AsyncIterator[None]:
    url = require_redis()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": url, "socket_timeout": None}],
                # A fresh prefix per test: nothing from other tests or processes leaks in.
                "prefix": f"hubtest-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    assert type(get_channel_layer()).__name__ == "RedisPubSubChannelLayer"
    yield
    await get_channel_layer().flush()


@pytest.mark.usefixtures("redis_layer")
async def test_live_delivery_and_acks_over_redis(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "红", (world.member, world.member2))
    alice = await connect(world.member)
    bob = await connect(world.member2)
    await alice.send(
        {"type": "message.send", "conversation_id": conv, "client_id": str(uuid.uuid4()), "body": "跨进程"}
    )
    ack = await alice.expect("message.ack")
    assert (await bob.expect("message.new"))["seq"] == ack["message"]["seq"]
    sent = [await send_http(world.owner, conv, f"{i}") for i in range(5)]
    frames = await bob.until(lambda f: f.get("seq") == sent[-1]["seq"])
    assert [f["seq"] for f in frames] == [m["seq"] for m in sent]
    await alice.close()
    await bob.close()


@pytest.mark.usefixtures("redis_layer")
async def test_unshare_over_redis_removes_the_channel(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await set_shared(world.owner, conv, world.customer, True)
    guest = await connect(world.guest)
    await set_shared(world.owner, conv, world.customer, False)
    frames = await guest.until(lambda f: f["type"] == "conversation.removed")
    assert frames[-1]["conversation_id"] == conv
    await guest.close()
