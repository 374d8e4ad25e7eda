"""The single index writer: drains each source's log into the workspace's index.

One pass per workspace = take the index's writer lock (without waiting) → read up to ``batch``
log entries past the cursors → apply → commit the index → store the cursors. The cursor moves
only after the index commit, so a crash anywhere re-applies (idempotently) instead of losing.
Batching matters: a whoosh commit costs ~30 ms, so one commit per 1000 documents indexes ~30x
faster than one per document.

Who runs it (``settings.SEARCH_INDEXING``): ``thread`` — a daemon thread inside the server
process, woken on commit of each logged event (the embedded default); ``worker`` — the
``search_worker`` command (one per deployment: scaled out, the web processes don't write);
``off`` — nobody (tests call ``index_pending()``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from hub.search.backend import IndexBusy, SearchBackend
from hub.search.models import SearchCursor
from hub.search.sources import DocumentSource, PendingBatch, sources
from hub.search.whoosh_backend import WhooshBackend

logger = logging.getLogger(__name__)

BATCH = 1000
_backend: SearchBackend | None = None


def get_backend() -> SearchBackend:
    global _backend
    if _backend is None:
        _backend = WhooshBackend()
    return _backend


def _store_cursors(workspace_id: int, source: DocumentSource, cursors: dict[int, int]) -> None:
    if not cursors:
        return
    rows = [SearchCursor(workspace_id=workspace_id, source=source.name, key=k, position=p) for k, p in cursors.items()]
    SearchCursor.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["source", "key"], update_fields=["position"]
    )


def index_workspace_once(workspace_id: int, *, batch: int = BATCH) -> tuple[int, bool]:
    """One pass (one index commit). Returns (documents changed, whether the log advanced).
    Raises ``IndexBusy`` when another writer holds the index."""
    writer = get_backend().writer(workspace_id)
    batches: list[tuple[DocumentSource, PendingBatch]] = []
    try:
        for source in sources():
            pending = source.pending(workspace_id, batch)
            for doc in pending.upserts:
                writer.upsert(doc)
            for doc_id in pending.deletes:
                writer.delete(doc_id)
            batches.append((source, pending))
        if any(not p.empty for _, p in batches):
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    # The cursors are stored after the commit has released the lock. A pass that slips in
    # between re-reads the old cursors and re-applies the same entries (idempotent: documents
    # are rebuilt from the database) and ends at least as far, so cursors never skip an entry.
    for source, pending in batches:
        _store_cursors(workspace_id, source, pending.cursors)
    changed = sum(len(p.upserts) + len(p.deletes) for _, p in batches)
    return changed, any(p.cursors for _, p in batches)


def index_workspace(workspace_id: int, *, batch: int = BATCH, max_passes: int = 100_000) -> int:
    """Drain one workspace completely (bounded). Returns documents changed."""
    changed = 0
    for _ in range(max_passes):
        n, advanced = index_workspace_once(workspace_id, batch=batch)
        changed += n
        if not advanced:
            break
    return changed


def dirty_workspaces() -> set[int]:
    found: set[int] = set()
    for source in sources():
        found.update(source.dirty_workspaces())
    return found


@dataclass
class DrainReport:
    changed: int = 0
    busy: list[int] = field(default_factory=list)


def index_pending(workspace_id: int | None = None, *, batch: int = BATCH) -> DrainReport:
    """Apply everything logged so far (synchronously). Workspaces whose index is locked by
    another writer are skipped and reported as busy; the next run picks them up."""
    report = DrainReport()
    targets = [workspace_id] if workspace_id is not None else sorted(dirty_workspaces())
    for ws in targets:
        try:
            report.changed += index_workspace(ws, batch=batch)
        except IndexBusy:
            report.busy.append(ws)
    return report


# --- rebuild and consistency ------------------------------------------------------------------


def rebuild_workspace(workspace_id: int, progress: Callable[[int, int], None] | None = None) -> int:
    """Re-create the workspace's index from the database. Searches keep seeing the old index
    until the single final commit replaces it; the live writer waits (``IndexBusy``) meanwhile.

    The cursors are taken *before* reading the documents: whatever is logged during the rebuild
    is applied again afterwards (idempotent), so nothing written meanwhile is lost.
    """
    writer = get_backend().writer(workspace_id, clear=True)
    try:
        with transaction.atomic():
            positions = {source.name: source.log_positions(workspace_id) for source in sources()}
        total = sum(source.count(workspace_id) for source in sources())
        done = 0
        for source in sources():
            for doc in source.all_docs(workspace_id):
                writer.upsert(doc)
                done += 1
                if progress is not None and (done % 500 == 0 or done == total):
                    progress(done, total)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    for source in sources():
        with transaction.atomic():
            SearchCursor.objects.filter(workspace_id=workspace_id, source=source.name).delete()
            _store_cursors(workspace_id, source, positions[source.name])
    if progress is not None:
        progress(done, max(total, done))
    return done


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, gone from the database
    stale: list[str] = field(default_factory=list)  # indexed version differs

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check_workspace(workspace_id: int) -> Drift:
    """Compare the index with the database (run after ``index_pending`` for a fair answer)."""
    expected: dict[str, str] = {}
    for source in sources():
        expected.update(source.versions(workspace_id))
    indexed = get_backend().doc_versions(workspace_id)
    return Drift(
        missing=sorted(set(expected) - set(indexed)),
        extra=sorted(set(indexed) - set(expected)),
        stale=sorted(k for k in set(expected) & set(indexed) if expected[k] != indexed[k]),
    )


# --- in-process worker --------------------------------------------------------------------------

_wake = threading.Event()
_stopping = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
POLL_SECONDS = 5.0


def wake() -> None:
    """Called on commit of every logged change. Cheap: sets a flag (and starts the thread)."""
    mode = getattr(settings, "SEARCH_INDEXING", "thread")
    if mode != "thread":
        return
    _ensure_thread()
    _wake.set()


def ensure_running() -> None:
    """Start the in-process indexer if this process should have one (called by searches, so a
    server that has not seen a write since it started still catches up on the log)."""
    if getattr(settings, "SEARCH_INDEXING", "thread") == "thread":
        _ensure_thread()


def _ensure_thread() -> None:
    global _thread
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_run_thread, name="search-indexer", daemon=True)
        _thread.start()


def _run_thread() -> None:
    # The first pass also catches up on anything logged before this process started.
    while getattr(settings, "SEARCH_INDEXING", "thread") == "thread" and not _stopping.is_set():
        _wake.clear()
        try:
            index_pending()
        except Exception:
            logger.exception("search indexing pass failed; retrying later")
        finally:
            close_old_connections()
        _wake.wait(timeout=POLL_SECONDS)
    connection.close()  # this thread's own connection


def stop_thread(timeout: float = 10.0) -> None:
    """Stop the in-process indexer (tests; a clean shutdown). Safe at any point of a pass."""
    global _thread
    _stopping.set()
    _wake.set()
    if _thread is not None:
        _thread.join(timeout)
    _thread = None
    _stopping.clear()
