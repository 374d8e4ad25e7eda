"""Writes by bots and apps: posting a message as a bot, and replacing a message's blocks
(an approval card whose buttons become "已批准 · 王芳", a refreshed alert)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from hub.errors import HubError, NotFound
from hub.models import Member
from messaging.actions._common import validate_body
from messaging.actions.messages import do_send_message
from messaging.blocks import validate_blocks
from messaging.eventlog import append_event, next_seq
from messaging.models import Conversation, Message
from messaging.serializers import message_payload


def do_post_bot_message(
    bot: Member,
    conversation: Conversation,
    body: str,
    *,
    blocks: list[dict[str, Any]] | None = None,
    client_id: uuid.UUID | None = None,
    thread_root_id: int | None = None,
) -> Message:
    """Post as ``bot`` (caller decided the bot may speak here). ``blocks`` may be unvalidated.
    A deterministic ``client_id`` (uuid5 of what triggered the post) makes it idempotent: the
    same alert or command reply posted twice returns the first message."""
    if not bot.user.is_bot or bot.workspace_id != conversation.workspace_id:
        raise HubError("not_a_bot", "only a bot of this workspace can post here", status=403)
    client_id = client_id or uuid.uuid4()
    existing = Message.objects.select_related("sender").filter(sender_id=bot.user_id, client_id=client_id).first()
    if existing is not None:
        return existing
    stored_blocks = validate_blocks(blocks or [])
    body = validate_body(body, allow_empty=bool(stored_blocks))
    thread_root = None
    if thread_root_id is not None:
        thread_root = Message.objects.filter(pk=thread_root_id, conversation=conversation, deleted_at=None).first()
        if thread_root is None:
            raise NotFound("thread root message")
        if thread_root.thread_root_id is not None:
            thread_root = thread_root.thread_root
    return do_send_message(bot, conversation, body, client_id, thread_root, blocks=stored_blocks)


@transaction.atomic
def do_update_message_blocks(message: Message, blocks: list[dict[str, Any]]) -> Message:
    """Replace the blocks of a bot's message. Not an edit (no "edited" mark, no history):
    the card's state changed. Clients get ``message.updated`` with the whole message."""
    stored = validate_blocks(blocks)
    seq = next_seq(message.conversation_id)
    locked = Message.objects.select_related("sender").get(pk=message.pk)
    if not locked.sender.is_bot:
        raise HubError("not_a_bot_message", "only messages posted by bots have updatable blocks", status=409)
    if locked.blocks == stored:
        return locked
    locked.blocks = stored
    locked.save(update_fields=["blocks"])
    append_event(locked.conversation_id, "message.updated", {"message": message_payload(locked)}, seq=seq)
    return locked
