"""The record cache: read-through with per-type freshness, idempotent upserts, stale marking.

Cards read from here, never straight from a source: a fresh snapshot answers at once, an old
one is refreshed from the source, and when the source is down the old one is served marked
stale (``stale_since``) — a card is never blank because an ERP is offline.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.serialize import record_to_json
from crm_bridge.signals import record_changed, record_staleness_changed
from crm_bridge.sources.base import Record, RecordRef, RecordType, Source, SourceUnavailable

# How long a cached record counts as fresh, per type: stock and orders move during the day,
# parties and products rarely. A webhook or a sync pass refreshes sooner.
FRESHNESS: dict[RecordType, timedelta] = {
    RecordType.PRODUCT: timedelta(seconds=60),
    RecordType.SALES_ORDER: timedelta(seconds=120),
    RecordType.PURCHASE_ORDER: timedelta(seconds=120),
    RecordType.INVOICE: timedelta(minutes=10),
    RecordType.CUSTOMER: timedelta(hours=1),
    RecordType.SUPPLIER: timedelta(hours=1),
    RecordType.CONTACT: timedelta(hours=1),
}


def upsert_snapshot(source_row: ErpSource, record: Record) -> tuple[RecordSnapshot, bool]:
    """Store ``record`` as the cached copy; returns (snapshot, changed). Idempotent: the same
    record version twice changes nothing and signals nothing."""
    now = timezone.now()
    with transaction.atomic():
        snapshot = (
            RecordSnapshot.objects.select_for_update()
            .filter(source=source_row, record_type=record.ref.type, key=record.ref.key)
            .first()
        )
        previous = snapshot.version if snapshot is not None else None
        was_stale = snapshot is not None and snapshot.stale_since is not None
        fields = {
            "number": record.number,
            "title": record.title[:255],
            "party_type": str(record.party.type) if record.party else "",
            "party_key": record.party.key if record.party else "",
            "data": record_to_json(record),
            "version": record.version,
            "source_updated_at": record.updated_at,
            "fetched_at": now,
            "stale_since": None,
        }
        if snapshot is None:
            snapshot = RecordSnapshot.objects.create(
                source=source_row, record_type=record.ref.type, key=record.ref.key, **fields
            )
        else:
            for name, value in fields.items():
                setattr(snapshot, name, value)
            snapshot.save()
        changed = previous != record.version
        if changed:
            transaction.on_commit(
                lambda: record_changed.send(sender=RecordSnapshot, snapshot=snapshot, previous_version=previous)
            )
        elif was_stale:
            _staleness_changed_on_commit(snapshot)
    return snapshot, changed


def is_fresh(snapshot: RecordSnapshot) -> bool:
    max_age = FRESHNESS.get(RecordType(snapshot.record_type), timedelta(minutes=5))
    return snapshot.stale_since is None and timezone.now() - snapshot.fetched_at < max_age


def read_through(source_row: ErpSource, source: Source, ref: RecordRef, *, force: bool = False) -> RecordSnapshot:
    """The snapshot for ``ref``: cached if fresh, else re-read from the source. When the
    source is unavailable and a copy exists, that copy comes back marked stale; with no copy
    the SourceUnavailable propagates (the caller says "ERP offline")."""
    snapshot = RecordSnapshot.objects.filter(source=source_row, record_type=ref.type, key=ref.key).first()
    if snapshot is not None and not force and is_fresh(snapshot):
        return snapshot
    try:
        record = source.get(ref)
    except SourceUnavailable:
        if snapshot is None:
            raise
        mark_stale(snapshot)
        return snapshot
    snapshot, _ = upsert_snapshot(source_row, record)
    return snapshot


def mark_stale(snapshot: RecordSnapshot) -> None:
    if snapshot.stale_since is None:
        snapshot.stale_since = timezone.now()
        if RecordSnapshot.objects.filter(pk=snapshot.pk, stale_since=None).update(stale_since=snapshot.stale_since):
            _staleness_changed_on_commit(snapshot)


def mark_linked_stale(source_row: ErpSource) -> int:
    """The source is unreachable (a sync pass failed): every record shown in a conversation
    turns stale now, not at its next read. Only linked records — the rest have no card to
    update, and a big catalogue must not cost a write per row."""
    snapshots = list(RecordSnapshot.objects.filter(source=source_row, stale_since=None, links__isnull=False).distinct())
    for snapshot in snapshots:
        mark_stale(snapshot)
    return len(snapshots)


def _staleness_changed_on_commit(snapshot: RecordSnapshot) -> None:
    transaction.on_commit(lambda: record_staleness_changed.send(sender=RecordSnapshot, snapshot=snapshot))
