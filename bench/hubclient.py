"""A small asyncio client for the hub's ``/ws/`` socket, shared by the integration tests and the
benchmark. It follows the client side of the delivery contract (docs/protocol.md, API.md):

* keep the last ``seq`` seen per conversation; on (re)connect send ``sync`` with those cursors;
* apply an event only if its ``seq`` is exactly ``last + 1``; a duplicate (``seq <= last``) is
  dropped and counted; a jump (``seq > last + 1``) is a gap: the client asks for the missing
  range by sending ``sync`` with its cursor, and applies nothing until the gap is filled;
* ``message.send`` carries a ``client_id``; a retry (e.g. through another process after the
  first one died) reuses it, so the server returns the original message instead of a copy.

Every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus


@dataclass
class Stats:
    frames: int = 0
    duplicates: int = 0  # events received again with seq <= cursor (dropped)
    gaps: int = 0  # times a seq jumped ahead (a resync was requested)
    errors: list[dict[str, Any]] = field(default_factory=list)


class HubSocket:
    """One ``/ws/`` connection. ``record`` keeps (receive time, client_id) per message.new for
    latency measurement; ``track`` keeps the applied event sequence per conversation."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        name: str = "",
        track: bool = True,
        record: bool = False,
        resync_on_gap: bool = True,
    ) -> None:
        self.url = url
        self.token = token
        self.name = name
        self.track = track
        self.record = record
        self.resync_on_gap = resync_on_gap
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.cursors: dict[int, int] = {}
        # Applied events per conversation: (seq, type, message id or None, client_id or None).
        self.applied: dict[int, list[tuple[int, str, int | None, str | None]]] = defaultdict(list)
        self.received: list[tuple[float, str]] = []  # (perf_counter, client_id) for message.new
        self.ack_times: dict[str, float] = {}  # client_id -> perf_counter of its message.ack
        self.stats = Stats()
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.type_counts: Counter[str] = Counter()
        self.ready: dict[str, Any] | None = None  # the server's first frame
        self.syncs_done = 0  # sync.done frames received
        self.other_frames: list[dict[str, Any]] = []  # first 100 frames of other types (debugging)
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.failed_connects = 0
        self._resync_asked: dict[int, tuple[int, float]] = {}  # conv -> (cursor asked after, when)

    # --- connection ---

    async def connect(self, timeout: float = 15.0) -> HubSocket:
        parts = urlsplit(self.url)
        origin = f"http://{parts.netloc}"
        sep = "&" if "?" in self.url else "?"
        self.closed.clear()
        self.ws = await asyncio.wait_for(
            connect(
                f"{self.url}{sep}token={self.token}",
                origin=origin,  # type: ignore[arg-type]
                additional_headers={"Authorization": f"Bearer {self.token}"},
                compression=None,
                proxy=None,
                open_timeout=timeout,
                ping_interval=None,  # the server runs the heartbeat; keep client traffic minimal
                max_size=2**22,
                max_queue=None,
            ),
            timeout=timeout + 1,
        )
        self.reader = asyncio.create_task(self._read(self.ws), name=f"reader-{self.name}")
        return self

    async def sync(self, cursors: dict[int, int] | None = None) -> None:
        """Send our cursors (or the given ones); the server replays after them, then streams."""
        if cursors is not None:
            for conv, seq in cursors.items():
                self.cursors.setdefault(conv, seq)
        await self.send_frame({"type": "sync", "cursors": {str(c): s for c, s in self.cursors.items()}})

    async def send_frame(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def send_message(self, conversation_id: int, body: str, client_id: str | None = None) -> str:
        """Send without waiting; returns the client_id (await ``ack(client_id)`` for the ack)."""
        client_id = client_id or str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        if client_id not in self.pending or self.pending[client_id].done():
            self.pending[client_id] = loop.create_future()
        await self.send_frame(
            {"type": "message.send", "conversation_id": conversation_id, "client_id": client_id, "body": body}
        )
        return client_id

    async def ack(self, client_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(asyncio.shield(self.pending[client_id]), timeout)

    async def reconnect(self, url: str, timeout: float = 15.0, attempts: int = 1, delay: float = 0.5) -> None:
        """Connect again (possibly to another process) and ``sync`` with the cursors we have.
        A refused handshake is retried up to ``attempts`` times, ``delay`` apart (what a real
        client's backoff does); ``self.failed_connects`` counts the refusals."""
        await self.close()
        self.url = url
        for attempt in range(1, attempts + 1):
            self.ready = None
            try:
                await self.connect(timeout)
                await self.wait_ready(timeout)
                break
            except (InvalidStatus, OSError, ConnectionError, TimeoutError):
                self.failed_connects += 1
                await self.close()
                if attempt == attempts:
                    raise
                await asyncio.sleep(delay)
        await self.sync_and_wait(timeout=timeout)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    # --- receiving ---

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                self.stats.frames += 1
                kind = frame.get("type")
                self.type_counts[kind] += 1
                if kind == "message.new" and self.record:
                    self.received.append((now, frame["message"].get("client_id", "")))
                if kind == "message.ack":
                    self.ack_times[frame.get("client_id", "")] = now
                    fut = self.pending.get(frame.get("client_id", ""))
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                    message = frame.get("message") or {}
                    # The ack carries the sender's own message (id + seq): it counts as the event.
                    if self.track and "seq" in message and "conversation_id" in message:
                        await self._apply(
                            {
                                "type": "message.new",
                                "conversation_id": message["conversation_id"],
                                "seq": message["seq"],
                                "message": message,
                            }
                        )
                elif kind == "error":
                    self.stats.errors.append(frame)
                    fut = self.pending.get(frame.get("client_id") or "")
                    if fut is not None and not fut.done():
                        fut.set_exception(RuntimeError(f"server error: {frame}"))
                elif kind == "ready":
                    self.ready = frame
                elif kind == "sync.done":
                    self.syncs_done += 1
                elif self.track and "seq" in frame and "conversation_id" in frame:
                    await self._apply(frame)
                elif len(self.other_frames) < 100:
                    self.other_frames.append(frame)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self.closed.set()
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError(f"socket {self.name} closed"))

    async def _apply(self, frame: dict[str, Any]) -> None:
        conv = int(frame["conversation_id"])
        seq = int(frame["seq"])
        last = self.cursors.get(conv, 0)
        if seq <= last:
            self.stats.duplicates += 1
            return
        if seq > last + 1:
            # A gap: the layer dropped something (or we joined mid-stream). Ask for the range
            # after our cursor and wait for it; later frames will be replayed in order.
            self.stats.gaps += 1
            asked = self._resync_asked.get(conv)
            now = time.monotonic()
            # One request per cursor position (re-asked after 2 s if the replay never came).
            if self.resync_on_gap and self.ws is not None and (asked is None or asked[0] != last or now - asked[1] > 2):
                self._resync_asked[conv] = (last, now)
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.send(json.dumps({"type": "sync", "cursors": {str(conv): last}}))
            return
        self.cursors[conv] = seq
        message = frame.get("message") or {}
        self.applied[conv].append((seq, frame["type"], message.get("id"), message.get("client_id")))

    async def wait_until(self, predicate: Any, timeout: float) -> bool:
        """Wait (bounded) until ``predicate()`` holds; returns whether it did. Polls every 20 ms:
        cheaper than notifying a condition on each of 20,000 frames per second."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def wait_ready(self, timeout: float = 15.0) -> dict[str, Any]:
        if not await self.wait_until(lambda: self.ready is not None or self.closed.is_set(), timeout):
            raise TimeoutError(f"socket {self.name}: no ready frame within {timeout}s")
        if self.ready is None:
            raise ConnectionError(f"socket {self.name} closed before ready (code {self.close_code})")
        return self.ready

    async def sync_and_wait(self, cursors: dict[int, int] | None = None, timeout: float = 30.0) -> None:
        """``sync`` and wait (bounded) for its ``sync.done``."""
        before = self.syncs_done
        await self.sync(cursors)
        if not await self.wait_until(lambda: self.syncs_done > before or self.closed.is_set(), timeout):
            raise TimeoutError(f"socket {self.name}: no sync.done within {timeout}s")

    async def wait_seq(self, conversation_id: int, seq: int, timeout: float) -> bool:
        return await self.wait_until(lambda: self.cursors.get(conversation_id, 0) >= seq, timeout)

    def message_seqs(self, conversation_id: int) -> list[int]:
        return [s for s, t, _, _ in self.applied[conversation_id] if t == "message.new"]

    def message_client_ids(self, conversation_id: int) -> list[str | None]:
        return [c for _, t, _, c in self.applied[conversation_id] if t == "message.new"]


async def open_many(
    urls_tokens: list[tuple[str, str]],
    *,
    concurrency: int = 10,
    timeout: float = 300.0,
    attempts: int = 5,
    **kwargs: Any,
) -> list[HubSocket]:
    """Open many sockets with bounded concurrency (a connect storm would time out on 2 cores);
    a refused or dropped handshake is retried up to ``attempts`` times, 1 s apart."""
    sem = asyncio.Semaphore(concurrency)
    sockets = [HubSocket(url, token, name=f"s{i}", **kwargs) for i, (url, token) in enumerate(urls_tokens)]

    async def one(sock: HubSocket) -> None:
        for attempt in range(1, attempts + 1):
            async with sem:
                try:
                    await sock.connect()
                    return
                except (InvalidStatus, InvalidMessage, OSError, TimeoutError):
                    sock.failed_connects += 1
                    if attempt == attempts:
                        raise
            await asyncio.sleep(1.0)

    try:
        await asyncio.wait_for(asyncio.gather(*(one(s) for s in sockets)), timeout)
    except BaseException:
        await asyncio.shield(asyncio.gather(*(s.close() for s in sockets), return_exceptions=True))
        raise
    return sockets
