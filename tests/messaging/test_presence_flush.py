"""The presence tracker's batch flush: someone who comes online while the batch's cache write
is in flight waits for the next batch (a regression: they were added to the set being
scheduled and the flush failed with a KeyError, logged as "presence flush failed")."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from messaging import presence


@pytest.mark.asyncio
async def test_a_person_marked_during_the_cache_write_waits_for_the_next_batch(monkeypatch: Any) -> None:
    tracker = presence.PresenceTracker()
    # User 1 was broadcast a moment ago: changed again, they must wait their turn.
    tracker.broadcast[1] = ("online", time.monotonic())
    tracker.changed = {1}
    sent: list[Any] = []

    def store_and_read(local: dict[int, Any], wanted: list[int]) -> dict[int, Any]:
        tracker.changed.add(2)  # user 2 connects while the cache is being written
        return {}

    async def send_batch(group: str, frames: list[Any]) -> None:
        sent.append(frames)

    monkeypatch.setattr(presence, "_store_and_read", store_and_read)
    monkeypatch.setattr(presence, "send_ephemeral_batch", send_batch)
    await tracker._flush()  # raised KeyError before the fix
    assert tracker.changed == {1, 2}  # both still to consider, nobody lost
    if tracker.handle is not None:
        tracker.handle.cancel()


@pytest.mark.asyncio
async def test_someone_marked_during_a_flush_is_not_held_back_to_the_waiters_turn(monkeypatch: Any) -> None:
    tracker = presence.PresenceTracker()
    tracker.broadcast[1] = ("online", time.monotonic())  # waits MIN_BROADCAST_INTERVAL
    tracker.changed = {1}

    def store_and_read(local: dict[int, Any], wanted: list[int]) -> dict[int, Any]:
        tracker.changed.add(2)
        return {}

    async def send_batch(group: str, frames: list[Any]) -> None:
        return None

    monkeypatch.setattr(presence, "_store_and_read", store_and_read)
    monkeypatch.setattr(presence, "send_ephemeral_batch", send_batch)
    await tracker._flush()
    assert tracker.handle is not None
    delay = tracker.handle.when() - asyncio.get_running_loop().time()
    tracker.handle.cancel()
    assert delay <= presence.BATCH_SECONDS + 0.05  # the next batch, not MIN_BROADCAST_INTERVAL away
