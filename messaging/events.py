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
    reactions: NotRequired[list[dict[str, Any]]]
    attachments: NotRequired[list[dict[str, Any]]]
    forwarded_from_id: NotRequired[int | None]


EventType = Literal[
    "message.new",
    "message.edited",
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
