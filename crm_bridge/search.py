"""Record cards in search: the record source of the workspace's index, the ``has:record``
detector for messages, and the ``record`` kind of ``GET /api/v1/search``.

What is indexed is what every reader of a record may see: number, title, counterparty,
status, the public fields a guest's card also shows, and the lines (product names and SKUs).
Never ``internal`` (cost, margin, notes) nor the staff-only public fields: one index serves staff
and guests, and a word only staff may read must not find a record for a guest.

The queue: ``record_changed`` (after commit) and deletions count a change per snapshot
(``hub.search.sources.mark_changed``); the indexer rebuilds those documents from the cache.
A lost signal (a crash right after commit) shows up in ``rebuild_search_index --check`` as a
stale version and is repaired by the rebuild.

Permissions: every record document carries ``records:staff`` and, when it has a party, a key of
that party. Staff hold the first (all records of the workspace's enabled sources); a guest
holds the keys of their company's parties (``access.partner_parties``), so they find only their
own company's records. Each hit is re-checked with ``access.can_view_record``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from crm_bridge import access
from crm_bridge.cards import _STAFF_ONLY_FIELDS, card_ref, source_label
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.signals import record_changed
from hub.models import Member, Workspace
from hub.search import indexer
from hub.search.backend import Hit, IndexDoc
from hub.search.highlight import snippet
from hub.search.query import ParsedQuery
from hub.search.sources import (
    PendingBatch,
    change_counts,
    changed_keys,
    changed_workspaces,
    mark_changed,
    register_source,
)
from messaging.models import Message
from messaging.search import Grant, register_record_detector, register_result_kind

logger = logging.getLogger(__name__)

SOURCE = "records"
KIND = "record"
STAFF_KEY = "records:staff"


def doc_id(snapshot_id: int) -> str:
    return f"{KIND}:{snapshot_id}"


def party_key(source_id: int, party_type: str, party: str) -> str:
    return f"record-party:{source_id}:{party_type}:{party}"


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def record_text(snapshot: RecordSnapshot) -> str:
    """The searchable text: only what a guest's card of this record shows too."""
    data = snapshot.data or {}
    # The cards' own list of public fields guests do not see: search hides exactly what cards do.
    public = {k: v for k, v in (data.get("fields") or {}).items() if k not in _STAFF_ONLY_FIELDS}
    lines = [f"{line.get('name', '')} {line.get('sku', '')}".strip() for line in data.get("lines") or []]
    parts = [
        snapshot.number,
        snapshot.title,
        str(data.get("counterparty_name") or ""),
        str(data.get("status_label") or ""),
        *_flatten(public),
        *lines,
    ]
    return "\n".join(p for p in parts if p)


def build_doc(snapshot: RecordSnapshot) -> IndexDoc:
    acl = [STAFF_KEY]
    if snapshot.party_key:
        acl.append(party_key(snapshot.source_id, snapshot.party_type, snapshot.party_key))
    return IndexDoc(
        doc_id=doc_id(snapshot.pk),
        kind=KIND,
        object_id=snapshot.pk,
        acl=tuple(acl),
        container_id=0,  # a record is in no conversation: in:#channel never finds one
        author_id=None,
        created_at=snapshot.source_updated_at,
        text=record_text(snapshot),
        version=snapshot.version,
    )


def _live(workspace_id: int) -> QuerySet[RecordSnapshot]:
    """Records of the workspace's enabled sources (a disabled source's cards are not served)."""
    return RecordSnapshot.objects.filter(source__workspace_id=workspace_id, source__enabled=True)


class RecordSource:
    name = SOURCE
    kind = KIND

    def dirty_workspaces(self) -> list[int]:
        return changed_workspaces(SOURCE)

    def pending(self, workspace_id: int, limit: int) -> PendingBatch:
        batch = PendingBatch(cursors=changed_keys(workspace_id, SOURCE, limit))
        if batch.cursors:
            live = list(_live(workspace_id).filter(pk__in=batch.cursors))
            batch.upserts = [build_doc(s) for s in live]
            batch.deletes = [doc_id(pk) for pk in sorted(set(batch.cursors) - {s.pk for s in live})]
        return batch

    def log_positions(self, workspace_id: int) -> dict[int, int]:
        return change_counts(workspace_id, SOURCE)

    def count(self, workspace_id: int) -> int:
        return int(_live(workspace_id).count())

    def all_docs(self, workspace_id: int) -> Iterator[IndexDoc]:
        for snapshot in _live(workspace_id).order_by("pk").iterator(chunk_size=500):
            yield build_doc(snapshot)

    def versions(self, workspace_id: int) -> dict[str, str]:
        return {doc_id(pk): version for pk, version in _live(workspace_id).values_list("pk", "version")}


register_source(RecordSource())


@receiver(record_changed, dispatch_uid="crm_bridge.search.record_changed")
def _on_record_changed(sender: Any, snapshot: RecordSnapshot, **kwargs: Any) -> None:
    # Sent after commit by whoever changed the cache: a failure here must not break the sync
    # or the write-back that sent it (the --check drift report finds the record instead).
    try:
        mark_changed(snapshot.source.workspace_id, SOURCE, snapshot.pk)
    except Exception:
        logger.exception("could not queue record %s for search", snapshot.pk)
        return
    indexer.wake()


@receiver(post_delete, sender=RecordSnapshot, dispatch_uid="crm_bridge.search.snapshot_deleted")
def _on_snapshot_deleted(sender: Any, instance: RecordSnapshot, **kwargs: Any) -> None:
    workspace_id = _workspace_of_source(instance.source_id)
    if workspace_id is not None:
        snapshot_id = instance.pk
        # After commit: inside a cascade (a source or a whole workspace deleted) a counter row
        # written now could point at a workspace that is gone when the transaction commits.
        transaction.on_commit(lambda: _queue_deletion(workspace_id, snapshot_id))


@lru_cache(maxsize=1024)
def _workspace_of_source(source_id: int) -> int | None:
    # A source never changes workspace; a cascade deletes thousands of snapshots of one source.
    return ErpSource.objects.filter(pk=source_id).values_list("workspace_id", flat=True).first()


def _queue_deletion(workspace_id: int, snapshot_id: int) -> None:
    if not Workspace.objects.filter(pk=workspace_id).exists():
        return  # the workspace went too (its index directory is dropped with it)
    try:
        mark_changed(workspace_id, SOURCE, snapshot_id)
    except IntegrityError:
        return  # deleted meanwhile: nothing left to search
    indexer.wake()


# --- has:record ----------------------------------------------------------------------------------


def messages_with_records(messages: list[Message]) -> set[int]:
    """Messages that reference a record: those the reference parser linked to a real record
    (``RecordLink``; an ``SO-9999`` no ERP knows is not a record). Linking logs a
    ``record.cards`` event for the message, so the message is re-indexed with ``has:record``
    once its references are resolved."""
    ids = [m.pk for m in messages]
    return set(RecordLink.objects.filter(message_id__in=ids).values_list("message_id", flat=True).distinct())


register_record_detector(messages_with_records)


# --- the read ------------------------------------------------------------------------------------


class _RecordReader:
    def __init__(self, member: Member) -> None:
        self.member = member

    def _sources(self) -> list[ErpSource]:
        return list(ErpSource.objects.filter(workspace_id=self.member.workspace_id, enabled=True))

    def grant(self) -> Grant:
        if not self.member.is_active:
            return Grant(allowed=(), denied=None)
        if not self.member.is_guest:
            return Grant(allowed=(STAFF_KEY,), denied=())
        if self.member.partner is None:
            return Grant(allowed=(), denied=None)
        keys = []
        for source in self._sources():
            for ref in sorted(access.partner_parties(source, self.member.partner)):
                party_type, _, key = ref.partition(":")
                keys.append(party_key(source.pk, party_type, key))
        # Everything else a guest may not read cannot be listed cheaply: allow-list only.
        return Grant(allowed=tuple(keys), denied=None)

    def results(self, hits: list[Hit], parsed: ParsedQuery) -> dict[str, dict[str, Any]]:
        rows = RecordSnapshot.objects.select_related("source").in_bulk([h.object_id for h in hits])
        out = {}
        for hit in hits:
            snapshot = rows.get(hit.object_id)
            # The cache may have changed hands since indexing (party relinked, source disabled).
            if snapshot is None or not snapshot.source.enabled or not access.can_view_record(self.member, snapshot):
                continue
            data = snapshot.data or {}
            out[hit.doc_id] = {
                "kind": KIND,
                "created_at": snapshot.source_updated_at.isoformat(),
                "snippet": snippet(record_text(snapshot), list(parsed.terms)),
                "score": round(hit.score, 4),
                "record": {
                    # What the web app passes to the card API to show the live card.
                    "ref": card_ref(snapshot.source_id, snapshot.record_type, snapshot.key),
                    "source_id": snapshot.source_id,
                    "source_label": source_label(snapshot.source),
                    "record_type": snapshot.record_type,
                    "number": snapshot.number,
                    "title": snapshot.title,
                    "counterparty_name": str(data.get("counterparty_name") or ""),
                    "status_label": str(data.get("status_label") or ""),
                },
            }
        return out


register_result_kind(KIND, _RecordReader)
