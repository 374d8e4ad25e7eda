"""Who may read and write which conversation. Every messaging permission rule lives here,
one condition per line, so coverage shows each case."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hub.access import access_member, mfa_missing
from hub.errors import NotFound, PermissionDenied
from hub.models import Member, User
from messaging.models import Attachment, Conversation, Message, Participant


def readable_conversations(member: Member) -> QuerySet[Conversation]:
    """Conversations of the member's workspace the member may read *now*."""
    base = Conversation.objects.filter(workspace_id=member.workspace_id)
    if is_bot(member):
        return base.filter(participants__user_id=member.user_id, participants__active=True).distinct()
    if member.is_guest:
        # Guests: only channels shared with their organisation, plus DMs/groups they are in
        # (which can only have been created inside those shared spaces).
        return base.filter(
            Q(kind__in=[Conversation.Kind.PUBLIC, Conversation.Kind.PRIVATE], shares__partner_id=member.partner_id)
            | Q(
                kind__in=[Conversation.Kind.DM, Conversation.Kind.GROUP],
                participants__user_id=member.user_id,
                participants__active=True,
            )
        ).distinct()
    return base.filter(
        Q(kind=Conversation.Kind.PUBLIC) | Q(participants__user_id=member.user_id, participants__active=True)
    ).distinct()


def reading_memberships(user_id: int) -> list[Member]:
    """The memberships a person reads through now, for the paths that span workspaces (the
    ``/ws/`` socket, bulk replay): active ones, minus those a workspace's 2FA requirement holds
    back — requests about one workspace get 403 ``mfa_required`` from ``access_member``, and
    these paths must not be a way around it."""
    members = Member.objects.select_related("workspace", "user").filter(
        user_id=user_id, is_active=True, user__is_active=True
    )
    return [member for member in members if not mfa_missing(member)]


def is_bot(member: Member) -> bool:
    """Bots (apps holding a bot token, webhooks' identities) are scoped to the conversations
    they were added to: not the public channels staff may browse, not the directory's DMs.
    This one rule, asked by ``readable_conversations`` and ``can_read``, is the scope of a bot
    token for the HTTP API and the ``/ws/`` socket alike."""
    return member.user.is_bot


def can_read(member: Member, conversation: Conversation) -> bool:
    if conversation.workspace_id != member.workspace_id:
        return False
    if is_bot(member):
        return is_participant(member.user_id, conversation)
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


def access_message_for_post(user: User, message_id: int) -> tuple[Member, Message]:
    """A message in a conversation the caller may post in (react, pin, reply)."""
    member, message = access_message(user, message_id)
    check_can_post(member, message.conversation)
    return member, message


def check_not_archived(conversation: Conversation) -> None:
    if conversation.archived_at is not None:
        raise PermissionDenied("this conversation is archived", code="archived")


def check_can_join(member: Member, conversation: Conversation) -> None:
    """Anyone on the staff may join a public channel; guests reach channels only by a share."""
    if member.is_guest:
        raise PermissionDenied("guests cannot join channels", code="guest")
    if conversation.kind != Conversation.Kind.PUBLIC:
        raise PermissionDenied("only public channels can be joined; ask to be invited", code="invite_only")
    check_not_archived(conversation)


def check_can_manage(member: Member, conversation: Conversation) -> None:
    """Admins and channel managers (and, in ad-hoc groups, every staff participant)."""
    check_not_archived(conversation)
    if member.is_guest:
        raise PermissionDenied("guests cannot manage conversations", code="guest")
    if conversation.kind == Conversation.Kind.GROUP and is_participant(member.user_id, conversation):
        return
    if not is_conversation_manager(member, conversation):
        raise PermissionDenied("only admins and channel managers can do this", code="not_a_manager")


def check_can_change_members(member: Member, conversation: Conversation) -> None:
    if conversation.kind == Conversation.Kind.DM:
        raise PermissionDenied("a direct message has exactly two people; start a group instead", code="is_dm")
    check_can_manage(member, conversation)


def check_can_add_person(conversation: Conversation, target: Member) -> None:
    """Guests only sit in channels shared with their organisation (or in groups)."""
    if not target.is_guest:
        return
    if not conversation.is_channel:
        return
    if not conversation.shares.filter(partner_id=target.partner_id).exists():
        raise PermissionDenied("this channel is not shared with that guest's organisation", code="not_shared")


def check_can_edit_details(member: Member, conversation: Conversation, fields: set[str]) -> None:
    """Topic and purpose: any participant who may post. Name: managers (groups: participants)."""
    check_can_post(member, conversation)
    if member.is_guest and conversation.is_channel:
        raise PermissionDenied("guests cannot change a shared channel", code="guest")
    if conversation.kind == Conversation.Kind.DM and "name" in fields:
        raise PermissionDenied("direct messages have no name", code="is_dm")
    if "name" in fields and conversation.is_channel:
        check_can_manage(member, conversation)


def check_can_archive(member: Member, conversation: Conversation) -> None:
    if conversation.kind == Conversation.Kind.DM:
        raise PermissionDenied("direct messages cannot be archived", code="is_dm")
    if member.is_guest:
        raise PermissionDenied("guests cannot archive conversations", code="guest")
    if conversation.kind == Conversation.Kind.GROUP and is_participant(member.user_id, conversation):
        return
    if not is_conversation_manager(member, conversation):
        raise PermissionDenied("only admins and channel managers can do this", code="not_a_manager")


def check_can_share(member: Member, conversation: Conversation) -> None:
    if not conversation.is_channel:
        raise PermissionDenied("only channels can be shared with partners", code="not_a_channel")
    check_can_manage(member, conversation)


def check_can_edit_message(member: Member, message: Message) -> None:
    """Only the author edits (an admin rewriting someone's words would be forgery)."""
    if message.deleted_at is not None:
        raise NotFound("message")
    if message.sender_id != member.user_id:
        raise PermissionDenied("only the author can edit a message", code="not_author")
    check_not_archived(message.conversation)


def check_can_delete_message(member: Member, message: Message) -> None:
    """The author, or an admin / channel manager moderating."""
    if message.deleted_at is not None:
        raise NotFound("message")
    check_not_archived(message.conversation)
    if message.sender_id == member.user_id:
        return
    if member.is_guest:
        raise PermissionDenied("only the author can delete this message", code="not_author")
    if not is_conversation_manager(member, message.conversation):
        raise PermissionDenied("only the author, admins and channel managers can delete this", code="not_author")


def check_can_broadcast(member: Member, conversation: Conversation) -> None:
    """@channel/@all wake everyone: in big channels only admins and managers may use them."""
    threshold = member.workspace.broadcast_mention_threshold
    count = Participant.objects.filter(conversation=conversation, active=True).count()
    if count <= threshold:
        return
    if is_conversation_manager(member, conversation):
        return
    raise PermissionDenied(
        f"@all/@channel in a conversation of more than {threshold} people is for admins and channel managers",
        code="broadcast_not_allowed",
    )


def access_attachment(user: User, attachment_id: int) -> tuple[Member, Attachment]:
    """Readable by whoever can read the conversation, once attached to a live message;
    before it is sent, only by its uploader."""
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("attachment")
    try:
        member, _ = access_conversation(user, attachment.conversation_id)
    except NotFound:
        raise NotFound("attachment") from None
    if attachment.message is None and attachment.uploader_id != member.user_id:
        raise NotFound("attachment")
    if attachment.message is not None and attachment.message.deleted_at is not None:
        raise NotFound("attachment")
    return member, attachment
