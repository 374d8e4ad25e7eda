"""A small Yjs client in Python (pycrdt) speaking the y-websocket protocol: what the tests use
to play browsers. Transport-agnostic: ``handle`` takes a frame and returns the replies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.testing import WebsocketCommunicator
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import content, protocol


class YPeer:
    def __init__(self, client_id: int | None = None) -> None:
        self.doc: Doc = Doc(client_id=client_id) if client_id is not None else Doc()
        self.fragment = self.doc.get(content.FRAGMENT, type=XmlFragment)
        self.notices: list[str] = []
        self.awareness: dict[int, Any] = {}
        self.synced = False
        self._outbox: list[bytes] = []
        self._remote = False
        self.doc.observe(self._on_change)

    def _on_change(self, event: Any) -> None:
        if not self._remote:
            self._outbox.append(protocol.encode_sync_update(event.update))

    def hello(self) -> bytes:
        return protocol.encode_sync_step1(self.doc.get_state())

    def handle(self, frame: bytes) -> list[bytes]:
        message = protocol.decode_message(frame)
        if isinstance(message, protocol.SyncStep1):
            return [protocol.encode_sync_step2(self.doc.get_update(message.state_vector))]
        if isinstance(message, protocol.SyncStep2 | protocol.SyncUpdate):
            self._remote = True
            try:
                self.doc.apply_update(message.update)
            finally:
                self._remote = False
            if isinstance(message, protocol.SyncStep2):
                self.synced = True
        elif isinstance(message, protocol.AwarenessUpdate):
            for entry in message.entries:
                state = json.loads(entry.state)
                if state is None:
                    self.awareness.pop(entry.client_id, None)
                else:
                    self.awareness[entry.client_id] = state
        elif isinstance(message, protocol.AuthMessage):
            self.notices.append(message.reason)
        return []

    def drain(self) -> list[bytes]:
        out, self._outbox = self._outbox, []
        return out

    # --- editing ---

    def paragraph(self, text: str = "") -> XmlText:
        paragraph = self.fragment.children.append(XmlElement("paragraph"))
        return paragraph.children.append(XmlText(text))

    def last_text(self) -> XmlText:
        paragraph = self.fragment.children[len(self.fragment.children) - 1]
        assert isinstance(paragraph, XmlElement)
        node = paragraph.children[0]
        assert isinstance(node, XmlText)
        return node

    def text(self) -> str:
        return content.plain_text(self.doc)

    def awareness_frame(self, state: Any, clock: int = 1) -> bytes:
        entry = protocol.AwarenessEntry(self.doc.client_id, clock, json.dumps(state))
        return protocol.encode_awareness_entries([entry])


class SocketClient:
    """A YPeer on a channels WebsocketCommunicator."""

    def __init__(self, communicator: WebsocketCommunicator, peer: YPeer) -> None:
        self.comm = communicator
        self.peer = peer
        self.closed_code: int | None = None

    async def send(self, frame: bytes) -> None:
        # send_to refuses an empty frame; a hostile client can still send one.
        await self.comm.send_input({"type": "websocket.receive", "bytes": frame})

    async def push(self) -> None:
        for frame in self.peer.drain():
            await self.send(frame)

    async def pump(self, timeout: float = 0.3, rounds: int = 200) -> None:
        """Handle frames until none arrives within ``timeout`` (bounded)."""
        for _ in range(rounds):
            # receive_output's timeout cancels the application: ask first whether anything came.
            if await self.comm.receive_nothing(timeout, interval=0.01):
                return
            output = await self.comm.receive_output(1)
            if output["type"] == "websocket.close":
                self.closed_code = output.get("code")
                return
            data = output.get("bytes")
            assert data is not None, f"unexpected text frame {output!r}"
            for reply in self.peer.handle(data):
                await self.send(reply)

    async def close(self) -> None:
        await self.comm.disconnect()


async def wait_for(predicate: Any, clients: list[SocketClient], seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        for client in clients:
            await client.pump(timeout=0.05, rounds=50)
    return bool(predicate())
