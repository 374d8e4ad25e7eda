"""Read state over HTTP: unread/mention counts (constant query count), mark read,
receipts, and the ephemeral read.updated frame."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.events import LAYER_EPHEMERAL, conversation_group
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, events, send, shared_channel


def _listing(world: World, persona: Any) -> dict[int, dict[str, Any]]:
    res = world.api(persona).get("/api/v1/conversations", workspace=world.workspace.pk)
    assert res.status_code == 200, res.content
    return {c["id"]: c for c in res.json()}


def test_unread_and_mention_counts(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])
    send(world, world.owner, conv, "早上好")
    send(world, world.owner, conv, "@张三 请回复")
    send(world, world.owner, conv, "@all 开会")
    deleted = send(world, world.owner, conv, "撤回的")
    world.api(world.owner).delete(f"/api/v1/messages/{deleted['id']}")
    row = _listing(world, world.member)[conv]
    assert (row["unread_count"], row["mention_count"]) == (3, 2)
    assert _listing(world, world.owner)[conv]["unread_count"] == 0  # own messages are read
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": row["last_seq"]})
    assert res.status_code == 200
    row = _listing(world, world.member)[conv]
    assert (row["unread_count"], row["mention_count"]) == (0, 0)


def test_conversation_list_query_count_does_not_grow(world: World, django_assert_max_num_queries: Any) -> None:
    def make(n: int) -> None:
        for i in range(n):
            conv = create_conversation(world, world.owner, "public", f"频道{i}", member_ids=[world.member.user.pk])
            send(world, world.owner, conv, f"@张三 消息 {i}")

    make(2)
    with CaptureQueriesContext(connection) as few:
        assert len(_listing(world, world.member)) == 2
    # Read now: every request start clears Django's query log.
    baseline = len(few.captured_queries)
    assert 0 < baseline <= 10
    make(20)
    with django_assert_max_num_queries(baseline):
        rows = _listing(world, world.member)
    assert len(rows) == 22 and all(r["unread_count"] == 1 and r["mention_count"] == 1 for r in rows.values())


def test_message_page_query_count_does_not_grow(world: World, django_assert_max_num_queries: Any) -> None:
    conv = create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])
    for i in range(30):
        msg = send(world, world.owner, conv, f"m{i}")
        world.api(world.member).post(f"/api/v1/messages/{msg['id']}/reactions", {"emoji": "👍"})
        if i % 5 == 0:
            world.api(world.member).post(f"/api/v1/messages/{msg['id']}/pin")
    with CaptureQueriesContext(connection) as few:
        world.api(world.member).get(f"/api/v1/conversations/{conv}/messages", limit=2)
    baseline = len(few.captured_queries)
    assert 0 < baseline <= 10
    with django_assert_max_num_queries(baseline):
        page = world.api(world.member).get(f"/api/v1/conversations/{conv}/messages", limit=30).json()["messages"]
    assert len(page) == 30 and all(m["reactions"][0]["count"] == 1 for m in page)


def test_mark_read_moves_forward_only_and_is_capped(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])
    a = send(world, world.owner, conv, "1")
    send(world, world.owner, conv, "2")
    api = world.api(world.member)
    assert api.post(f"/api/v1/conversations/{conv}/read", {"seq": 10_000}).json()["last_read_seq"] == a["seq"] + 1
    assert api.post(f"/api/v1/conversations/{conv}/read", {"seq": 1}).json()["last_read_seq"] == a["seq"] + 1
    assert api.post(f"/api/v1/conversations/{conv}/read", {"seq": -1}).status_code == 422
    assert api.post(f"/api/v1/conversations/{conv}/read", {"seq": "abc"}).status_code == 422
    assert api.post(f"/api/v1/conversations/{conv}/read", {}).status_code == 422
    assert world.api(world.outsider).post(f"/api/v1/conversations/{conv}/read", {"seq": 1}).status_code == 404
    assert world.api(world.guest).post(f"/api/v1/conversations/{conv}/read", {"seq": 1}).status_code == 404
    assert world.api(None).post(f"/api/v1/conversations/{conv}/read", {"seq": 1}).status_code == 401
    res = world.api(world.member2).post(f"/api/v1/conversations/{conv}/read", {"seq": 1})
    assert res.status_code == 403 and error_code(res) == "not_a_participant"


def test_guest_read_state_in_shared_channel(world: World) -> None:
    conv = shared_channel(world)
    msg = send(world, world.member, conv, "欢迎")
    row = _listing(world, world.guest)[conv]
    assert row["unread_count"] == 1
    assert world.api(world.guest).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]}).status_code == 200
    assert _listing(world, world.guest)[conv]["unread_count"] == 0
    receipts = world.api(world.member).get(f"/api/v1/messages/{msg['id']}/receipts").json()
    assert world.guest.user.pk in receipts["read"]


def test_read_updated_is_ephemeral_frame(world: World, django_capture_on_commit_callbacks: Any) -> None:
    conv = create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])
    msg = send(world, world.owner, conv, "hi")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(conv), channel)
    before = events(world, world.owner, conv)
    with django_capture_on_commit_callbacks(execute=True):
        world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]})

    async def receive() -> dict[str, Any]:
        return dict(await asyncio.wait_for(layer.receive(channel), 1))

    got = async_to_sync(receive)()
    assert got == {
        "type": LAYER_EPHEMERAL,
        "frame": {
            "type": "read.updated",
            "conversation_id": conv,
            "user_id": world.member.user.pk,
            "last_read_seq": msg["seq"],
        },
    }
    assert events(world, world.owner, conv) == before  # not in the log


def test_receipts_summary_for_a_seq(world: World) -> None:
    conv = create_conversation(
        world, world.owner, "private", "管理", member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    msg = send(world, world.owner, conv, "hi")
    world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]})
    res = world.api(world.member2).get(f"/api/v1/conversations/{conv}/receipts", seq=msg["seq"])
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["read"] == sorted([world.owner.user.pk, world.member.user.pk])
    assert body["unread"] == [world.member2.user.pk]
    assert (body["read_count"], body["total"]) == (2, 3)
    assert world.api(world.member).get(f"/api/v1/conversations/{conv}/receipts", seq=-1).status_code == 400
    assert world.api(world.member).get(f"/api/v1/conversations/{conv}/receipts").status_code == 422
    assert world.api(world.outsider).get(f"/api/v1/conversations/{conv}/receipts", seq=1).status_code == 404
    assert world.api(world.guest).get(f"/api/v1/conversations/{conv}/receipts", seq=1).status_code == 404
    assert world.api(None).get(f"/api/v1/conversations/{conv}/receipts", seq=1).status_code == 401
    world.workspace.read_receipts_enabled = False
    world.workspace.save()
    res = world.api(world.member).get(f"/api/v1/conversations/{conv}/receipts", seq=1)
    assert res.status_code == 403 and error_code(res) == "receipts_disabled"
    assert world.api(world.member).get(f"/api/v1/messages/{msg['id']}/receipts").status_code == 403


def test_guest_who_arrives_after_the_share_gets_read_state_on_first_post(world: World) -> None:
    from hub.models import Member
    from tests.conftest import make_persona

    conv = shared_channel(world)
    late = make_persona("late@customer.test", "晚到的顾客")
    Member.objects.create(workspace=world.workspace, user=late.user, role=Member.Role.GUEST, partner=world.customer)
    assert _listing(world, late)[conv]["joined"] is False
    mine = send(world, late, conv, "我也来了")
    row = _listing(world, late)[conv]
    assert row["joined"] is True and row["last_read_seq"] == mine["seq"]
    send(world, world.member, conv, "欢迎")
    assert _listing(world, late)[conv]["unread_count"] == 1


def test_listing_scales_to_many_conversations(world: World) -> None:
    """Past SQLite's expression-depth limit (1000) an OR per conversation would crash."""
    from messaging.models import Conversation, Message, Participant

    convs = Conversation.objects.bulk_create(
        [Conversation(workspace=world.workspace, kind="private", name=f"c{i}", last_seq=2) for i in range(1100)]
    )
    Participant.objects.bulk_create(
        [
            Participant(conversation=c, user=u, last_read_seq=1)
            for c in convs
            for u in (world.member.user, world.owner.user)
        ]
    )
    Message.objects.bulk_create(
        [
            Message(conversation=c, seq=s, sender=world.owner.user, client_id=uuid.uuid4(), body="b", html="b")
            for c in convs
            for s in (1, 2)
        ]
    )
    rows = _listing(world, world.member)
    assert len(rows) == 1100
    assert {r["unread_count"] for r in rows.values()} == {1}
