"""Read state: moving a person's read cursor, and telling open clients about it."""

from __future__ import annotations

from django.db import transaction

from hub.errors import HubError, PermissionDenied
from hub.models import Member, User
from messaging.actions.conversations import ensure_reader_participant
from messaging.events import LAYER_EPHEMERAL, ReadUpdatedFrame, conversation_group
from messaging.models import Conversation, Participant
from messaging.publish import group_send_on_commit


def check_mark_read(member: Member, conversation: Conversation, seq: int) -> int:
    # Guests of a shared channel get their participant row on first read.
    ensure_reader_participant(member, conversation)
    return do_mark_read(member.user, conversation, seq)


@transaction.atomic
def do_mark_read(user: User, conversation: Conversation, seq: int) -> int:
    """Move the read cursor forward (never back) up to ``seq``, capped at the last event."""
    if seq < 0:
        raise HubError("invalid_seq", "seq must not be negative")
    last_seq = Conversation.objects.filter(pk=conversation.pk).values_list("last_seq", flat=True).get()
    seq = min(seq, last_seq)
    participant = (
        Participant.objects.select_for_update().filter(conversation=conversation, user=user, active=True).first()
    )
    if participant is None:
        raise PermissionDenied("join the conversation first", code="not_a_participant")
    if seq > participant.last_read_seq:
        participant.last_read_seq = seq
        participant.save(update_fields=["last_read_seq"])
        # Ephemeral, not logged: receipts are derived from Participant rows, so a lost
        # frame only delays a "read by N" refresh until the next fetch.
        frame: ReadUpdatedFrame = {
            "type": "read.updated",
            "conversation_id": conversation.pk,
            "user_id": user.pk,
            "last_read_seq": seq,
        }
        group_send_on_commit(conversation_group(conversation.pk), {"type": LAYER_EPHEMERAL, "frame": dict(frame)})
    return participant.last_read_seq
