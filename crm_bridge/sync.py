"""Incremental sync: pull what changed in a source into the record cache.

Per (source, record type) a ``SyncState`` keeps the source's opaque ``changes_since`` cursor.
A pass asks for changes page by page and upserts each record with
``crm_bridge.cache.upsert_snapshot`` — idempotent, so the look-back overlap the adapters
re-read, a retried page or two workers on the same source change nothing twice, and
``record_changed`` fires only for real changes. The cursor is saved after every page: a pass
cut short (a crash, an outage) resumes where it stopped.

Errors never escape into the worker: a failing type records ``last_error`` and the pass goes on
with the next type; an unavailable source (down, circuit open) ends the source's pass early.
This module is the sync's *actions* (it writes ``SyncState`` and the cache); the management
command, the periodic task and the admin API's "sync now" all call :func:`sync_source`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.utils import timezone

from crm_bridge.cache import mark_linked_stale, upsert_snapshot
from crm_bridge.credentials import CredentialsError
from crm_bridge.models import ErpSource, SyncState
from crm_bridge.sources.base import RecordType, Source, SourceError, SourceUnavailable
from crm_bridge.sources.registry import build_source

logger = logging.getLogger(__name__)

# What a sync pass pulls by default: everything a card, a command or a rule may show.
SYNC_TYPES: tuple[RecordType, ...] = (
    RecordType.CUSTOMER,
    RecordType.SUPPLIER,
    RecordType.PRODUCT,
    RecordType.SALES_ORDER,
    RecordType.PURCHASE_ORDER,
    RecordType.INVOICE,
)
PAGE_SIZE = 200
MAX_PAGES = 10_000  # a bound, not a goal: 2 million records per type and pass

Progress = Callable[[RecordType, int], None]  # (type, records just upserted)


@dataclass
class TypeReport:
    fetched: int = 0
    changed: int = 0
    error: str = ""


@dataclass
class SyncReport:
    source_id: int
    types: dict[RecordType, TypeReport] = field(default_factory=dict)
    lag_seconds: float | None = None

    @property
    def fetched(self) -> int:
        return sum(t.fetched for t in self.types.values())

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.types.values())

    @property
    def errors(self) -> dict[RecordType, str]:
        return {t: r.error for t, r in self.types.items() if r.error}


def sync_source(
    source_row: ErpSource,
    *,
    full: bool = False,
    types: Sequence[RecordType] = SYNC_TYPES,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    source: Source | None = None,
) -> SyncReport:
    """One pass over ``types``; ``full`` starts from the beginning instead of the cursors."""
    report = SyncReport(source_id=source_row.pk)
    try:
        adapter = source or build_source(source_row)
    except (LookupError, ValueError, CredentialsError) as exc:  # broken config or credentials: record, go on
        logger.warning("ERP source %s cannot be built: %s", source_row.pk, type(exc).__name__)
        for record_type in types:
            _record_error(source_row, record_type, f"cannot use this source: {exc}")
            report.types[record_type] = TypeReport(error=str(exc))
        return report
    for record_type in types:
        type_report = report.types[record_type] = TypeReport()
        try:
            _sync_type(source_row, adapter, record_type, full, page_size, type_report, progress)
        except SourceUnavailable as exc:
            type_report.error = exc.message
            mark_linked_stale(source_row)  # cards in conversations say so now, not at their next read
            _record_error(source_row, record_type, exc.message)
            for rest in types[types.index(record_type) + 1 :]:
                report.types[rest] = TypeReport(error=f"skipped: {exc.message}")
            break
        except (SourceError, DatabaseError, ValueError) as exc:
            message = exc.message if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            type_report.error = message
            _record_error(source_row, record_type, message)
            logger.warning("ERP sync of source %s, %s failed: %s", source_row.pk, record_type, message)
    report.lag_seconds = sync_lag_seconds(source_row)
    _report_lag(source_row, report.lag_seconds)
    return report


def _sync_type(
    source_row: ErpSource,
    adapter: Source,
    record_type: RecordType,
    full: bool,
    page_size: int,
    report: TypeReport,
    progress: Progress | None,
) -> None:
    state, _ = SyncState.objects.get_or_create(source=source_row, record_type=str(record_type))
    cursor = None if full else (state.cursor or None)
    SyncState.objects.filter(pk=state.pk).update(last_run_at=timezone.now())
    for _ in range(MAX_PAGES):
        batch = adapter.changes_since(cursor, [record_type], limit=page_size)
        if len(batch.cursor) > 255:
            raise ValueError("the source's sync cursor does not fit in SyncState.cursor (255 characters)")
        # One transaction per page: the page's records and the cursor after them are stored
        # together (an interrupted pass resumes exactly here), and one commit per page instead
        # of one per record.
        with transaction.atomic():
            for record in batch.records:
                _, changed = upsert_snapshot(source_row, record)
                report.changed += int(changed)
            SyncState.objects.filter(pk=state.pk).update(cursor=batch.cursor)
        report.fetched += len(batch.records)
        cursor = batch.cursor
        if progress is not None:
            progress(record_type, len(batch.records))
        if not batch.more:
            break
    now = timezone.now()
    SyncState.objects.filter(pk=state.pk).update(
        last_success_at=now, last_error="", records_synced=F("records_synced") + report.fetched
    )


def _record_error(source_row: ErpSource, record_type: RecordType, message: str) -> None:
    state, _ = SyncState.objects.get_or_create(source=source_row, record_type=str(record_type))
    SyncState.objects.filter(pk=state.pk).update(last_run_at=timezone.now(), last_error=message[:2000])


def sync_lag_seconds(source_row: ErpSource) -> float | None:
    """How far behind the cache may be: seconds since the oldest type's last good pass (None
    before the first one)."""
    states = list(SyncState.objects.filter(source=source_row).values_list("last_success_at", flat=True))
    if not states or any(s is None for s in states):
        return None
    oldest = min(s for s in states if s is not None)
    return max(0.0, (timezone.now() - oldest).total_seconds())


def _report_lag(source_row: ErpSource, lag: float | None) -> None:
    if lag is None:
        return
    try:
        from hub.metrics import set_erp_sync_lag
    except ImportError:  # the metrics module is optional (hub.metrics)
        return
    set_erp_sync_lag(f"{source_row.workspace_id}/{source_row.name}", lag)


def sources_due(interval: timedelta) -> list[ErpSource]:
    """Enabled remote sources whose last pass is older than the interval (ERP-lite needs no
    sync: its writes refresh the cache directly)."""
    cutoff = timezone.now() - interval
    rows = (
        ErpSource.objects.filter(enabled=True)
        .exclude(kind=ErpSource.Kind.BUILTIN)
        .annotate(last_run=Max("sync_states__last_run_at"))
        .order_by("pk")
    )
    return [row for row in rows if row.last_run is None or row.last_run < cutoff]
