"""The y-protocols decoder and the room's validation against hostile bytes."""

from __future__ import annotations

import random

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import protocol
from docs_collab.room import Room


def test_round_trips() -> None:
    update = b"\x01\x02\x03"
    assert protocol.decode_message(protocol.encode_sync_step1(b"\x00")) == protocol.SyncStep1(b"\x00")
    assert protocol.decode_message(protocol.encode_sync_step2(update)) == protocol.SyncStep2(update)
    assert protocol.decode_message(protocol.encode_sync_update(update)) == protocol.SyncUpdate(update)
    assert protocol.decode_message(protocol.encode_query_awareness()) == protocol.QueryAwareness()
    assert protocol.decode_message(protocol.encode_permission_denied("read_only: 只读")) == protocol.AuthMessage(
        "read_only: 只读"
    )
    entries = [protocol.AwarenessEntry(2**40, 7, '{"user":{"name":"王"}}'), protocol.AwarenessEntry(1, 0, "null")]
    message = protocol.decode_message(protocol.encode_awareness_entries(entries))
    assert isinstance(message, protocol.AwarenessUpdate) and list(message.entries) == entries
    big = bytes(300)
    assert protocol.unpack_updates(protocol.pack_updates([b"a", big, b""])) == [b"a", big, b""]


def test_integers_beyond_javascripts_safe_range_are_refused() -> None:
    with pytest.raises(protocol.ProtocolError, match="out of range"):
        protocol.decode_message(b"\x00\x00" + b"\xff" * 8 + b"\x7f")


def test_random_and_truncated_frames_only_raise_protocol_error() -> None:
    rng = random.Random(42)
    valid = [
        protocol.encode_sync_step1(b"\x01\x02\x03"),
        protocol.encode_sync_update(bytes(range(40))),
        protocol.encode_awareness_entries([protocol.AwarenessEntry(5, 1, '{"a":1}')]),
        protocol.encode_permission_denied("x"),
    ]
    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))) for _ in range(5000)]
    frames += [v[:cut] for v in valid for cut in range(len(v))]
    frames += [v + b"\x00" for v in valid]  # trailing junk
    outcomes = {"ok": 0, "error": 0}
    for frame in frames:
        try:
            protocol.decode_message(frame)
            outcomes["ok"] += 1
        except protocol.ProtocolError:
            outcomes["error"] += 1
    assert outcomes["error"] > len(frames) // 2
    for frame in valid:  # and the intact frames still decode
        protocol.decode_message(frame)


def _room_with_doc() -> Room:
    room = Room(0)
    doc: Doc = Doc()
    doc.observe(room._on_transaction)
    room.doc = doc
    return room


def test_mutated_updates_never_corrupt_the_room_doc() -> None:
    """Bit flips, deletions and insertions in real updates: the room either refuses them
    (ValueError → 4400) or integrates them, and its state always re-encodes to itself."""
    rng = random.Random(6)
    source: Doc = Doc()
    updates: list[bytes] = []
    source.observe(lambda event: updates.append(event.update))
    text = source.get("default", type=XmlFragment).children.append(XmlElement("paragraph")).children.append(XmlText())
    typed = ""
    for i in range(120):
        ch = rng.choice("ab你好")
        text.insert(len(typed.encode()), ch, {"bold": {}} if i % 7 == 0 else None)
        typed += ch
    refused = 0
    for _ in range(1500):
        room = _room_with_doc()
        for update in updates[: rng.randrange(0, 15)]:
            room._apply(update)
        mutated = bytearray(rng.choice(updates))
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(mutated))
            if rng.random() < 0.6:
                mutated[position] = rng.randrange(256)
            else:
                del mutated[position]
        try:
            room._apply(bytes(mutated))
        except ValueError:
            refused += 1
        assert room.doc is not None
        encoded = room.doc.get_update()
        copy: Doc = Doc()
        copy.apply_update(encoded)
        assert str(copy.get("default", type=XmlFragment)) == str(room.doc.get("default", type=XmlFragment))
    assert refused > 500
