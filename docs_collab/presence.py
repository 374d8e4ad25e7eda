"""Who has a document open, across every server process: "editing now" on the card and in
``GET /documents/{id}``, and the editor limit counted over the cluster rather than per process.

One cache key per open document (Redis when scaled out; the cache's key prefix carries
``HUB_CHANNEL_PREFIX``, so deployments sharing a Redis never see each other) holds each
process's entry: when it was written and the people whose sockets it holds, with whether each
may edit. A room rewrites its entry when a socket joins or leaves and every
``HUB_DOCS_CATCHUP_SECONDS`` anyway, so a crashed process's entry lapses after
``ENTRY_TTL`` seconds and a concurrent read-modify-write that lost another process's entry is
repaired by that process's next refresh. The editor limit is therefore a close bound, not an
exact one, for the few seconds after simultaneous joins on different processes.

Cache errors never stop editing: reads fail open (nobody elsewhere), writes are retried by the
next refresh.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache

logger = logging.getLogger(__name__)

ENTRY_TTL = 20.0  # seconds an entry counts without a refresh (refreshes come every ~5 s)

Person = tuple[int, bool]  # (user id, may edit on that socket)


def _key(document_id: int) -> str:
    return f"docs:here:{document_id}"


def _live(raw: Any, now: float) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        return {}
    return {
        process: entry
        for process, entry in raw.items()
        if isinstance(entry, dict) and float(entry.get("at", 0)) > now - ENTRY_TTL
    }


def store(document_id: int, process_id: str, people: list[Person]) -> None:
    """This process's entry for the document (removed when ``people`` is empty)."""
    now = time.time()
    key = _key(document_id)
    try:
        entries = _live(cache.get(key), now)
        if people:
            entries[process_id] = {"at": now, "people": [[uid, edit] for uid, edit in people]}
        else:
            entries.pop(process_id, None)
        if entries:
            cache.set(key, entries, int(ENTRY_TTL) + 5)
        else:
            cache.delete(key)
    except Exception:
        logger.warning("document %s: could not store who is here", document_id, exc_info=True)


def people(document_id: int, *, exclude_process: str | None = None) -> list[Person]:
    """Everyone with the document open on any process (one entry per person; may edit if any of
    their sockets may)."""
    try:
        entries = _live(cache.get(_key(document_id)), time.time())
    except Exception:
        logger.warning("document %s: could not read who is here", document_id, exc_info=True)
        return []
    merged: dict[int, bool] = {}
    for process, entry in entries.items():
        if process == exclude_process:
            continue
        for uid, edit in entry.get("people", []):
            merged[int(uid)] = merged.get(int(uid), False) or bool(edit)
    return sorted(merged.items())


def editors_elsewhere(document_id: int, process_id: str) -> int:
    """People editing on the other processes (the editor limit's remote share)."""
    return sum(1 for _, edit in people(document_id, exclude_process=process_id) if edit)


astore = sync_to_async(store, thread_sensitive=False)
aeditors_elsewhere = sync_to_async(editors_elsewhere, thread_sensitive=False)
