"""Model → typed payload. One shape for the API, the socket and the stored event log."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist

from messaging.events import AttachmentPayload, MessagePayload, ReactionSummary
from messaging.models import Attachment, Conversation, Message, Reaction


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def reaction_summary(reactions: list[Reaction]) -> list[ReactionSummary]:
    """``[{emoji, count, user_ids}]`` in order of each emoji's first use (stable for clients)."""
    by_emoji: dict[str, list[int]] = {}
    for reaction in sorted(reactions, key=lambda r: (r.created_at, r.pk)):
        by_emoji.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [{"emoji": e, "count": len(ids), "user_ids": sorted(ids)} for e, ids in by_emoji.items()]


def attachment_payload(attachment: Attachment) -> AttachmentPayload:
    base = f"/api/v1/attachments/{attachment.pk}"
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail" if attachment.thumbnail else None,
    }


def prime_new_message(message: Message, attachments: list[Attachment]) -> None:
    """A message created this instant has no reactions and no pin, and its attachments are
    known: filling Django's relation caches saves three queries on every send (the hot path)."""
    files = Attachment.objects.all()
    files._result_cache = list(attachments)
    # The same cache prefetch_related("reactions", "attachments") would fill.
    setattr(message, "_prefetched_objects_cache", {"reactions": Reaction.objects.none(), "attachments": files})  # noqa: B010
    Message.pin.related.set_cached_value(message, None)


def _pk(obj: Attachment) -> int:
    return obj.pk


def _is_pinned(message: Message) -> bool:
    try:
        message.pin  # noqa: B018 — reverse one-to-one: select_related("pin") makes this free
    except ObjectDoesNotExist:
        return False
    return True


def message_payload(message: Message) -> MessagePayload:
    """Reactions, attachments and the pin come from ``prefetch_related``/``select_related``
    when the caller set them up (pages), otherwise from one query each (single messages)."""
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "sender_name": message.sender.name,
        "client_id": str(message.client_id),
        # A deleted message keeps its place in the log but not its content.
        "body": "" if deleted else message.body,
        "html": "" if deleted else message.html,
        "thread_root_id": message.thread_root_id,
        "reply_count": message.reply_count,
        "last_reply_at": iso(message.last_reply_at),
        "mentions": [] if deleted else list(message.mentions),
        "created_at": iso(message.created_at) or "",
        "edited_at": iso(message.edited_at),
        "deleted": deleted,
        "forwarded_from_id": message.forwarded_from_id,
        "reactions": [] if deleted else reaction_summary(list(message.reactions.all())),
        "attachments": [] if deleted else [attachment_payload(a) for a in sorted(message.attachments.all(), key=_pk)],
        "pinned": _is_pinned(message),
        "blocks": [] if deleted else list(message.blocks),
        "sender_is_bot": message.sender.is_bot,
    }


def conversation_payload(conversation: Conversation) -> dict[str, object]:
    return {
        "id": conversation.pk,
        "workspace_id": conversation.workspace_id,
        "kind": conversation.kind,
        "name": conversation.name,
        "topic": conversation.topic,
        "purpose": conversation.purpose,
        "last_seq": conversation.last_seq,
        "archived": conversation.archived_at is not None,
        "created_at": iso(conversation.created_at),
    }
