"""Sending to the channel layer after commit. The layer is a fast path only: a lost send is
healed by replay from the event log, so failures here are logged, never raised.

Sends run on commit, in the sync (database) thread. When that thread works for an event loop
(``database_sync_to_async`` under daphne), the send is handed to the loop with a thread-safe
call and the thread returns at once instead of blocking until Redis answers (the single sync
thread is the socket's bottleneck). One FIFO queue per loop, drained by one task, keeps the
order of sends — so events of a conversation reach the layer in seq order. Without a loop
(management commands, WSGI, plain tests) the send is done in place with ``async_to_sync``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from collections import deque
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


async def _send(layer: Any, group: str, message: dict[str, Any]) -> None:
    try:
        try:
            await layer.group_send(group, message)
        except Exception:
            # A dropped Redis connection fails the first command after it; the pool
            # reconnects on the next one.
            logger.debug("channel layer send to %s failed; retrying once", group, exc_info=True)
            await layer.group_send(group, message)
    except Exception:  # at-most-once layer anyway: clients converge by replay
        logger.warning("channel layer send to %s failed", group, exc_info=True)


class _LoopSender:
    """Sends queued from any thread, performed in order by one task on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: deque[tuple[Any, str, dict[str, Any]]] = deque()
        self.lock = threading.Lock()
        self.scheduled = False
        self.task: asyncio.Task[None] | None = None

    def put(self, layer: Any, group: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.queue.append((layer, group, message))
            if self.scheduled:
                return
            self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._start)
        except RuntimeError:  # the loop closed meanwhile
            with self.lock:
                self.scheduled = False
            raise

    def _start(self) -> None:
        self.task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            with self.lock:
                if not self.queue:
                    self.scheduled = False
                    return
                layer, group, message = self.queue.popleft()
            await _send(layer, group, message)


_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSender] = weakref.WeakKeyDictionary()
_senders_lock = threading.Lock()


def _caller_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this sync thread works for (set by asgiref's SyncToAsync)."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop) or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _sender(loop: asyncio.AbstractEventLoop) -> _LoopSender:
    with _senders_lock:
        found = _senders.get(loop)
        if found is None:
            found = _senders[loop] = _LoopSender(loop)
        return found


def group_send_now(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _caller_loop()
    if loop is not None:
        try:
            _sender(loop).put(layer, group, message)
            return
        except RuntimeError:
            pass  # loop closing: send in place below
    try:
        async_to_sync(_send)(layer, group, message)
    except Exception:
        logger.warning("channel layer send to %s failed", group, exc_info=True)


def group_send_on_commit(group: str, message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: group_send_now(group, message))
