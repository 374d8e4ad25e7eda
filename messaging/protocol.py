"""The ``/ws/`` socket protocol: every client and server frame, typed, in one place.

Client frames are pydantic models (the consumer parses every incoming frame through
``parse_client_frame``); server frames are TypedDicts. ``CLIENT_FRAMES`` and ``SERVER_FRAMES``
enumerate them so that tests and docs/protocol.md can be held to this module. Logged
conversation events (``message.new`` …) are server frames too; their payloads live in
``messaging.events`` and are listed in docs/events.md.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hub.errors import HubError
from messaging.events import MessagePayload

# A frame larger than this is answered with ``frame_too_large`` and not parsed. Message bodies
# are capped far below (HUB_MESSAGE_MAX_CHARS); 64 KiB leaves room for big sync cursor maps.
MAX_FRAME_BYTES = 64 * 1024
# How often a client should send ``ping``; daphne's protocol-level pings catch dead peers too.
HEARTBEAT_SECONDS = 25
# A sync may name at most this many conversations (bounds the work one frame can trigger).
MAX_SYNC_CURSORS = 2000

# --- close codes (WebSocket application range 4000-4999) -------------------------------------

CLOSE_UNAUTHENTICATED = 4401  # no/invalid credentials, or a deactivated account at connect
CLOSE_FORBIDDEN = 4403  # access ended while connected: deactivated, token revoked, workspace lost
CLOSE_RATE_LIMITED = 4429  # a flood that went on after rate_limited errors
CLOSE_CODES: dict[int, str] = {
    CLOSE_UNAUTHENTICATED: "not authenticated",
    CLOSE_FORBIDDEN: "access revoked",
    CLOSE_RATE_LIMITED: "too many frames",
}

# --- error codes a socket ``error`` frame can carry ------------------------------------------

ERROR_CODES: dict[str, str] = {
    "invalid_json": "the frame is not valid JSON",
    "invalid_utf8": "the frame is not valid UTF-8 (or contains lone surrogates)",
    "invalid_frame": "the frame is not a JSON object, lacks `type`, or a field has the wrong type",
    "unknown_type": "the frame's `type` is not a client frame type",
    "frame_too_large": f"the frame is larger than {MAX_FRAME_BYTES} bytes",
    "rate_limited": "too many frames; this one was dropped (repeat and the socket closes with 4429)",
    "not_found": "the conversation (or message) does not exist or is not readable by you",
    "internal_error": "the server failed on this frame; it was logged. Retrying is safe",
    "...": "every code of the HTTP API's actions (e.g. not_a_participant, body_too_long, archived)",
}


# --- client → server -------------------------------------------------------------------------


class ClientFrame(BaseModel):
    # Unknown keys are ignored so older servers accept newer clients' extra fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


ConversationId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]


class SyncFrame(ClientFrame):
    """Replay every event after each cursor (the last seq the client has), then stream live."""

    type: Literal["sync"]
    cursors: dict[ConversationId, Seq] = Field(max_length=MAX_SYNC_CURSORS)


class MessageSendFrame(ClientFrame):
    """Send a message; the same ``client_id`` again returns the original (idempotent)."""

    type: Literal["message.send"]
    conversation_id: ConversationId
    client_id: uuid.UUID
    body: str
    thread_root_id: ConversationId | None = None


class ReadFrame(ClientFrame):
    """Mark the conversation read up to ``seq``."""

    type: Literal["read"]
    conversation_id: ConversationId
    seq: Seq


class TypingFrame(ClientFrame):
    """The user is typing; broadcast at most once per 3 s per user and conversation."""

    type: Literal["typing"]
    conversation_id: ConversationId


class PingFrame(ClientFrame):
    """Heartbeat; answered by ``pong``. ``t`` is echoed back (for round-trip timing)."""

    type: Literal["ping"]
    t: float | int | str | None = None


class SubscribeFrame(ClientFrame):
    """Stream a readable conversation the user is not in (e.g. a public channel being browsed)."""

    type: Literal["subscribe"]
    conversation_id: ConversationId


class UnsubscribeFrame(ClientFrame):
    type: Literal["unsubscribe"]
    conversation_id: ConversationId


class PresenceSetFrame(ClientFrame):
    """This device is active (``online``) or idle/backgrounded (``away``)."""

    type: Literal["presence.set"]
    status: Literal["online", "away"]


AnyClientFrame = Annotated[
    SyncFrame
    | MessageSendFrame
    | ReadFrame
    | TypingFrame
    | PingFrame
    | SubscribeFrame
    | UnsubscribeFrame
    | PresenceSetFrame,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[AnyClientFrame] = TypeAdapter(AnyClientFrame)

CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    "sync": SyncFrame,
    "message.send": MessageSendFrame,
    "read": ReadFrame,
    "typing": TypingFrame,
    "ping": PingFrame,
    "subscribe": SubscribeFrame,
    "unsubscribe": UnsubscribeFrame,
    "presence.set": PresenceSetFrame,
}


def parse_client_frame(data: Any) -> ClientFrame:
    """A decoded JSON value → a typed client frame, or ``HubError`` with a stable code."""
    if not isinstance(data, dict):
        raise HubError("invalid_frame", "a frame must be a JSON object with a `type`")
    frame_type = data.get("type")
    if not isinstance(frame_type, str):
        raise HubError("invalid_frame", "a frame needs a string `type`")
    if frame_type not in CLIENT_FRAMES:
        raise HubError("unknown_type", f"unknown frame type {frame_type[:40]!r}")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])  # loc[0] is the union tag
        raise HubError("invalid_frame", f"{where}: {first['msg']}" if where else first["msg"]) from None


# --- server → client -------------------------------------------------------------------------


class ConversationCursor(TypedDict):
    id: int
    last_seq: int


class ReadyFrame(TypedDict):
    """First frame after connecting: who you are and what the socket streams."""

    type: Literal["ready"]
    user_id: int
    workspace_ids: list[int]
    conversations: list[ConversationCursor]  # subscribed, with the last seq at connect time
    heartbeat_seconds: int
    max_frame_bytes: int


class SyncDoneFrame(TypedDict):
    """Replay after a ``sync`` finished; everything after these cursors arrives live."""

    type: Literal["sync.done"]
    cursors: dict[str, int]


class SyncResetFrame(TypedDict):
    """The cursor was too far behind to replay: reload the conversation over HTTP (latest
    messages page) and continue from ``last_seq``; live events follow from there."""

    type: Literal["sync.reset"]
    conversation_id: int
    last_seq: int


class MessageAckFrame(TypedDict):
    """The send committed (or had already committed, ``created`` false)."""

    type: Literal["message.ack"]
    client_id: str
    created: bool
    message: MessagePayload


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    client_id: NotRequired[str]  # for a failed message.send
    conversation_id: NotRequired[int]  # for per-conversation failures in sync/subscribe/read/typing
    frame_type: NotRequired[str]  # the type of the frame that failed, when known


class PongFrame(TypedDict):
    type: Literal["pong"]
    t: NotRequired[float | int | str | None]
    server_time: float


class ReadAckFrame(TypedDict):
    type: Literal["read.ack"]
    conversation_id: int
    last_read_seq: int


class ReadUpdatedFrame(TypedDict):
    """Ephemeral: someone marked a conversation read (refresh "read by N of M")."""

    type: Literal["read.updated"]
    conversation_id: int
    user_id: int
    last_read_seq: int


class TypingServerFrame(TypedDict):
    """Ephemeral, never stored; not echoed to the typist's own sockets."""

    type: Literal["typing"]
    conversation_id: int
    user_id: int
    user_name: str


class PresenceFrame(TypedDict):
    """Ephemeral: a workspace member's aggregate status over all their devices changed."""

    type: Literal["presence"]
    workspace_id: int
    user_id: int
    status: Literal["online", "away", "offline"]


class PresenceSnapshotFrame(TypedDict):
    """After ``ready`` (staff only): everyone in the workspace who is not offline."""

    type: Literal["presence.snapshot"]
    workspace_id: int
    statuses: dict[str, str]  # user id → "online" | "away"


class SubscribedFrame(TypedDict):
    type: Literal["subscribed"]
    conversation_id: int
    last_seq: int


class UnsubscribedFrame(TypedDict):
    type: Literal["unsubscribed"]
    conversation_id: int


class ConversationAddedFrame(TypedDict):
    """Access gained while connected (added, joined, shared): now streamed from ``last_seq``."""

    type: Literal["conversation.added"]
    conversation_id: int
    last_seq: int


class ConversationRemovedFrame(TypedDict):
    """Access lost while connected (removed, left, unshared): nothing more is streamed."""

    type: Literal["conversation.removed"]
    conversation_id: int


class CommandReplyFrame(TypedDict):
    """A slash-command reply that arrived later (an external app's ``response_url``) for the one
    person who ran the command. Ephemeral: never stored, not in the log."""

    type: Literal["command.reply"]
    conversation_id: int
    command: str
    text: str  # Markdown
    html: str  # rendered and sanitised
    blocks: list[dict[str, Any]]


SERVER_FRAMES: dict[str, type] = {
    "ready": ReadyFrame,
    "sync.done": SyncDoneFrame,
    "sync.reset": SyncResetFrame,
    "message.ack": MessageAckFrame,
    "error": ErrorFrame,
    "pong": PongFrame,
    "read.ack": ReadAckFrame,
    "read.updated": ReadUpdatedFrame,
    "typing": TypingServerFrame,
    "presence": PresenceFrame,
    "presence.snapshot": PresenceSnapshotFrame,
    "subscribed": SubscribedFrame,
    "unsubscribed": UnsubscribedFrame,
    "conversation.added": ConversationAddedFrame,
    "conversation.removed": ConversationRemovedFrame,
    "command.reply": CommandReplyFrame,
}
# ... plus every logged event type (messaging.events.EVENT_PAYLOADS), delivered as
# ``{"type", "conversation_id", "seq", **payload}``.
