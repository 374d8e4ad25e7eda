"""HTTP API of record rooms, the customer timeline and "log to ERP". Thin: authenticate,
parse, call one action or query, serialise."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from crm_bridge import access, rooms, timeline
from crm_bridge.cards import load_snapshot
from crm_bridge.models import ErpSource
from crm_bridge.sources.base import RecordRef, RecordType
from hub.access import access_member
from hub.apicore import authed_user
from hub.errors import NotFound
from hub.models import Member
from messaging.access import access_conversation

router = Router(tags=["records"])


class RecordIn(Schema):
    source_id: int
    record_type: RecordType
    key: str = Field(min_length=1, max_length=128)


class RoomIn(RecordIn):
    invite_partner: bool = Field(default=False, description="share the room with the record's company at once")


class RoomOut(Schema):
    conversation_id: int
    name: str
    created: bool
    shared_with: list[str] = Field(description="partner organisations whose contacts are in the room as guests")


class ShareOut(Schema):
    conversation_id: int
    partner_id: int
    partner_name: str


class TimelineParams(RecordIn):
    before: int | None = Field(default=None, description="next_before of the previous page")
    limit: int = Field(default=30, ge=1, le=100)


class TimelineRecord(Schema):
    record_type: str
    key: str
    number: str


class TimelineEntry(Schema):
    message_id: int
    conversation_id: int
    conversation_name: str
    seq: int
    sender_name: str
    sender_is_bot: bool
    text: str
    created_at: datetime
    via: str = Field(description='"room" (in a room of the party or its records) or "reference"')
    records: list[TimelineRecord]


class TimelineOut(Schema):
    entries: list[TimelineEntry]
    next_before: int | None


class LogIn(RecordIn):
    message_ids: list[int] = Field(min_length=1, max_length=timeline.MAX_LOGGED_MESSAGES)


class LogOut(Schema):
    logged: int
    note: str


def _member_and_source(request: HttpRequest, source_id: int) -> tuple[Member, ErpSource]:
    source = ErpSource.objects.filter(pk=source_id).only("workspace_id").first()
    if source is None:
        raise NotFound("ERP source")
    try:
        member = access_member(authed_user(request), source.workspace_id)
    except NotFound:
        raise NotFound("ERP source") from None
    return member, access.access_source(member, source_id)


@router.post("/records/rooms", response={200: RoomOut, 201: RoomOut})
def open_room(request: HttpRequest, payload: RoomIn) -> Status[object]:
    """The record's room: created (201) with its card pinned on the first call, the same
    room (200) afterwards."""
    member, source = _member_and_source(request, payload.source_id)
    room, created = rooms.check_open_room(member, source, RecordRef(payload.record_type, payload.key))
    if payload.invite_partner:
        rooms.check_invite_partner(member, room)
    shared = list(room.shared_with.order_by("pk").values_list("name", flat=True))
    return Status(
        201 if created else 200,
        {"conversation_id": room.pk, "name": room.name, "created": created, "shared_with": shared},
    )


@router.post("/records/rooms/{conversation_id}/invite-partner", response=ShareOut)
def invite_partner(request: HttpRequest, conversation_id: int) -> dict[str, object]:
    """Share the room with the company the record belongs to (and no other)."""
    member, room = access_conversation(authed_user(request), conversation_id)
    partner = rooms.check_invite_partner(member, room)
    return {"conversation_id": room.pk, "partner_id": partner.pk, "partner_name": partner.name}


@router.get("/records/timeline", response=TimelineOut)
def get_timeline(request: HttpRequest, params: Query[TimelineParams]) -> dict[str, object]:
    member, source = _member_and_source(request, params.source_id)
    party = load_snapshot(member, source, RecordRef(params.record_type, params.key))
    page = timeline.timeline(member, party, before=params.before, limit=params.limit)
    return {"entries": page.entries, "next_before": page.next_before}


@router.post("/records/log", response=LogOut)
def log_to_erp(request: HttpRequest, payload: LogIn) -> dict[str, object]:
    """Post the chosen messages to the record in the ERP as a note (audited)."""
    member, source = _member_and_source(request, payload.source_id)
    snapshot = load_snapshot(member, source, RecordRef(payload.record_type, payload.key))
    note = timeline.check_log_to_erp(member, source, snapshot, payload.message_ids)
    return {"logged": len(set(payload.message_ids)), "note": note}
