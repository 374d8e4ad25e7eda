"""Appending to a conversation's event log with a gap-free seq."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models import F

from hub import metrics
from messaging.events import LAYER_EVENT, conversation_group
from messaging.models import Conversation, Event
from messaging.publish import group_send_on_commit
from messaging.signals import event_logged, send_event_logged


def next_seq(conversation_id: int) -> int:
    """Claim the next seq. Caller holds a transaction.

    The UPDATE takes the row lock (PostgreSQL) or the database write lock (SQLite with
    IMMEDIATE transactions) until commit, so concurrent writers serialise and the seq has no
    gaps: a rolled-back transaction rolls its increment back too.
    """
    assert transaction.get_connection().in_atomic_block, "next_seq needs a transaction"
    Conversation.objects.filter(pk=conversation_id).update(last_seq=F("last_seq") + 1)
    return Conversation.objects.filter(pk=conversation_id).values_list("last_seq", flat=True).get()


def append_event(conversation_id: int, event_type: str, payload: dict[str, Any], *, seq: int | None = None) -> Event:
    """Store one event and publish it to the conversation's group after commit.

    ``seq`` may be claimed beforehand with ``next_seq`` when the row being created needs it
    (a new message carries the seq of its own creation event).
    """
    if seq is None:
        seq = next_seq(conversation_id)
    frame = {"type": event_type, "conversation_id": conversation_id, "seq": seq, **payload}
    event = Event.objects.create(conversation_id=conversation_id, seq=seq, type=event_type, payload=frame)
    # appended_at rides beside the frame (not in it) so sockets can measure fan-out latency.
    layer_message = {"type": LAYER_EVENT, "event": frame, "appended_at": time.time()}
    group_send_on_commit(conversation_group(conversation_id), layer_message)
    transaction.on_commit(metrics.event_appended)
    if event_logged.receivers:  # most deployments' hot path has none to call
        transaction.on_commit(lambda: send_event_logged(conversation_id, event_type, frame))
    return event
