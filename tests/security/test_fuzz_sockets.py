"""Fuzzing both sockets with hypothesis-generated frames, through the real ASGI stack.

``/ws/`` (JSON frames): arbitrary JSON, frames of every client type with fields of the wrong
type, non-JSON text, binary, truncated, oversized and deeply nested frames. Every frame is
answered by an ``error`` frame with a stable code (never ``internal_error``, which would be an
unhandled exception) or by its normal reply; the socket stays open and usable, and what was
stored before is unchanged.

``/ws/docs/<id>/`` (the binary Yjs protocol): random bytes, malformed varints, truncated real
updates, oversized frames, random bytes after a valid header, text frames. Each hostile socket
gets a clear close code (4400 bad frame, 4413 too large) or is left open when the bytes happened
to be valid; an honest editor connected meanwhile keeps the same text, and a fresh client that
syncs afterwards sees exactly the document as it was.

The deterministic cases of both protocols are in tests/messaging/test_socket_bad_input.py and
tests/docs_collab/test_socket.py / test_protocol.py; these tests search the space around them.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import content, protocol, room
from docs_collab.models import Document
from messaging.models import Conversation, Message
from messaging.protocol import CLIENT_FRAMES, MAX_FRAME_BYTES
from tests.conftest import World
from tests.docs_collab.conftest import make_document, stored_text, write_text
from tests.docs_collab.yclient import SocketClient, YPeer
from tests.messaging.socket_client import Socket, connect, create_conversation, send_http

# Slow (~50 s): run by the SQLite pass only (see test_fuzz_api.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "6")) * 5
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The world fixture is shared by the examples on purpose: the fuzzer works on one set of
    # conversations and documents and checks them after every example.
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
RELAXED_LIMITS = override_settings(HUB_WS_FRAME_RATE=100_000, HUB_WS_FRAME_BURST=100_000)

# --- /ws/ ---------------------------------------------------------------------------------------

FIELD_NAMES = sorted({name for model in CLIENT_FRAMES.values() for name in model.model_fields} - {"type"})
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=16,
)
SPECIAL_TEXT = [
    "",
    "x" * (MAX_FRAME_BYTES + 1),  # oversized
    "[" * 3000 + "]" * 3000,  # nested deeper than the JSON parser allows
    '{"a":' * 2000 + "1" + "}" * 2000,
    '{"type": "sync", "cursors": {"1": 1e400}}',
    '{"type": "message.send", "body": "\\ud800\\udfff\\ud800"}',
    '{"type": "sync", "cursors": {' + ",".join(f'"{i}": {i}' for i in range(1, 2100)) + "}}",
]


def _ws_frames(conversation_id: int) -> st.SearchStrategy[tuple[str, Any]]:
    field_values = st.one_of(
        JSON_VALUES,
        st.sampled_from([conversation_id, 0, -1, 2**63, 2**64, True, "1", str(conversation_id)]),
        st.uuids().map(str),
        st.dictionaries(st.sampled_from([str(conversation_id), "x", "-1", "0"]), SCALARS, max_size=3),
    )
    typed = st.builds(
        lambda frame_type, fields: {**fields, "type": frame_type},
        st.sampled_from(sorted(CLIENT_FRAMES)) | st.text(max_size=12),
        st.dictionaries(st.sampled_from(FIELD_NAMES), field_values, max_size=5),
    )
    typed_text = typed.map(json.dumps)
    truncated = typed_text.flatmap(lambda s: st.integers(0, max(0, len(s) - 1)).map(lambda k: s[:k]))
    text = st.one_of(
        typed_text, JSON_VALUES.map(json.dumps), st.text(max_size=120), truncated, st.sampled_from(SPECIAL_TEXT)
    )
    binary = st.one_of(st.binary(max_size=200), typed_text.map(str.encode), st.just(b"\xff\xfe{}"))
    return st.one_of(text.map(lambda t: ("text", t)), binary.map(lambda b: ("bytes", b)))


async def _answer_then_pong(sock: Socket) -> list[dict[str, Any]]:
    """Every frame the server sends before the pong to a ping sent right after the fuzz frame."""
    await sock.send({"type": "ping"})
    return await sock.until(lambda frame: frame["type"] == "pong", skip=("presence", "presence.snapshot", "typing"))


@pytest.fixture
def ws_target(world: World) -> dict[str, Any]:
    conversation_id = async_to_sync(create_conversation)(
        world.owner, world.workspace.pk, "public", "模糊", (world.member,)
    )
    original = async_to_sync(send_http)(world.owner, conversation_id, "原始消息 **original**")
    conversation = Conversation.objects.get(pk=conversation_id)
    return {"conversation_id": conversation_id, "message_id": original["id"], "last_seq": conversation.last_seq}


@FUZZ_SETTINGS
@given(data=st.data())
def test_ws_frames_get_clear_errors_and_never_break_the_socket(
    world: World, ws_target: dict[str, Any], data: st.DataObject
) -> None:
    conversation_id = ws_target["conversation_id"]
    frames = data.draw(st.lists(_ws_frames(conversation_id), min_size=1, max_size=8), label="frames")

    async def run() -> None:
        with RELAXED_LIMITS:
            sock = await connect(world.member)
            try:
                for kind, frame in frames:
                    await sock.send_raw(**({"text": frame} if kind == "text" else {"data": frame}))
                    answer = await _answer_then_pong(sock)
                    errors = [f for f in answer if f["type"] == "error"]
                    assert all(isinstance(f.get("code"), str) and f["code"] != "internal_error" for f in errors), (
                        frame,
                        errors,
                    )
                    assert all(f["type"] != "__closed__" for f in answer), (frame, answer)
                # Still a working socket: a normal send is acknowledged.
                client_id = str(uuid.uuid4())
                await sock.send(
                    {"type": "message.send", "conversation_id": conversation_id, "client_id": client_id, "body": "ok"}
                )
                acks = await sock.until(lambda f: f["type"] == "message.ack" and f.get("client_id") == client_id)
                assert acks[-1]["message"]["body"] == "ok"
            finally:
                await sock.close()

    async_to_sync(run)()
    original = Message.objects.get(pk=ws_target["message_id"])
    assert original.body == "原始消息 **original**" and not original.deleted_at


# --- /ws/docs/<id>/ -------------------------------------------------------------------------------

ORIGINAL_TEXT = "合同草稿 draft v1"


def _real_update() -> bytes:
    """A genuine Yjs update (a paragraph with text), to truncate and splice."""
    doc: Doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    fragment = doc.get(content.FRAGMENT, type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", {}, [XmlText("注入 injected")]))
    return updates[0]


REAL_UPDATE = _real_update()
VARINT_JUNK = st.binary(min_size=1, max_size=12).map(lambda b: bytes(x | 0x80 for x in b))  # never-ending varints


def _yjs_frames() -> st.SearchStrategy[tuple[str, Any]]:
    header = st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x01", b"\x02\x00", b"\x03", b"\x00"])
    truncated_update = st.integers(1, len(REAL_UPDATE) - 1).map(lambda k: protocol.encode_sync_update(REAL_UPDATE[:k]))
    spliced = st.tuples(st.integers(0, len(REAL_UPDATE) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda t: protocol.encode_sync_update(REAL_UPDATE[: t[0]] + t[1] + REAL_UPDATE[t[0] + len(t[1]) :])
    )
    binary = st.one_of(
        st.binary(max_size=300),
        st.tuples(header, st.binary(max_size=200)).map(lambda t: t[0] + t[1]),
        st.tuples(header, VARINT_JUNK).map(lambda t: t[0] + t[1]),
        truncated_update,
        spliced,
        st.just(protocol.encode_sync_update(REAL_UPDATE) + b"\x00trailing"),
        st.just(b"\x00\x02" + b"\xff" * 9 + b"\x01"),  # a length past JavaScript's safe integers
        st.just(b"\x00\x02\x80\x80\x80\x80\x01" + b"x" * 50),  # a length far beyond the frame
        st.just(b"\x01" + b"\x05" + b"\x01\x01\x01\x03{x}"),  # awareness with broken JSON
        st.just(b"\x00\x02" + b"\x00" * (70 * 1024)),  # oversized (limit lowered below)
    )
    text = st.text(max_size=50)
    return st.one_of(binary.map(lambda b: ("bytes", b)), text.map(lambda t: ("text", t)))


async def _pump(client: SocketClient, timeout: float = 0.15) -> None:
    await client.pump(timeout=timeout)


@pytest.fixture
def yjs_document(world: World) -> Document:
    document = make_document(world)
    write_text(document, ORIGINAL_TEXT, world.owner)
    return document


@FUZZ_SETTINGS
@given(frames=st.lists(_yjs_frames(), min_size=1, max_size=5))
def test_yjs_frames_close_hostile_sockets_and_never_corrupt_the_document(
    world: World, yjs_document: Document, frames: list[tuple[str, Any]]
) -> None:
    from channels.testing import WebsocketCommunicator

    from hub.asgi import application

    async def open_client(persona: Any) -> SocketClient:
        communicator = WebsocketCommunicator(application, f"/ws/docs/{yjs_document.pk}/?token={persona.token}")
        connected, _ = await communicator.connect()
        assert connected
        client = SocketClient(communicator, YPeer())
        await client.send(client.peer.hello())
        await _pump(client)
        return client

    async def run() -> None:
        with override_settings(HUB_DOCS_MAX_FRAME_BYTES=64 * 1024):
            honest = await open_client(world.owner)
            assert honest.peer.text() == ORIGINAL_TEXT
            hostile = await open_client(world.member)
            try:
                for kind, frame in frames:
                    message: dict[str, Any] = {"type": "websocket.receive", kind: frame}
                    await hostile.comm.send_input(message)
                    await _pump(hostile)
                    if hostile.closed_code is not None:
                        # A clear refusal, never a crash (1011) or a silent drop.
                        assert hostile.closed_code in (4400, 4413), (frame[:80], hostile.closed_code)
                        break
                await _pump(honest)
                assert honest.closed_code is None
                assert honest.peer.text() == ORIGINAL_TEXT, frames
            finally:
                await hostile.close()
                await honest.close()
        for _ in range(100):  # the room closes with its last socket and flushes
            if not room.open_rooms():
                break
            await asyncio.sleep(0.02)
        # A fresh client (and the stored log) see exactly the document as it was.
        assert await database_sync_to_async(stored_text)(yjs_document.pk) == ORIGINAL_TEXT
        fresh = await open_client(world.member2)
        try:
            assert fresh.peer.synced and fresh.peer.text() == ORIGINAL_TEXT
        finally:
            await fresh.close()

    async_to_sync(run)()
