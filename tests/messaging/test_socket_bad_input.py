"""``/ws/`` and bad input: every malformed frame gets an error frame with a stable code, the
socket stays usable, nothing stored is lost; floods are rate limited, then closed (4429)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from messaging.models import Message
from messaging.protocol import CLOSE_RATE_LIMITED, MAX_FRAME_BYTES
from tests.conftest import World
from tests.messaging.socket_client import (
    connect,
    create_conversation,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]

BAD_TEXT_FRAMES = [
    ("{not json", "invalid_json"),
    ("", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ("42", "invalid_frame"),
    ('"sync"', "invalid_frame"),
    ("null", "invalid_frame"),
    ('{"cursors": {}}', "invalid_frame"),  # no type
    ('{"type": 7}', "invalid_frame"),
    ('{"type": "drop.tables"}', "unknown_type"),
    ('{"type": "sync", "cursors": []}', "invalid_frame"),
    ('{"type": "sync", "cursors": {"abc": 1}}', "invalid_frame"),
    ('{"type": "sync", "cursors": {"1": -5}}', "invalid_frame"),
    ('{"type": "sync", "cursors": {"1": 99999999999999999999999}}', "invalid_frame"),
    ('{"type": "typing"}', "invalid_frame"),
    ('{"type": "typing", "conversation_id": "x"}', "invalid_frame"),
    ('{"type": "presence.set", "status": "invisible"}', "invalid_frame"),
    ('{"type": "message.send", "conversation_id": 1, "client_id": "x", "body": "hi"}', "invalid_frame"),
    ('{"type": "message.send", "conversation_id": 1, "body": "\\ud800"}', "invalid_utf8"),  # lone surrogate
    ("[" * 100_000 + "]" * 100_000, "frame_too_large"),
    ("[" * 5000 + "]" * 5000, "invalid_json"),  # nesting deeper than the parser allows
]


async def _stored_bodies(conv: int) -> list[str]:
    return await database_sync_to_async(
        lambda: list(Message.objects.filter(conversation_id=conv).order_by("seq").values_list("body", flat=True))
    )()


@pytest.mark.parametrize(("raw", "code"), BAD_TEXT_FRAMES, ids=[f"{i}-{c}" for i, (_, c) in enumerate(BAD_TEXT_FRAMES)])
async def test_malformed_text_frames_get_error_codes(world: World, raw: str, code: str) -> None:
    sock = await connect(world.member)
    await sock.send_raw(text=raw)
    error = await sock.expect("error")
    assert error["code"] == code, error
    assert error["message"]
    await sock.send({"type": "ping", "t": 5})
    assert (await sock.expect("pong"))["t"] == 5  # still open and serving
    await sock.close()


async def test_binary_frames_must_be_utf8_json(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "二进制", (world.member,))
    sock = await connect(world.member)
    await sock.send_raw(data=b"\xff\xfe\x00garbage")
    assert (await sock.expect("error"))["code"] == "invalid_utf8"
    await sock.send_raw(data='{"type": "ping", "t": "二进制"}'.encode())
    assert (await sock.expect("pong"))["t"] == "二进制"
    frame = {"type": "message.send", "conversation_id": conv, "client_id": str(uuid.uuid4()), "body": "好"}
    await sock.send_raw(data=json.dumps(frame).encode())
    assert (await sock.expect("message.ack"))["message"]["body"] == "好"
    await sock.close()


async def test_bad_frames_lose_nothing_already_stored(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "稳", (world.member,))
    sock = await connect(world.member)
    cid = str(uuid.uuid4())
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": cid, "body": "第一条"})
    await sock.expect("message.ack")
    await sock.expect("message.new")
    for raw, _ in BAD_TEXT_FRAMES:
        await sock.send_raw(text=raw)
        await sock.expect("error")
    huge = {"type": "message.send", "conversation_id": conv, "client_id": str(uuid.uuid4()), "body": "长" * 40_000}
    await sock.send(huge)
    error = await sock.expect("error")
    assert error["code"] == "frame_too_large"  # 120 KB of UTF-8, over the frame limit
    assert len(json.dumps(huge, ensure_ascii=False).encode()) > MAX_FRAME_BYTES
    await sock.send({"type": "message.send", "conversation_id": conv, "client_id": cid, "body": "改过的重发"})
    again = await sock.expect("message.ack")
    assert (again["created"], again["message"]["body"]) == (False, "第一条")  # a resend never rewrites
    assert await _stored_bodies(conv) == ["第一条"]
    await sock.send({"type": "sync", "cursors": {str(conv): 0}})
    replay = await sock.until(lambda f: f["type"] == "sync.done")
    assert [f["type"] for f in replay] == ["conversation.created", "message.new", "sync.done"]
    await sock.close()


async def test_flood_is_rate_limited_then_closed(world: World, settings: Any) -> None:
    settings.HUB_WS_FRAME_RATE = 0.5
    settings.HUB_WS_FRAME_BURST = 5
    settings.HUB_WS_MAX_DROPS = 10
    sock = await connect(world.member)  # its sync frame used one token
    for i in range(40):
        await sock.send({"type": "ping", "t": i})
    frames = await sock.until(lambda f: f["type"] == "__closed__")
    kinds = [f["type"] for f in frames]
    assert kinds.count("pong") == 4
    assert kinds.count("error") == 10  # max_drops errors; the drop after them closes
    assert all(f["code"] == "rate_limited" for f in frames if f["type"] == "error")
    assert frames[-1]["code"] == CLOSE_RATE_LIMITED


async def test_moderate_bursts_are_only_throttled(world: World, settings: Any) -> None:
    settings.HUB_WS_FRAME_RATE = 0.5
    settings.HUB_WS_FRAME_BURST = 3
    settings.HUB_WS_MAX_DROPS = 10
    sock = await connect(world.member)
    for i in range(5):
        await sock.send({"type": "ping", "t": i})
    frames = [await sock.recv() for _ in range(5)]
    assert [f["type"] for f in frames] == ["pong", "pong", "error", "error", "error"]
    assert await sock.silent()  # still open: a few drops do not close the socket
    await sock.close()


async def test_server_failure_on_a_frame_is_an_error_frame_not_a_dropped_socket(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from messaging.consumers import state

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(state, "send_message", broken)
    sock = await connect(world.member)
    client_id = str(uuid.uuid4())
    await sock.send({"type": "message.send", "conversation_id": 1, "client_id": client_id, "body": "hi"})
    error = await sock.expect("error")
    assert (error["code"], error["client_id"], error["frame_type"]) == ("internal_error", client_id, "message.send")
    await sock.send({"type": "ping"})
    await sock.expect("pong")
    await sock.close()
