"""The core send path through the HTTP API: seq, idempotency, replay, receipts."""

from __future__ import annotations

import uuid

from tests.conftest import World


def _channel(world: World, kind: str = "public", **extra: object) -> int:
    res = world.api(world.owner).post(
        "/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": kind, "name": "销售", **extra}
    )
    assert res.status_code == 201, res.content
    return int(res.json()["id"])


def test_send_assigns_gap_free_seq_and_retry_returns_original(world: World) -> None:
    conv = _channel(world)
    owner = world.api(world.owner)
    client_id = str(uuid.uuid4())
    first = owner.post(
        f"/api/v1/conversations/{conv}/messages", {"body": "客户的**订单**已发货", "client_id": client_id}
    )
    assert first.status_code == 201, first.content
    again = owner.post(
        f"/api/v1/conversations/{conv}/messages", {"body": "客户的**订单**已发货", "client_id": client_id}
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["seq"] == first.json()["seq"]
    assert "<strong>订单</strong>" in first.json()["html"]
    second = owner.post(f"/api/v1/conversations/{conv}/messages", {"body": "two", "client_id": str(uuid.uuid4())})
    assert second.json()["seq"] == first.json()["seq"] + 1
    events = owner.get(f"/api/v1/conversations/{conv}/events", after_seq=0).json()["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e["message"]["id"] for e in events if e["type"] == "message.new"] == [
        first.json()["id"],
        second.json()["id"],
    ]


def test_outsider_gets_404_and_guest_cannot_read_unshared(world: World) -> None:
    conv = _channel(world)
    for persona in (world.outsider, world.guest):
        res = world.api(persona).get(f"/api/v1/conversations/{conv}/messages")
        assert res.status_code == 404
        assert res.json()["error"]["code"] == "not_found"
    assert world.api(None).get(f"/api/v1/conversations/{conv}/messages").status_code == 401


def test_receipts_count_readers(world: World) -> None:
    conv = _channel(world, kind="private", member_ids=[world.member.user.pk, world.member2.user.pk])
    sent = world.api(world.owner).post(
        f"/api/v1/conversations/{conv}/messages", {"body": "hi", "client_id": str(uuid.uuid4())}
    )
    msg = sent.json()
    assert world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]}).status_code == 200
    receipts = world.api(world.owner).get(f"/api/v1/messages/{msg['id']}/receipts").json()
    assert receipts["read"] == [world.member.user.pk]
    assert receipts["unread"] == [world.member2.user.pk]
    listing = world.api(world.member2).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    assert [c["unread_count"] for c in listing if c["id"] == conv] == [1]
