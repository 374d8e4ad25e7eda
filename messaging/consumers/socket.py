"""``/ws/``: one multiplexed socket per client for every messaging event.

Delivery rule (ARCHITECTURE.md "Delivery guarantees"): the channel layer is a hint, the event
log is the truth. The socket keeps, per streamed conversation, the last seq it delivered
(``self.cursors``). A live event with seq == cursor+1 is forwarded; seq <= cursor is a
duplicate and dropped; a bigger seq means the layer lost something, so the missing range is
replayed from the database first. Because channels dispatches one message at a time per
consumer, replay and live delivery never interleave: the dispatch loop is the per-socket
queue that keeps frames in seq order.

Until the client's first ``sync`` (or ``SYNC_GRACE_SECONDS``, for clients that never sync)
live events are held back (left in the log, cursors unmoved): otherwise an event committed
between ``ready`` and ``sync`` would reach the client before the replay of older ones. The
grace timer runs outside the dispatch loop, so every path that delivers takes ``self.lock``.

A lost *last* event shows no gap until the next one arrives; the client's ``ping`` (every
``HEARTBEAT_SECONDS``) therefore also compares the cursors with the conversations' last seq
(at most every ``TAIL_CHECK_SECONDS``) and replays what is missing.

Conversation events do not come through the socket's own layer channel: the process's
``ConversationFanout`` (``consumers.fanout``) holds one subscription per conversation, encodes
each frame once and calls ``live_event`` on every local socket streaming it. A socket that is
idle delivers at once; one busy under its lock (a replay, a sync, an access re-check) queues
the event in ``backlog``, drained in order by its own task, so the fan-out never waits for
one socket's database work. The socket's own channel carries only its user and workspace
groups (access changes, presence).

The consumer is thin: it parses frames into ``messaging.protocol`` types, asks
``consumers.state`` (access checks + one action, in a worker thread) and serialises.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from hub import metrics
from hub.errors import HubError
from messaging.consumers import state
from messaging.consumers.fanout import encode_frame, fanout
from messaging.consumers.limits import FrameLimiter
from messaging.events import user_group
from messaging.presence import (
    broadcast_typing,
    tracker,
    typing_allowed,
    workspace_group,
)
from messaging.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    CLOSE_UNAUTHENTICATED,
    HEARTBEAT_SECONDS,
    MAX_FRAME_BYTES,
    ClientFrame,
    ErrorFrame,
    MessageSendFrame,
    PingFrame,
    PresenceSetFrame,
    ReadFrame,
    SubscribeFrame,
    SyncFrame,
    TypingFrame,
    UnsubscribeFrame,
    parse_client_frame,
)

logger = logging.getLogger(__name__)

REPLAY_PAGE = 500


class HubSocketConsumer(AsyncWebsocketConsumer):
    # Overridable in tests (0 = check on every ping).
    TAIL_CHECK_SECONDS: float = 30.0
    SYNC_GRACE_SECONDS: float = 5.0
    # A cursor further behind than this is not replayed event by event (daphne has no send
    # backpressure: it would buffer it all in memory); the client gets sync.reset instead.
    REPLAY_MAX_EVENTS: int = 5000
    # A live event ahead of the cursor is held this long for the missing ones to arrive
    # through the layer before replaying from the database: with several processes, two
    # commits' publishes can reach Redis in the opposite order, and replaying at once made
    # every socket of a big channel query the database for an event that was 1 ms behind.
    REORDER_WAIT_SECONDS: float = 0.5
    REORDER_MAX_HELD: int = 200
    # Live events queued while the socket is busy; beyond this they are dropped like a lossy
    # layer would (the next one shows the gap, the heartbeat the tail: both replay).
    BACKLOG_MAX: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = 0
        self.user_name = ""
        self.auth: dict[str, Any] = {}
        self.cursors: dict[int, int] = {}
        self.workspaces: dict[int, bool] = {}
        self.closed = False
        self.joined_groups: set[str] = set()  # layer groups of the socket's own channel
        self.attached: set[int] = set()  # conversations streamed through the fan-out
        self.limiter = FrameLimiter()
        self.last_frame_at = time.monotonic()
        self.last_tail_check = time.monotonic()
        self.synced = False
        self.lock = asyncio.Lock()
        self.grace_task: asyncio.Task[None] | None = None
        self.held: dict[int, dict[int, str]] = {}  # conversation → seq → encoded frame
        self.gap_tasks: dict[int, asyncio.Task[None]] = {}
        self.backlog: deque[tuple[dict[str, Any], str, Any]] = deque()
        self.backlog_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """``AsyncConsumer.__call__`` with one retry of ``new_channel``.

        On the Redis pub/sub layer, ``new_channel`` SUBSCRIBEs; the first SUBSCRIBE after the
        layer's connection dropped fails (the connection is re-made on the next command),
        which turned the handshake into an HTTP 500. One retry heals it.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if self.channel_layer is None:
            await super().__call__(scope, receive, send)
            return
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except Exception:
            logger.warning("channel layer new_channel failed; retrying once", exc_info=True)
            self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        try:
            with contextlib.suppress(StopConsumer):
                await await_many_dispatch([receive, self.channel_receive], self.dispatch)
        finally:
            # Normally done by disconnect; this also covers a consumer that died of an
            # exception, so the fan-out never keeps (and writes to) a dead socket.
            self.closed = True
            await self._detach_all()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Like channels' ``AsyncConsumer.dispatch`` minus ``await aclose_old_connections()``.

        channels >= 4.2 awaits that before *every* handler: a hop to the single sync DB thread
        per delivered layer event, per presence frame and per client frame, on every socket
        (23 % of the event loop under load; p99 at 100 members 7.3 s -> 279 ms without it).
        It is not needed here: the consumer only touches the database through
        ``database_sync_to_async``, which already closes old connections before and after
        each call, and never holds a connection across an await.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        user = self.scope.get("user")
        # Accept first so that the refusal carries an application close code (a refused
        # handshake only shows the client a bare 403).
        await self.accept()
        if user is None or not user.is_authenticated or not user.is_active:
            await self._close(CLOSE_UNAUTHENTICATED)
            return
        self.user_id = int(user.pk)
        self.user_name = str(getattr(user, "name", "") or "")
        self.auth = dict(self.scope.get("hub_auth") or {})
        try:
            await self._start()
        except Exception:
            # E.g. the database is down: say so with a code instead of a dropped socket.
            logger.exception("socket start failed for user %s", self.user_id)
            await self._close(1011)

    async def _start(self) -> None:
        # One trip to the sync DB thread for everything connect reads (it is the bottleneck
        # of a connect storm). The last seqs are read *before* the groups are joined, so an
        # event committed in between may reach neither; that is healed before anything is
        # delivered: the first ``sync`` (or the grace timer) re-reads every streamed
        # conversation's last seq after the joins and replays what is missing.
        start = await database_sync_to_async(state.socket_start)(self.user_id)
        # Someone in no workspace yet (just signed up) gets an empty but open socket: they are
        # about to create or join one, and access.changed adds it.
        self.workspaces = dict(start.access.workspaces)
        await self._join(user_group(self.user_id))
        for workspace_id, is_guest in self.workspaces.items():
            if not is_guest:
                await self._join(workspace_group(workspace_id))
        for conversation_id in sorted(start.access.conversations):
            await self._attach(conversation_id)
        self.cursors = dict(start.last_seqs)
        await self._send(
            {
                "type": "ready",
                "user_id": self.user_id,
                "workspace_ids": sorted(self.workspaces),
                "conversations": [{"id": cid, "last_seq": seq} for cid, seq in sorted(self.cursors.items())],
                "heartbeat_seconds": HEARTBEAT_SECONDS,
                "max_frame_bytes": MAX_FRAME_BYTES,
            }
        )
        self.grace_task = asyncio.ensure_future(self._grace())
        await tracker().connect(self.user_id, self.channel_name, sorted(self.workspaces))
        await self._send_presence_snapshots(start.members)

    async def _grace(self) -> None:
        """A client that never sends ``sync`` still gets live events, from connect time on."""
        await asyncio.sleep(self.SYNC_GRACE_SECONDS)
        try:
            async with self.lock:
                if not self.synced and not self.closed:
                    self.synced = True
                    await self._heal_tails()
        except Exception:
            logger.exception("starting the live stream failed for user %s", self.user_id)
            await self._close(1011)

    async def disconnect(self, code: int) -> None:
        self._stop_grace()
        await self._detach_all()
        for group in list(self.joined_groups):
            await self._leave(group)
        if self.user_id and not self.closed:
            await tracker().disconnect(self.user_id, self.channel_name)
        self.closed = True

    async def _close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop_grace()
        await self._detach_all()
        for group in list(self.joined_groups):
            await self._leave(group)
        if self.user_id:
            await tracker().disconnect(self.user_id, self.channel_name)
        await self.close(code=code)

    def _stop_grace(self) -> None:
        task, self.grace_task = self.grace_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        for gap in list(self.gap_tasks.values()):
            if gap is not asyncio.current_task():
                gap.cancel()
        self.gap_tasks.clear()
        self.held.clear()
        self.backlog.clear()
        backlog, self.backlog_task = self.backlog_task, None
        if backlog is not None and backlog is not asyncio.current_task():
            backlog.cancel()

    async def _join(self, group: str) -> None:
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            # Right after the layer's Redis connection dropped, channels_redis's first
            # SUBSCRIBE on the fresh connection can fail; one retry reconnects. Anything the
            # group sent meanwhile is healed by replay (gap or tail check).
            logger.warning("group_add %s failed; retrying once", group, exc_info=True)
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined_groups.add(group)

    async def _leave(self, group: str) -> None:
        self.joined_groups.discard(group)
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            # Redis down while a socket closes: nothing to undo (the subscription dies with
            # the connection), and disconnect must finish its bookkeeping.
            logger.warning("group_discard %s failed", group, exc_info=True)

    async def _attach(self, cid: int) -> None:
        await fanout().attach(cid, self)
        self.attached.add(cid)

    async def _detach(self, cid: int) -> None:
        self.attached.discard(cid)
        await fanout().detach(cid, self)

    async def _detach_all(self) -> None:
        for cid in sorted(self.attached):
            await self._detach(cid)

    async def _send(self, frame: Any) -> None:
        if not self.closed:
            await self.send(text_data=encode_frame(frame))

    async def _send_text(self, text: str) -> None:
        # What ``AsyncWebsocketConsumer.send(text_data=...)`` does, minus two coroutine
        # layers: this runs once per socket per live event.
        if not self.closed:
            await self.base_send({"type": "websocket.send", "text": text})

    async def _error(self, exc: HubError, **context: Any) -> None:
        frame: ErrorFrame = {"type": "error", "code": exc.code, "message": exc.message}
        frame.update({k: v for k, v in context.items() if v is not None})  # type: ignore[typeddict-item]
        await self._send(frame)

    # --- client frames -----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        self.last_frame_at = time.monotonic()
        if not self.limiter.allow():
            if self.limiter.exhausted:
                await self._close(CLOSE_RATE_LIMITED)
                return
            await self._error(HubError("rate_limited", "too many frames; this one was dropped"))
            return
        raw_size = (
            len(bytes_data) if bytes_data is not None else len((text_data or "").encode("utf-8", "surrogatepass"))
        )
        if raw_size > MAX_FRAME_BYTES:
            await self._error(HubError("frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes"))
            return
        data: Any = None
        try:
            data = self._decode(text_data, bytes_data)
            frame = parse_client_frame(data)
            await self._handle(frame)
        except HubError as exc:
            await self._error(exc, **self._context(data))
        except Exception:
            logger.exception("socket frame failed for user %s", self.user_id)
            await self._error(HubError("internal_error", "the server failed on this frame"), **self._context(data))

    @staticmethod
    def _decode(text_data: str | None, bytes_data: bytes | None) -> Any:
        if bytes_data is not None:
            try:
                text_data = bytes_data.decode("utf-8")
            except UnicodeDecodeError:
                raise HubError("invalid_utf8", "the frame is not valid UTF-8") from None
        try:
            data = json.loads(text_data or "")
        except (ValueError, RecursionError):
            raise HubError("invalid_json", "the frame is not valid JSON") from None
        # JSON escapes can smuggle lone surrogates ("\ud800") past the UTF-8 check; they
        # would fail later in the database driver, so refuse them here.
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise HubError("invalid_utf8", "the frame contains a lone surrogate") from None
        except RecursionError:
            raise HubError("invalid_json", "the frame is nested too deeply") from None
        return data

    @staticmethod
    def _context(data: Any) -> dict[str, Any]:
        """Echo back what lets the client match the error to its frame."""
        if not isinstance(data, dict):
            return {}
        context: dict[str, Any] = {}
        if isinstance(data.get("type"), str):
            context["frame_type"] = data["type"][:40]
        if isinstance(data.get("client_id"), str):
            context["client_id"] = data["client_id"][:64]
        if isinstance(data.get("conversation_id"), int) and not isinstance(data.get("conversation_id"), bool):
            context["conversation_id"] = data["conversation_id"]
        return context

    async def _handle(self, frame: ClientFrame) -> None:
        if isinstance(frame, SyncFrame):
            await self._on_sync(frame)
        elif isinstance(frame, MessageSendFrame):
            await self._on_send(frame)
        elif isinstance(frame, ReadFrame):
            await self._on_read(frame)
        elif isinstance(frame, TypingFrame):
            await self._on_typing(frame)
        elif isinstance(frame, PingFrame):
            await self._on_ping(frame)
        elif isinstance(frame, SubscribeFrame):
            await self._on_subscribe(frame)
        elif isinstance(frame, UnsubscribeFrame):
            await self._on_unsubscribe(frame)
        elif isinstance(frame, PresenceSetFrame):
            await tracker().set_status(self.user_id, self.channel_name, frame.status)

    async def _on_sync(self, frame: SyncFrame) -> None:
        async with self.lock:
            await self._sync_cursors(frame)

    async def _sync_cursors(self, frame: SyncFrame) -> None:
        wanted = sorted(frame.cursors)
        # One query for the ones already streamed, one access check for the rest.
        known = [cid for cid in wanted if cid in self.cursors]
        unknown = [cid for cid in wanted if cid not in self.cursors]
        last = await database_sync_to_async(state.last_seqs)(known)
        if unknown:
            readable = await database_sync_to_async(state.readable_last_seqs)(self.user_id, unknown)
            for cid in unknown:
                if cid in readable:
                    await self._attach(cid)
                    last[cid] = readable[cid]
                else:
                    await self._error(
                        HubError("not_found", "conversation not found"), conversation_id=cid, frame_type="sync"
                    )
        for cid in wanted:
            if cid not in last:
                continue
            # Clamp: a cursor from the future would make us drop real events as duplicates.
            self.cursors[cid] = min(frame.cursors[cid], last[cid])
            if last[cid] - self.cursors[cid] > self.REPLAY_MAX_EVENTS:
                self.cursors[cid] = last[cid]
                await self._send({"type": "sync.reset", "conversation_id": cid, "last_seq": last[cid]})
            elif self.cursors[cid] < last[cid]:  # a query only where something is missing
                await self._replay(cid)
        if not self.synced:
            # Live events held since connect, for the conversations the client did not name.
            self.synced = True
            await self._heal_tails()
        await self._send(
            {"type": "sync.done", "cursors": {str(cid): self.cursors[cid] for cid in wanted if cid in last}}
        )

    async def _on_send(self, frame: MessageSendFrame) -> None:
        # Under the lock, so that the message's own event (the fan-out delivers it on commit,
        # possibly before the action returns) queues behind the ack, as the protocol says.
        async with self.lock:
            await self._send_and_ack(frame)

    async def _send_and_ack(self, frame: MessageSendFrame) -> None:
        try:
            message, created = await database_sync_to_async(state.send_message)(
                self.user_id, frame.conversation_id, frame.body, frame.client_id, frame.thread_root_id
            )
        except HubError as exc:
            await self._error(
                exc, client_id=str(frame.client_id), conversation_id=frame.conversation_id, frame_type=frame.type
            )
            return
        # The action returned, so the transaction committed: acknowledging now is safe. The
        # message.new event follows through the normal event path (ack first: it waits in
        # the backlog until the lock is released).
        await self._send(
            {"type": "message.ack", "client_id": str(frame.client_id), "created": created, "message": message}
        )

    async def _on_read(self, frame: ReadFrame) -> None:
        last_read = await database_sync_to_async(state.mark_read)(self.user_id, frame.conversation_id, frame.seq)
        await self._send({"type": "read.ack", "conversation_id": frame.conversation_id, "last_read_seq": last_read})

    async def _on_typing(self, frame: TypingFrame) -> None:
        if frame.conversation_id not in self.cursors:
            raise HubError("not_found", "conversation not found")
        if await typing_allowed(self.user_id, frame.conversation_id):
            await broadcast_typing(frame.conversation_id, self.user_id, self.user_name)

    async def _on_ping(self, frame: PingFrame) -> None:
        await self._send({"type": "pong", "t": frame.t, "server_time": time.time()})
        await tracker().heartbeat(self.user_id)
        if self.synced and time.monotonic() - self.last_tail_check >= self.TAIL_CHECK_SECONDS:
            self.last_tail_check = time.monotonic()
            async with self.lock:
                await self._heal_tails()

    async def _on_subscribe(self, frame: SubscribeFrame) -> None:
        async with self.lock:
            await self._subscribe(frame.conversation_id)

    async def _subscribe(self, cid: int) -> None:
        if cid not in self.cursors:
            await self._attach(cid)
            last_seq = await database_sync_to_async(state.readable_last_seq)(self.user_id, cid)
            if last_seq is None:
                await self._detach(cid)
                raise HubError("not_found", "conversation not found")
            self.cursors[cid] = last_seq
        await self._send({"type": "subscribed", "conversation_id": cid, "last_seq": self.cursors[cid]})

    async def _on_unsubscribe(self, frame: UnsubscribeFrame) -> None:
        cid = frame.conversation_id
        async with self.lock:
            if cid not in self.cursors:
                raise HubError("not_found", "conversation not found")
            self.cursors.pop(cid)
            self._forget_held(cid)
            await self._detach(cid)
        await self._send({"type": "unsubscribed", "conversation_id": cid})

    # --- delivery ----------------------------------------------------------------------------

    async def _replay(self, conversation_id: int) -> None:
        """Send every stored event after the cursor, in seq order, page by page."""
        while conversation_id in self.cursors and not self.closed:
            events, has_more = await database_sync_to_async(state.events_page)(
                conversation_id, self.cursors[conversation_id], REPLAY_PAGE
            )
            for event in events:
                await self._send(event)
                self.cursors[conversation_id] = int(event["seq"])
            if not has_more or not events:
                return

    async def _heal_tails(self) -> None:
        """Replay wherever the log is ahead of the cursor (one query to find out)."""
        if not self.cursors:
            return
        last = await database_sync_to_async(state.last_seqs)(sorted(self.cursors))
        for cid, seq in sorted(last.items()):
            if cid in self.cursors and seq > self.cursors[cid]:
                await self._replay(cid)

    async def live_event(self, event: dict[str, Any], text: str, appended_at: Any) -> None:
        """Fan-out: one ``conv.event`` of a conversation this socket attached to, already
        encoded (``text``). Runs in the fan-out's loop over the process's sockets, so it
        never waits for this socket: busy (lock held, or events already queued) means queue."""
        if self.closed or not self.synced:
            return  # before the first sync the log holds it for the replay
        if self.lock.locked() or self.backlog:
            if len(self.backlog) < self.BACKLOG_MAX:
                self.backlog.append((event, text, appended_at))
            if self.backlog_task is None:
                self.backlog_task = asyncio.ensure_future(self._drain_backlog())
            return
        async with self.lock:  # free: taken without waiting
            await self._deliver(event, text, appended_at)

    async def _drain_backlog(self) -> None:
        """Deliver, in arrival order, the live events queued while the socket was busy."""
        try:
            while self.backlog and not self.closed:
                async with self.lock:
                    while self.backlog and not self.closed:
                        await self._deliver(*self.backlog.popleft())
        finally:
            if self.backlog_task is asyncio.current_task():
                self.backlog_task = None

    async def _deliver(self, event: dict[str, Any], text: str, appended_at: Any) -> None:
        """Caller holds ``self.lock``. Sends, or holds, but never waits for the database:
        a gap is replayed by the conversation's gap task."""
        cid = event.get("conversation_id")
        seq = event.get("seq")
        if not isinstance(cid, int) or not isinstance(seq, int) or cid not in self.cursors:
            return  # not (or no longer) streamed here
        cursor = self.cursors[cid]
        if seq <= cursor:
            return  # already delivered (by replay, or the layer repeated itself)
        try:
            if seq == cursor + 1:
                await self._send_text(text)
                metrics.observe_fanout(appended_at)
                self.cursors[cid] = seq
                await self._drain_held(cid)
                return
            # cursor+1..seq-1 are late or lost: hold this one; if they do not come within
            # REORDER_WAIT_SECONDS, the log has them (replay). Far behind: replay now.
            held = self.held.setdefault(cid, {})
            held[seq] = text
            if len(held) == self.REORDER_MAX_HELD + 1:
                self._start_gap_task(cid, 0.0)
            elif cid not in self.gap_tasks:
                self._start_gap_task(cid, self.REORDER_WAIT_SECONDS)
        except Exception:
            # Without the missing range we cannot keep the order promise: close so the client
            # reconnects and syncs from its cursors.
            logger.exception("live delivery failed for conversation %s", cid)
            await self._close(1011)

    async def _drain_held(self, cid: int) -> None:
        """Send held events that are now next in line; drop those already delivered."""
        held = self.held.get(cid)
        if held is None:
            return
        while cid in self.cursors:
            next_seq = self.cursors[cid] + 1
            text = held.pop(next_seq, None)
            if text is None:
                break
            await self._send_text(text)
            self.cursors[cid] = next_seq
        cursor = self.cursors.get(cid)
        for seq in [seq for seq in held if cursor is None or seq <= cursor]:
            del held[seq]
        if not held:
            self._forget_held(cid)

    def _forget_held(self, cid: int) -> None:
        self.held.pop(cid, None)
        task = self.gap_tasks.pop(cid, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _start_gap_task(self, cid: int, delay: float) -> None:
        task = self.gap_tasks.pop(cid, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.gap_tasks[cid] = asyncio.ensure_future(self._gap_timeout(cid, delay))

    async def _gap_timeout(self, cid: int, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            async with self.lock:
                if self.gap_tasks.get(cid) is asyncio.current_task():
                    self.gap_tasks.pop(cid, None)
                if self.held.pop(cid, None) is not None and cid in self.cursors and not self.closed:
                    await self._replay(cid)  # the layer lost them; the log has them
        except Exception:
            logger.exception("replay failed for conversation %s", cid)
            await self._close(1011)

    async def ephemeral(self, message: dict[str, Any]) -> None:
        """Layer, on the socket's own channel (user and workspace groups): presence and
        per-user frames — forwarded as is, never stored."""
        if self.closed or message.get("skip_channel") == self.channel_name:
            return
        frames = message.get("frames")
        if isinstance(frames, list):  # a batch (presence changes): each is its own frame
            for frame in frames:
                if isinstance(frame, dict):
                    await self.live_ephemeral(frame, encode_frame(frame))
            return
        frame = message.get("frame")
        if isinstance(frame, dict):
            await self.live_ephemeral(frame, encode_frame(frame))

    async def live_ephemeral(self, frame: dict[str, Any], text: str) -> None:
        """Typing, presence, read.updated (the fan-out's conversation frames come here
        directly, encoded once per process). Not ordered with the log: no lock."""
        if self.closed:
            return
        if frame.get("type") == "typing" and frame.get("user_id") == self.user_id:
            return  # your own typing is not news to you
        cid = frame.get("conversation_id")
        if cid is not None and frame.get("type") != "presence" and cid not in self.cursors:
            return
        await self._send_text(text)

    async def access_changed(self, message: dict[str, Any]) -> None:
        """Layer: someone's access changed (share/unshare, join/leave, role, deactivation,
        token revoked). Re-check credentials, then what this socket may stream."""
        if self.closed:
            return
        try:
            async with self.lock:
                await self._recheck_access(message)
        except Exception:
            logger.exception("access re-check failed for user %s", self.user_id)
            await self._close(1011)

    async def _recheck_access(self, message: dict[str, Any]) -> None:
        if not await database_sync_to_async(state.credentials_valid)(self.user_id, self.auth):
            await self._close(CLOSE_FORBIDDEN)
            return
        granted = await database_sync_to_async(state.socket_access)(self.user_id)
        if any(ws not in granted.workspaces for ws in self.workspaces):
            # A whole workspace is gone: close rather than patch every view; the client
            # reconnects and gets what remains.
            await self._close(CLOSE_FORBIDDEN)
            return
        for workspace_id, is_guest in granted.workspaces.items():
            if workspace_id not in self.workspaces and not is_guest:
                await self._join(workspace_group(workspace_id))
        self.workspaces = dict(granted.workspaces)
        cid = message.get("conversation_id")
        if isinstance(cid, int):
            # One conversation changed: keep it if still readable (subscribed public channels
            # stay subscribed), add it if it is now one of ours.
            if cid in self.cursors:
                if await database_sync_to_async(state.readable_last_seq)(self.user_id, cid) is None:
                    await self._remove(cid)
            elif cid in granted.conversations:
                await self._add(cid)
            return
        for gone in sorted(set(self.cursors)):
            if gone not in granted.conversations:
                still = await database_sync_to_async(state.readable_last_seq)(self.user_id, gone)
                if still is None:
                    await self._remove(gone)
        for new in sorted(granted.conversations - set(self.cursors)):
            await self._add(new)

    async def _remove(self, cid: int) -> None:
        self.cursors.pop(cid, None)
        self._forget_held(cid)
        await self._detach(cid)
        await self._send({"type": "conversation.removed", "conversation_id": cid})

    async def _add(self, cid: int) -> None:
        await self._attach(cid)
        last = await database_sync_to_async(state.last_seqs)([cid])
        if cid not in last:
            await self._detach(cid)
            return
        self.cursors[cid] = last[cid]
        await self._send({"type": "conversation.added", "conversation_id": cid, "last_seq": last[cid]})

    async def _send_presence_snapshots(self, members: dict[int, list[int]]) -> None:
        for workspace_id, people in sorted(members.items()):
            found = await tracker().snapshot(people)
            await self._send(
                {
                    "type": "presence.snapshot",
                    "workspace_id": workspace_id,
                    "statuses": {str(uid): status for uid, status in sorted(found.items())},
                }
            )
