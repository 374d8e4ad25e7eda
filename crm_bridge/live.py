"""Live cards: when a cached record changes (sync, webhook re-read, a write-back, a refresh),
every conversation that shows it gets a ``record.updated`` event, and open clients refetch
that card.

The event carries the reference and the new version, not the card: cards are cut per viewer
(a guest in a shared channel must never receive another company's record or ``internal``
fields through a broadcast), so each client refetches through the permission-filtered card
API — one batched request per screen, served from the cache the change just filled.

Fan-out: a popular product can be linked from hundreds of conversations. Each conversation
gets one event (not one per linking message), appended in chunks of ``CHUNK`` conversations
per transaction so no transaction holds many conversations' seq locks at once; above
``INLINE_LIMIT`` conversations the fan-out runs as a background task instead of inside the
request or sync pass that changed the record.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django_tasks import task

from crm_bridge.cards import card_ref
from crm_bridge.events import RecordUpdatedPayload
from crm_bridge.models import RecordLink, RecordSnapshot
from messaging.eventlog import append_event

logger = logging.getLogger(__name__)

CHUNK = 50
INLINE_LIMIT = 20


def linked_conversation_ids(snapshot_id: int) -> list[int]:
    return sorted(set(RecordLink.objects.filter(snapshot_id=snapshot_id).values_list("conversation_id", flat=True)))


def record_updated_payload(snapshot: RecordSnapshot) -> RecordUpdatedPayload:
    return {
        "record": {
            "ref": card_ref(snapshot.source_id, snapshot.record_type, snapshot.key),
            "source_id": snapshot.source_id,
            "record_type": snapshot.record_type,
            "key": snapshot.key,
            "version": snapshot.version,
            "stale_since": snapshot.stale_since.isoformat() if snapshot.stale_since else None,
        }
    }


def do_publish_record_updated(snapshot: RecordSnapshot, conversation_ids: list[int]) -> int:
    """One ``record.updated`` event per conversation, ``CHUNK`` conversations per transaction.
    Returns how many conversations were told."""
    payload = record_updated_payload(snapshot)
    for start in range(0, len(conversation_ids), CHUNK):
        with transaction.atomic():
            for conversation_id in conversation_ids[start : start + CHUNK]:
                append_event(conversation_id, "record.updated", dict(payload))
    return len(conversation_ids)


@task()
def publish_record_updated(snapshot_id: int) -> int:
    snapshot = RecordSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:
        return 0
    return do_publish_record_updated(snapshot, linked_conversation_ids(snapshot_id))


def on_staleness_changed(snapshot: RecordSnapshot) -> None:
    """The record's source became unreachable, or answered again, while its version stayed:
    cards showing it must say "stale since …" (and disable writes) or stop saying so."""
    conversation_ids = linked_conversation_ids(snapshot.pk)
    if len(conversation_ids) > INLINE_LIMIT:
        publish_record_updated.enqueue(snapshot.pk)
    elif conversation_ids:
        do_publish_record_updated(snapshot, conversation_ids)


def on_record_changed(sender: Any, snapshot: RecordSnapshot, previous_version: str | None, **kwargs: Any) -> None:
    if previous_version is None:
        return  # newly cached: nothing shows it yet
    conversation_ids = linked_conversation_ids(snapshot.pk)
    if not conversation_ids:
        return
    if len(conversation_ids) > INLINE_LIMIT:
        publish_record_updated.enqueue(snapshot.pk)
    else:
        do_publish_record_updated(snapshot, conversation_ids)
