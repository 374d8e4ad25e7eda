"""ERP-lite keeps the record cache current itself: it has no webhooks to send, but it knows the
moment a row is saved. After commit, every record a saved row shows on is re-read through the
built-in source and upserted — live cards update and watch rules run (``record_changed``) as
fast as for a webhook, and without waiting for a sync pass.

Also adds the demo company's ERP-lite data (``hub.signals.demo_workspace_created``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from crm_bridge.erplite.models import (
    Contact,
    ErpRow,
    Invoice,
    Party,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Stock,
)
from crm_bridge.erplite.records import party_ref, ref_of
from crm_bridge.sources.base import RecordRef, RecordType, SourceError
from hub.signals import demo_workspace_created

logger = logging.getLogger(__name__)

_pending = threading.local()


def _queue(workspace_id: int, refs: list[RecordRef]) -> None:
    pending: dict[int, set[RecordRef]] | None = getattr(_pending, "refs", None)
    if pending is None:
        pending = _pending.refs = {}
    pending.setdefault(workspace_id, set()).update(refs)
    # One flush per commit handles every row saved in the transaction (an import of 500
    # rows re-reads each record once, not once per save). A rolled-back transaction leaves
    # its refs for the next flush: re-reading an unchanged record changes nothing.
    transaction.on_commit(flush)


def flush() -> None:
    pending: dict[int, set[RecordRef]] = getattr(_pending, "refs", None) or {}
    _pending.refs = {}
    for workspace_id, refs in pending.items():
        refresh_records(workspace_id, refs)


def refresh_records(workspace_id: int, refs: set[RecordRef]) -> int:
    """Re-read ``refs`` through the workspace's built-in source into the cache; returns how
    many changed. Does nothing for a workspace without a built-in source yet (it is primed
    when it is created)."""
    from crm_bridge.cache import upsert_snapshot
    from crm_bridge.models import ErpSource
    from crm_bridge.sources.builtin import BuiltinSource

    source_row = ErpSource.objects.filter(workspace_id=workspace_id, kind=ErpSource.Kind.BUILTIN, enabled=True).first()
    if source_row is None:
        return 0
    source = BuiltinSource(source_row)
    changed = 0
    for ref in sorted(refs, key=str):
        try:
            _, did_change = upsert_snapshot(source_row, source.get(ref))
        except SourceError:
            continue  # deleted meanwhile
        changed += did_change
    return changed


def prime_cache(source_row: Any) -> int:
    """Cache every ERP-lite record of the source's workspace (a new built-in source)."""
    from crm_bridge.cache import upsert_snapshot
    from crm_bridge.sources.builtin import BuiltinSource

    source = BuiltinSource(source_row)
    cursor, count = None, 0
    while True:
        batch = source.changes_since(cursor, list(RecordType), limit=500)
        for record in batch.records:
            upsert_snapshot(source_row, record)
            count += 1
        cursor = batch.cursor
        if not batch.more:
            return count


def _affected(row: ErpRow) -> list[RecordRef]:
    if isinstance(row, Contact):
        return [ref_of(row), party_ref(row.party)]  # contacts show on their party's card
    if isinstance(row, Stock):
        return [RecordRef(RecordType.PRODUCT, str(row.product_id))]
    if isinstance(row, Party | Product | SalesOrder | PurchaseOrder | Invoice):
        return [ref_of(row)]
    return []


@receiver(post_save, dispatch_uid="erplite_refresh_cache")
def _row_saved(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return  # loaddata
    if isinstance(instance, ErpRow):
        refs = _affected(instance)
        if refs:
            _queue(instance.workspace_id, refs)
    elif isinstance(instance, SalesOrderLine | PurchaseOrderLine):
        type = RecordType.SALES_ORDER if isinstance(instance, SalesOrderLine) else RecordType.PURCHASE_ORDER
        _queue(instance.order.workspace_id, [RecordRef(type, str(instance.order_id))])


@receiver(demo_workspace_created, dispatch_uid="erplite_demo")
def _demo(sender: Any, data: Any, **kwargs: Any) -> None:
    from crm_bridge.erplite.demo import add_demo_data

    add_demo_data(data)
