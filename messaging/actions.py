"""Every write of ``messaging``. ``check_*`` validates and calls ``do_*``; ``do_*`` changes rows
inside a transaction and appends events (published after commit)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.errors import HubError, NotFound, PermissionDenied
from hub.models import Member, User
from hub.rendering import render_markdown
from messaging import access
from messaging.eventlog import append_event, next_seq
from messaging.mentions import find_mentions
from messaging.models import Conversation, Mention, Message, Participant
from messaging.serializers import conversation_payload, message_payload


def _validate_body(body: str) -> str:
    if "\x00" in body:
        raise HubError("invalid_body", "message contains a NUL character")
    if not body.strip():
        raise HubError("empty_body", "message is empty")
    if len(body) > settings.HUB_MESSAGE_MAX_CHARS:
        raise HubError("body_too_long", f"message is longer than {settings.HUB_MESSAGE_MAX_CHARS} characters", status=413)
    return body


# --- conversations ---------------------------------------------------------------------------


def _active_workspace_members(workspace_id: int, user_ids: list[int]) -> list[Member]:
    members = list(
        Member.objects.select_related("user").filter(workspace_id=workspace_id, user_id__in=user_ids, is_active=True)
    )
    if len(members) != len(set(user_ids)):
        raise NotFound("user")
    return members


def check_create_conversation(
    creator: Member, kind: str, name: str = "", member_ids: list[int] | None = None
) -> Conversation:
    member_ids = [uid for uid in dict.fromkeys(member_ids or []) if uid != creator.user_id]
    others = _active_workspace_members(creator.workspace_id, member_ids)
    name = name.strip()
    if kind in (Conversation.Kind.PUBLIC, Conversation.Kind.PRIVATE):
        if creator.is_guest:
            raise PermissionDenied("guests cannot create channels")
        if not name:
            raise HubError("name_required", "a channel needs a name")
    elif kind == Conversation.Kind.DM:
        if len(others) != 1:
            raise HubError("dm_needs_one_person", "a direct message is between you and exactly one other person")
    elif kind == Conversation.Kind.GROUP:
        if len(others) < 2:
            raise HubError("group_needs_three", "a group needs at least three people (you and two others)")
    else:
        raise HubError("invalid_kind", f"unknown conversation kind {kind!r}")
    if creator.is_guest:
        _check_guest_can_reach(creator, others)
    return do_create_conversation(creator, kind, name, others)


def _check_guest_can_reach(guest: Member, others: list[Member]) -> None:
    """Guests may only start DMs/groups with people they meet in channels shared with them."""
    shared = Participant.objects.filter(
        conversation__shares__partner_id=guest.partner_id, conversation__workspace_id=guest.workspace_id, active=True
    ).values_list("user_id", flat=True)
    reachable = set(shared) | set(
        Member.objects.filter(workspace_id=guest.workspace_id, partner_id=guest.partner_id).values_list("user_id", flat=True)
    )
    if any(m.user_id not in reachable for m in others):
        raise NotFound("user")


@transaction.atomic
def do_create_conversation(creator: Member, kind: str, name: str, others: list[Member]) -> Conversation:
    dm_key = None
    if kind == Conversation.Kind.DM:
        low, high = sorted([creator.user_id, others[0].user_id])
        dm_key = f"dm:{low}:{high}"
        existing = Conversation.objects.filter(workspace_id=creator.workspace_id, dm_key=dm_key).first()
        if existing is not None:
            return existing
    conversation = Conversation.objects.create(
        workspace_id=creator.workspace_id, kind=kind, name=name[:80], created_by=creator.user, dm_key=dm_key
    )
    creator_role = Participant.Role.MANAGER if conversation.is_channel else Participant.Role.MEMBER
    Participant.objects.create(conversation=conversation, user=creator.user, role=creator_role)
    Participant.objects.bulk_create([Participant(conversation=conversation, user=m.user) for m in others])
    append_event(
        conversation.pk,
        "conversation.created",
        {"conversation": conversation_payload(conversation), "member_ids": [creator.user_id, *[m.user_id for m in others]]},
    )
    return conversation


# --- messages --------------------------------------------------------------------------------


def check_send_message(
    member: Member,
    conversation: Conversation,
    body: str,
    client_id: uuid.UUID,
    thread_root_id: int | None = None,
) -> tuple[Message, bool]:
    """Send idempotently: the same (sender, client_id) returns the original message.

    Returns (message, created).
    """
    existing = Message.objects.select_related("sender").filter(sender_id=member.user_id, client_id=client_id).first()
    if existing is not None:
        return _same_send(existing, conversation), False
    access.check_can_post(member, conversation)
    body = _validate_body(body)
    thread_root = None
    if thread_root_id is not None:
        thread_root = Message.objects.filter(pk=thread_root_id, conversation=conversation).first()
        if thread_root is None:
            raise NotFound("thread root message")
        if thread_root.thread_root_id is not None:
            thread_root = thread_root.thread_root  # replies to a reply join the same thread
    try:
        return do_send_message(member, conversation, body, client_id, thread_root), True
    except IntegrityError:
        # A concurrent retry with the same client_id won the race; return its message.
        existing = Message.objects.select_related("sender").filter(sender_id=member.user_id, client_id=client_id).first()
        if existing is None:
            raise
        return _same_send(existing, conversation), False


def _same_send(existing: Message, conversation: Conversation) -> Message:
    if existing.conversation_id != conversation.pk:
        raise HubError("client_id_reused", "this client_id was already used for a message in another conversation", status=409)
    return existing


@transaction.atomic
def do_send_message(
    member: Member, conversation: Conversation, body: str, client_id: uuid.UUID, thread_root: Message | None
) -> Message:
    rendered = render_markdown(body)
    candidates = list(
        Member.objects.select_related("user").filter(
            workspace_id=conversation.workspace_id, is_active=True, user__participations__conversation=conversation
        )
    )
    mentions = find_mentions(body, candidates)
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
        created_at=now,
    )
    Mention.objects.bulk_create(
        [Mention(message=message, user_id=uid, conversation=conversation, seq=seq) for uid in mentions.user_ids]
    )
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
    return message


# --- read state ------------------------------------------------------------------------------


@transaction.atomic
def do_mark_read(user: User, conversation: Conversation, seq: int) -> int:
    """Move the read cursor forward (never back) up to ``seq``, capped at the last event."""
    if seq < 0:
        raise HubError("invalid_seq", "seq must not be negative")
    seq = min(seq, conversation.last_seq)
    participant = Participant.objects.select_for_update().filter(conversation=conversation, user=user, active=True).first()
    if participant is None:
        raise PermissionDenied("join the conversation first", code="not_a_participant")
    if seq > participant.last_read_seq:
        participant.last_read_seq = seq
        participant.save(update_fields=["last_read_seq"])
    return participant.last_read_seq
