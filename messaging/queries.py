"""Reads of ``messaging`` shaped for the API and the socket."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet

from hub.models import Member, User
from messaging import access
from messaging.models import (
    Conversation,
    ConversationShare,
    Event,
    Message,
    MessageEdit,
    Participant,
    Pin,
    SavedMessage,
)
from messaging.serializers import conversation_payload, iso, message_payload

EVENTS_PAGE = 500
MESSAGES_MAX = 200
BULK_CURSORS_MAX = 100
# Per conversation in the bulk form: 100 conversations x 100 events bounds one response;
# has_more says "ask again from the last seq you got".
BULK_EVENTS_PAGE = 100


def conversation_list(member: Member) -> list[dict[str, Any]]:
    """Everything the member may read (public channels they have not joined included, with
    ``joined: false`` — that is the channel browser). A fixed number of queries however many
    conversations there are."""
    conversations = list(access.readable_conversations(member).order_by("kind", "name", "id"))
    participants = {
        p.conversation_id: p
        for p in Participant.objects.filter(user_id=member.user_id, conversation__in=conversations, active=True)
    }
    shares: dict[int, list[int]] = {}
    rows = ConversationShare.objects.filter(conversation__in=conversations).values_list("conversation_id", "partner_id")
    for conv_id, partner_id in rows:
        shares.setdefault(conv_id, []).append(partner_id)
    # Unread and mention counts in two grouped queries, not one per conversation.
    unread = _counts(member, participants, mentions_only=False)
    mentioned = _counts(member, participants, mentions_only=True)
    result = []
    for conversation in conversations:
        participant = participants.get(conversation.pk)
        result.append(
            {
                **conversation_payload(conversation),
                **_personal(participant),
                "unread_count": unread.get(conversation.pk, 0),
                "mention_count": mentioned.get(conversation.pk, 0),
                "shared_with": sorted(shares.get(conversation.pk, [])),
            }
        )
    return result


def _personal(participant: Participant | None) -> dict[str, Any]:
    return {
        "joined": participant is not None,
        "last_read_seq": participant.last_read_seq if participant else 0,
        "muted": participant.muted if participant else False,
        "notification_level": participant.notification_level if participant else "all",
    }


def _counts(member: Member, participants: dict[int, Participant], *, mentions_only: bool) -> dict[int, int]:
    if not participants:
        return {}
    # One join against the caller's own participant rows (one filter() call, so the three
    # conditions share that join) rather than an OR per conversation: constant SQL size,
    # which SQLite's expression-depth limit (1000) needs for people in many conversations.
    messages = Message.objects.filter(
        conversation__participants__user_id=member.user_id,
        conversation__participants__active=True,
        seq__gt=F("conversation__participants__last_read_seq"),
        conversation__workspace_id=member.workspace_id,
        deleted_at__isnull=True,
    ).exclude(sender_id=member.user_id)
    if mentions_only:
        messages = messages.filter(Q(mention_rows__user_id=member.user_id) | Q(mentions_all=True))
    counted = messages.values("conversation_id").annotate(n=Count("id", distinct=True))
    return dict(counted.values_list("conversation_id", "n"))


def conversation_detail(member: Member, conversation: Conversation) -> dict[str, Any]:
    participant = Participant.objects.filter(conversation=conversation, user_id=member.user_id, active=True).first()
    partners = list(conversation.shared_with.order_by("id").values("id", "name", "kind"))
    people = _people(conversation)
    return {
        **conversation_payload(conversation),
        **_personal(participant),
        "shared_with": [p["id"] for p in partners],
        "partners": partners,
        "member_count": len(people),
        "external_member_count": sum(1 for p in people if p["is_external"]),
    }


def _people(conversation: Conversation) -> list[dict[str, Any]]:
    participants = list(
        Participant.objects.filter(conversation=conversation, active=True)
        .select_related("user")
        .order_by("joined_at", "id")
    )
    members = {
        m.user_id: m
        for m in Member.objects.select_related("partner").filter(
            workspace_id=conversation.workspace_id, user_id__in=[p.user_id for p in participants]
        )
    }
    people = []
    for p in participants:
        m = members.get(p.user_id)
        external = m is not None and m.is_guest
        people.append(
            {
                "user_id": p.user_id,
                "name": p.user.name,
                "role": p.role,
                "workspace_role": m.role if m else "",
                "is_external": external,
                "partner_id": m.partner_id if external and m else None,
                "partner_name": m.partner.name if external and m and m.partner else None,
            }
        )
    return people


def members_of(conversation: Conversation) -> list[dict[str, Any]]:
    return _people(conversation)


def _with_extras(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Everything ``message_payload`` touches, in a fixed number of queries per page."""
    return messages.select_related("sender", "pin").prefetch_related("reactions", "attachments")


def message_page(
    conversation: Conversation, *, before: int | None, after: int | None, limit: int, thread_root_id: int | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """A page of messages by seq cursor: newest first below ``before``, oldest first above ``after``."""
    limit = max(1, min(limit, MESSAGES_MAX))
    messages = _with_extras(Message.objects.filter(conversation=conversation))
    if thread_root_id is not None:
        messages = messages.filter(Q(pk=thread_root_id) | Q(thread_root_id=thread_root_id))
    if after is not None:
        page = list(messages.filter(seq__gt=after).order_by("seq")[: limit + 1])
        has_more = len(page) > limit
        return [dict(message_payload(m)) for m in page[:limit]], has_more
    if before is not None:
        messages = messages.filter(seq__lt=before)
    page = list(messages.order_by("-seq")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    page.reverse()
    return [dict(message_payload(m)) for m in page], has_more


def thread(root: Message, user: User, *, after: int | None, limit: int) -> dict[str, Any]:
    limit = max(1, min(limit, MESSAGES_MAX))
    replies = _with_extras(Message.objects.filter(thread_root=root))
    if after is not None:
        replies = replies.filter(seq__gt=after)
    page = list(replies.order_by("seq")[: limit + 1])
    root_full = _with_extras(Message.objects.filter(pk=root.pk)).get()
    following = root.followers.filter(user=user, following=True).exists()
    return {
        "root": message_payload(root_full),
        "replies": [message_payload(m) for m in page[:limit]],
        "has_more": len(page) > limit,
        "following": following,
    }


def edits_of(message: Message) -> list[dict[str, Any]]:
    return [
        {"previous_body": e.previous_body, "edited_by": e.edited_by_id, "edited_at": iso(e.edited_at)}
        for e in MessageEdit.objects.filter(message=message).order_by("edited_at", "id")
    ]


def pins_of(conversation: Conversation) -> list[dict[str, Any]]:
    pins = list(
        Pin.objects.filter(conversation=conversation, message__deleted_at__isnull=True)
        .select_related("message__sender", "message__pin")
        .prefetch_related("message__reactions", "message__attachments")
        .order_by("-pinned_at", "-id")
    )
    return [
        {"message": message_payload(p.message), "pinned_by": p.pinned_by_id, "pinned_at": iso(p.pinned_at)}
        for p in pins
    ]


def saved_of(member: Member) -> list[dict[str, Any]]:
    """Saved messages of this workspace the person can still read (access may have ended)."""
    readable = access.readable_conversations(member).values("pk")
    rows = list(
        SavedMessage.objects.filter(
            user_id=member.user_id, message__conversation__in=readable, message__deleted_at__isnull=True
        )
        .select_related("message__sender", "message__pin")
        .prefetch_related("message__reactions", "message__attachments")
        .order_by("-saved_at", "-id")[:500]
    )
    return [{"message": message_payload(s.message), "saved_at": iso(s.saved_at)} for s in rows]


def events_after(conversation_id: int, after_seq: int, limit: int = EVENTS_PAGE) -> tuple[list[dict[str, Any]], bool]:
    rows = list(
        Event.objects.filter(conversation_id=conversation_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("payload", flat=True)[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def parse_cursors(raw: str) -> dict[int, int]:
    """``"12:40,13:0"`` → {12: 40, 13: 0}; raises ValueError on anything else."""
    cursors: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        conv, _, seq = part.partition(":")
        conv_id, after = int(conv), int(seq or "0")
        if not 0 < conv_id < 2**63 or not 0 <= after < 2**63:
            raise ValueError(part)
        cursors[conv_id] = after
    return cursors


def bulk_events(user: User, cursors: dict[int, int], per_conversation: int = BULK_EVENTS_PAGE) -> dict[str, Any]:
    """Replay for many conversations at once. Unknown and unreadable ids land in ``omitted``
    (one list for both, so the answer never confirms that an id exists)."""
    readable: dict[int, Conversation] = {}
    for member in access.reading_memberships(user.pk):
        for conv in access.readable_conversations(member).filter(pk__in=list(cursors)):
            readable[conv.pk] = conv
    out: dict[str, Any] = {}
    for conv_id in sorted(readable):
        events, has_more = events_after(conv_id, cursors[conv_id], per_conversation)
        out[str(conv_id)] = {"events": events, "last_seq": readable[conv_id].last_seq, "has_more": has_more}
    return {"conversations": out, "omitted": sorted(set(cursors) - set(readable))}


def receipts(message: Message) -> tuple[list[int], list[int]]:
    """Who of the conversation's participants has read up to this message (sender excluded)."""
    return receipts_at(message.conversation_id, message.seq, exclude_user_id=message.sender_id)


def receipts_at(conversation_id: int, seq: int, *, exclude_user_id: int | None = None) -> tuple[list[int], list[int]]:
    rows = Participant.objects.filter(conversation_id=conversation_id, active=True)
    if exclude_user_id is not None:
        rows = rows.exclude(user_id=exclude_user_id)
    read: list[int] = []
    unread: list[int] = []
    for user_id, last_read in rows.values_list("user_id", "last_read_seq").order_by("user_id"):
        (read if last_read >= seq else unread).append(user_id)
    return read, unread
