"""Typed request and response bodies of the messaging API."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class ConversationIn(Schema):
    workspace_id: int
    kind: Literal["public", "private", "dm", "group"]
    name: str = Field(default="", max_length=80)
    member_ids: list[int] = Field(default_factory=list, max_length=500)


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


class MembersIn(Schema):
    user_ids: list[int] = Field(min_length=1, max_length=500)


class ShareIn(Schema):
    partner_id: int


class MessageIn(Schema):
    body: str
    client_id: uuid.UUID
    thread_root_id: int | None = None


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
    reactions: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)


class MessagesOut(Schema):
    messages: list[MessageOut]
    has_more: bool


class EventsOut(Schema):
    events: list[dict[str, Any]]
    last_seq: int
    has_more: bool


class ReadIn(Schema):
    seq: int = Field(ge=0)


class ReadOut(Schema):
    last_read_seq: int


class ReceiptsOut(Schema):
    read: list[int]
    unread: list[int]
    read_count: int
    total: int


class OkOut(Schema):
    ok: bool = True
