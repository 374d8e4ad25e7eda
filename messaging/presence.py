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


async def statuses(user_ids: list[int]) -> dict[int, Status]:
    """Aggregate status of these people from the cache (offline ones omitted)."""
    if not user_ids:
        return {}
    raw = await cache.aget_many([_cache_key(uid) for uid in user_ids])
    now = time.time()
    result: dict[int, Status] = {}
    for uid in user_ids:
        entries = _live_entries(raw.get(_cache_key(uid)), now)
        status = _best([entry[0] for entry in entries.values()])
        if status != "offline":
            result[uid] = status
    return result


class PresenceTracker:
    """This process's sockets, by person. One per event loop (daphne runs one)."""

    def __init__(self) -> None:
        self.devices: dict[int, dict[str, Status]] = {}
        self.workspaces: dict[int, set[int]] = {}
        self.refreshed_at: dict[int, float] = {}
        self.broadcast: dict[int, tuple[Status, float]] = {}
        self.pending: dict[int, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Future[None]] = set()

    def local_status(self, user_id: int) -> Status:
        return _best(list(self.devices.get(user_id, {}).values()))

    async def connect(self, user_id: int, channel_name: str, workspace_ids: list[int]) -> None:
        self.devices.setdefault(user_id, {})[channel_name] = "online"
        self.workspaces[user_id] = set(workspace_ids)
        await self._changed(user_id)

    async def disconnect(self, user_id: int, channel_name: str) -> None:
        devices = self.devices.get(user_id, {})
        devices.pop(channel_name, None)
        if not devices:
            self.devices.pop(user_id, None)
        await self._changed(user_id)

    async def set_status(self, user_id: int, channel_name: str, status: Status) -> None:
        devices = self.devices.get(user_id)
        if devices is None or channel_name not in devices or devices[channel_name] == status:
            return
        devices[channel_name] = status
        await self._changed(user_id)

    async def heartbeat(self, user_id: int) -> None:
        if time.monotonic() - self.refreshed_at.get(user_id, 0.0) >= REFRESH_EVERY:
            await self._store(user_id)

    async def _changed(self, user_id: int) -> None:
        try:
            await self._store(user_id)
            await self._maybe_broadcast(user_id)
        except Exception:
            logger.warning("presence update for user %s failed", user_id, exc_info=True)

    async def _store(self, user_id: int) -> None:
        """Write this process's entry for the person (read-modify-write; see module doc)."""
        now = time.time()
        key = _cache_key(user_id)
        entries = _live_entries(await cache.aget(key), now)
        status = self.local_status(user_id)
        if status == "offline":
            entries.pop(PROCESS_ID, None)
        else:
            entries[PROCESS_ID] = [status, now + ENTRY_TTL]
        if entries:
            await cache.aset(key, entries, int(ENTRY_TTL) + 5)
        else:
            await cache.adelete(key)
        self.refreshed_at[user_id] = time.monotonic()

    async def _maybe_broadcast(self, user_id: int) -> None:
        status = (await statuses([user_id])).get(user_id, "offline")
        last = self.broadcast.get(user_id)
        if last is not None and last[0] == status:
            return
        now = time.monotonic()
        if last is not None and now - last[1] < MIN_BROADCAST_INTERVAL:
            if user_id not in self.pending:
                # Coalesce: look again when the window ends and send whatever is true then.
                loop = asyncio.get_running_loop()
                self.pending[user_id] = loop.call_later(last[1] + MIN_BROADCAST_INTERVAL - now, self._deferred, user_id)
            return
        # Kept per person seen by this process (one small tuple each) so that the next
        # change is measured against what this process last told the workspace.
        self.broadcast[user_id] = (status, now)
        for workspace_id in sorted(self.workspaces.get(user_id, set())):
            frame: PresenceFrame = {
                "type": "presence",
                "workspace_id": workspace_id,
                "user_id": user_id,
                "status": status,
            }
            await send_ephemeral(workspace_group(workspace_id), dict(frame))

    def _deferred(self, user_id: int) -> None:
        self.pending.pop(user_id, None)
        # Keep a reference: the loop only holds weak ones and could drop the task mid-flight.
        task = asyncio.ensure_future(self._changed_broadcast_only(user_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _changed_broadcast_only(self, user_id: int) -> None:
        try:
            await self._maybe_broadcast(user_id)
        except Exception:
            logger.warning("deferred presence broadcast for user %s failed", user_id, exc_info=True)


_trackers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceTracker] = weakref.WeakKeyDictionary()


def tracker() -> PresenceTracker:
    """The tracker of the running event loop (keyed by loop so that each test's loop starts
    clean; in production daphne has exactly one)."""
    loop = asyncio.get_running_loop()
    found = _trackers.get(loop)
    if found is None:
        found = _trackers[loop] = PresenceTracker()
    return found
