"""The y-protocols wire format spoken by ``y-websocket`` (binary frames), decoded strictly.

One frame is one message::

    messageSync(0)           varUint 0, varUint syncType, varUint8Array payload
        syncStep1(0)           payload = the sender's state vector
        syncStep2(1)           payload = the update the receiver lacks
        update(2)              payload = an incremental update
    messageAwareness(1)      varUint 1, varUint8Array awareness update
                               (varUint n, n × [varUint clientID, varUint clock, varString JSON])
    messageAuth(2)           varUint 2, varUint 0 (permission denied), varString reason
    messageQueryAwareness(3) varUint 3

pycrdt's own ``Decoder`` indexes past the end of truncated input (IndexError) and accepts
trailing junk; every byte here comes from an untrusted socket, so this decoder checks bounds,
caps integers at JavaScript's safe range, and raises ``ProtocolError`` for any defect. The Yjs
update *inside* a sync message is validated separately, by applying it to a Doc.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

# The empty update Yjs sends as step 2 when it has nothing the other side lacks.
EMPTY_UPDATE = b"\x00\x00"

_MAX_SAFE_INTEGER = 2**53 - 1  # lib0 encodes numbers up to JavaScript's safe integer range
_MAX_AWARENESS_ENTRIES = 1000


class ProtocolError(ValueError):
    """A frame that is not a well-formed y-protocols message."""


@dataclass(frozen=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # the JSON text; "null" means the client left


@dataclass(frozen=True)
class AwarenessUpdate:
    payload: bytes  # the raw awareness update, relayed unchanged
    entries: tuple[AwarenessEntry, ...]


@dataclass(frozen=True)
class QueryAwareness:
    pass


@dataclass(frozen=True)
class AuthMessage:
    reason: str


Message = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessUpdate | QueryAwareness | AuthMessage


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        value = 0
        shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated integer")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if value > _MAX_SAFE_INTEGER:
                raise ProtocolError("integer out of range")
            if byte < 0x80:
                return value
            shift += 7

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("truncated byte array")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("string is not UTF-8") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError("trailing bytes after the message")


def decode_message(frame: bytes) -> Message:
    reader = _Reader(frame)
    kind = reader.var_uint()
    message: Message
    if kind == MESSAGE_SYNC:
        sync_type = reader.var_uint()
        payload = reader.var_bytes()
        if sync_type == SYNC_STEP1:
            message = SyncStep1(payload)
        elif sync_type == SYNC_STEP2:
            message = SyncStep2(payload)
        elif sync_type == SYNC_UPDATE:
            message = SyncUpdate(payload)
        else:
            raise ProtocolError(f"unknown sync message type {sync_type}")
    elif kind == MESSAGE_AWARENESS:
        payload = reader.var_bytes()
        message = AwarenessUpdate(payload, decode_awareness(payload))
    elif kind == MESSAGE_AUTH:
        if reader.var_uint() != 0:
            raise ProtocolError("unknown auth message type")
        message = AuthMessage(reader.var_string())
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise ProtocolError(f"unknown message type {kind}")
    reader.end()
    return message


def decode_awareness(payload: bytes) -> tuple[AwarenessEntry, ...]:
    reader = _Reader(payload)
    count = reader.var_uint()
    if count > _MAX_AWARENESS_ENTRIES:
        raise ProtocolError("too many awareness entries")
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        state = reader.var_string()
        try:
            json.loads(state)
        except ValueError:
            raise ProtocolError("awareness state is not JSON") from None
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.end()
    return tuple(entries)


# --- encoding ---------------------------------------------------------------------------------


def var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return var_uint(len(data)) + data


def encode_sync_step1(state_vector: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP1]) + var_bytes(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_STEP2]) + var_bytes(update)


def encode_sync_update(update: bytes) -> bytes:
    return bytes([MESSAGE_SYNC, SYNC_UPDATE]) + var_bytes(update)


def awareness_payload(entries: list[AwarenessEntry]) -> bytes:
    """An awareness update (the payload of a messageAwareness frame)."""
    return var_uint(len(entries)) + b"".join(
        var_uint(e.client_id) + var_uint(e.clock) + var_bytes(e.state.encode()) for e in entries
    )


def encode_awareness_entries(entries: list[AwarenessEntry]) -> bytes:
    return encode_awareness_payload(awareness_payload(entries))


def encode_awareness_payload(payload: bytes) -> bytes:
    return bytes([MESSAGE_AWARENESS]) + var_bytes(payload)


def encode_query_awareness() -> bytes:
    return bytes([MESSAGE_QUERY_AWARENESS])


def encode_permission_denied(reason: str) -> bytes:
    """y-protocols' auth message; y-websocket logs the reason and keeps the socket open, which
    is what a read-only viewer needs (they still receive everyone's edits)."""
    return bytes([MESSAGE_AUTH, 0]) + var_bytes(reason.encode())


# --- update batches (the DocUpdate.data format) -----------------------------------------------


def pack_updates(updates: list[bytes]) -> bytes:
    return b"".join(var_bytes(u) for u in updates)


def unpack_updates(data: bytes) -> list[bytes]:
    reader = _Reader(bytes(data))
    updates = []
    while reader.pos < len(reader.data):
        updates.append(reader.var_bytes())
    return updates
