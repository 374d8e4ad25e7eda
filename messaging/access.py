"""Who may read and write which conversation. Every messaging permission rule lives here,
one condition per line, so coverage shows each case."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hub.access import access_member
from hub.errors import NotFound, PermissionDenied
from hub.models import Member, User
from messaging.models import Conversation, Message, Participant


def readable_conversations(member: Member) -> QuerySet[Conversation]:
    """Conversations of the member's workspace the member may read *now*."""
    base = Conversation.objects.filter(workspace_id=member.workspace_id)
    if member.is_guest:
        # Guests: only channels shared with their organisation, plus DMs/groups they are in
        # (which can only have been created inside those shared spaces).
        return base.filter(
            Q(kind__in=[Conversation.Kind.PUBLIC, Conversation.Kind.PRIVATE], shares__partner_id=member.partner_id)
            | Q(kind__in=[Conversation.Kind.DM, Conversation.Kind.GROUP], participants__user_id=member.user_id, participants__active=True)
        ).distinct()
    return base.filter(
        Q(kind=Conversation.Kind.PUBLIC) | Q(participants__user_id=member.user_id, participants__active=True)
    ).distinct()


def can_read(member: Member, conversation: Conversation) -> bool:
    if conversation.workspace_id != member.workspace_id:
        return False
    if member.is_guest:
        if conversation.is_channel:
            return conversation.shares.filter(partner_id=member.partner_id).exists()
        return is_participant(member.user_id, conversation)
    if conversation.kind == Conversation.Kind.PUBLIC:
        return True
    return is_participant(member.user_id, conversation)


def is_participant(user_id: int, conversation: Conversation) -> bool:
    return Participant.objects.filter(conversation=conversation, user_id=user_id, active=True).exists()


def access_conversation(user: User, conversation_id: int) -> tuple[Member, Conversation]:
    """The conversation and the caller's membership, or 404 if it is not readable by them."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound("conversation")
    try:
        member = access_member(user, conversation.workspace_id)
    except NotFound:
        raise NotFound("conversation") from None
    if not can_read(member, conversation):
        raise NotFound("conversation")
    return member, conversation


def access_conversation_for_post(user: User, conversation_id: int) -> tuple[Member, Conversation]:
    member, conversation = access_conversation(user, conversation_id)
    check_can_post(member, conversation)
    return member, conversation


def check_can_post(member: Member, conversation: Conversation) -> None:
    if conversation.archived_at is not None:
        raise PermissionDenied("this conversation is archived", code="archived")
    # Reading a public channel does not need joining; posting does (Slack's rule), except for
    # guests in a shared channel, whose access comes from the share itself.
    if member.is_guest and conversation.is_channel:
        return
    if not is_participant(member.user_id, conversation):
        raise PermissionDenied("join the conversation to post in it", code="not_a_participant")


def access_message(user: User, message_id: int) -> tuple[Member, Message]:
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        raise NotFound("message")
    try:
        member, _ = access_conversation(user, message.conversation_id)
    except NotFound:
        raise NotFound("message") from None
    return member, message


def is_conversation_manager(member: Member, conversation: Conversation) -> bool:
    if member.is_admin:
        return True
    return Participant.objects.filter(
        conversation=conversation, user_id=member.user_id, active=True, role=Participant.Role.MANAGER
    ).exists()
