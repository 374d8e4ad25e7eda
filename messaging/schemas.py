"""Typed request and response bodies of the messaging API."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from messaging.blocks import Block

Level = Literal["all", "mentions", "nothing"]


class ConversationIn(Schema):
    workspace_id: int
    kind: Literal["public", "private", "dm", "group"]
    name: str = Field(default="", max_length=80)
    member_ids: list[int] = Field(default_factory=list, max_length=500)
    # Ad-hoc groups in one step: everyone of this conversation (e.g. a DM) joins too ...
    from_conversation_id: int | None = None
    # ... and/or the group opens by quoting this message.
    from_message_id: int | None = None


class PartnerRef(Schema):
    id: int
    name: str
    kind: str


class ConversationOut(Schema):
    id: int
    workspace_id: int
    kind: str
    name: str
    topic: str
    purpose: str
    last_seq: int
    archived: bool
    unread_count: int = 0
    mention_count: int = 0
    last_read_seq: int = 0
    joined: bool = False
    muted: bool = False
    notification_level: str = "all"
    shared_with: list[int] = Field(default_factory=list)


class ConversationDetailOut(ConversationOut):
    partners: list[PartnerRef] = Field(default_factory=list)
    member_count: int = 0
    external_member_count: int = 0


class ConversationPatchIn(Schema):
    name: str | None = Field(default=None, max_length=80)
    topic: str | None = Field(default=None, max_length=250)
    purpose: str | None = Field(default=None, max_length=250)


class NotificationSettingsIn(Schema):
    muted: bool | None = None
    notification_level: Level | None = None


class NotificationSettingsOut(Schema):
    muted: bool
    notification_level: str


class ConvertIn(Schema):
    kind: Literal["private"] = "private"
    name: str = Field(default="", max_length=80)


class MembersIn(Schema):
    user_ids: list[int] = Field(min_length=1, max_length=500)


class PersonOut(Schema):
    user_id: int
    name: str
    role: str  # in the conversation: manager / member
    workspace_role: str
    is_external: bool  # a partner organisation's guest
    partner_id: int | None = None
    partner_name: str | None = None


class MembersOut(Schema):
    members: list[PersonOut]


class ShareIn(Schema):
    partner_id: int


class MessageIn(Schema):
    body: str = ""
    client_id: uuid.UUID
    thread_root_id: int | None = None
    attachment_ids: list[int] = Field(default_factory=list, max_length=10)


class MessageEditIn(Schema):
    body: str


class ReactionOut(Schema):
    emoji: str
    count: int
    user_ids: list[int]


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    url: str
    thumbnail_url: str | None = None


class MessageOut(Schema):
    id: int
    conversation_id: int
    seq: int
    sender_id: int
    sender_name: str
    client_id: str
    body: str
    html: str
    thread_root_id: int | None
    reply_count: int
    last_reply_at: str | None
    mentions: list[int]
    created_at: str
    edited_at: str | None
    deleted: bool
    forwarded_from_id: int | None = None
    reactions: list[ReactionOut] = Field(default_factory=list)
    attachments: list[AttachmentOut] = Field(default_factory=list)
    pinned: bool = False
    blocks: list[Block] = Field(default_factory=list)
    sender_is_bot: bool = False


class MessagesOut(Schema):
    messages: list[MessageOut]
    has_more: bool


class EditOut(Schema):
    previous_body: str
    edited_by: int
    edited_at: str


class EditsOut(Schema):
    edits: list[EditOut]


class ReactionIn(Schema):
    emoji: str = Field(min_length=1, max_length=64)


class ReactionToggleOut(Schema):
    added: bool
    reactions: list[ReactionOut]


class ForwardIn(Schema):
    conversation_id: int
    client_id: uuid.UUID
    comment: str = ""


class PinOut(Schema):
    message: MessageOut
    pinned_by: int
    pinned_at: str


class PinsOut(Schema):
    pins: list[PinOut]


class SavedOut(Schema):
    message: MessageOut
    saved_at: str


class SavedListOut(Schema):
    saved: list[SavedOut]


class ThreadOut(Schema):
    root: MessageOut
    replies: list[MessageOut]
    has_more: bool
    following: bool


class FollowOut(Schema):
    following: bool


class EventsOut(Schema):
    events: list[dict[str, Any]]
    last_seq: int
    has_more: bool


class BulkEventsOut(Schema):
    # conversation id (as a string: JSON object keys) → its events after the cursor
    conversations: dict[str, EventsOut]
    # ids that are unknown or not readable by the caller (indistinguishable, like a 404)
    omitted: list[int]


class ReadIn(Schema):
    seq: int = Field(ge=0)


class ReadOut(Schema):
    last_read_seq: int


class ReceiptsOut(Schema):
    read: list[int]
    unread: list[int]
    read_count: int
    total: int


class ReceiptsSummaryOut(Schema):
    seq: int
    read: list[int]
    unread: list[int]
    read_count: int
    total: int


class NotificationPrefsIn(Schema):
    email_enabled: bool | None = None
    email_delay_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    dnd_start: time | None = None
    dnd_end: time | None = None
    push_preview: Literal["none", "sender", "first_line"] | None = None


class NotificationPrefsOut(Schema):
    email_enabled: bool
    email_delay_minutes: int
    dnd_start: time | None
    dnd_end: time | None
    push_preview: str = Field(..., description="what Web Push / forwarded notifications show: none, sender, first_line")


class OkOut(Schema):
    ok: bool = True
