"""Conversation writes: create (incl. ad-hoc groups from a DM or a message), join, leave,
add/remove people, details, archive, per-person notification settings, sharing with
partner organisations and converting a group into a private channel."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from hub.errors import HubError, NotFound, PermissionDenied
from hub.models import Member, PartnerOrg
from messaging import access
from messaging.actions._common import active_workspace_members, publish_access_changed, validate_text
from messaging.eventlog import append_event, next_seq
from messaging.models import Conversation, ConversationShare, Message, Participant
from messaging.serializers import conversation_payload


def check_create_conversation(
    creator: Member, kind: str, name: str = "", member_ids: list[int] | None = None
) -> Conversation:
    member_ids = [uid for uid in dict.fromkeys(member_ids or []) if uid != creator.user_id]
    others = active_workspace_members(creator.workspace_id, member_ids)
    name = validate_text(name, "name", 80)
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
        Member.objects.filter(workspace_id=guest.workspace_id, partner_id=guest.partner_id).values_list(
            "user_id", flat=True
        )
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
    # Claimed first so the payload's last_seq is this event's own seq (1).
    conversation.last_seq = next_seq(conversation.pk)
    append_event(
        conversation.pk,
        "conversation.created",
        {
            "conversation": conversation_payload(conversation),
            "member_ids": [creator.user_id, *[m.user_id for m in others]],
        },
        seq=conversation.last_seq,
    )
    # Open sockets of everyone in it (creator included: their other devices) subscribe now,
    # so a new DM or group appears live instead of after the next reconnect.
    publish_access_changed([creator.user_id, *[m.user_id for m in others]], conversation.workspace_id, conversation.pk)
    return conversation


def check_create_group(
    creator: Member,
    member_ids: list[int],
    name: str = "",
    *,
    source: Conversation | None = None,
    quote: Message | None = None,
) -> Conversation:
    """An ad-hoc group in one step: everyone of ``source`` (e.g. a DM) plus ``member_ids``;
    with ``quote``, the group opens with that message quoted (and linked by forwarded_from).

    The caller has already checked that the creator can read ``source`` / ``quote``."""
    for origin in (source, quote.conversation if quote is not None else None):
        if origin is not None and origin.workspace_id != creator.workspace_id:
            raise NotFound("conversation")  # tenants never mix, even for people in both
    ids = list(member_ids)
    if source is not None:
        ids += list(
            Participant.objects.filter(conversation=source, active=True)
            .values_list("user_id", flat=True)
            .order_by("id")
        )
    with transaction.atomic():
        conversation = check_create_conversation(creator, Conversation.Kind.GROUP, name, ids)
        if quote is not None:
            # Imported here: messages imports conversations' helpers, not the other way round.
            from messaging.actions.messages import do_forward_message

            do_forward_message(creator, quote, conversation, uuid.uuid4(), "")
    conversation.refresh_from_db()
    return conversation


# --- who is in ---------------------------------------------------------------------------------


def check_join_conversation(member: Member, conversation: Conversation) -> Participant:
    access.check_can_join(member, conversation)
    return do_add_participants(member, conversation, [member])[0]


def check_add_members(actor: Member, conversation: Conversation, user_ids: list[int]) -> list[Participant]:
    access.check_can_change_members(actor, conversation)
    targets = active_workspace_members(conversation.workspace_id, list(dict.fromkeys(user_ids)))
    if actor.is_guest:
        _check_guest_can_reach(actor, targets)
    for target in targets:
        access.check_can_add_person(conversation, target)
    return do_add_participants(actor, conversation, targets)


@transaction.atomic
def do_add_participants(actor: Member, conversation: Conversation, targets: list[Member]) -> list[Participant]:
    """Add or re-activate. New people start "read up to now" (a channel's whole history is
    not unread news); returning people keep their old read cursor."""
    existing = {
        p.user_id: p
        for p in Participant.objects.select_for_update().filter(
            conversation=conversation, user_id__in=[t.user_id for t in targets]
        )
    }
    joined: list[int] = []
    result: list[Participant] = []
    last_seq = Conversation.objects.filter(pk=conversation.pk).values_list("last_seq", flat=True).get()
    for target in targets:
        participant = existing.get(target.user_id)
        if participant is None:
            participant = Participant.objects.create(
                conversation=conversation, user_id=target.user_id, last_read_seq=last_seq
            )
            joined.append(target.user_id)
        elif not participant.active:
            participant.active = True
            participant.joined_at = timezone.now()
            participant.save(update_fields=["active", "joined_at"])
            joined.append(target.user_id)
        result.append(participant)
    if joined:
        append_event(conversation.pk, "member.joined", {"user_ids": joined, "by": actor.user_id})
        # Their open sockets start streaming it at once (conversation.added).
        publish_access_changed(joined, conversation.workspace_id, conversation.pk)
    return result


def check_leave_conversation(member: Member, conversation: Conversation) -> None:
    if conversation.kind == Conversation.Kind.DM:
        raise PermissionDenied("you cannot leave a direct message", code="is_dm")
    if not access.is_participant(member.user_id, conversation):
        raise HubError("not_a_participant", "you are not in this conversation", status=409)
    do_remove_participants(member, conversation, [member.user_id], removed=False)


def check_remove_member(actor: Member, conversation: Conversation, user_id: int) -> None:
    if user_id == actor.user_id:
        check_leave_conversation(actor, conversation)
        return
    access.check_can_change_members(actor, conversation)
    if not access.is_participant(user_id, conversation):
        raise NotFound("participant")
    do_remove_participants(actor, conversation, [user_id], removed=True)


@transaction.atomic
def do_remove_participants(actor: Member, conversation: Conversation, user_ids: list[int], *, removed: bool) -> None:
    count = Participant.objects.filter(conversation=conversation, user_id__in=user_ids, active=True).update(
        active=False
    )
    if not count:
        return
    append_event(conversation.pk, "member.left", {"user_ids": list(user_ids), "by": actor.user_id, "removed": removed})
    if conversation.kind != Conversation.Kind.PUBLIC:
        # They may no longer read it: open sockets must drop the subscription now.
        publish_access_changed(list(user_ids), conversation.workspace_id, conversation.pk)


# --- details -----------------------------------------------------------------------------------


def check_update_conversation(
    member: Member,
    conversation: Conversation,
    *,
    name: str | None = None,
    topic: str | None = None,
    purpose: str | None = None,
) -> Conversation:
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = validate_text(name, "name", 80)
        if conversation.is_channel and not changes["name"]:
            raise HubError("name_required", "a channel needs a name")
    if topic is not None:
        changes["topic"] = validate_text(topic, "topic", 250)
    if purpose is not None:
        changes["purpose"] = validate_text(purpose, "purpose", 250)
    if not changes:
        raise HubError("nothing_to_change", "send at least one of name, topic, purpose")
    access.check_can_edit_details(member, conversation, set(changes))
    return do_update_conversation(member, conversation, changes)


@transaction.atomic
def do_update_conversation(actor: Member, conversation: Conversation, changes: dict[str, object]) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    changed = [field for field, value in changes.items() if getattr(locked, field) != value]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, changes[field])
    locked.save(update_fields=changed)
    _log_update(actor, locked, changed)
    return locked


def _log_update(actor: Member, conversation: Conversation, changed: list[str]) -> None:
    # Claim the seq first so the payload's last_seq is the seq of this very event.
    seq = next_seq(conversation.pk)
    conversation.last_seq = seq
    append_event(
        conversation.pk,
        "conversation.updated",
        {"conversation": conversation_payload(conversation), "changed": changed, "by": actor.user_id},
        seq=seq,
    )


def check_set_archived(member: Member, conversation: Conversation, archived: bool) -> Conversation:
    access.check_can_archive(member, conversation)
    if (conversation.archived_at is not None) == archived:
        return conversation
    return do_set_archived(member, conversation, archived)


@transaction.atomic
def do_set_archived(actor: Member, conversation: Conversation, archived: bool) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    locked.archived_at = timezone.now() if archived else None
    locked.save(update_fields=["archived_at"])
    _log_update(actor, locked, ["archived"])
    return locked


def check_convert_to_private(member: Member, conversation: Conversation, name: str) -> Conversation:
    """A group that outgrew itself becomes a private channel (history, people and seq kept)."""
    if conversation.kind != Conversation.Kind.GROUP:
        raise HubError("not_a_group", "only ad-hoc groups can be converted into a private channel")
    access.check_can_manage(member, conversation)
    # Guests sit in channels only through a share with their organisation; converting would
    # silently cut them off, so the group must be guest-free first.
    if Participant.objects.filter(
        conversation=conversation,
        active=True,
        user__memberships__workspace_id=conversation.workspace_id,
        user__memberships__role=Member.Role.GUEST,
    ).exists():
        raise HubError("has_guests", "remove the external guests first: channels reach guests only by sharing")
    name = validate_text(name, "name", 80) or conversation.name
    if not name:
        raise HubError("name_required", "a channel needs a name")
    return do_convert_to_private(member, conversation, name)


@transaction.atomic
def do_convert_to_private(actor: Member, conversation: Conversation, name: str) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    locked.kind = Conversation.Kind.PRIVATE
    locked.name = name
    locked.save(update_fields=["kind", "name"])
    # Whoever converts it manages the new channel.
    Participant.objects.filter(conversation=locked, user_id=actor.user_id).update(role=Participant.Role.MANAGER)
    _log_update(actor, locked, ["kind", "name"])
    return locked


# --- per-person settings -------------------------------------------------------------------------


def check_set_notifications(
    member: Member, conversation: Conversation, *, muted: bool | None = None, level: str | None = None
) -> Participant:
    if level is not None and level not in Participant.Level.values:
        raise HubError("invalid_level", f"notification level must be one of {', '.join(Participant.Level.values)}")
    participant = ensure_reader_participant(member, conversation)
    if participant is None:
        raise PermissionDenied("join the conversation first", code="not_a_participant")
    return do_set_notifications(participant, muted=muted, level=level)


@transaction.atomic
def do_set_notifications(participant: Participant, *, muted: bool | None, level: str | None) -> Participant:
    fields = []
    if muted is not None:
        participant.muted = muted
        fields.append("muted")
    if level is not None:
        participant.notification_level = level
        fields.append("notification_level")
    if fields:
        participant.save(update_fields=fields)
    return participant


def ensure_reader_participant(member: Member, conversation: Conversation) -> Participant | None:
    """The caller's participant row; guests of a shared channel get one on first use (their
    access comes from the share, but read state and settings need a row)."""
    participant = Participant.objects.filter(conversation=conversation, user_id=member.user_id).first()
    if participant is not None and participant.active:
        return participant
    if member.is_guest and conversation.is_channel and access.can_read(member, conversation):
        return do_add_participants(member, conversation, [member])[0]
    return None


# --- sharing with partner organisations ------------------------------------------------------------


def check_share(member: Member, conversation: Conversation, partner: PartnerOrg) -> Conversation:
    access.check_can_share(member, conversation)
    if ConversationShare.objects.filter(conversation=conversation, partner=partner).exists():
        return conversation
    return do_share(member, conversation, partner)


def _partner_guests(conversation: Conversation, partner: PartnerOrg) -> list[Member]:
    return list(
        Member.objects.select_related("user").filter(
            workspace_id=conversation.workspace_id, partner=partner, role=Member.Role.GUEST, is_active=True
        )
    )


@transaction.atomic
def do_share(actor: Member, conversation: Conversation, partner: PartnerOrg) -> Conversation:
    ConversationShare.objects.create(conversation=conversation, partner=partner)
    append_event(
        conversation.pk,
        "conversation.shared",
        {"partner_id": partner.pk, "partner_name": partner.name, "by": actor.user_id},
    )
    guests = _partner_guests(conversation, partner)
    if guests:
        # Their guests appear in the member list (marked external) and get read state now.
        do_add_participants(actor, conversation, guests)
    # Open sockets of those guests may subscribe at once.
    publish_access_changed([g.user_id for g in guests], conversation.workspace_id, conversation.pk)
    conversation.refresh_from_db(fields=["last_seq"])
    return conversation


def check_unshare(member: Member, conversation: Conversation, partner: PartnerOrg) -> Conversation:
    access.check_can_share(member, conversation)
    if not ConversationShare.objects.filter(conversation=conversation, partner=partner).exists():
        raise NotFound("share")
    return do_unshare(member, conversation, partner)


@transaction.atomic
def do_unshare(actor: Member, conversation: Conversation, partner: PartnerOrg) -> Conversation:
    """Access ends in this transaction (reads check the share row); on commit every guest of
    the partner — also deactivated ones, whose socket may still be open — is told to re-check."""
    ConversationShare.objects.filter(conversation=conversation, partner=partner).delete()
    append_event(
        conversation.pk,
        "conversation.unshared",
        {"partner_id": partner.pk, "partner_name": partner.name, "by": actor.user_id},
    )
    guest_ids = list(
        Member.objects.filter(workspace_id=conversation.workspace_id, partner=partner).values_list("user_id", flat=True)
    )
    in_channel = list(
        Participant.objects.filter(conversation=conversation, user_id__in=guest_ids, active=True).values_list(
            "user_id", flat=True
        )
    )
    if in_channel:
        Participant.objects.filter(conversation=conversation, user_id__in=in_channel).update(active=False)
        append_event(conversation.pk, "member.left", {"user_ids": in_channel, "by": actor.user_id, "removed": True})
    publish_access_changed(guest_ids, conversation.workspace_id, conversation.pk)
    conversation.refresh_from_db(fields=["last_seq"])
    return conversation
