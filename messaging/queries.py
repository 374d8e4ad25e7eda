"""Reads of ``messaging`` shaped for the API and the socket."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from hub.models import Member
from messaging import access
from messaging.models import Conversation, Event, Message, Participant
from messaging.serializers import conversation_payload, message_payload

EVENTS_PAGE = 500
MESSAGES_MAX = 200


def conversation_list(member: Member) -> list[dict[str, Any]]:
    conversations = list(access.readable_conversations(member).order_by("kind", "name", "id"))
    participants = {
        p.conversation_id: p
        for p in Participant.objects.filter(user_id=member.user_id, conversation__in=conversations, active=True)
    }
    shares: dict[int, list[int]] = {}
    for conv_id, partner_id in Conversation.shared_with.through.objects.filter(conversation__in=conversations).values_list(
        "conversation_id", "partner_id"
    ):
        shares.setdefault(conv_id, []).append(partner_id)
    # Unread and mention counts in two grouped queries, not one per conversation.
    unread = _counts(member, participants, mentions_only=False)
    mentioned = _counts(member, participants, mentions_only=True)
    rows = []
    for conversation in conversations:
        participant = participants.get(conversation.pk)
        rows.append(
            {
                **conversation_payload(conversation),
                "joined": participant is not None,
                "last_read_seq": participant.last_read_seq if participant else 0,
                "unread_count": unread.get(conversation.pk, 0),
                "mention_count": mentioned.get(conversation.pk, 0),
                "muted": participant.muted if participant else False,
                "notification_level": participant.notification_level if participant else "all",
                "shared_with": shares.get(conversation.pk, []),
            }
        )
    return rows


def _counts(member: Member, participants: dict[int, Participant], *, mentions_only: bool) -> dict[int, int]:
    if not participants:
        return {}
    condition = Q()
    for conv_id, participant in participants.items():
        condition |= Q(conversation_id=conv_id, seq__gt=participant.last_read_seq)
    messages = Message.objects.filter(condition, deleted_at__isnull=True).exclude(sender_id=member.user_id)
    if mentions_only:
        messages = messages.filter(Q(mention_rows__user_id=member.user_id) | Q(mentions_all=True))
    return dict(messages.values("conversation_id").annotate(n=Count("id", distinct=True)).values_list("conversation_id", "n"))


def message_page(
    conversation: Conversation, *, before: int | None, after: int | None, limit: int, thread_root_id: int | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """A page of messages by seq cursor: newest first below ``before``, oldest first above ``after``."""
    limit = max(1, min(limit, MESSAGES_MAX))
    messages = Message.objects.filter(conversation=conversation).select_related("sender")
    if thread_root_id is not None:
        messages = messages.filter(Q(pk=thread_root_id) | Q(thread_root_id=thread_root_id))
    if after is not None:
        page = list(messages.filter(seq__gt=after).order_by("seq")[: limit + 1])
    else:
        if before is not None:
            messages = messages.filter(seq__lt=before)
        page = list(messages.order_by("-seq")[: limit + 1])
        page.reverse()
        if len(page) > limit:
            page = page[1:]
            return [message_payload(m) for m in page], True
        return [message_payload(m) for m in page], False
    has_more = len(page) > limit
    return [message_payload(m) for m in page[:limit]], has_more


def events_after(conversation_id: int, after_seq: int, limit: int = EVENTS_PAGE) -> tuple[list[dict[str, Any]], bool]:
    rows = list(
        Event.objects.filter(conversation_id=conversation_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("payload", flat=True)[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def receipts(message: Message) -> tuple[list[int], list[int]]:
    """Who of the conversation's participants has read up to this message (sender excluded)."""
    rows = Participant.objects.filter(conversation_id=message.conversation_id, active=True).exclude(
        user_id=message.sender_id
    )
    read, unread = [], []
    for user_id, last_read in rows.values_list("user_id", "last_read_seq").order_by("user_id"):
        (read if last_read >= message.seq else unread).append(user_id)
    return read, unread
