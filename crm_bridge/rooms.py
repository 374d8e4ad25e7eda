"""Record rooms: a private channel for one record (a big order, a key customer, a supplier),
opened in one call, with the record's live card pinned at the top. The record's company can
be invited: the channel is shared with the ``PartnerOrg`` the record's party is linked to —
that partner only — so its contacts join as guests, who see only their own company's
records and never internal fields (``crm_bridge.access`` / ``crm_bridge.cards``)."""

from __future__ import annotations

import uuid

from django.db import transaction

from crm_bridge import access
from crm_bridge.cards import load_snapshot, record_block
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.sources.base import RecordRef
from hub.bots import ASSISTANT, ensure_bot
from hub.errors import HubError, NotFound
from hub.models import Member, PartnerOrg
from messaging import actions as messaging_actions
from messaging.actions.bots import do_post_bot_message
from messaging.models import Conversation, Participant

_ROOM_NAMESPACE = uuid.UUID("5a0e6a57-3f0f-4c55-8f0e-6c1d2b7a9e41")


def room_name(snapshot: RecordSnapshot) -> str:
    """ "SO-1001 · 上海悦茗…", "C001 上海悦茗…" — cut to the channel name limit."""
    title = snapshot.title
    name = title if title.startswith(snapshot.number) else f"{snapshot.number} {title}".strip()
    return name[:80]


def find_room(snapshot: RecordSnapshot) -> Conversation | None:
    link = (
        RecordLink.objects.select_related("conversation")
        .filter(snapshot=snapshot, kind=RecordLink.Kind.ROOM, conversation__archived_at__isnull=True)
        .order_by("pk")
        .first()
    )
    return link.conversation if link is not None else None


def room_snapshot(conversation: Conversation) -> RecordSnapshot | None:
    link = (
        RecordLink.objects.select_related("snapshot__source")
        .filter(conversation=conversation, kind=RecordLink.Kind.ROOM)
        .first()
    )
    return link.snapshot if link is not None else None


def check_open_room(member: Member, source: ErpSource, ref: RecordRef) -> tuple[Conversation, bool]:
    """The record's room, created on the first call; returns (room, created). A second call
    returns the same room (joining the caller if they were not in it yet)."""
    access.check_can_open_room(member)
    snapshot = load_snapshot(member, source, ref)
    existing = find_room(snapshot)
    if existing is not None:
        _join(member, existing)
        return existing, False
    return do_open_room(member, snapshot)


@transaction.atomic
def do_open_room(member: Member, snapshot: RecordSnapshot) -> tuple[Conversation, bool]:
    # The snapshot row lock serialises two people opening the same record's room at once:
    # the second waits, then finds the first one's room.
    RecordSnapshot.objects.select_for_update().filter(pk=snapshot.pk).first()
    existing = find_room(snapshot)
    if existing is not None:
        _join(member, existing)
        return existing, False
    room = messaging_actions.do_create_conversation(member, Conversation.Kind.PRIVATE, room_name(snapshot), [])
    RecordLink.objects.create(snapshot=snapshot, conversation=room, kind=RecordLink.Kind.ROOM)
    bot = ensure_bot(member.workspace, ASSISTANT)
    card = do_post_bot_message(
        bot,
        room,
        f"📌 {snapshot.number} 的专属频道 · room for {snapshot.number}",
        blocks=[record_block(snapshot)],
        client_id=uuid.uuid5(_ROOM_NAMESPACE, f"room:{snapshot.pk}:{room.pk}"),
    )
    messaging_actions.do_set_pin(member.user, card, True)
    return room, True


def _join(member: Member, room: Conversation) -> None:
    if not Participant.objects.filter(conversation=room, user_id=member.user_id, active=True).exists():
        messaging_actions.do_add_participants(member, room, [member])


def partner_for(snapshot: RecordSnapshot) -> PartnerOrg | None:
    """The partner organisation the record's party (its customer or supplier) is linked to."""
    if not snapshot.party_key:
        return None
    party = f"{snapshot.party_type}:{snapshot.party_key}"
    for partner in PartnerOrg.objects.filter(workspace_id=snapshot.source.workspace_id).order_by("pk"):
        if party in access.partner_parties(snapshot.source, partner):
            return partner
    return None


def check_invite_partner(member: Member, room: Conversation) -> PartnerOrg:
    """Share the room with the record's company (its contacts join as guests)."""
    snapshot = room_snapshot(room)
    if snapshot is None:
        raise NotFound("record room")
    access.check_view_record(member, snapshot)
    partner = partner_for(snapshot)
    if partner is None:
        raise HubError(
            "no_partner",
            f"{snapshot.number} belongs to no partner organisation: link its customer or supplier to one first",
            status=409,
        )
    messaging_actions.check_share(member, room, partner)
    return partner
