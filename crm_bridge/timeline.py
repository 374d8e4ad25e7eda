"""The customer timeline: every conversation about a customer (or supplier) — messages in the
rooms of the party or of its orders and invoices, and messages that reference any of them
(``RecordLink``) — newest first, cut to what the caller may read. And "log to ERP": chosen
messages posted to the source record as a note (``Source.log_note``), audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q, QuerySet

from crm_bridge import access
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.sources.base import RecordNotFound, RecordRef, RecordType, SourceError, SourceUnavailable
from crm_bridge.sources.registry import build_source
from hub.actions import audit
from hub.errors import HubError, NotFound
from hub.models import Member
from messaging.access import readable_conversations
from messaging.models import Message

PARTY_TYPES = (RecordType.CUSTOMER, RecordType.SUPPLIER)
EXCERPT = 500
MAX_LOGGED_MESSAGES = 50


@dataclass(frozen=True)
class TimelinePage:
    entries: list[dict[str, object]]
    next_before: int | None  # pass as ``before`` for the next (older) page


def related_snapshots(party: RecordSnapshot) -> QuerySet[RecordSnapshot]:
    """The party itself and every cached record that belongs to it (orders, invoices …)."""
    return RecordSnapshot.objects.filter(source_id=party.source_id).filter(
        Q(record_type=party.record_type, key=party.key) | Q(party_type=party.record_type, party_key=party.key)
    )


def timeline(member: Member, party: RecordSnapshot, *, before: int | None = None, limit: int = 30) -> TimelinePage:
    """The caller has checked that ``member`` may view ``party``."""
    if party.record_type not in PARTY_TYPES:
        raise HubError("not_a_party", "timelines are kept for customers and suppliers")
    links = RecordLink.objects.filter(snapshot__in=related_snapshots(party))
    rooms = links.filter(kind=RecordLink.Kind.ROOM).values("conversation_id")
    referencing = links.filter(message__isnull=False).values("message_id")
    messages = (
        Message.objects.filter(Q(pk__in=referencing) | Q(conversation_id__in=rooms))
        .filter(conversation__in=readable_conversations(member), deleted_at__isnull=True)
        .select_related("sender", "conversation")
    )
    if before is not None:
        anchor = Message.objects.filter(pk=before).values_list("created_at", flat=True).first()
        if anchor is None:
            raise HubError("invalid_cursor", "before must be the id of a message from the previous page")
        messages = messages.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    page = list(messages.order_by("-created_at", "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    records = _records_by_message([m.pk for m in page], party)
    room_ids = set(rooms.values_list("conversation_id", flat=True))
    return TimelinePage(
        entries=[_entry(m, records.get(m.pk, []), m.conversation_id in room_ids) for m in page],
        next_before=page[-1].pk if more else None,
    )


def _records_by_message(message_ids: list[int], party: RecordSnapshot) -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = {}
    rows = (
        RecordLink.objects.filter(message_id__in=message_ids, snapshot__in=related_snapshots(party))
        .values_list("message_id", "snapshot__record_type", "snapshot__key", "snapshot__number")
        .order_by("pk")
    )
    for message_id, record_type, key, number in rows:
        found.setdefault(message_id, []).append({"record_type": record_type, "key": key, "number": number})
    return found


def _entry(message: Message, records: list[dict[str, str]], in_room: bool) -> dict[str, object]:
    return {
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "conversation_name": message.conversation.name,
        "seq": message.seq,
        "sender_name": message.sender.name,
        "sender_is_bot": message.sender.is_bot,
        "text": message.body[:EXCERPT],
        "created_at": message.created_at,
        "via": "room" if in_room else "reference",
        "records": records,
    }


# --- log to ERP -----------------------------------------------------------------------------------


def excerpt(messages: list[Message], tz_name: str) -> str:
    """A plain-text transcript the ERP shows in the record's chatter."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    conversations = list(dict.fromkeys(m.conversation.name or "私信" for m in messages))
    lines = [f"小微 Hub 对话摘录 · conversation excerpt: {'、'.join(conversations)}"]
    for m in messages:
        when: datetime = m.created_at.astimezone(tz)
        lines.append(f"[{when:%Y-%m-%d %H:%M}] {m.sender.name}: {m.body}")
    return "\n".join(lines)


def check_log_to_erp(member: Member, source: ErpSource, snapshot: RecordSnapshot, message_ids: list[int]) -> str:
    """Post the chosen messages to the source record as a note; returns the note's text.
    The caller has checked that ``member`` may view ``snapshot``."""
    access.check_can_write_notes(member)
    ids = list(dict.fromkeys(message_ids))
    if not ids or len(ids) > MAX_LOGGED_MESSAGES:
        raise HubError("invalid_request", f"choose between 1 and {MAX_LOGGED_MESSAGES} messages", status=422)
    messages = list(
        Message.objects.filter(pk__in=ids, deleted_at__isnull=True, conversation__in=readable_conversations(member))
        .select_related("sender", "conversation")
        .order_by("created_at", "pk")
    )
    if len(messages) != len(ids):
        raise NotFound("message")
    body = excerpt(messages, member.user.time_zone)
    return do_log_to_erp(member, source, snapshot, body, ids)


def do_log_to_erp(member: Member, source: ErpSource, snapshot: RecordSnapshot, body: str, ids: list[int]) -> str:
    ref = RecordRef(RecordType(snapshot.record_type), snapshot.key)
    try:
        build_source(source).log_note(ref, body, author=member.user.email)
    except RecordNotFound:
        raise NotFound("record") from None
    except SourceUnavailable as exc:
        raise HubError("source_unavailable", f"the ERP is unavailable: {exc.message}", status=503) from None
    except SourceError as exc:
        raise HubError(exc.code, exc.message, status=502) from None
    # The note is in the ERP now; the audit entry says who put it there from which messages.
    audit(
        "erp.note_logged",
        actor=member.user,
        workspace=member.workspace_id,
        target=snapshot,
        source_id=source.pk,
        record=f"{snapshot.record_type}:{snapshot.key}",
        number=snapshot.number,
        message_ids=ids,
    )
    return body
