"""A small Yjs client in Python (pycrdt) speaking the y-websocket protocol: what the tests use
to play browsers. Transport-agnostic: ``handle`` takes a frame and returns the replies."""

from __future__ import annotations

import asyncio
import contextlib
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


class LiveClient:
    """A YPeer on a real socket (``websockets``), with a background reader."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.peer = YPeer()
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.closed_code: int | None = None
        self.received_at: list[float] = []

    async def open(self) -> LiveClient:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, max_size=None)
        await self.ws.send(self.peer.hello())
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in self.ws:
                if isinstance(frame, bytes):
                    self.received_at.append(asyncio.get_running_loop().time())
                    for reply in self.peer.handle(frame):
                        await self.ws.send(reply)
        except ConnectionClosed as exc:
            self.closed_code = exc.rcvd.code if exc.rcvd else None
        if self.closed_code is None and self.ws.close_code is not None:
            self.closed_code = self.ws.close_code

    async def push(self) -> None:
        for frame in self.peer.drain():
            await self.ws.send(frame)

    async def type_line(self, text: str, chunk: int = 1, pause: float = 0.0) -> None:
        """Type ``text`` into a new paragraph of our own, ``chunk`` characters per update."""
        node = self.peer.paragraph("")
        typed = ""
        for start in range(0, len(text), chunk):
            piece = text[start : start + chunk]
            node.insert(len(typed.encode()), piece)
            typed += piece
            await self.push()
            if pause:
                await asyncio.sleep(pause)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, 5)


async def converge(clients: list[LiveClient], predicate: Any, seconds: float) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if all(predicate(c.peer.text()) for c in clients):
            return True
        await asyncio.sleep(0.05)
    return all(predicate(c.peer.text()) for c in clients)
