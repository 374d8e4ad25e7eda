"""Helpers for the ``/ws/`` tests: connect through the real ASGI stack (origin check, auth,
routing) with channels' ``WebsocketCommunicator`` and read frames by type."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections

from hub.asgi import application
from hub.models import Member, PartnerOrg
from messaging import actions
from messaging.models import Conversation
from tests.conftest import Persona

ORIGIN = (b"origin", b"http://testserver")
EPHEMERAL = ("presence", "presence.snapshot", "typing", "read.updated")
TIMEOUT = 10.0  # generous for a loaded 2-core machine; only reached when a test is failing


@pytest.fixture
async def socket_env() -> AsyncIterator[None]:
    """Fresh cache (presence and typing state live there) and, afterwards, the worker
    thread's database connections closed so that PostgreSQL can drop the test database."""
    cache.clear()
    yield
    await sync_to_async(connections.close_all)()


class Socket:
    """A connected test socket that can skip ephemeral frames when asked."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.comm = communicator
        self.ready: dict[str, Any] = {}

    async def send(self, frame: Any) -> None:
        await self.comm.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        # send_input rather than send_to: the latter refuses an empty text frame.
        message: dict[str, Any] = {"type": "websocket.receive"}
        message.update({"text": text} if text is not None else {"bytes": data})
        await self.comm.send_input(message)

    async def recv(self, *, skip: tuple[str, ...] = EPHEMERAL, timeout: float = TIMEOUT) -> dict[str, Any]:
        for _ in range(1000):
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return {"type": "__closed__", "code": output.get("code")}
            frame = json.loads(output["text"])
            if frame["type"] not in skip:
                return dict(frame)
        raise AssertionError("only skipped frames arrived")

    async def expect(self, frame_type: str, **kwargs: Any) -> dict[str, Any]:
        frame = await self.recv(**kwargs)
        assert frame["type"] == frame_type, frame
        return frame

    async def until(self, predicate: Callable[[dict[str, Any]], bool], **kwargs: Any) -> list[dict[str, Any]]:
        """Every (non-skipped) frame up to and including the first that matches."""
        seen = []
        for _ in range(5000):
            frame = await self.recv(**kwargs)
            seen.append(frame)
            if predicate(frame):
                return seen
            assert frame["type"] != "__closed__", seen
        raise AssertionError("predicate never matched")

    async def silent(self, timeout: float = 0.2) -> bool:
        """Nothing (non-ephemeral) pending — used only to assert *absence* of frames."""
        while not await self.comm.receive_nothing(timeout):
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return False
            if json.loads(output["text"])["type"] not in EPHEMERAL:
                return False
        return True

    async def close(self) -> None:
        await self.comm.disconnect()


def communicator(
    *, token: str | None = None, query_token: str | None = None, cookie: str | None = None, origin: bool = True
) -> WebsocketCommunicator:
    headers: list[tuple[bytes, bytes]] = []
    if origin:
        headers.append(ORIGIN)
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = "/ws/" + (f"?token={query_token}" if query_token is not None else "")
    return WebsocketCommunicator(application, path, headers=headers)


async def connect(persona: Persona, *, origin: bool = False, sync: bool = True) -> Socket:
    """A socket authenticated by the persona's bearer token, past its ``ready`` frame and (as
    a real client does first) an empty ``sync`` that starts the live stream."""
    comm = communicator(token=persona.token, origin=origin)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    sock = Socket(comm)
    sock.ready = await sock.expect("ready")
    if sync:
        await sock.send({"type": "sync", "cursors": {}})
        await sock.expect("sync.done")
    return sock


def member_of(persona: Persona, workspace_id: int) -> Member:
    return Member.objects.select_related("user", "workspace").get(user=persona.user, workspace_id=workspace_id)


@database_sync_to_async
def create_conversation(
    persona: Persona, workspace_id: int, kind: str, name: str = "", members: tuple[Persona, ...] = ()
) -> int:
    conversation = actions.check_create_conversation(
        member_of(persona, workspace_id), kind, name, [p.user.pk for p in members]
    )
    return int(conversation.pk)


@database_sync_to_async
def send_http(persona: Persona, conversation_id: int, body: str, client_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Send through the action (the HTTP path's core), as another device would."""
    from messaging.serializers import message_payload

    conversation = Conversation.objects.get(pk=conversation_id)
    message, _ = actions.check_send_message(
        member_of(persona, conversation.workspace_id), conversation, body, client_id or uuid.uuid4()
    )
    return dict(message_payload(message))


@database_sync_to_async
def set_shared(persona: Persona, conversation_id: int, partner: PartnerOrg, shared: bool) -> None:
    conversation = Conversation.objects.get(pk=conversation_id)
    member = member_of(persona, conversation.workspace_id)
    if shared:
        actions.check_share(member, conversation, partner)
    else:
        actions.check_unshare(member, conversation, partner)


run_sync = sync_to_async
