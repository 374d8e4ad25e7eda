"""The room layer: one in-memory pycrdt Doc per open document per server process.

A socket's update is validated by applying it to the room's Doc (garbage raises before any
change), and what the Doc actually integrated — the update Yrs re-encodes for the transaction,
not the client's bytes — is relayed to the other local sockets, queued for the batched log
write, and sent once to the channel-layer group ``doc.<id>`` for the other processes.

Correctness never depends on the layer (it is at-most-once and drops at capacity): the room
knows the log position it has applied (``seen_seq``) and heals by reading the rows after it —
when a relayed message's per-origin counter jumps, when a peer's flush covers updates it never
received, and every ``HUB_DOCS_CATCHUP_SECONDS`` anyway. Applying an update twice is a no-op in
a CRDT, so healing is always safe.

Everything here runs on the process's event loop (pycrdt Docs are bound to their thread); the
database is reached through ``database_sync_to_async``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection
from pycrdt import Doc, TransactionEvent

from docs_collab import content, presence, protocol, store
from docs_collab.events import doc_group
from docs_collab.protocol import (
    AuthMessage,
    AwarenessEntry,
    AwarenessUpdate,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
)

logger = logging.getLogger(__name__)

PROCESS_ID = uuid.uuid4().hex

CLOSE_RELOAD = 4409  # the document was restored: reload it
CLOSE_ACCESS_ENDED = 4403  # the user lost access to the document while connected
CLOSE_RECONNECT = 4100  # may edit now: reconnect (y-websocket reconnects on codes outside 4400-4499)
READ_ONLY_NOTICE_EVERY = 50  # refused updates between two repeated notices to the same socket
COMPACT_ON_CLOSE_ROWS = 20  # log rows since the snapshot worth folding when a room closes


class Peer(Protocol):
    """What the room needs from a socket (the consumer implements it)."""

    user_id: int
    wants_edit: bool

    async def send_frame(self, data: bytes) -> None: ...

    async def close_for(self, code: int) -> None: ...

    async def current_role(self) -> str | None:
        """The socket user's role on the document now (None: no access any more)."""
        ...


@dataclass
class PeerState:
    can_edit: bool
    client_ids: set[int] = field(default_factory=set)
    refused: int = 0


@dataclass
class AwarenessClient:
    clock: int
    state: str
    owner: Peer | None  # None: a client of another process


class Room:
    def __init__(self, document_id: int) -> None:
        self.document_id = document_id
        self.group = doc_group(document_id)
        self.doc: Doc | None = None
        self.peers: dict[Peer, PeerState] = {}
        self.awareness: dict[int, AwarenessClient] = {}
        self.seen_seq = 0
        # Rows above seen_seq known to be applied (our own flushes, peers' flushes whose every
        # update reached us by the layer); seen_seq advances over them without reading the log.
        self._applied_above: set[int] = set()
        self._catch_up_task: asyncio.Task[None] | None = None
        self._catch_up_again = False
        # (author, update, n): n is this process's relay counter of the update.
        self.pending: list[tuple[int | None, bytes, int]] = []
        self.relayed = 0
        # Per other process: the relay counters received and not yet covered by a flush.
        self.received: dict[str, set[int]] = {}
        self.last_received: dict[str, int] = {}
        self.closed = False
        self._captured: list[bytes] = []
        self._layer: BaseChannelLayer | None = None
        self._channel: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_lock = asyncio.Lock()
        self._catchup_lock = asyncio.Lock()
        self._compacting = False
        self._layer_sends = 0
        self._snapshot_rows = 0  # log rows since the snapshot, for triggering compaction
        # @mentions already in the document (or already handled by this room); the last local
        # author whose edits are flushed but not yet scanned for new mentions.
        self._mentioned: set[int] = set()
        self._mention_author: int | None = None
        self._mentions_dirty = False  # a local update since the last scan may hold a mention
        self._presence_lock = asyncio.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        state = await database_sync_to_async(store.load_state)(self.document_id)
        doc: Doc = Doc()
        for update in state.updates:
            doc.apply_update(update)
        doc.observe(self._on_transaction)
        self.doc = doc
        self.seen_seq = state.last_seq
        self._snapshot_rows = state.rows
        self._mentioned = content.mentioned_user_ids(doc)
        self._layer = get_channel_layer()
        if self._layer is not None:
            self._channel = await self._layer.new_channel()
            await self._layer.group_add(self.group, self._channel)
            self._spawn(self._listen())
            # Remote people appear at once instead of at their next cursor move.
            await self._group_send({"type": "doc.awareness_query", "origin": PROCESS_ID})
        self._spawn(self._periodic_catch_up())

    async def close(self) -> None:
        self.closed = True
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        for attempt in range(3):
            await self.flush()
            if not self.pending:
                break
            # The database refused the last flush: the room's memory is about to go, so try a
            # little longer (the clients still hold these edits and resend them on reconnect).
            await asyncio.sleep(0.5 * (attempt + 1))
        await self.store_presence()  # closed: removes this process's entry
        if self._snapshot_rows >= COMPACT_ON_CLOSE_ROWS and not self._compacting:
            # The next open of this document then loads one snapshot instead of a long log.
            self._compacting = True
            await self._compact()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._layer is not None and self._channel is not None:
            with contextlib.suppress(Exception):
                await self._layer.group_discard(self.group, self._channel)
        self.doc = None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_transaction(self, event: TransactionEvent) -> None:
        self._captured.append(event.update)

    def _apply(self, update: bytes) -> bytes | None:
        """Apply to the Doc; the update Yrs integrated (None when nothing was new). Raises
        ValueError for bytes that do not decode, before the Doc changes."""
        assert self.doc is not None
        self._captured.clear()
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            # A Rust panic inside Yrs surfaces as pyo3's PanicException, a BaseException: it
            # must close the offending socket like any invalid update, not kill the consumer.
            # (Fuzzing 20,000 mutated updates raised only ValueError; this is the seat belt.)
            if type(exc).__name__ != "PanicException":
                raise
            logger.error("document %s: the CRDT engine panicked on an update", self.document_id)
            raise ValueError("update made the CRDT engine panic") from None
        if not self._captured:
            return None  # nothing new (a duplicate, or structs still waiting for missing ones)
        produced = self._captured[-1]
        return None if produced == protocol.EMPTY_UPDATE else produced

    # --- peers -------------------------------------------------------------------------------

    async def add_peer(self, peer: Peer) -> PeerState:
        assert self.doc is not None
        limit = settings.HUB_DOCS_MAX_EDITORS
        elsewhere = await presence.aeditors_elsewhere(self.document_id, PROCESS_ID) if peer.wants_edit else 0
        # Counted after the await: other sockets may have joined this room meanwhile.
        editors = sum(1 for s in self.peers.values() if s.can_edit) + elsewhere
        state = PeerState(can_edit=peer.wants_edit and editors < limit)
        self.peers[peer] = state
        self._spawn(self.store_presence())
        if peer.wants_edit and not state.can_edit:
            await peer.send_frame(
                protocol.encode_permission_denied(
                    f"editor_limit: {limit} people are already editing this document; you can view it and "
                    "will see every change live"
                )
            )
        elif not peer.wants_edit:
            await peer.send_frame(protocol.encode_permission_denied("read_only: you can view this document"))
        # The server opens the sync: its state vector (step 1) so the client sends what the
        # server lacks; the client's own step 1 is answered in `receive`.
        await peer.send_frame(protocol.encode_sync_step1(self.doc.get_state()))
        if self.awareness:
            await peer.send_frame(self._awareness_frame())
        return state

    async def remove_peer(self, peer: Peer) -> None:
        state = self.peers.pop(peer, None)
        if state is not None and self.peers:
            self._spawn(self.store_presence())  # the last one out clears the entry in close()
        if state is None or not state.client_ids:
            return
        # The client is gone: tell everyone its cursor left (y-protocols: state "null" with a
        # higher clock), here and in the other processes.
        entries = []
        for client_id in state.client_ids:
            current = self.awareness.pop(client_id, None)
            if current is not None:
                entries.append(AwarenessEntry(client_id, current.clock + 1, "null"))
        if entries:
            payload = protocol.awareness_payload(entries)
            await self._broadcast(protocol.encode_awareness_payload(payload), exclude=None)
            await self._group_send({"type": "doc.awareness", "origin": PROCESS_ID, "payload": payload})

    # --- frames from a socket ----------------------------------------------------------------

    async def receive(self, peer: Peer, frame: bytes) -> None:
        """Handle one binary frame. Raises ProtocolError for a malformed frame or update."""
        assert self.doc is not None
        message = protocol.decode_message(frame)
        if isinstance(message, SyncStep1):
            try:
                diff = self.doc.get_update(message.state_vector)
            except ValueError:
                raise ProtocolError("invalid state vector") from None
            await peer.send_frame(protocol.encode_sync_step2(diff))
        elif isinstance(message, SyncStep2 | SyncUpdate):
            await self._receive_update(peer, message.update)
        elif isinstance(message, AwarenessUpdate):
            await self._receive_awareness(peer, message)
        elif isinstance(message, QueryAwareness):
            await peer.send_frame(self._awareness_frame())
        elif isinstance(message, AuthMessage):
            pass  # clients have nothing to say in the auth protocol

    async def _receive_update(self, peer: Peer, update: bytes) -> None:
        state = self.peers[peer]
        if update == protocol.EMPTY_UPDATE:
            return  # a step 2 with nothing new: what every viewer sends after connecting
        if not state.can_edit:
            # Refused by the server, not just hidden by the editor UI.
            if state.refused % READ_ONLY_NOTICE_EVERY == 0:
                await peer.send_frame(protocol.encode_permission_denied("read_only: your changes are not saved"))
            state.refused += 1
            return
        try:
            produced = self._apply(update)
        except ValueError:
            raise ProtocolError("invalid Yjs update") from None
        if produced is None:
            return
        if content.MENTION_MARKER in produced:
            # The node name is in the update as UTF-8: only updates that create a mention (a
            # typed one, a paste) make the next flush scan the document tree for new ones.
            self._mentions_dirty = True
        frame = protocol.encode_sync_update(produced)
        await self._broadcast(frame, exclude=peer)
        self.relayed += 1
        self._queue(peer.user_id, produced, self.relayed)
        await self._group_send({"type": "doc.update", "origin": PROCESS_ID, "n": self.relayed, "update": produced})

    async def _receive_awareness(self, peer: Peer, message: AwarenessUpdate) -> None:
        state = self.peers[peer]
        for entry in message.entries:
            current = self.awareness.get(entry.client_id)
            if current is not None and current.owner is not None and current.owner is not peer:
                return  # a socket may not speak for another local socket's client id
        for entry in message.entries:
            self._note_awareness(entry, peer)
            if entry.state == "null":
                state.client_ids.discard(entry.client_id)
            else:
                state.client_ids.add(entry.client_id)
        # Echoed to the sender too, as the reference y-websocket server does: a lone client
        # counts it as traffic (y-websocket reconnects after 30 s without any message).
        await self._broadcast(protocol.encode_awareness_payload(message.payload), exclude=None)
        await self._group_send({"type": "doc.awareness", "origin": PROCESS_ID, "payload": message.payload})

    def _note_awareness(self, entry: AwarenessEntry, owner: Peer | None) -> None:
        current = self.awareness.get(entry.client_id)
        if current is not None and entry.clock < current.clock:
            return
        if entry.state == "null":
            self.awareness.pop(entry.client_id, None)
        else:
            self.awareness[entry.client_id] = AwarenessClient(entry.clock, entry.state, owner)

    def _awareness_payload(self, *, local_only: bool = False) -> bytes:
        entries = [
            AwarenessEntry(cid, c.clock, c.state)
            for cid, c in self.awareness.items()
            if not local_only or c.owner is not None
        ]
        return protocol.awareness_payload(entries)

    def _awareness_frame(self) -> bytes:
        return protocol.encode_awareness_payload(self._awareness_payload())

    async def _broadcast(self, frame: bytes, exclude: Peer | None) -> None:
        for other in list(self.peers):
            if other is exclude:
                continue
            try:
                await other.send_frame(frame)
            except Exception:  # one broken socket must not stop the others
                logger.warning("send to a document socket failed", exc_info=True)

    # --- persistence -------------------------------------------------------------------------

    def _queue(self, author: int | None, update: bytes, n: int) -> None:
        self.pending.append((author, update, n))
        if len(self.pending) >= settings.HUB_DOCS_FLUSH_UPDATES:
            self._schedule_flush(0)
        elif self._flush_timer is None:
            self._schedule_flush(settings.HUB_DOCS_FLUSH_MS / 1000)

    def _schedule_flush(self, delay: float) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        loop = asyncio.get_running_loop()
        self._flush_timer = loop.call_later(delay, lambda: self._spawn(self.flush()))

    async def flush(self) -> None:
        """Write the queued updates as one row per run of the same author."""
        async with self._flush_lock:
            self._flush_timer = None
            if not self.pending:
                return
            pending, self.pending = self.pending, []
            from_n, through_n = pending[0][2], pending[-1][2]
            batches: list[tuple[int | None, list[bytes]]] = []
            for author, update, _ in pending:
                if batches and batches[-1][0] == author:
                    batches[-1][1].append(update)
                else:
                    batches.append((author, [update]))
            try:
                first, last = await database_sync_to_async(store.append_batches)(self.document_id, batches)
            except Exception:
                # Keep them for the next attempt; the editors' clients also still hold them.
                logger.exception("flushing document %s failed", self.document_id)
                self.pending = pending + self.pending
                if not self.closed:
                    self._schedule_flush(1.0)
                return
            self._mark_applied(first, last)
            self._snapshot_rows += last - first + 1
            local_authors = [author for author, _, _ in pending if author is not None]
            if local_authors and self._mentions_dirty:
                self._mentions_dirty = False
                self._mention_author = local_authors[-1]
                self._spawn(self._notify_new_mentions())
            await self._group_send(
                {
                    "type": "doc.flushed",
                    "origin": PROCESS_ID,
                    "first_seq": first,
                    "last_seq": last,
                    "from_n": from_n,
                    "through_n": through_n,
                }
            )
        if self._snapshot_rows >= settings.HUB_DOCS_COMPACT_AFTER_ROWS and not self._compacting and not self.closed:
            self._compacting = True
            self._spawn(self._compact())

    async def _notify_new_mentions(self) -> None:
        """After a flush of local edits: mentions that appeared since the last scan are persisted
        now, so their people are told (``actions.do_notify_mentions`` decides once per document
        and person across processes). Runs after a flush, not per keystroke."""
        if self.doc is None:
            return
        found = content.mentioned_user_ids(self.doc)
        new = found - self._mentioned
        self._mentioned = found | self._mentioned
        if not new:
            return
        try:
            await database_sync_to_async(_notify_mentions)(self.document_id, self._mention_author, new)
        except Exception:
            logger.exception("document %s: mention notification failed", self.document_id)

    async def _compact(self) -> None:
        try:
            # Not in the shared thread-sensitive executor: a long replay there would hold up
            # every other database call of this process (flushes, socket auth) meanwhile.
            result = await database_sync_to_async(_compact_in_pool_thread, thread_sensitive=False)(self.document_id)
            if result is not None:
                self._snapshot_rows = 0
        except Exception:
            logger.exception("compacting document %s failed", self.document_id)
        finally:
            self._compacting = False

    async def store_presence(self) -> None:
        """This process's entry in the cluster-wide "who is here" (docs_collab/presence.py). The
        lock orders the writes, and each writes the state at its turn, so the last write wins
        with the current peers."""
        async with self._presence_lock:
            people = [] if self.closed else [(peer.user_id, state.can_edit) for peer, state in self.peers.items()]
            await presence.astore(self.document_id, PROCESS_ID, people)

    def people_here(self) -> list[tuple[int, bool]]:
        return [(peer.user_id, state.can_edit) for peer, state in self.peers.items()]

    async def _recheck_access(self) -> None:
        for peer in list(self.peers):
            role = await peer.current_role()
            if role is None:
                await peer.close_for(CLOSE_ACCESS_ENDED)
                continue
            await self.set_role(peer, role)

    async def set_role(self, peer: Peer, role: str) -> None:
        """A socket's role changed while connected: demote (told so) or promote (if a slot is
        free under the editor limit)."""
        state = self.peers.get(peer)
        if state is None:
            return
        can_edit = role in ("edit", "owner")
        peer.wants_edit = can_edit
        if state.can_edit and not can_edit:
            state.can_edit = False
            await peer.send_frame(protocol.encode_permission_denied("read_only: you can now only view this document"))
        elif can_edit and not state.can_edit:
            elsewhere = await presence.aeditors_elsewhere(self.document_id, PROCESS_ID)
            editors = sum(1 for s in self.peers.values() if s.can_edit) + elsewhere
            if editors < settings.HUB_DOCS_MAX_EDITORS:
                state.can_edit = True
                # The protocol can say "read only" but not "you may edit now": close with a
                # code y-websocket reconnects on; the new connection starts as an editor.
                await peer.close_for(CLOSE_RECONNECT)
        self._spawn(self.store_presence())

    # --- healing from the log ----------------------------------------------------------------

    async def catch_up(self) -> None:
        async with self._catchup_lock:
            if self.doc is None:
                return
            state = await database_sync_to_async(store.updates_after)(self.document_id, self.seen_seq)
            if self.doc is None:
                return
            for update in state.updates:
                try:
                    produced = self._apply(update)
                except ValueError:
                    logger.error("document %s: stored update does not decode", self.document_id)
                    continue
                if produced is not None:
                    await self._broadcast(protocol.encode_sync_update(produced), exclude=None)
            self.seen_seq = max(self.seen_seq, state.last_seq)
            self._mark_applied(0, -1)

    def _mark_applied(self, first: int, last: int) -> None:
        self._applied_above.update(range(first, last + 1))
        while self.seen_seq + 1 in self._applied_above:
            self.seen_seq += 1
        self._applied_above = {seq for seq in self._applied_above if seq > self.seen_seq}

    def request_catch_up(self) -> None:
        """Heal in the background: the listener must keep relaying live updates meanwhile, and
        requests that arrive during a catch-up are coalesced into one more run."""
        if self._catch_up_task is not None and not self._catch_up_task.done():
            self._catch_up_again = True
            return

        async def run() -> None:
            while True:
                self._catch_up_again = False
                try:
                    await self.catch_up()
                except Exception:
                    logger.warning("catch-up of document %s failed", self.document_id, exc_info=True)
                if not self._catch_up_again or self.closed:
                    return

        self._catch_up_task = asyncio.create_task(run())
        self._tasks.add(self._catch_up_task)
        self._catch_up_task.add_done_callback(self._tasks.discard)

    async def _periodic_catch_up(self) -> None:
        while True:
            await asyncio.sleep(settings.HUB_DOCS_CATCHUP_SECONDS)
            await self.store_presence()  # keeps this process's entry from lapsing
            try:
                if await database_sync_to_async(store.current_seq)(self.document_id) > self.seen_seq:
                    await self.catch_up()
            except Exception:
                logger.warning("catch-up of document %s failed", self.document_id, exc_info=True)

    # --- the channel layer -------------------------------------------------------------------

    async def _group_send(self, message: dict[str, Any]) -> None:
        if self._layer is None:
            return
        drop_every = settings.HUB_DOCS_FAULT_DROP_LAYER
        if drop_every and message["type"] in ("doc.update", "doc.flushed"):
            self._layer_sends += 1
            if self._layer_sends % drop_every == 0:
                return  # fault injection (tests): as if the layer dropped it at capacity
        try:
            await self._layer.group_send(self.group, message)
        except Exception:  # at-most-once layer; rooms heal from the log
            logger.warning("channel layer send to %s failed", self.group, exc_info=True)

    async def _listen(self) -> None:
        assert self._layer is not None and self._channel is not None
        while True:
            message = await self._layer.receive(self._channel)
            try:
                await self._on_group_message(message)
            except Exception:
                logger.exception("document %s: bad group message %s", self.document_id, message.get("type"))

    async def _on_group_message(self, message: dict[str, Any]) -> None:
        origin = message.get("origin")
        if origin == PROCESS_ID:
            return  # our own relay: the local sockets already have it
        kind = message.get("type")
        if kind == "doc.update":
            n = int(message["n"])
            self.received.setdefault(str(origin), set()).add(n)
            previous = self.last_received.get(str(origin))
            self.last_received[str(origin)] = n
            produced = self._apply(bytes(message["update"]))
            if produced is not None:
                await self._broadcast(protocol.encode_sync_update(produced), exclude=None)
            if previous is not None and n != previous + 1:
                self.request_catch_up()  # messages were dropped; the log has them if flushed
        elif kind == "doc.flushed":
            # Skip reading the log only if every update in these rows reached us by the layer
            # and nothing before them is missing; the flush of dropped updates lands here too.
            received = self.received.setdefault(str(origin), set())
            through_n = int(message["through_n"])
            have_all = all(n in received for n in range(int(message["from_n"]), through_n + 1))
            self.received[str(origin)] = {n for n in received if n > through_n}
            if have_all:
                self._mark_applied(int(message["first_seq"]), int(message["last_seq"]))
            else:
                self.request_catch_up()
        elif kind == "doc.awareness":
            payload = bytes(message["payload"])
            for entry in protocol.decode_awareness(payload):
                self._note_awareness(entry, None)
            await self._broadcast(protocol.encode_awareness_payload(payload), exclude=None)
        elif kind == "doc.awareness_query":
            if any(c.owner is not None for c in self.awareness.values()):
                payload = self._awareness_payload(local_only=True)
                await self._group_send({"type": "doc.awareness", "origin": PROCESS_ID, "payload": payload})
        elif kind == "doc.access_changed":
            await self._recheck_access()
        elif kind == "doc.reload":
            await self.catch_up()
            for peer in list(self.peers):
                await peer.close_for(CLOSE_RELOAD)


def _notify_mentions(document_id: int, author_id: int | None, user_ids: set[int]) -> None:
    from docs_collab import actions  # actions import messaging; the room is imported by routing

    actions.do_notify_mentions(document_id, author_id, user_ids)


def _compact_in_pool_thread(document_id: int) -> store.CompactionResult | None:
    try:
        return store.compact(document_id)
    finally:
        # Compaction is rare: do not leave a database connection parked in a pool thread.
        connection.close()


# --- the registry: one room per open document in this process ----------------------------------

_rooms: dict[int, Room] = {}
_opening: dict[int, asyncio.Future[Room]] = {}
_closing: dict[int, asyncio.Task[None]] = {}


async def join(document_id: int, peer: Peer) -> tuple[Room, PeerState]:
    while True:
        room = await _open(document_id)
        if not room.closed:  # it may have closed while we waited for it to open
            return room, await room.add_peer(peer)


async def _open(document_id: int) -> Room:
    room = _rooms.get(document_id)
    if room is None:
        future = _opening.get(document_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            _opening[document_id] = future
            try:
                closing = _closing.get(document_id)
                if closing is not None:
                    await closing  # its last flush must be in the log before we load it
                room = Room(document_id)
                await room.open()
                _rooms[document_id] = room
                future.set_result(room)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning if nobody waits
                raise
            finally:
                _opening.pop(document_id, None)
        else:
            room = await asyncio.shield(future)
    return room


async def leave(room: Room, peer: Peer) -> None:
    await room.remove_peer(peer)
    if room.peers or room.closed or _rooms.get(room.document_id) is not room:
        return
    del _rooms[room.document_id]
    room.closed = True
    task = asyncio.create_task(room.close())
    _closing[room.document_id] = task
    try:
        await task
    finally:
        if _closing.get(room.document_id) is task:
            del _closing[room.document_id]


def open_room(document_id: int) -> Room | None:
    return _rooms.get(document_id)


def open_rooms() -> dict[int, Room]:
    return dict(_rooms)
