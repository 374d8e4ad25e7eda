"""Replay: the bulk /events form, and the Zulip-style check that the initial state plus the
logged events equals a fresh fetch."""

from __future__ import annotations

import copy
import io
import uuid
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from messaging.events import EVENT_PAYLOADS
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, send


def test_bulk_events_for_many_conversations(world: World) -> None:
    a = create_conversation(world, world.owner, "public", "甲", member_ids=[world.member.user.pk])
    b = create_conversation(world, world.owner, "private", "乙", member_ids=[world.member.user.pk])
    hidden = create_conversation(world, world.owner, "private", "丙")
    send(world, world.owner, a, "a1")
    b1 = send(world, world.owner, b, "b1")
    send(world, world.owner, b, "b2")
    res = world.api(world.member).get("/api/v1/events", cursors=f"{a}:0,{b}:{b1['seq']},{hidden}:0,999999:0")
    assert res.status_code == 200, res.content
    body = res.json()
    assert sorted(body["conversations"]) == sorted([str(a), str(b)])
    assert body["omitted"] == sorted([hidden, 999999])  # unknown and unreadable look the same
    assert [e["seq"] for e in body["conversations"][str(a)]["events"]] == list(
        range(1, body["conversations"][str(a)]["last_seq"] + 1)
    )
    b_events = body["conversations"][str(b)]["events"]
    assert [e["message"]["body"] for e in b_events] == ["b2"]
    assert all(e["conversation_id"] == b and e["seq"] > b1["seq"] for e in b_events)


def test_bulk_events_strangers_and_bad_input(world: World) -> None:
    a = create_conversation(world, world.owner, "public", "甲")
    res = world.api(world.outsider).get("/api/v1/events", cursors=f"{a}:0")
    assert res.status_code == 200 and res.json() == {"conversations": {}, "omitted": [a]}
    assert world.api(world.guest).get("/api/v1/events", cursors=f"{a}:0").json()["omitted"] == [a]
    assert world.api(None).get("/api/v1/events", cursors=f"{a}:0").status_code == 401
    api = world.api(world.member)
    for bad in ["", "abc", f"{a}:-1", f"{a}:x", "0:0", ",,,"]:
        res = api.get("/api/v1/events", cursors=bad)
        assert res.status_code == 400 and error_code(res) == "invalid_cursors", bad
    assert api.get("/api/v1/events").status_code == 422
    many = ",".join(f"{i}:0" for i in range(1, 102))
    assert error_code(api.get("/api/v1/events", cursors=many)) == "too_many_cursors"


# --- initial state + events == fresh fetch -------------------------------------------------------------


def _apply(state: dict[int, dict[str, Any]], event: dict[str, Any]) -> None:
    """What a client does with each logged event type (docs/events.md)."""
    kind = event["type"]
    if kind in ("message.new", "message.edited", "message.deleted"):
        state[event["message"]["id"]] = copy.deepcopy(event["message"])
    elif kind == "reaction.changed":
        state[event["message_id"]]["reactions"] = event["reactions"]
    elif kind == "pin.changed":
        state[event["message_id"]]["pinned"] = event["pinned"]
    elif kind == "thread.updated":
        state[event["root_id"]]["reply_count"] = event["reply_count"]
        state[event["root_id"]]["last_reply_at"] = event["last_reply_at"]
    else:
        assert kind in EVENT_PAYLOADS, f"unknown event type {kind}"


def _fetch(world: World, conv: int) -> tuple[dict[int, dict[str, Any]], int]:
    res = world.api(world.member).get(f"/api/v1/conversations/{conv}/messages", limit=200)
    last_seq = world.api(world.member).get(f"/api/v1/conversations/{conv}").json()["last_seq"]
    return {m["id"]: m for m in res.json()["messages"]}, last_seq


def test_initial_state_plus_events_equals_fresh_fetch(world: World) -> None:
    conv = create_conversation(
        world, world.owner, "public", "验证", member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    first = send(world, world.owner, conv, "最早的消息")
    state, cursor = _fetch(world, conv)
    owner, member, member2 = world.api(world.owner), world.api(world.member), world.api(world.member2)

    # A mixed sequence of everything that changes messages.
    root = send(world, world.member, conv, "根消息 @王老板")
    reply = send(world, world.member2, conv, "回复", thread_root_id=root["id"])
    member.patch(f"/api/v1/messages/{root['id']}", {"body": "根消息（已编辑）"})
    member2.post(f"/api/v1/messages/{root['id']}/reactions", {"emoji": "👍"})
    owner.post(f"/api/v1/messages/{root['id']}/reactions", {"emoji": "👍"})
    member2.post(f"/api/v1/messages/{root['id']}/reactions", {"emoji": "👍"})
    owner.post(f"/api/v1/messages/{first['id']}/pin")
    send(world, world.owner, conv, "再回复", thread_root_id=reply["id"])
    member2.delete(f"/api/v1/messages/{reply['id']}")
    png = io.BytesIO()
    Image.new("RGB", (50, 40)).save(png, "PNG")
    up = member.client.post(
        f"/api/v1/conversations/{conv}/attachments",
        {"file": SimpleUploadedFile("图.png", png.getvalue())},
        **world.member.auth,
    ).json()
    with_file = send(world, world.member, conv, "附件", attachment_ids=[up["id"]])
    owner.patch(f"/api/v1/conversations/{conv}", {"topic": "新话题"})
    owner.post(f"/api/v1/messages/{with_file['id']}/pin")
    owner.delete(f"/api/v1/messages/{first['id']}/pin")
    other = create_conversation(world, world.member, "private", "别处")
    other_msg = send(world, world.member, other, "被转发")
    member.post(
        f"/api/v1/messages/{other_msg['id']}/forward", {"conversation_id": conv, "client_id": str(uuid.uuid4())}
    )
    member.post(f"/api/v1/messages/{with_file['id']}/reactions", {"emoji": "🎉"})
    owner.delete(f"/api/v1/messages/{with_file['id']}")
    owner.post(f"/api/v1/messages/{root['id']}/pin")

    res = member.get(f"/api/v1/conversations/{conv}/events", after_seq=cursor)
    log = res.json()["events"]
    assert [e["seq"] for e in log] == list(range(cursor + 1, cursor + 1 + len(log)))
    for event in log:
        _apply(state, event)
    fresh, last_seq = _fetch(world, conv)
    assert log[-1]["seq"] == last_seq
    assert state == fresh
    # Every type seen is documented as a typed payload.
    assert {e["type"] for e in log} <= set(EVENT_PAYLOADS)


def test_bulk_events_pages_per_conversation(world: World, monkeypatch: Any) -> None:
    from messaging import queries

    monkeypatch.setattr(queries, "BULK_EVENTS_PAGE", 2)
    monkeypatch.setattr(queries.bulk_events, "__defaults__", (2,))
    conv = create_conversation(world, world.owner, "public", "甲")
    for i in range(4):
        send(world, world.owner, conv, f"m{i}")
    cursor, seen = 0, []
    for _ in range(10):
        page = (
            world.api(world.owner).get("/api/v1/events", cursors=f"{conv}:{cursor}").json()["conversations"][str(conv)]
        )
        seen += [e["seq"] for e in page["events"]]
        if not page["has_more"]:
            break
        assert len(page["events"]) == 2
        cursor = page["events"][-1]["seq"]
    assert seen == list(range(1, page["last_seq"] + 1))


def test_conversation_and_members_state_plus_events_equals_fresh_fetch(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "状态", member_ids=[world.member.user.pk])
    owner = world.api(world.owner)
    keys = ("name", "topic", "purpose", "archived", "kind")

    def fetch() -> tuple[dict[str, Any], set[int], int]:
        detail = owner.get(f"/api/v1/conversations/{conv}").json()
        people = {m["user_id"] for m in owner.get(f"/api/v1/conversations/{conv}/members").json()["members"]}
        return {k: detail[k] for k in keys}, people, detail["last_seq"]

    conversation, people, cursor = fetch()
    owner.patch(f"/api/v1/conversations/{conv}", {"topic": "一", "purpose": "二"})
    world.api(world.member2).post(f"/api/v1/conversations/{conv}/join")
    owner.post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk})
    owner.post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.admin.user.pk]})
    world.api(world.member).post(f"/api/v1/conversations/{conv}/leave")
    owner.post(f"/api/v1/conversations/{conv}/archive")
    owner.patch(f"/api/v1/conversations/{conv}", {"name": "改名"})  # refused while archived: no event
    owner.post(f"/api/v1/conversations/{conv}/unarchive")
    owner.patch(f"/api/v1/conversations/{conv}", {"name": "改名"})
    owner.delete(f"/api/v1/conversations/{conv}/share/{world.customer.pk}")
    owner.delete(f"/api/v1/conversations/{conv}/members/{world.member2.user.pk}")

    log = owner.get(f"/api/v1/conversations/{conv}/events", after_seq=cursor).json()["events"]
    for event in log:
        if event["type"] == "conversation.updated":
            conversation = {k: event["conversation"][k] for k in keys}
        elif event["type"] == "member.joined":
            people |= set(event["user_ids"])
        elif event["type"] == "member.left":
            people -= set(event["user_ids"])
    fresh_conversation, fresh_people, last_seq = fetch()
    assert log[-1]["seq"] == last_seq
    assert (conversation, people) == (fresh_conversation, fresh_people)
    assert world.guest.user.pk not in people and world.admin.user.pk in people
