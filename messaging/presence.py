"""Presence (online / away / offline over several devices) and typing: ephemeral, never logged.

Where state lives:

* per process, in memory: every open socket's status, grouped by person (``PresenceTracker``);
* across processes, in the cache (Redis when scaled out): one key per person holding each
  process's aggregate status with an expiry. A process re-asserts its entry whenever one of
  the person's sockets pings (clients ping every ``HEARTBEAT_SECONDS``), so a crashed
  process's entry lapses after ``ENTRY_TTL`` seconds and a lost concurrent cache write heals
  within one refresh.

A person's status is the "most present" of all entries: online > away > offline. Broadcasts
go to the ``ws.<id>`` group of each of their workspaces (only staff sockets join it: guests
never see the staff directory), and only when the aggregate changes — coalesced, at most one
per person per ``MIN_BROADCAST_INTERVAL`` seconds, the last status winning, so a phone
flapping between networks does not flood the office.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
import weakref
from typing import Any, Literal, cast

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache

from messaging.events import LAYER_EPHEMERAL, conversation_group
from messaging.protocol import PresenceFrame, TypingServerFrame

logger = logging.getLogger(__name__)

Status = Literal["online", "away", "offline"]
_RANK: dict[str, int] = {"offline": 0, "away": 1, "online": 2}

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
ENTRY_TTL = 90.0
REFRESH_EVERY = 30.0
MIN_BROADCAST_INTERVAL = 2.0
BATCH_SECONDS = 0.25  # presence changes within this window go out together
TYPING_INTERVAL = 3  # seconds: at most one typing broadcast per person and conversation


def workspace_group(workspace_id: int) -> str:
    return f"ws.{workspace_id}"


def _cache_key(user_id: int) -> str:
    return f"hub:presence:{user_id}"


def _best(statuses: list[str]) -> Status:
    best = max(statuses, key=lambda s: _RANK.get(s, 0), default="offline")
    return cast(Status, best if best in _RANK else "offline")


def _live_entries(raw: Any, now: float) -> dict[str, list[Any]]:
    if not isinstance(raw, dict):
        return {}
    return {
        proc: entry for proc, entry in raw.items() if isinstance(entry, list) and len(entry) == 2 and entry[1] > now
    }


async def send_ephemeral(group: str, frame: dict[str, Any], skip_channel: str | None = None) -> None:
    """Fire-and-forget to a group: presence and typing are allowed to be lost."""
    layer = get_channel_layer()
    if layer is None:
        return
    message: dict[str, Any] = {"type": LAYER_EPHEMERAL, "frame": frame}
    if skip_channel:
        message["skip_channel"] = skip_channel
    try:
        await layer.group_send(group, message)
    except Exception:
        logger.warning("ephemeral send to %s failed", group, exc_info=True)


async def send_ephemeral_batch(group: str, frames: list[dict[str, Any]]) -> None:
    """Several ephemeral frames in one layer message (one publish, one dispatch per socket);
    the socket forwards each as its own frame, so clients see no difference."""
    if len(frames) == 1:
        await send_ephemeral(group, frames[0])
        return
    layer = get_channel_layer()
    if layer is None or not frames:
        return
    try:
        await layer.group_send(group, {"type": LAYER_EPHEMERAL, "frames": frames})
    except Exception:
        logger.warning("ephemeral send to %s failed", group, exc_info=True)


async def typing_allowed(user_id: int, conversation_id: int) -> bool:
    """True for the first typing signal in a ``TYPING_INTERVAL`` window. ``add`` is atomic
    on Redis and locmem, so the limit holds across one person's devices and processes."""
    return bool(await cache.aadd(f"hub:typing:{user_id}:{conversation_id}", 1, TYPING_INTERVAL))


async def broadcast_typing(conversation_id: int, user_id: int, user_name: str) -> None:
    frame: TypingServerFrame = {
        "type": "typing",
        "conversation_id": conversation_id,
        "user_id": user_id,
        "user_name": user_name,
    }
    await send_ephemeral(conversation_group(conversation_id), dict(frame))


def _aggregate(raw: Any, now: float, local: Status | None) -> Status:
    """A person's status from their cache entries, this process's own entry replaced by what
    it knows first-hand (``local``; None when it has no device of theirs)."""
    entries = _live_entries(raw, now)
    entries.pop(PROCESS_ID, None)
    found = [entry[0] for entry in entries.values()]
    if local is not None:
        found.append(local)
    return _best(found)


async def statuses(user_ids: list[int]) -> dict[int, Status]:
    """Aggregate status of these people from the cache (offline ones omitted)."""
    if not user_ids:
        return {}
    raw = await sync_to_async(cache.get_many, thread_sensitive=False)([_cache_key(uid) for uid in user_ids])
    now = time.time()
    result: dict[int, Status] = {}
    for uid in user_ids:
        status = _best([entry[0] for entry in _live_entries(raw.get(_cache_key(uid)), now).values()])
        if status != "offline":
            result[uid] = status
    return result


def _store_and_read(local: dict[int, Status], wanted: list[int]) -> dict[int, Any]:
    """One batch of cache I/O (run in a worker thread, never the sync DB thread): write this
    process's entry for each person in ``local``, and return the raw entries of ``wanted``."""
    keys = {uid: _cache_key(uid) for uid in set(local) | set(wanted)}
    raw = cache.get_many(list(keys.values()))
    now = time.time()
    to_set: dict[str, Any] = {}
    to_delete: list[str] = []
    for uid, status in local.items():
        entries = _live_entries(raw.get(keys[uid]), now)
        if status == "offline":
            entries.pop(PROCESS_ID, None)
        else:
            entries[PROCESS_ID] = [status, now + ENTRY_TTL]
        if entries:
            to_set[keys[uid]] = entries
        else:
            to_delete.append(keys[uid])
        raw[keys[uid]] = entries
    if to_set:
        cache.set_many(to_set, int(ENTRY_TTL) + 5)
    if to_delete:
        cache.delete_many(to_delete)
    return {uid: raw.get(keys[uid]) for uid in wanted}


class PresenceTracker:
    """This process's sockets, by person. One per event loop (daphne runs one).

    Bookkeeping is in memory; the cache write and the broadcasts are batched: changes within
    ``BATCH_SECONDS`` are flushed together by one task — one cache round trip (in a worker
    thread, off the event loop and off the sync DB thread) and one layer message per
    workspace carrying every change (the socket forwards them as the usual ``presence``
    frames). A connect storm of N people thus costs each socket about N/batch layer
    dispatches instead of N.
    """

    def __init__(self) -> None:
        self.devices: dict[int, dict[str, Status]] = {}
        self.workspaces: dict[int, set[int]] = {}
        self.refreshed_at: dict[int, float] = {}
        self.broadcast: dict[int, tuple[Status, float]] = {}
        self.dirty: set[int] = set()  # entry to write
        self.changed: set[int] = set()  # aggregate may have changed: consider a broadcast
        self.handle: asyncio.TimerHandle | None = None
        self.flushing = False
        self.tasks: set[asyncio.Future[None]] = set()

    def local_status(self, user_id: int) -> Status:
        return _best(list(self.devices.get(user_id, {}).values()))

    async def connect(self, user_id: int, channel_name: str, workspace_ids: list[int]) -> None:
        self.devices.setdefault(user_id, {})[channel_name] = "online"
        self.workspaces[user_id] = set(workspace_ids)
        self._mark(user_id, broadcast=True)

    async def disconnect(self, user_id: int, channel_name: str) -> None:
        devices = self.devices.get(user_id, {})
        devices.pop(channel_name, None)
        if not devices:
            self.devices.pop(user_id, None)
        self._mark(user_id, broadcast=True)

    async def set_status(self, user_id: int, channel_name: str, status: Status) -> None:
        devices = self.devices.get(user_id)
        if devices is None or channel_name not in devices or devices[channel_name] == status:
            return
        devices[channel_name] = status
        self._mark(user_id, broadcast=True)

    async def heartbeat(self, user_id: int) -> None:
        if time.monotonic() - self.refreshed_at.get(user_id, 0.0) >= REFRESH_EVERY:
            self.refreshed_at[user_id] = time.monotonic()  # one refresh in flight is enough
            self._mark(user_id, broadcast=False)

    async def snapshot(self, user_ids: list[int]) -> dict[int, Status]:
        """Everyone of these who is not offline: the cache for other processes' devices,
        this process's own devices first-hand (fresher than its last cache write)."""
        if not user_ids:
            return {}
        raw = await sync_to_async(cache.get_many, thread_sensitive=False)([_cache_key(uid) for uid in user_ids])
        now = time.time()
        result: dict[int, Status] = {}
        for uid in user_ids:
            local = self.local_status(uid) if uid in self.devices else None
            status = _aggregate(raw.get(_cache_key(uid)), now, local)
            if status != "offline":
                result[uid] = status
        return result

    def _mark(self, user_id: int, *, broadcast: bool) -> None:
        self.dirty.add(user_id)
        if broadcast:
            self.changed.add(user_id)
        self._schedule(BATCH_SECONDS)

    def _schedule(self, delay: float) -> None:
        if self.handle is not None or self.flushing:
            return  # a flush is due (or running, and reschedules when it ends)
        self.handle = asyncio.get_running_loop().call_later(delay, self._kick)

    def _kick(self) -> None:
        self.handle = None
        # Keep a reference: the loop only holds weak ones and could drop the task mid-flight.
        task = asyncio.ensure_future(self.flush())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def flush(self) -> None:
        """Write the dirty entries and broadcast what changed (see the class doc)."""
        self.flushing = True
        try:
            await self._flush()
        except Exception:
            logger.warning("presence flush failed", exc_info=True)
        finally:
            self.flushing = False
            if self.dirty or self.changed:
                self._schedule(BATCH_SECONDS)

    async def _flush(self) -> None:
        now = time.monotonic()
        # Per person at most one broadcast per MIN_BROADCAST_INTERVAL (a phone flapping
        # between networks does not flood the office): the others wait for their turn.
        due = sorted(
            uid
            for uid in self.changed
            if uid not in self.broadcast or now - self.broadcast[uid][1] >= MIN_BROADCAST_INTERVAL
        )
        waiting = self.changed - set(due)
        dirty, self.dirty = self.dirty, set()
        # A copy: people marked while the cache is awaited join ``changed``, not ``waiting``.
        self.changed = set(waiting)
        local = {uid: self.local_status(uid) for uid in sorted(dirty)}
        try:
            raw = await sync_to_async(_store_and_read, thread_sensitive=False)(local, due)
        except Exception:
            # Cache down: presence degrades to what this process sees.
            logger.warning("presence cache update failed", exc_info=True)
            raw = {}
        for uid in dirty:
            self.refreshed_at[uid] = time.monotonic()
        stamp = time.time()
        by_workspace: dict[int, dict[int, Status]] = {}
        for uid in due:
            status = _aggregate(raw.get(uid), stamp, self.local_status(uid) if uid in self.devices else None)
            last = self.broadcast.get(uid)
            if last is not None and last[0] == status:
                continue
            # Kept per person seen by this process (one small tuple each) so that the next
            # change is measured against what this process last told the workspace.
            self.broadcast[uid] = (status, now)
            for workspace_id in self.workspaces.get(uid, set()):
                by_workspace.setdefault(workspace_id, {})[uid] = status
        for workspace_id, changes in sorted(by_workspace.items()):
            frames: list[dict[str, Any]] = []
            for uid, status in sorted(changes.items()):
                frame: PresenceFrame = {
                    "type": "presence",
                    "workspace_id": workspace_id,
                    "user_id": uid,
                    "status": status,
                }
                frames.append(dict(frame))
            await send_ephemeral_batch(workspace_group(workspace_id), frames)
        if waiting:
            soonest = min(self.broadcast[uid][1] for uid in waiting) + MIN_BROADCAST_INTERVAL
            delay = max(BATCH_SECONDS, soonest - time.monotonic())
            if self.changed - waiting or self.dirty:
                delay = BATCH_SECONDS  # people marked during this flush are due now, not at the waiters' turn
            self.flushing = False
            self._schedule(delay)


_trackers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceTracker] = weakref.WeakKeyDictionary()


def tracker() -> PresenceTracker:
    """The tracker of the running event loop (keyed by loop so that each test's loop starts
    clean; in production daphne has exactly one)."""
    loop = asyncio.get_running_loop()
    found = _trackers.get(loop)
    if found is None:
        found = _trackers[loop] = PresenceTracker()
    return found
