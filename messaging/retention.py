"""Message retention: purge messages older than a workspace's ``retention_days`` (hub.policy).

What a purge does to a message, so that it vanishes everywhere:

* the row stays as a tombstone (its seq keeps the log gap-free and replies keep their thread
  root) but loses its content: body, html, blocks, mentions; its edit history, reactions, pins,
  saves, mention rows and pending notifications are deleted;
* its attachments are deleted, rows and files (and thumbnails);
* a ``message.deleted`` event is appended for a message that was still live: open clients drop
  it, and the search indexer (which follows the log) removes it from the index;
* every stored event that carried the message's content is redacted in place, so neither the
  database nor a backup taken afterwards holds the text.

Runs daily in the worker (``apply_retention`` is registered with ``hub.periodic``) and on demand
with ``manage.py apply_retention``. Idempotent: purged messages are not selected again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_tasks import task

from hub.models import Workspace
from hub.periodic import register_periodic
from hub.policy.actions import do_mark_retention_run
from hub.policy.quotas import limits_for, register_storage_usage
from messaging import attachments as files
from messaging.eventlog import append_event, next_seq
from messaging.models import (
    Attachment,
    Event,
    Mention,
    Message,
    MessageEdit,
    PendingNotification,
    Pin,
    Reaction,
    SavedMessage,
)
from messaging.serializers import message_payload

logger = logging.getLogger(__name__)

CHUNK = 500


@dataclass
class RetentionResult:
    messages: int = 0
    attachments: int = 0
    events_redacted: int = 0


def _purgeable(workspace_id: int, cutoff: datetime) -> Any:
    """Old messages that still hold something: live ones, or deleted ones with content left."""
    old = Message.objects.filter(conversation__workspace_id=workspace_id, created_at__lt=cutoff)
    return old.filter(Q(deleted_at__isnull=True) | ~Q(body="") | ~Q(html="")).order_by("pk")


def _redact(payload: dict[str, Any]) -> dict[str, Any]:
    message = dict(payload["message"])
    message.update(body="", html="", mentions=[], reactions=[], attachments=[], blocks=[], deleted=True)
    return {**payload, "message": message}


@transaction.atomic
def _purge_chunk(messages: list[Message], now: datetime) -> tuple[int, list[str]]:
    """Caller passes at most CHUNK messages of one workspace. Returns (attachments removed,
    stored file names to delete after commit)."""
    ids = [m.pk for m in messages]
    stored: list[str] = []
    found = list(Attachment.objects.filter(message_id__in=ids))
    for attachment in found:
        stored += [attachment.file.name, attachment.thumbnail.name if attachment.thumbnail else ""]
    Attachment.objects.filter(pk__in=[a.pk for a in found]).delete()
    for model in (Pin, Mention, Reaction, SavedMessage, MessageEdit, PendingNotification):
        model.objects.filter(message_id__in=ids).delete()
    newly_deleted = [m for m in messages if m.deleted_at is None]
    Message.objects.filter(pk__in=ids).update(body="", html="", blocks=[], mentions=[], mentions_all=False)
    Message.objects.filter(pk__in=[m.pk for m in newly_deleted]).update(deleted_at=now)
    for message in Message.objects.select_related("sender").filter(pk__in=[m.pk for m in newly_deleted]):
        seq = next_seq(message.conversation_id)
        append_event(message.conversation_id, "message.deleted", {"message": message_payload(message)}, seq=seq)
    return len(found), stored


def _redact_events(conversation_ids: set[int], purged_ids: set[int]) -> int:
    """Rewrite stored events that carry a purged message's content (any age: an edit made
    yesterday of a message from last year carries last year's message)."""
    count = 0
    rows = Event.objects.filter(conversation_id__in=conversation_ids).order_by("pk")
    after = 0
    while True:
        batch = list(rows.filter(pk__gt=after).values_list("pk", "payload")[:CHUNK])
        if not batch:
            return count
        after = batch[-1][0]
        changed = []
        for pk, payload in batch:
            message = payload.get("message") if isinstance(payload, dict) else None
            if not isinstance(message, dict) or message.get("id") not in purged_ids:
                continue
            if message.get("body") or message.get("html") or message.get("attachments"):
                changed.append(Event(pk=pk, payload=_redact(payload)))
        if changed:
            Event.objects.bulk_update(changed, ["payload"])
            count += len(changed)


def _zero_freed_space() -> None:
    """SQLite leaves deleted and overwritten content in free page space, and a backup copies
    pages: with ``secure_delete`` (per connection) SQLite zeroes it, so a backup taken after a
    purge holds no trace of the purged text. PostgreSQL's pg_dump copies live rows only."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def do_apply_retention(workspace_id: int, days: int, *, now: datetime | None = None) -> RetentionResult:
    """Purge the workspace's messages created more than ``days`` days before ``now``."""
    _zero_freed_space()
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    result = RetentionResult()
    purged: set[int] = set()
    conversations: set[int] = set()
    while True:
        chunk = list(_purgeable(workspace_id, cutoff)[:CHUNK])
        if not chunk:
            break
        removed, stored = _purge_chunk(chunk, now)
        # Files go only after the rows are gone for good: a rollback must not lose a file.
        files.delete_stored(*stored)
        result.messages += len(chunk)
        result.attachments += removed
        purged.update(m.pk for m in chunk)
        conversations.update(m.conversation_id for m in chunk)
    # Uploads never attached to a message (abandoned in the composer) age out too.
    for attachment in Attachment.objects.filter(workspace_id=workspace_id, message__isnull=True, created_at__lt=cutoff):
        attachment.delete()
        files.delete_stored(attachment.file.name, attachment.thumbnail.name if attachment.thumbnail else "")
        result.attachments += 1
    if purged:
        result.events_redacted = _redact_events(conversations, purged)
    do_mark_retention_run(workspace_id)
    if result.messages:
        logger.info(
            "retention purged %s messages, %s attachments in workspace %s",
            result.messages,
            result.attachments,
            workspace_id,
            extra={"workspace_id": workspace_id, "retention_days": days},
        )
    return result


def apply_retention_everywhere(now: datetime | None = None) -> dict[int, RetentionResult]:
    results = {}
    for workspace_id in Workspace.objects.order_by("pk").values_list("pk", flat=True):
        days = limits_for(workspace_id).retention_days
        if days is not None:
            results[workspace_id] = do_apply_retention(workspace_id, days, now=now)
    return results


@task()
def apply_retention() -> int:
    """The daily job: returns the number of messages purged."""
    return sum(r.messages for r in apply_retention_everywhere().values())


def attachment_bytes(workspace_id: int) -> int:
    total = Attachment.objects.filter(workspace_id=workspace_id).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


register_periodic(apply_retention, timedelta(days=1))
register_storage_usage("messaging.attachments", attachment_bytes)
