"""HTTP API of ``messaging``. Views authenticate (ninja), check access, call one action,
serialise."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status

from hub.access import access_member, access_partner
from hub.apicore import authed_user, multipart_upload_body
from hub.errors import HubError, NotFound
from messaging import access, actions, queries
from messaging import attachments as files
from messaging.models import NotificationPrefs
from messaging.schemas import (
    AttachmentOut,
    BulkEventsOut,
    ConversationDetailOut,
    ConversationIn,
    ConversationOut,
    ConversationPatchIn,
    ConvertIn,
    EditsOut,
    EventsOut,
    FollowOut,
    ForwardIn,
    MembersIn,
    MembersOut,
    MessageEditIn,
    MessageIn,
    MessageOut,
    MessagesOut,
    NotificationPrefsIn,
    NotificationPrefsOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
    OkOut,
    PinsOut,
    ReactionIn,
    ReactionToggleOut,
    ReadIn,
    ReadOut,
    ReceiptsOut,
    ReceiptsSummaryOut,
    SavedListOut,
    ShareIn,
    ThreadOut,
)
from messaging.serializers import attachment_payload, conversation_payload, message_payload

router = Router(tags=["messaging"])


# --- conversations ---------------------------------------------------------------------------------


@router.get("/conversations", response=list[ConversationOut])
def list_conversations(request: HttpRequest, workspace: int) -> object:
    """Every conversation the caller may read, public channels not joined included
    (``joined: false``): that is also the channel browser."""
    return queries.conversation_list(access_member(authed_user(request), workspace))


@router.post("/conversations", response={201: ConversationOut})
def create_conversation(request: HttpRequest, payload: ConversationIn) -> Status[object]:
    user = authed_user(request)
    member = access_member(user, payload.workspace_id)
    if payload.from_conversation_id is None and payload.from_message_id is None:
        conversation = actions.check_create_conversation(member, payload.kind, payload.name, payload.member_ids)
        return Status(201, conversation_payload(conversation))
    if payload.kind != "group":
        raise HubError("invalid_kind", "from_conversation_id / from_message_id create a group (kind: group)")
    source = quote = None
    if payload.from_conversation_id is not None:
        _, source = access.access_conversation(user, payload.from_conversation_id)
    if payload.from_message_id is not None:
        _, quote = access.access_message(user, payload.from_message_id)
    conversation = actions.check_create_group(member, payload.member_ids, payload.name, source=source, quote=quote)
    return Status(201, conversation_payload(conversation))


@router.get("/conversations/{conversation_id}", response=ConversationDetailOut)
def get_conversation(request: HttpRequest, conversation_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return queries.conversation_detail(member, conversation)


@router.patch("/conversations/{conversation_id}", response=ConversationDetailOut)
def update_conversation(request: HttpRequest, conversation_id: int, payload: ConversationPatchIn) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    conversation = actions.check_update_conversation(member, conversation, **payload.dict(exclude_none=True))
    return queries.conversation_detail(member, conversation)


@router.post("/conversations/{conversation_id}/archive", response=ConversationDetailOut)
def archive_conversation(request: HttpRequest, conversation_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return queries.conversation_detail(member, actions.check_set_archived(member, conversation, True))


@router.post("/conversations/{conversation_id}/unarchive", response=ConversationDetailOut)
def unarchive_conversation(request: HttpRequest, conversation_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return queries.conversation_detail(member, actions.check_set_archived(member, conversation, False))


@router.post("/conversations/{conversation_id}/convert", response=ConversationDetailOut)
def convert_conversation(request: HttpRequest, conversation_id: int, payload: ConvertIn) -> object:
    """An ad-hoc group becomes a private channel (same id, history and seq)."""
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return queries.conversation_detail(member, actions.check_convert_to_private(member, conversation, payload.name))


@router.post("/conversations/{conversation_id}/join", response=ConversationDetailOut)
def join_conversation(request: HttpRequest, conversation_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    actions.check_join_conversation(member, conversation)
    conversation.refresh_from_db()
    return queries.conversation_detail(member, conversation)


@router.post("/conversations/{conversation_id}/leave", response=OkOut)
def leave_conversation(request: HttpRequest, conversation_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    actions.check_leave_conversation(member, conversation)
    return {"ok": True}


@router.get("/conversations/{conversation_id}/members", response=MembersOut)
def list_members(request: HttpRequest, conversation_id: int) -> object:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    return {"members": queries.members_of(conversation)}


@router.post("/conversations/{conversation_id}/members", response=MembersOut)
def add_members(request: HttpRequest, conversation_id: int, payload: MembersIn) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    actions.check_add_members(member, conversation, payload.user_ids)
    return {"members": queries.members_of(conversation)}


@router.delete("/conversations/{conversation_id}/members/{user_id}", response=OkOut)
def remove_member(request: HttpRequest, conversation_id: int, user_id: int) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    actions.check_remove_member(member, conversation, user_id)
    return {"ok": True}


@router.patch("/conversations/{conversation_id}/notifications", response=NotificationSettingsOut)
def set_notifications(request: HttpRequest, conversation_id: int, payload: NotificationSettingsIn) -> object:
    """Per person: mute, and the notification level (all / mentions / nothing)."""
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return actions.check_set_notifications(member, conversation, muted=payload.muted, level=payload.notification_level)


@router.post("/conversations/{conversation_id}/share", response=ConversationDetailOut)
def share_conversation(request: HttpRequest, conversation_id: int, payload: ShareIn) -> object:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    partner = access_partner(member, payload.partner_id)
    return queries.conversation_detail(member, actions.check_share(member, conversation, partner))


@router.delete("/conversations/{conversation_id}/share/{partner_id}", response=ConversationDetailOut)
def unshare_conversation(request: HttpRequest, conversation_id: int, partner_id: int) -> object:
    """The partner's guests lose access at once; their open sockets are told on commit."""
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    partner = access_partner(member, partner_id)
    return queries.conversation_detail(member, actions.check_unshare(member, conversation, partner))


@router.get("/conversations/{conversation_id}/pins", response=PinsOut)
def list_pins(request: HttpRequest, conversation_id: int) -> object:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    return {"pins": queries.pins_of(conversation)}


@router.get("/conversations/{conversation_id}/receipts", response=ReceiptsSummaryOut)
def conversation_receipts(request: HttpRequest, conversation_id: int, seq: int) -> object:
    """Who has read up to ``seq`` ("read by N of M" for any point of the conversation)."""
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    _check_receipts_enabled(member.workspace.read_receipts_enabled)
    if seq < 0:
        raise HubError("invalid_seq", "seq must not be negative")
    read, unread = queries.receipts_at(conversation.pk, seq)
    return {"seq": seq, "read": read, "unread": unread, "read_count": len(read), "total": len(read) + len(unread)}


# --- messages ----------------------------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/messages", response={200: MessageOut, 201: MessageOut})
def send_message(request: HttpRequest, conversation_id: int, payload: MessageIn) -> Status[object]:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    message, created = actions.check_send_message(
        member, conversation, payload.body, payload.client_id, payload.thread_root_id, payload.attachment_ids
    )
    return Status(201 if created else 200, message_payload(message))


def _check_page_limit(limit: int) -> None:
    if not 1 <= limit <= queries.MESSAGES_MAX:
        raise HubError("invalid_limit", f"limit must be between 1 and {queries.MESSAGES_MAX}")


class PageParams(Schema):
    before: int | None = None
    after: int | None = None
    limit: int = 50
    thread: int | None = None


@router.get("/conversations/{conversation_id}/messages", response=MessagesOut)
def list_messages(request: HttpRequest, conversation_id: int, params: Query[PageParams]) -> dict[str, object]:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    _check_page_limit(params.limit)
    messages, has_more = queries.message_page(
        conversation, before=params.before, after=params.after, limit=params.limit, thread_root_id=params.thread
    )
    return {"messages": messages, "has_more": has_more}


@router.get("/messages/{message_id}", response=MessageOut)
def get_message(request: HttpRequest, message_id: int) -> object:
    _, message = access.access_message(authed_user(request), message_id)
    return message_payload(message)


@router.patch("/messages/{message_id}", response=MessageOut)
def edit_message(request: HttpRequest, message_id: int, payload: MessageEditIn) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    return message_payload(actions.check_edit_message(member, message, payload.body))


@router.delete("/messages/{message_id}", response=MessageOut)
def delete_message(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    return message_payload(actions.check_delete_message(member, message))


@router.get("/messages/{message_id}/edits", response=EditsOut)
def message_edits(request: HttpRequest, message_id: int) -> object:
    """Earlier versions, oldest first (only while the message is not deleted)."""
    _, message = access.access_message(authed_user(request), message_id)
    if message.deleted_at is not None:
        raise NotFound("message")
    return {"edits": queries.edits_of(message)}


@router.post("/messages/{message_id}/reactions", response=ReactionToggleOut)
def toggle_reaction(request: HttpRequest, message_id: int, payload: ReactionIn) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    added = actions.check_toggle_reaction(member, message, payload.emoji)
    return {"added": added, "reactions": message_payload(message).get("reactions", [])}


@router.post("/messages/{message_id}/pin", response=MessageOut)
def pin_message(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_pin(member, message, True)
    return message_payload(message)


@router.delete("/messages/{message_id}/pin", response=MessageOut)
def unpin_message(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_pin(member, message, False)
    return message_payload(message)


@router.post("/messages/{message_id}/save", response=OkOut)
def save_message(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_saved(member, message, True)
    return {"ok": True}


@router.delete("/messages/{message_id}/save", response=OkOut)
def unsave_message(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_saved(member, message, False)
    return {"ok": True}


@router.get("/saved", response=SavedListOut)
def list_saved(request: HttpRequest, workspace: int) -> object:
    return {"saved": queries.saved_of(access_member(authed_user(request), workspace))}


class ThreadParams(Schema):
    after: int | None = None
    limit: int = 100


@router.get("/messages/{message_id}/thread", response=ThreadOut)
def get_thread(request: HttpRequest, message_id: int, params: Query[ThreadParams]) -> object:
    """The root and its replies in seq order (``after`` pages forward)."""
    member, message = access.access_message(authed_user(request), message_id)
    _check_page_limit(params.limit)
    root = message.thread_root or message
    return queries.thread(root, member.user, after=params.after, limit=params.limit)


@router.post("/messages/{message_id}/follow", response=FollowOut)
def follow_thread(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_thread_follow(member, message, True)
    return {"following": True}


@router.delete("/messages/{message_id}/follow", response=FollowOut)
def unfollow_thread(request: HttpRequest, message_id: int) -> object:
    member, message = access.access_message(authed_user(request), message_id)
    actions.check_set_thread_follow(member, message, False)
    return {"following": False}


@router.post("/messages/{message_id}/forward", response={200: MessageOut, 201: MessageOut})
def forward_message(request: HttpRequest, message_id: int, payload: ForwardIn) -> Status[object]:
    """Quote the message into another conversation the caller can post in."""
    user = authed_user(request)
    member, message = access.access_message(user, message_id)
    target_member, target = access.access_conversation(user, payload.conversation_id)
    forwarded, created = actions.check_forward_message(
        member, message, target_member, target, payload.client_id, payload.comment
    )
    return Status(201 if created else 200, message_payload(forwarded))


# --- attachments ---------------------------------------------------------------------------------------


_UPLOAD_BODY = multipart_upload_body()


@router.post("/conversations/{conversation_id}/attachments", response={201: AttachmentOut}, openapi_extra=_UPLOAD_BODY)
def upload_attachment(request: HttpRequest, conversation_id: int) -> Status[object]:
    """Multipart upload (field ``file``). Send the returned id in ``attachment_ids`` of a message.

    The file is read here rather than as a ninja ``File`` parameter so that the size limit
    is enforced while streaming (``SizeLimitHandler``), and only after access was checked."""
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    request.upload_handlers = [files.SizeLimitHandler(settings.HUB_UPLOAD_MAX_BYTES), *request.upload_handlers]
    upload = request.FILES.get("file")
    if upload is None:
        raise HubError("invalid_request", "send the file as multipart/form-data in the field 'file'", status=422)
    attachment = actions.check_upload_attachment(member, conversation, upload)
    return Status(201, attachment_payload(attachment))


@router.get("/attachments/{attachment_id}", response={200: None})
def download_attachment(request: HttpRequest, attachment_id: int) -> StreamingHttpResponse:
    _, attachment = access.access_attachment(authed_user(request), attachment_id)
    return files.file_response(attachment.file.name, attachment.content_type, attachment.original_name)


@router.get("/attachments/{attachment_id}/thumbnail", response={200: None})
def download_thumbnail(request: HttpRequest, attachment_id: int) -> StreamingHttpResponse:
    _, attachment = access.access_attachment(authed_user(request), attachment_id)
    if not attachment.thumbnail:
        raise NotFound("thumbnail")
    name = attachment.thumbnail.name
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    stem = attachment.original_name.rsplit(".", 1)[0]
    return files.file_response(name, content_type, f"{stem}-thumbnail{name[name.rfind('.') :]}")


# --- event log and read state -----------------------------------------------------------------------------


@router.get("/conversations/{conversation_id}/events", response=EventsOut)
def list_events(request: HttpRequest, conversation_id: int, after_seq: int = 0) -> dict[str, object]:
    _, conversation = access.access_conversation(authed_user(request), conversation_id)
    if after_seq < 0:
        raise HubError("invalid_seq", "after_seq must not be negative")
    events, has_more = queries.events_after(conversation.pk, after_seq)
    return {"events": events, "last_seq": conversation.last_seq, "has_more": has_more}


@router.get("/events", response=BulkEventsOut)
def bulk_events(request: HttpRequest, cursors: str) -> object:
    """Replay for many conversations at once: ``?cursors=<conversation_id>:<seq>,...``
    (at most 100). Each readable conversation answers like ``/conversations/{id}/events``
    (at most 100 events each; ``has_more`` means ask again from the last seq received);
    unknown or unreadable ids are listed in ``omitted`` — the bulk form of a 404."""
    try:
        parsed = queries.parse_cursors(cursors)
    except ValueError:
        raise HubError("invalid_cursors", "cursors must look like 12:40,13:0") from None
    if not parsed:
        raise HubError("invalid_cursors", "send at least one cursor")
    if len(parsed) > queries.BULK_CURSORS_MAX:
        raise HubError("too_many_cursors", f"at most {queries.BULK_CURSORS_MAX} conversations per request")
    return queries.bulk_events(authed_user(request), parsed)


@router.post("/conversations/{conversation_id}/read", response=ReadOut)
def mark_read(request: HttpRequest, conversation_id: int, payload: ReadIn) -> dict[str, int]:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return {"last_read_seq": actions.check_mark_read(member, conversation, payload.seq)}


def _check_receipts_enabled(enabled: bool) -> None:
    if not enabled:
        raise HubError("receipts_disabled", "read receipts are turned off in this workspace", status=403)


@router.get("/messages/{message_id}/receipts", response=ReceiptsOut)
def message_receipts(request: HttpRequest, message_id: int) -> dict[str, object]:
    member, message = access.access_message(authed_user(request), message_id)
    _check_receipts_enabled(member.workspace.read_receipts_enabled)
    read, unread = queries.receipts(message)
    return {"read": read, "unread": unread, "read_count": len(read), "total": len(read) + len(unread)}


# --- personal notification preferences ---------------------------------------------------------------------


@router.get("/me/notifications", response=NotificationPrefsOut)
def get_notification_prefs(request: HttpRequest) -> object:
    user = authed_user(request)
    return NotificationPrefs.objects.filter(user=user).first() or NotificationPrefs(user=user)


@router.patch("/me/notifications", response=NotificationPrefsOut)
def update_notification_prefs(request: HttpRequest, payload: NotificationPrefsIn) -> object:
    """Email digests and do-not-disturb hours (in the time zone of ``/me``)."""
    return actions.check_update_notification_prefs(authed_user(request), payload.dict(exclude_unset=True))
