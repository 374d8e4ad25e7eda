"""Persistence of the Yjs state: the batched update log, loading, healing reads and compaction.

The storage layer of the room (``room.py``) and of the actions: the only code that writes
``DocUpdate`` and ``DocSnapshot`` rows. Functions are synchronous (ORM); the room calls them
through ``database_sync_to_async``.

Invariants (docs/documents.md):
* ``DocUpdate.seq`` is gap-free per document and assigned under the document's row lock, so
  the commit order equals seq order: a reader that has applied every row up to N only ever
  needs ``seq > N``.
* Compaction writes the snapshot covering seq ≤ N and deletes exactly those rows in one
  transaction; a snapshot never goes backwards. The state of a document is therefore always
  ``snapshot + rows with seq > snapshot.last_seq``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from pycrdt import Doc

from docs_collab.models import DocActivity, DocSnapshot, Document, DocUpdate, DocVersion
from docs_collab.protocol import pack_updates, unpack_updates

logger = logging.getLogger(__name__)

# An automatic version is taken at compaction when the newest version is older than this.
AUTO_VERSION_EVERY = timedelta(minutes=30)
COMPACTION_LEASE = timedelta(minutes=5)


@dataclass
class StoredState:
    """Updates to apply in order (the snapshot's state first when it is needed) and the log
    position they bring a reader to."""

    updates: list[bytes]
    last_seq: int
    rows: int = 0  # log rows read (not counting the snapshot)


def load_state(document_id: int) -> StoredState:
    return updates_after(document_id, 0)


def updates_after(document_id: int, after_seq: int) -> StoredState:
    """Everything a reader at ``after_seq`` lacks.

    The rows are read *before* the snapshot: a compaction that runs between the two reads
    deletes rows but then its newer snapshot covers them. Read the other way round, rows could
    vanish between reading an old snapshot and reading the log.
    """
    rows = list(
        DocUpdate.objects.filter(document_id=document_id, seq__gt=after_seq).order_by("seq").values_list("seq", "data")
    )
    snapshot = DocSnapshot.objects.filter(document_id=document_id).values_list("state", "last_seq").first()
    updates: list[bytes] = []
    last_seq = after_seq
    floor = after_seq
    if snapshot is not None and snapshot[1] > after_seq:
        updates.append(bytes(snapshot[0]))
        last_seq = floor = snapshot[1]
    count = 0
    for seq, data in rows:
        if seq <= floor:
            continue
        updates.extend(unpack_updates(bytes(data)))
        last_seq = seq
        count += 1
    return StoredState(updates, last_seq, count)


def current_seq(document_id: int) -> int:
    value = Document.objects.filter(pk=document_id).values_list("last_update_seq", flat=True).first()
    return value or 0


def build_doc(state: StoredState) -> Doc:
    doc: Doc = Doc()
    for update in state.updates:
        doc.apply_update(update)
    return doc


def encoded_state(document_id: int) -> tuple[bytes, int]:
    """The persisted document as one encoded update, and the seq it covers."""
    state = load_state(document_id)
    return build_doc(state).get_update(), state.last_seq


def append_batches(document_id: int, batches: list[tuple[int | None, list[bytes]]]) -> tuple[int, int]:
    """Store batches of updates (one row per (author, updates) batch); returns the first and
    last seq written.

    The document row is locked so that two processes flushing the same document serialise:
    seqs stay gap-free and commit in order.
    """
    batches = [(author, updates) for author, updates in batches if updates]
    if not batches:
        raise ValueError("nothing to append")
    now = timezone.now()
    with transaction.atomic():
        seq = (
            Document.objects.select_for_update().filter(pk=document_id).values_list("last_update_seq", flat=True).get()
        )
        first = seq + 1
        rows = []
        for author, updates in batches:
            seq += 1
            rows.append(
                DocUpdate(
                    document_id=document_id,
                    seq=seq,
                    data=pack_updates(updates),
                    update_count=len(updates),
                    author_id=author,
                    created_at=now,
                )
            )
        DocUpdate.objects.bulk_create(rows)
        _record_activity(document_id, batches, now)
        last_author = batches[-1][0]
        Document.objects.filter(pk=document_id).update(
            last_update_seq=seq, updated_at=now, last_editor_id=last_author, revision=F("revision") + 1
        )
    return first, seq


def _record_activity(document_id: int, batches: list[tuple[int | None, list[bytes]]], now: datetime) -> None:
    """Caller holds the document's row lock (so the read-then-create below cannot race)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    per_author: dict[int | None, int] = {}
    for author, updates in batches:
        per_author[author] = per_author.get(author, 0) + len(updates)
    for author, count in per_author.items():
        updated = DocActivity.objects.filter(document_id=document_id, author_id=author, hour=hour).update(
            updates=F("updates") + count, last_at=now
        )
        if not updated:
            DocActivity.objects.create(document_id=document_id, author_id=author, hour=hour, updates=count, last_at=now)


@dataclass
class CompactionResult:
    last_seq: int
    rows_folded: int
    snapshot_bytes: int
    seconds: float


def rows_since_snapshot(document_id: int) -> int:
    return DocUpdate.objects.filter(document_id=document_id).count()


def compact(document_id: int, *, min_rows: int = 1) -> CompactionResult | None:
    """Fold the log into the snapshot by applying every update to one Doc and re-encoding it
    (``merge_updates`` is very slow on long logs). Returns None when another compactor holds
    the lease or there is nothing to fold."""
    now = timezone.now()
    claimed = (
        Document.objects.filter(pk=document_id)
        .filter(Q(compaction_lease_until__isnull=True) | Q(compaction_lease_until__lt=now))
        .update(compaction_lease_until=now + COMPACTION_LEASE)
    )
    if not claimed:
        return None
    try:
        return _compact_holding_lease(document_id, min_rows)
    finally:
        Document.objects.filter(pk=document_id).update(compaction_lease_until=None)


def _compact_holding_lease(document_id: int, min_rows: int) -> CompactionResult | None:
    started = time.perf_counter()
    state = load_state(document_id)
    if state.rows < min_rows:
        return None
    doc = build_doc(state)
    encoded = doc.get_update()
    now = timezone.now()
    with transaction.atomic():
        # Serialise with appenders and with a compactor whose lease expired under it: a
        # snapshot must never be replaced by an older one (its rows are already deleted).
        Document.objects.select_for_update().filter(pk=document_id).values_list("pk", flat=True).get()
        existing = DocSnapshot.objects.filter(document_id=document_id).values_list("last_seq", flat=True).first()
        if existing is not None and existing >= state.last_seq:
            return None
        DocSnapshot.objects.update_or_create(
            document_id=document_id, defaults={"state": encoded, "last_seq": state.last_seq, "updated_at": now}
        )
        folded, _ = DocUpdate.objects.filter(document_id=document_id, seq__lte=state.last_seq).delete()
        newest = (
            DocVersion.objects.filter(document_id=document_id)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if newest is None or now - newest >= AUTO_VERSION_EVERY:
            DocVersion.objects.create(
                document_id=document_id,
                kind=DocVersion.Kind.AUTO,
                state=encoded,
                last_seq=state.last_seq,
                created_at=now,
            )
    result = CompactionResult(state.last_seq, folded, len(encoded), time.perf_counter() - started)
    logger.info("compacted document %s: %s", document_id, result)
    return result
