"""Message writes: send (idempotent), edit with history, soft delete, reactions, pins, saved
messages, thread follows and forwarding."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.errors import HubError, NotFound
from hub.models import Member, User
from hub.rendering import render_markdown
from messaging import access, notifications
from messaging.actions._common import check_send_rate, validate_body
from messaging.actions.conversations import ensure_reader_participant
from messaging.blocks import validate_blocks
from messaging.eventlog import append_event, next_seq
from messaging.mentions import MENTION_RE, Mentions, find_mentions
from messaging.models import (
    Attachment,
    Conversation,
    Mention,
    Message,
    MessageEdit,
    Participant,
    Pin,
    Reaction,
    SavedMessage,
    ThreadFollow,
)
from messaging.serializers import message_payload, prime_new_message, reaction_summary

MAX_ATTACHMENTS = 10


def check_send_message(
    member: Member,
    conversation: Conversation,
    body: str,
    client_id: uuid.UUID,
    thread_root_id: int | None = None,
    attachment_ids: list[int] | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> tuple[Message, bool]:
    """Send idempotently: the same (sender, client_id) returns the original message.
    ``blocks`` (unvalidated) come from apps posting as the person, e.g. the document card.

    Returns (message, created).
    """
    existing = Message.objects.select_related("sender").filter(sender_id=member.user_id, client_id=client_id).first()
    if existing is not None:
        return _same_send(existing, conversation), False
    access.check_can_post(member, conversation)
    attachments = _attachments_for_send(member, conversation, attachment_ids or [])
    stored_blocks = validate_blocks(blocks or [])
    body = validate_body(body, allow_empty=bool(attachments or stored_blocks))
    thread_root = None
    if thread_root_id is not None:
        thread_root = Message.objects.filter(pk=thread_root_id, conversation=conversation, deleted_at=None).first()
        if thread_root is None:
            raise NotFound("thread root message")
        if thread_root.thread_root_id is not None:
            thread_root = thread_root.thread_root  # replies to a reply join the same thread
    check_send_rate(member.user_id)
    if member.is_guest and conversation.is_channel:
        # A guest who joined the partner after the share gets their row (read state,
        # mentions) the first time they speak.
        ensure_reader_participant(member, conversation)
    try:
        message = do_send_message(
            member, conversation, body, client_id, thread_root, attachments=attachments, blocks=stored_blocks
        )
        return message, True
    except IntegrityError:
        # A concurrent retry with the same client_id won the race; return its message.
        existing = (
            Message.objects.select_related("sender").filter(sender_id=member.user_id, client_id=client_id).first()
        )
        if existing is None:
            raise
        return _same_send(existing, conversation), False


def _same_send(existing: Message, conversation: Conversation) -> Message:
    if existing.conversation_id != conversation.pk:
        raise HubError(
            "client_id_reused", "this client_id was already used for a message in another conversation", status=409
        )
    return existing


def _attachments_for_send(member: Member, conversation: Conversation, ids: list[int]) -> list[Attachment]:
    """Only the uploader's own, not yet attached files of this conversation."""
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_ATTACHMENTS:
        raise HubError("too_many_attachments", f"at most {MAX_ATTACHMENTS} attachments per message")
    if not ids:
        return []
    found = list(
        Attachment.objects.filter(
            pk__in=ids, conversation=conversation, uploader_id=member.user_id, message__isnull=True
        ).order_by("id")
    )
    if len(found) != len(ids):
        raise NotFound("attachment")
    return found


def _check_broadcast(member: Member, conversation: Conversation, mentions: Mentions) -> None:
    if mentions.broadcast:
        access.check_can_broadcast(member, conversation)


def _find_mentions(body: str, conversation: Conversation) -> Mentions:
    # Most messages mention nobody: only load the conversation's people when there is an "@".
    if not MENTION_RE.search(body):
        return Mentions([], False)
    return find_mentions(body, _mention_candidates(conversation))


def _mention_candidates(conversation: Conversation) -> list[Member]:
    return list(
        Member.objects.select_related("user").filter(
            workspace_id=conversation.workspace_id,
            is_active=True,
            user__participations__conversation=conversation,
            user__participations__active=True,
        )
    )


@transaction.atomic
def do_send_message(
    member: Member,
    conversation: Conversation,
    body: str,
    client_id: uuid.UUID,
    thread_root: Message | None,
    *,
    attachments: list[Attachment] | None = None,
    forwarded_from: Message | None = None,
    mention_source: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> Message:
    """Caller has checked permission. ``mention_source`` is the part of the body whose
    @mentions count (a forwarded quote must not ping people a second time). ``blocks`` are
    already validated (``messaging.blocks.validate_blocks``)."""
    rendered = render_markdown(body)
    mentions = _find_mentions(body if mention_source is None else mention_source, conversation)
    _check_broadcast(member, conversation, mentions)
    seq = next_seq(conversation.pk)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        seq=seq,
        sender=member.user,
        client_id=client_id,
        body=body,
        html=rendered.html,
        thread_root=thread_root,
        mentions=mentions.user_ids,
        mentions_all=mentions.broadcast,
        forwarded_from=forwarded_from,
        blocks=blocks or [],
        created_at=now,
    )
    Mention.objects.bulk_create(
        [Mention(message=message, user_id=uid, conversation=conversation, seq=seq) for uid in mentions.user_ids]
    )
    if attachments:
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)
    prime_new_message(message, attachments or [])
    append_event(conversation.pk, "message.new", {"message": message_payload(message)}, seq=seq)
    # The sender has read what they wrote.
    Participant.objects.filter(conversation=conversation, user_id=member.user_id, last_read_seq__lt=seq).update(
        last_read_seq=seq
    )
    if thread_root is not None:
        Message.objects.filter(pk=thread_root.pk).update(reply_count=F("reply_count") + 1, last_reply_at=now)
        thread_root.refresh_from_db(fields=["reply_count", "last_reply_at"])
        append_event(
            conversation.pk,
            "thread.updated",
            {"root_id": thread_root.pk, "reply_count": thread_root.reply_count, "last_reply_at": now.isoformat()},
        )
        # Replying follows the thread, and so does the root's author and anyone mentioned
        # in it — unless they explicitly unfollowed (their row says following=False).
        for user_id in {member.user_id, thread_root.sender_id, *mentions.user_ids}:
            ThreadFollow.objects.get_or_create(user_id=user_id, root=thread_root)
    notifications.queue_for_message(message, mentions)
    return message


# --- edit and delete -------------------------------------------------------------------------------


def check_edit_message(member: Member, message: Message, body: str) -> Message:
    access.check_can_edit_message(member, message)
    body = validate_body(body, allow_empty=message.attachments.exists())
    if body == message.body:
        return message
    mentions = _find_mentions(body, message.conversation)
    _check_broadcast(member, message.conversation, mentions)
    return do_edit_message(member, message, body, mentions)


@transaction.atomic
def do_edit_message(member: Member, message: Message, body: str, mentions: Mentions) -> Message:
    seq = next_seq(message.conversation_id)  # also serialises concurrent edits of this conversation
    locked = Message.objects.select_related("sender").get(pk=message.pk)
    MessageEdit.objects.create(message=locked, previous_body=locked.body, edited_by=member.user)
    locked.body = body
    locked.html = render_markdown(body).html
    locked.mentions = mentions.user_ids
    locked.mentions_all = mentions.broadcast
    locked.edited_at = timezone.now()
    locked.save(update_fields=["body", "html", "mentions", "mentions_all", "edited_at"])
    # Newly mentioned people get a mention row (their count goes up); removed ones lose it.
    Mention.objects.filter(message=locked).exclude(user_id__in=mentions.user_ids).delete()
    already = set(Mention.objects.filter(message=locked).values_list("user_id", flat=True))
    Mention.objects.bulk_create(
        [
            Mention(message=locked, user_id=uid, conversation_id=locked.conversation_id, seq=locked.seq)
            for uid in mentions.user_ids
            if uid not in already
        ]
    )
    append_event(locked.conversation_id, "message.edited", {"message": message_payload(locked)}, seq=seq)
    return locked


def check_delete_message(member: Member, message: Message) -> Message:
    access.check_can_delete_message(member, message)
    return do_delete_message(member, message)


@transaction.atomic
def do_delete_message(member: Member, message: Message) -> Message:
    """Soft delete: the row and its seq stay (the log shows "deleted"); content, reactions,
    pin and mentions go. Attached files stay on disk for the retention job."""
    seq = next_seq(message.conversation_id)
    locked = Message.objects.select_related("sender").get(pk=message.pk)
    if locked.deleted_at is not None:  # lost a race with another delete
        raise NotFound("message")
    locked.deleted_at = timezone.now()
    locked.deleted_by = member.user
    locked.save(update_fields=["deleted_at", "deleted_by"])
    Pin.objects.filter(message=locked).delete()
    Mention.objects.filter(message=locked).delete()
    Reaction.objects.filter(message=locked).delete()
    SavedMessage.objects.filter(message=locked).delete()
    append_event(locked.conversation_id, "message.deleted", {"message": message_payload(locked)}, seq=seq)
    return locked


# --- reactions -----------------------------------------------------------------------------------

_SHORTCODE_RE = re.compile(r":[a-z0-9_+\-]{1,62}:")
# Emoji are symbols (So/Sk) glued by ZWJ (Cf), variation selectors and keycaps (Mn/Me);
# keycap sequences start with a digit, # or *.
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn", "Me"})


def validate_emoji(emoji: str) -> str:
    if not 1 <= len(emoji) <= 64:
        raise HubError("invalid_emoji", "emoji must be 1 to 64 characters")
    if _SHORTCODE_RE.fullmatch(emoji):
        return emoji
    symbols = [ch for ch in emoji if unicodedata.category(ch) in _EMOJI_CATEGORIES]
    others = [ch for ch in emoji if unicodedata.category(ch) not in _EMOJI_CATEGORIES]
    keycap = "\u20e3" in emoji and all(ch in "0123456789#*" for ch in others)
    if not symbols or (others and not keycap):
        raise HubError("invalid_emoji", "not an emoji or an emoji :shortcode:")
    return emoji


def check_toggle_reaction(member: Member, message: Message, emoji: str) -> bool:
    """Returns True when the reaction is now present."""
    emoji = validate_emoji(emoji)
    if message.deleted_at is not None:
        raise NotFound("message")
    access.check_can_post(member, message.conversation)
    return do_toggle_reaction(member.user, message, emoji)


@transaction.atomic
def do_toggle_reaction(user: User, message: Message, emoji: str) -> bool:
    # Claiming the seq first locks the conversation, so two toggles by the same person
    # cannot both see "absent" and both add.
    seq = next_seq(message.conversation_id)
    deleted, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    added = not deleted
    if added:
        _check_reaction_room(message, user, emoji)
        Reaction.objects.create(message=message, user=user, emoji=emoji)
    summary = reaction_summary(list(Reaction.objects.filter(message=message)))
    append_event(
        message.conversation_id,
        "reaction.changed",
        {"message_id": message.pk, "emoji": emoji, "user_id": user.pk, "added": added, "reactions": summary},
        seq=seq,
    )
    return added


MAX_REACTIONS_PER_PERSON = 20
MAX_EMOJI_PER_MESSAGE = 50


def _check_reaction_room(message: Message, user: User, emoji: str) -> None:
    """Every reaction rides along in every payload of the message: keep that bounded."""
    mine = Reaction.objects.filter(message=message, user=user).count()
    if mine >= MAX_REACTIONS_PER_PERSON:
        raise HubError("too_many_reactions", f"at most {MAX_REACTIONS_PER_PERSON} reactions per person on a message")
    kinds = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True))
    if emoji not in kinds and len(kinds) >= MAX_EMOJI_PER_MESSAGE:
        raise HubError("too_many_reactions", f"at most {MAX_EMOJI_PER_MESSAGE} different emoji on a message")


# --- pins, saved messages, thread follows ---------------------------------------------------------


def check_set_pin(member: Member, message: Message, pinned: bool) -> bool:
    """Returns whether anything changed (pinning a pinned message is a no-op, not an error)."""
    if message.deleted_at is not None:
        raise NotFound("message")
    access.check_can_post(member, message.conversation)
    return do_set_pin(member.user, message, pinned)


@transaction.atomic
def do_set_pin(user: User, message: Message, pinned: bool) -> bool:
    seq = next_seq(message.conversation_id)
    exists = Pin.objects.filter(message=message).exists()
    if exists == pinned:
        # Nothing changed; roll the claimed seq back rather than leave a gap.
        transaction.set_rollback(True)
        return False
    if pinned:
        Pin.objects.create(conversation_id=message.conversation_id, message=message, pinned_by=user)
    else:
        Pin.objects.filter(message=message).delete()
    append_event(
        message.conversation_id, "pin.changed", {"message_id": message.pk, "pinned": pinned, "by": user.pk}, seq=seq
    )
    return True


def check_set_saved(member: Member, message: Message, saved: bool) -> None:
    if saved and message.deleted_at is not None:
        raise NotFound("message")
    do_set_saved(member.user, message, saved)


def do_set_saved(user: User, message: Message, saved: bool) -> None:
    """Per person, not a conversation change: no event."""
    if saved:
        SavedMessage.objects.get_or_create(user=user, message=message)
    else:
        SavedMessage.objects.filter(user=user, message=message).delete()


def check_set_thread_follow(member: Member, message: Message, following: bool) -> None:
    if message.thread_root_id is not None:
        raise HubError("not_a_thread_root", "follow the thread's first message")
    do_set_thread_follow(member.user, message, following)


def do_set_thread_follow(user: User, root: Message, following: bool) -> None:
    ThreadFollow.objects.update_or_create(user=user, root=root, defaults={"following": following})


# --- forwarding ------------------------------------------------------------------------------------


def _quote(message: Message) -> str:
    lines = message.body.splitlines() or [""]
    return "\n".join([f"> **{message.sender.name}**:", *[f"> {line}" for line in lines]])


def check_forward_message(
    member: Member,
    message: Message,
    target_member: Member,
    target: Conversation,
    client_id: uuid.UUID,
    comment: str = "",
) -> tuple[Message, bool]:
    """Quote ``message`` into ``target`` (caller read the source; the target must be postable).
    Idempotent by client_id like any send."""
    existing = Message.objects.select_related("sender").filter(sender_id=member.user_id, client_id=client_id).first()
    if existing is not None:
        return _same_send(existing, target), False
    if message.deleted_at is not None:
        raise NotFound("message")
    # Workspaces are tenants: one company's messages never travel into another's, even by
    # someone who belongs to both.
    if target.workspace_id != message.conversation.workspace_id:
        raise NotFound("conversation")
    access.check_can_post(target_member, target)
    comment = validate_body(comment, allow_empty=True)
    check_send_rate(member.user_id)
    return do_forward_message(target_member, message, target, client_id, comment), True


def do_forward_message(
    member: Member, message: Message, target: Conversation, client_id: uuid.UUID, comment: str
) -> Message:
    quote = _quote(message)
    body = f"{comment}\n\n{quote}" if comment.strip() else quote
    validate_body(body)
    return do_send_message(member, target, body, client_id, None, forwarded_from=message, mention_source=comment)
