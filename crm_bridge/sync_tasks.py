"""Background jobs of the ERP sync (run by the django-tasks worker that ``serve`` starts).

``sync_erp_sources`` is periodic without a scheduler: each run first enqueues the next one
``HUB_ERP_SYNC_INTERVAL_SECONDS`` later (``run_after``), then syncs every source that is due.
Enqueuing first keeps the chain alive even if this run dies half-way. ``schedule_sync`` starts
the chain (saving a source, "sync now", ``sync_erp --schedule``) and never enqueues a second
pending run. Backends that cannot defer (the immediate backend of the tests) get no chain.

``refresh_records`` re-reads the records a webhook named: webhooks are hints, the source is
the truth.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus, default_task_backend, task

from crm_bridge.cache import read_through
from crm_bridge.models import ErpSource
from crm_bridge.sources.base import RecordNotFound, RecordRef, RecordType, SourceError
from crm_bridge.sources.registry import build_source
from crm_bridge.sync import sources_due, sync_source

logger = logging.getLogger(__name__)


def _interval() -> timedelta:
    return timedelta(seconds=max(10, int(getattr(settings, "HUB_ERP_SYNC_INTERVAL_SECONDS", 300))))


def _pending_run_exists() -> bool:
    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=sync_erp_sources.module_path, status=TaskResultStatus.READY).exists()


def schedule_sync() -> bool:
    """Make sure a periodic run is pending; returns True when one was enqueued now."""
    if not default_task_backend.supports_defer or _pending_run_exists():
        return False
    sync_erp_sources.using(run_after=timezone.now() + _interval()).enqueue()
    return True


def schedule_after_migrate(**kwargs: object) -> None:
    """``post_migrate`` (``serve`` migrates at every start): restart the periodic chain if remote
    sources exist — it may never have started (sources saved by an older version or the Django
    admin) or its pending run may have been lost with a database restore."""
    if ErpSource.objects.filter(enabled=True).exclude(kind=ErpSource.Kind.BUILTIN).exists():
        schedule_sync()


@task()
def sync_erp_sources() -> dict[str, int]:
    """Sync every enabled remote source whose last pass is older than the interval."""
    if default_task_backend.supports_defer and not _pending_run_exists():
        sync_erp_sources.using(run_after=timezone.now() + _interval()).enqueue()
    done = failed = 0
    for row in sources_due(_interval() / 2):
        report = sync_source(row)
        done += 1
        failed += int(bool(report.errors))
    return {"sources": done, "with_errors": failed}


@task()
def sync_one_source(source_id: int, full: bool = False) -> dict[str, int]:
    """ "Sync now" from the admin API."""
    row = ErpSource.objects.filter(pk=source_id, enabled=True).first()
    if row is None:
        return {"fetched": 0, "changed": 0, "errors": 0}
    report = sync_source(row, full=full)
    return {"fetched": report.fetched, "changed": report.changed, "errors": len(report.errors)}


@task()
def refresh_records(source_id: int, refs: list[str]) -> dict[str, int]:
    """Re-read ``refs`` (``"sales_order:SO-1001"``) from the source into the cache; the cache
    sends ``record_changed`` for the ones that really changed."""
    row = ErpSource.objects.filter(pk=source_id, enabled=True).first()
    if row is None:
        return {"refreshed": 0, "failed": 0}
    source = build_source(row)
    refreshed = failed = 0
    for text in refs:
        type_name, _, key = text.partition(":")
        try:
            read_through(row, source, RecordRef(RecordType(type_name), key), force=True)
            refreshed += 1
        except RecordNotFound:
            continue  # a partner that is not a customer, or a deleted record
        except (SourceError, ValueError) as exc:
            failed += 1
            logger.warning("webhook re-read of %s from source %s failed: %s", text, source_id, exc)
    return {"refreshed": refreshed, "failed": failed}
