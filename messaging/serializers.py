"""Model → typed payload. One shape for the API, the socket and the stored event log."""

from __future__ import annotations

from datetime import datetime

from messaging.events import MessagePayload
from messaging.models import Conversation, Message


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_payload(message: Message) -> MessagePayload:
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
        "mentions": list(message.mentions),
        "created_at": iso(message.created_at) or "",
        "edited_at": iso(message.edited_at),
        "deleted": deleted,
        "forwarded_from_id": message.forwarded_from_id,
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
