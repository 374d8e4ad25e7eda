"""The socket docs are held to the code: every frame type, error code, close code, event type
and event payload type is documented, and every example parses as what it claims to be."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any, NotRequired, get_origin

import pytest

from messaging import events, protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_MD = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
EVENTS_MD = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")


def _json_blocks(markdown: str) -> list[Any]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", markdown, flags=re.S)]


def _keys(typed_dict: type) -> tuple[set[str], set[str]]:
    """(required, all) keys, resolving ``NotRequired`` through the postponed annotations."""
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    optional = {name for name, hint in hints.items() if get_origin(hint) is NotRequired}
    return set(hints) - optional, set(hints)


def _typed_dicts(module: Any) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if typing.is_typeddict(value) and getattr(value, "__module__", "") == module.__name__
    )


@pytest.mark.parametrize("frame_type", sorted(protocol.CLIENT_FRAMES))
def test_every_client_frame_is_documented(frame_type: str) -> None:
    assert f"### `{frame_type}`" in PROTOCOL_MD.split("## Server frames")[0]


@pytest.mark.parametrize("frame_type", sorted(protocol.SERVER_FRAMES))
def test_every_server_frame_is_documented(frame_type: str) -> None:
    assert f"### `{frame_type}`" in PROTOCOL_MD.split("## Server frames")[1]


def test_every_error_and_close_code_is_documented() -> None:
    for code in protocol.ERROR_CODES:
        if code != "...":
            assert f"| `{code}` |" in PROTOCOL_MD, code
    for close_code in protocol.CLOSE_CODES:
        assert f"| `{close_code}` |" in PROTOCOL_MD, close_code


def test_client_examples_parse_as_their_frame() -> None:
    examples = _json_blocks(PROTOCOL_MD.split("## Server frames")[0])
    assert {e["type"] for e in examples} == set(protocol.CLIENT_FRAMES)
    for example in examples:
        assert type(protocol.parse_client_frame(example)) is protocol.CLIENT_FRAMES[example["type"]]


def test_server_examples_have_exactly_the_typed_keys() -> None:
    examples = _json_blocks(PROTOCOL_MD.split("## Server frames")[1])
    assert {e["type"] for e in examples} == set(protocol.SERVER_FRAMES)
    for example in examples:
        required, allowed = _keys(protocol.SERVER_FRAMES[example["type"]])
        assert required <= set(example) <= allowed, example["type"]


def test_every_event_type_and_payload_type_is_documented() -> None:
    documented = set(re.findall(r"^### `([a-z_.]+)`", EVENTS_MD, flags=re.M))
    assert set(typing.get_args(events.EventType)) <= documented
    assert set(events.EVENT_PAYLOADS) <= documented
    for name in _typed_dicts(events):
        assert f"`{name}`" in EVENTS_MD, name


def test_event_examples_match_their_payload_type() -> None:
    examples = _json_blocks(EVENTS_MD)
    assert examples
    for example in examples:
        required, allowed = _keys(events.EVENT_PAYLOADS[example["type"]])
        envelope = {"type", "conversation_id", "seq"}
        assert required | envelope <= set(example) <= allowed | envelope, example["type"]


def test_every_logged_event_type_in_the_code_is_declared() -> None:
    """Scan the source for ``append_event(…, "<type>", …)``: a new event type must be added to
    ``EventType``/``EVENT_PAYLOADS`` (and therefore to docs/events.md)."""
    used: set[str] = set()
    for path in (ROOT / "messaging").rglob("*.py"):
        used.update(re.findall(r'append_event\(\s*[\w.]+,\s*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert used, "the scan found no append_event calls: update the pattern"
    assert used <= set(typing.get_args(events.EventType)), used - set(typing.get_args(events.EventType))
    assert used <= set(events.EVENT_PAYLOADS)
