"""Messages over HTTP: edit with history, soft delete, reactions, pins, saved, threads,
forwarding, @all restrictions."""

from __future__ import annotations

import uuid

import pytest

from messaging.models import Message, MessageEdit, ThreadFollow
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, events, send, shared_channel


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(
        world, world.owner, "public", "销售", member_ids=[world.member.user.pk, world.member2.user.pk]
    )


# --- edit ---------------------------------------------------------------------------------------


def test_author_edits_and_history_is_kept(world: World, conv: int) -> None:
    msg = send(world, world.member, conv, "价格是 100 元")
    res = world.api(world.member).patch(f"/api/v1/messages/{msg['id']}", {"body": "价格是 **120** 元"})
    assert res.status_code == 200, res.content
    edited = res.json()
    assert edited["seq"] == msg["seq"] and edited["edited_at"] is not None
    assert "<strong>120</strong>" in edited["html"]
    world.api(world.member).patch(f"/api/v1/messages/{msg['id']}", {"body": "价格是 130 元"})
    edits = world.api(world.member2).get(f"/api/v1/messages/{msg['id']}/edits").json()["edits"]
    assert [e["previous_body"] for e in edits] == ["价格是 100 元", "价格是 **120** 元"]
    log = [e for e in events(world, world.owner, conv) if e["type"] == "message.edited"]
    assert [e["message"]["body"] for e in log] == ["价格是 **120** 元", "价格是 130 元"]


def test_only_author_edits(world: World, conv: int) -> None:
    msg = send(world, world.member, conv, "原文")
    for persona in (world.owner, world.admin, world.member2):
        res = world.api(persona).patch(f"/api/v1/messages/{msg['id']}", {"body": "篡改"})
        assert res.status_code == 403 and error_code(res) == "not_author"
    assert world.api(world.outsider).patch(f"/api/v1/messages/{msg['id']}", {"body": "x"}).status_code == 404
    assert world.api(world.guest).patch(f"/api/v1/messages/{msg['id']}", {"body": "x"}).status_code == 404
    assert world.api(None).patch(f"/api/v1/messages/{msg['id']}", {"body": "x"}).status_code == 401
    api = world.api(world.member)
    assert error_code(api.patch(f"/api/v1/messages/{msg['id']}", {"body": "  "})) == "empty_body"
    assert error_code(api.patch(f"/api/v1/messages/{msg['id']}", {"body": "a\x00"})) == "invalid_body"
    assert api.patch(f"/api/v1/messages/{msg['id']}", {}).status_code == 422
    assert api.patch("/api/v1/messages/999999", {"body": "x"}).status_code == 404
    assert world.api(world.outsider).get(f"/api/v1/messages/{msg['id']}/edits").status_code == 404
    assert MessageEdit.objects.count() == 0


def test_edit_updates_mentions(world: World, conv: int) -> None:
    msg = send(world, world.member, conv, "请看一下")
    res = world.api(world.member).patch(f"/api/v1/messages/{msg['id']}", {"body": "@王老板 @member2 请看一下"})
    assert res.json()["mentions"] == sorted([world.owner.user.pk, world.member2.user.pk])
    rows = world.api(world.owner).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    assert next(c for c in rows if c["id"] == conv)["mention_count"] == 1
    # Dropping a mention in a later edit takes the mention back.
    world.api(world.member).patch(f"/api/v1/messages/{msg['id']}", {"body": "@member2 请看一下"})
    rows = world.api(world.owner).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    assert next(c for c in rows if c["id"] == conv)["mention_count"] == 0


# --- delete ---------------------------------------------------------------------------------------


def test_author_or_manager_deletes_softly(world: World, conv: int) -> None:
    mine = send(world, world.member, conv, "说错了")
    other = send(world, world.member2, conv, "不当言论")
    res = world.api(world.member).delete(f"/api/v1/messages/{other['id']}")
    assert res.status_code == 403 and error_code(res) == "not_author"
    res = world.api(world.member).delete(f"/api/v1/messages/{mine['id']}")
    assert res.status_code == 200 and res.json()["deleted"] is True and res.json()["body"] == ""
    res = world.api(world.owner).delete(f"/api/v1/messages/{other['id']}")  # channel manager moderates
    assert res.status_code == 200
    assert world.api(world.owner).delete(f"/api/v1/messages/{other['id']}").status_code == 404
    page = world.api(world.member2).get(f"/api/v1/conversations/{conv}/messages").json()["messages"]
    assert [(m["id"], m["deleted"], m["body"]) for m in page] == [(mine["id"], True, ""), (other["id"], True, "")]
    log = [e for e in events(world, world.owner, conv) if e["type"] == "message.deleted"]
    assert [e["message"]["id"] for e in log] == [mine["id"], other["id"]]
    assert Message.objects.get(pk=other["id"]).deleted_by_id == world.owner.user.pk
    assert world.api(world.outsider).delete(f"/api/v1/messages/{mine['id']}").status_code == 404
    assert world.api(None).delete(f"/api/v1/messages/{mine['id']}").status_code == 401


def test_guest_deletes_only_own(world: World) -> None:
    conv = shared_channel(world)
    staff = send(world, world.member, conv, "staff")
    own = send(world, world.guest, conv, "guest")
    assert world.api(world.guest).delete(f"/api/v1/messages/{staff['id']}").status_code == 403
    assert world.api(world.guest).delete(f"/api/v1/messages/{own['id']}").status_code == 200


# --- reactions ----------------------------------------------------------------------------------------


def test_reaction_toggle_and_summary(world: World, conv: int) -> None:
    msg = send(world, world.member, conv)
    path = f"/api/v1/messages/{msg['id']}/reactions"
    res = world.api(world.member2).post(path, {"emoji": "👍"})
    assert res.status_code == 200, res.content
    assert res.json() == {
        "added": True,
        "reactions": [{"emoji": "👍", "count": 1, "user_ids": [world.member2.user.pk]}],
    }
    world.api(world.owner).post(path, {"emoji": "👍"})
    world.api(world.owner).post(path, {"emoji": "👨‍👩‍👧"})  # ZWJ sequence
    world.api(world.owner).post(path, {"emoji": ":tea:"})
    res = world.api(world.member2).post(path, {"emoji": "👍"})
    assert res.json()["added"] is False
    fetched = world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").json()["messages"][-1]
    assert fetched["reactions"] == [
        {"emoji": "👍", "count": 1, "user_ids": [world.owner.user.pk]},
        {"emoji": "👨‍👩‍👧", "count": 1, "user_ids": [world.owner.user.pk]},
        {"emoji": ":tea:", "count": 1, "user_ids": [world.owner.user.pk]},
    ]
    log = [e for e in events(world, world.owner, conv) if e["type"] == "reaction.changed"]
    assert [e["added"] for e in log] == [True, True, True, True, False]
    assert log[-1]["reactions"] == fetched["reactions"]


@pytest.mark.parametrize("emoji", ["", "x" * 65, "abc", "<script>", "👍 👍", "👍\x00", ":Bad Code:", "1"])
def test_reaction_bad_emoji(world: World, conv: int, emoji: str) -> None:
    msg = send(world, world.member, conv)
    res = world.api(world.member).post(f"/api/v1/messages/{msg['id']}/reactions", {"emoji": emoji})
    assert res.status_code in (400, 422), res.content
    assert res.json()["error"]["code"] in ("invalid_emoji", "invalid_request")


def test_reaction_strangers(world: World, conv: int) -> None:
    msg = send(world, world.member, conv)
    path = f"/api/v1/messages/{msg['id']}/reactions"
    assert world.api(world.outsider).post(path, {"emoji": "👍"}).status_code == 404
    assert world.api(world.guest).post(path, {"emoji": "👍"}).status_code == 404
    assert world.api(None).post(path, {"emoji": "👍"}).status_code == 401
    assert world.api(world.admin).post(path, {"emoji": "👍"}).status_code == 403  # not joined
    shared = shared_channel(world)
    other = send(world, world.member, shared)
    assert world.api(world.guest).post(f"/api/v1/messages/{other['id']}/reactions", {"emoji": "🙏"}).status_code == 200


# --- pins and saved -----------------------------------------------------------------------------------------


def test_pin_unpin_and_list(world: World, conv: int) -> None:
    a = send(world, world.member, conv, "营业时间 9-18")
    b = send(world, world.member, conv, "地址：西湖区")
    api = world.api(world.member2)
    assert api.post(f"/api/v1/messages/{a['id']}/pin").json()["pinned"] is True
    assert api.post(f"/api/v1/messages/{b['id']}/pin").status_code == 200
    last = world.api(world.owner).get(f"/api/v1/conversations/{conv}").json()["last_seq"]
    assert api.post(f"/api/v1/messages/{b['id']}/pin").status_code == 200  # again: no-op, no event
    assert world.api(world.owner).get(f"/api/v1/conversations/{conv}").json()["last_seq"] == last
    pins = world.api(world.owner).get(f"/api/v1/conversations/{conv}/pins").json()["pins"]
    assert [p["message"]["id"] for p in pins] == [b["id"], a["id"]]
    assert pins[0]["pinned_by"] == world.member2.user.pk
    assert api.delete(f"/api/v1/messages/{a['id']}/pin").json()["pinned"] is False
    assert [
        p["message"]["id"] for p in world.api(world.owner).get(f"/api/v1/conversations/{conv}/pins").json()["pins"]
    ] == [b["id"]]
    log = [(e["message_id"], e["pinned"]) for e in events(world, world.owner, conv) if e["type"] == "pin.changed"]
    assert log == [(a["id"], True), (b["id"], True), (a["id"], False)]
    assert world.api(world.outsider).get(f"/api/v1/conversations/{conv}/pins").status_code == 404
    assert world.api(world.guest).post(f"/api/v1/messages/{a['id']}/pin").status_code == 404
    assert world.api(None).post(f"/api/v1/messages/{a['id']}/pin").status_code == 401
    assert world.api(world.member).post("/api/v1/messages/0/pin").status_code == 404


def test_saved_messages_are_personal(world: World, conv: int) -> None:
    a = send(world, world.member, conv, "重要")
    private = create_conversation(world, world.owner, "private", "秘密", member_ids=[world.member.user.pk])
    b = send(world, world.owner, private, "私密重要")
    api = world.api(world.member)
    assert api.post(f"/api/v1/messages/{a['id']}/save").status_code == 200
    assert api.post(f"/api/v1/messages/{a['id']}/save").status_code == 200  # idempotent
    assert api.post(f"/api/v1/messages/{b['id']}/save").status_code == 200
    saved = api.get("/api/v1/saved", workspace=world.workspace.pk).json()["saved"]
    assert [s["message"]["id"] for s in saved] == [b["id"], a["id"]]
    assert world.api(world.member2).get("/api/v1/saved", workspace=world.workspace.pk).json()["saved"] == []
    # Removed from the private channel: its saved message disappears from the list.
    world.api(world.owner).delete(f"/api/v1/conversations/{private}/members/{world.member.user.pk}")
    saved = api.get("/api/v1/saved", workspace=world.workspace.pk).json()["saved"]
    assert [s["message"]["id"] for s in saved] == [a["id"]]
    assert api.delete(f"/api/v1/messages/{a['id']}/save").status_code == 200
    assert api.get("/api/v1/saved", workspace=world.workspace.pk).json()["saved"] == []
    assert world.api(world.outsider).post(f"/api/v1/messages/{a['id']}/save").status_code == 404
    assert world.api(world.outsider).get("/api/v1/saved", workspace=world.workspace.pk).status_code == 404
    assert world.api(world.guest).post(f"/api/v1/messages/{a['id']}/save").status_code == 404
    assert world.api(None).get("/api/v1/saved", workspace=world.workspace.pk).status_code == 401


# --- threads -------------------------------------------------------------------------------------------------


def test_thread_replies_follow_and_unfollow(world: World, conv: int) -> None:
    root = send(world, world.member, conv, "这批货什么时候到？")
    r1 = send(world, world.member2, conv, "周五", thread_root_id=root["id"])
    send(world, world.owner, conv, "@张三 可能周六", thread_root_id=r1["id"])  # reply to a reply → same thread
    res = world.api(world.member).get(f"/api/v1/messages/{root['id']}/thread")
    assert res.status_code == 200, res.content
    thread = res.json()
    assert thread["root"]["reply_count"] == 2 and thread["root"]["last_reply_at"] is not None
    assert [m["body"] for m in thread["replies"]] == ["周五", "@张三 可能周六"]
    assert thread["following"] is True  # the root's author follows automatically
    # Asking for the thread through a reply gives the same thread.
    assert world.api(world.member).get(f"/api/v1/messages/{r1['id']}/thread").json()["root"]["id"] == root["id"]
    followers = set(ThreadFollow.objects.filter(root_id=root["id"], following=True).values_list("user_id", flat=True))
    assert followers == {world.member.user.pk, world.member2.user.pk, world.owner.user.pk}
    assert world.api(world.member).delete(f"/api/v1/messages/{root['id']}/follow").json() == {"following": False}
    send(world, world.member2, conv, "好的", thread_root_id=root["id"])
    assert world.api(world.member).get(f"/api/v1/messages/{root['id']}/thread").json()["following"] is False
    assert world.api(world.member).post(f"/api/v1/messages/{root['id']}/follow").json() == {"following": True}
    res = world.api(world.member).post(f"/api/v1/messages/{r1['id']}/follow")
    assert res.status_code == 400 and error_code(res) == "not_a_thread_root"
    assert world.api(world.outsider).get(f"/api/v1/messages/{root['id']}/thread").status_code == 404
    assert world.api(world.guest).post(f"/api/v1/messages/{root['id']}/follow").status_code == 404
    assert world.api(None).get(f"/api/v1/messages/{root['id']}/thread").status_code == 401
    assert world.api(world.member).get(f"/api/v1/messages/{root['id']}/thread", limit=0).status_code == 400


# --- forward ---------------------------------------------------------------------------------------------------


def test_forward_into_a_conversation_i_can_post_in(world: World, conv: int) -> None:
    msg = send(world, world.member2, conv, "@张三 客户要 **200 箱**")
    target = create_conversation(world, world.member, "private", "采购", member_ids=[world.admin.user.pk])
    client_id = str(uuid.uuid4())
    res = world.api(world.member).post(
        f"/api/v1/messages/{msg['id']}/forward",
        {"conversation_id": target, "client_id": client_id, "comment": "看这个"},
    )
    assert res.status_code == 201, res.content
    fwd = res.json()
    assert fwd["forwarded_from_id"] == msg["id"] and fwd["conversation_id"] == target
    assert fwd["body"].startswith("看这个") and "200 箱" in fwd["body"] and "<blockquote>" in fwd["html"]
    assert fwd["mentions"] == []  # the quoted @mention does not ping again
    again = world.api(world.member).post(
        f"/api/v1/messages/{msg['id']}/forward",
        {"conversation_id": target, "client_id": client_id, "comment": "看这个"},
    )
    assert again.status_code == 200 and again.json()["id"] == fwd["id"]
    # Cannot forward into a conversation one cannot post in, nor read what one cannot read.
    other = create_conversation(world, world.owner, "private", "老板")
    res = world.api(world.member).post(
        f"/api/v1/messages/{msg['id']}/forward", {"conversation_id": other, "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 404
    secret = send(world, world.owner, other, "机密")
    res = world.api(world.member).post(
        f"/api/v1/messages/{secret['id']}/forward", {"conversation_id": target, "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 404
    public = create_conversation(world, world.owner, "public", "公告")
    res = world.api(world.member).post(
        f"/api/v1/messages/{msg['id']}/forward", {"conversation_id": public, "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 403 and error_code(res) == "not_a_participant"
    res = world.api(world.member).post(f"/api/v1/messages/{msg['id']}/forward", {"conversation_id": target})
    assert res.status_code == 422
    assert (
        world.api(world.outsider)
        .post(f"/api/v1/messages/{msg['id']}/forward", {"conversation_id": target, "client_id": str(uuid.uuid4())})
        .status_code
        == 404
    )


# --- @all -------------------------------------------------------------------------------------------------------


def test_broadcast_mention_restricted_in_big_channels(world: World, conv: int) -> None:
    world.workspace.broadcast_mention_threshold = 2
    world.workspace.save()
    res = world.api(world.member).post(
        f"/api/v1/conversations/{conv}/messages", {"body": "@all 开会", "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 403 and error_code(res) == "broadcast_not_allowed"
    assert send(world, world.owner, conv, "@all 开会")["id"]  # the channel's manager may
    msg = send(world, world.member, conv, "普通消息")
    res = world.api(world.member).patch(f"/api/v1/messages/{msg['id']}", {"body": "@channel 改成广播"})
    assert res.status_code == 403
    world.workspace.broadcast_mention_threshold = 50
    world.workspace.save()
    assert send(world, world.member, conv, "@所有人 小频道随便用")["id"]


def test_send_query_count_does_not_grow_with_channel_size(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hub.models import Member
    from tests.conftest import make_persona

    small = create_conversation(world, world.owner, "public", "小", member_ids=[world.member.user.pk])
    crowd = []
    for i in range(40):
        persona = make_persona(f"staff{i}@tea.test", f"员工{i}")
        Member.objects.create(workspace=world.workspace, user=persona.user, role=Member.Role.MEMBER)
        crowd.append(persona.user.pk)
    big = create_conversation(world, world.owner, "public", "大", member_ids=[world.member.user.pk, *crowd])

    def count(conv: int) -> int:
        send(world, world.owner, conv, "warm-up")
        with CaptureQueriesContext(connection) as ctx:
            send(world, world.owner, conv, "普通消息，没有提到任何人")
        return len(ctx.captured_queries)

    small_count = count(small)
    assert small_count <= 16, small_count
    assert count(big) == small_count


def test_forward_never_crosses_workspaces(world: World, conv: int) -> None:
    from hub.models import Member

    msg = send(world, world.member, conv, "内部价格")
    # The member also belongs to the other company.
    Member.objects.create(workspace=world.other_workspace, user=world.member.user, role=Member.Role.MEMBER)
    res = world.api(world.member).post(
        "/api/v1/conversations", {"workspace_id": world.other_workspace.pk, "kind": "private", "name": "别家"}
    )
    assert res.status_code == 201, res.content
    elsewhere = res.json()["id"]
    res = world.api(world.member).post(
        f"/api/v1/messages/{msg['id']}/forward", {"conversation_id": elsewhere, "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 404
    assert world.api(world.member).get(f"/api/v1/conversations/{elsewhere}/messages").json()["messages"] == []


def test_reactions_are_bounded(world: World, conv: int) -> None:
    from messaging.actions import messages as message_actions

    msg = send(world, world.member, conv)
    path = f"/api/v1/messages/{msg['id']}/reactions"
    symbols = [chr(0x1F600 + i) for i in range(25)]
    for emoji in symbols[: message_actions.MAX_REACTIONS_PER_PERSON]:
        assert world.api(world.member2).post(path, {"emoji": emoji}).status_code == 200
    res = world.api(world.member2).post(path, {"emoji": symbols[-1]})
    assert res.status_code == 400 and error_code(res) == "too_many_reactions"
    # Taking one back makes room again; others still react.
    assert world.api(world.member2).post(path, {"emoji": symbols[0]}).json()["added"] is False
    assert world.api(world.member2).post(path, {"emoji": symbols[-1]}).json()["added"] is True
    assert world.api(world.owner).post(path, {"emoji": symbols[1]}).json()["added"] is True


@pytest.mark.parametrize("limit", [0, 201])
def test_history_and_thread_pages_refuse_a_bad_limit(world: World, conv: int, limit: int) -> None:
    root = send(world, world.owner, conv, "根消息")
    api = world.api(world.owner)
    for path in (f"/api/v1/conversations/{conv}/messages", f"/api/v1/messages/{root['id']}/thread"):
        res = api.get(path, limit=limit)
        assert res.status_code == 400, (path, res.content)
        assert error_code(res) == "invalid_limit"
