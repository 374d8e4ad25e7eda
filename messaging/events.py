"""Event payload types and channel-layer group names.

Every change to a conversation is an ``Event`` row with a gap-free ``seq``; its payload is
what clients receive (over the socket or ``/events``). The layer carries the same payload as
a fast path; a consumer that sees a gap replays from the database. See docs/events.md.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class ReactionSummary(TypedDict):
    emoji: str
    count: int
    user_ids: list[int]


class AttachmentPayload(TypedDict):
    id: int
    name: str  # the original file name, for display (Chinese names kept)
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None


class MessagePayload(TypedDict):
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
    reactions: NotRequired[list[ReactionSummary]]
    attachments: NotRequired[list[AttachmentPayload]]
    forwarded_from_id: NotRequired[int | None]
    pinned: NotRequired[bool]
    blocks: NotRequired[list[dict[str, Any]]]  # messaging.blocks
    sender_is_bot: NotRequired[bool]


EventType = Literal[
    "conversation.created",
    "message.new",
    "message.edited",
    "message.updated",
    "message.deleted",
    "reaction.changed",
    "pin.changed",
    "thread.updated",
    "member.joined",
    "member.left",
    "conversation.updated",
    "conversation.shared",
    "conversation.unshared",
]


class EventFrame(TypedDict):
    """What a client receives for one logged event (the stored payload plus the envelope)."""

    type: str
    conversation_id: int
    seq: int
    # ... plus the event-specific keys of the payload (e.g. "message" for message.*)


# Channel-layer message types (the "type" key routes to a consumer method).
LAYER_EVENT = "conv.event"  # {"type", "event": EventFrame}
LAYER_ACCESS = "access.changed"  # {"type", "workspace_id": int | None, "conversation_id"?: int}
LAYER_EPHEMERAL = "ephemeral"  # typing/presence: {"type", "frame": {...}}


# --- payloads of logged events (keys after the envelope type/conversation_id/seq) ----------


class ConversationCreatedPayload(TypedDict):  # conversation.created
    conversation: dict[str, Any]
    member_ids: list[int]


class MessageEventPayload(TypedDict):  # message.new, message.edited, message.updated, message.deleted
    """The message as it is *after* the change, so a client replaces its copy wholesale."""

    message: MessagePayload


class ReactionChangedPayload(TypedDict):  # reaction.changed
    message_id: int
    emoji: str
    user_id: int
    added: bool
    reactions: list[ReactionSummary]  # the full summary after the toggle


class PinChangedPayload(TypedDict):  # pin.changed
    message_id: int
    pinned: bool
    by: int


class ThreadUpdatedPayload(TypedDict):  # thread.updated
    root_id: int
    reply_count: int
    last_reply_at: str | None


class MembersChangedPayload(TypedDict):  # member.joined, member.left
    user_ids: list[int]
    by: int
    # member.left: True when someone else removed them (or access ended with an unshare).
    removed: NotRequired[bool]


class ConversationUpdatedPayload(TypedDict):  # conversation.updated
    conversation: dict[str, Any]
    changed: list[str]  # e.g. ["topic"], ["archived"], ["kind", "name"]
    by: int


class ConversationSharedPayload(TypedDict):  # conversation.shared, conversation.unshared
    partner_id: int
    partner_name: str
    by: int


EVENT_PAYLOADS: dict[str, type] = {
    "conversation.created": ConversationCreatedPayload,
    "message.new": MessageEventPayload,
    "message.edited": MessageEventPayload,
    "message.updated": MessageEventPayload,
    "message.deleted": MessageEventPayload,
    "reaction.changed": ReactionChangedPayload,
    "pin.changed": PinChangedPayload,
    "thread.updated": ThreadUpdatedPayload,
    "member.joined": MembersChangedPayload,
    "member.left": MembersChangedPayload,
    "conversation.updated": ConversationUpdatedPayload,
    "conversation.shared": ConversationSharedPayload,
    "conversation.unshared": ConversationSharedPayload,
}


class ReadUpdatedFrame(TypedDict):
    """Ephemeral (not logged): sent to ``conv.<id>`` as ``{"type": LAYER_EPHEMERAL, "frame": ...}``
    after someone marks read, so open clients can refresh "read by N of M"."""

    type: Literal["read.updated"]
    conversation_id: int
    user_id: int
    last_read_seq: int


class AccessChangedMessage(TypedDict):
    """Layer message to ``user.<id>`` when that person's access shrank (e.g. an unshare):
    the socket re-checks its subscriptions at once."""

    type: str  # LAYER_ACCESS
    workspace_id: int | None
    conversation_id: NotRequired[int]
