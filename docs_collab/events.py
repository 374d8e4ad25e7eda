"""Channel-layer messages of the document rooms (group ``doc.<id>``), typed.

Every room process subscribes one channel to its document's group. The layer is a fast path
only: a dropped message is healed by reading the update log (docs/documents.md)."""

from __future__ import annotations

from typing import Literal, TypedDict


def doc_group(document_id: int) -> str:
    return f"doc.{document_id}"


class DocUpdateMessage(TypedDict):
    type: Literal["doc.update"]
    origin: str  # the process id; a room skips its own
    n: int  # per-origin counter: a jump means a dropped message, so the receiver heals
    update: bytes


class DocFlushedMessage(TypedDict):
    type: Literal["doc.flushed"]
    origin: str
    first_seq: int
    last_seq: int
    from_n: int  # these rows hold the origin's relayed updates from_n..through_n
    through_n: int


class DocAwarenessMessage(TypedDict):
    type: Literal["doc.awareness"]
    origin: str
    payload: bytes


class DocAwarenessQueryMessage(TypedDict):
    type: Literal["doc.awareness_query"]
    origin: str


class DocReloadMessage(TypedDict):
    """A restore happened: rooms heal from the log and tell their clients to reload."""

    type: Literal["doc.reload"]
    origin: str
    epoch: int


class DocAccessChangedMessage(TypedDict):
    """Permissions of the document changed: rooms re-check their sockets' access."""

    type: Literal["doc.access_changed"]
    origin: str
