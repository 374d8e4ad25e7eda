"""Conversations over HTTP: join, members, leave, details, archive, per-person settings,
ad-hoc groups, conversion, sharing with partner organisations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from messaging.events import LAYER_ACCESS, user_group
from messaging.models import Participant
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, events, send, shared_channel


def _receive(channel: str, timeout: float = 1.0) -> dict[str, Any] | None:
    layer = get_channel_layer()

    async def go() -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None

    return async_to_sync(go)()


def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


# --- join / browse -----------------------------------------------------------------------------


def test_member_browses_and_joins_public_channel(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告")
    listing = world.api(world.member).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    row = next(c for c in listing if c["id"] == conv)
    assert row["joined"] is False
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/join")
    assert res.status_code == 200, res.content
    assert res.json()["joined"] is True
    joined = [e for e in events(world, world.member, conv) if e["type"] == "member.joined"]
    assert joined[-1]["user_ids"] == [world.member.user.pk]
    # Joining twice is harmless and logs nothing new.
    before = len(events(world, world.member, conv))
    assert world.api(world.member).post(f"/api/v1/conversations/{conv}/join").status_code == 200
    assert len(events(world, world.member, conv)) == before


def test_join_refused_for_guest_private_outsider_and_anonymous(world: World) -> None:
    public = create_conversation(world, world.owner, "public", "公告")
    private = create_conversation(world, world.owner, "private", "管理层")
    shared = shared_channel(world)
    res = world.api(world.guest).post(f"/api/v1/conversations/{shared}/join")
    assert res.status_code == 403 and error_code(res) == "guest"
    assert world.api(world.guest).post(f"/api/v1/conversations/{public}/join").status_code == 404
    assert world.api(world.member).post(f"/api/v1/conversations/{private}/join").status_code == 404
    assert world.api(world.outsider).post(f"/api/v1/conversations/{public}/join").status_code == 404
    assert world.api(None).post(f"/api/v1/conversations/{public}/join").status_code == 401
    assert world.api(world.member).post("/api/v1/conversations/999999/join").status_code == 404


# --- members ---------------------------------------------------------------------------------------


def test_manager_adds_and_removes_members_of_private_channel(world: World) -> None:
    conv = create_conversation(world, world.owner, "private", "管理层")
    res = world.api(world.owner).post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.member.user.pk]})
    assert res.status_code == 200, res.content
    assert {m["user_id"] for m in res.json()["members"]} == {world.owner.user.pk, world.member.user.pk}
    # A plain member may read now, but not invite (private channels are invite-only).
    assert world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").status_code == 200
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.member2.user.pk]})
    assert res.status_code == 403 and error_code(res) == "not_a_manager"
    res = world.api(world.member).delete(f"/api/v1/conversations/{conv}/members/{world.owner.user.pk}")
    assert res.status_code == 403
    # The workspace admin may manage any channel.
    res = world.api(world.admin).delete(f"/api/v1/conversations/{conv}/members/{world.member.user.pk}")
    assert res.status_code == 404  # admins cannot see a private channel they are not in
    res = world.api(world.owner).delete(f"/api/v1/conversations/{conv}/members/{world.member.user.pk}")
    assert res.status_code == 200
    assert world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").status_code == 404
    left = [e for e in events(world, world.owner, conv) if e["type"] == "member.left"]
    assert left[-1]["user_ids"] == [world.member.user.pk] and left[-1]["removed"] is True


def test_add_members_bad_input(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告")
    api = world.api(world.owner)
    assert api.post(f"/api/v1/conversations/{conv}/members", {"user_ids": []}).status_code == 422
    assert api.post(f"/api/v1/conversations/{conv}/members", {"user_ids": "x"}).status_code == 422
    res = api.post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.outsider.user.pk]})
    assert res.status_code == 404  # another workspace's person is "not found", not "forbidden"
    # A guest joins a channel only once it is shared with their organisation.
    res = api.post(f"/api/v1/conversations/{conv}/members", {"user_ids": [world.guest.user.pk]})
    assert res.status_code == 403 and error_code(res) == "not_shared"
    assert world.api(world.outsider).post(f"/api/v1/conversations/{conv}/members", {"user_ids": [1]}).status_code == 404
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member.user.pk])
    res = api.post(f"/api/v1/conversations/{dm}/members", {"user_ids": [world.member2.user.pk]})
    assert res.status_code == 403 and error_code(res) == "is_dm"


def test_members_list_marks_external_people(world: World) -> None:
    conv = shared_channel(world)
    for persona in (world.owner, world.guest):
        res = world.api(persona).get(f"/api/v1/conversations/{conv}/members")
        assert res.status_code == 200, res.content
        people = {m["user_id"]: m for m in res.json()["members"]}
        assert people[world.guest.user.pk]["is_external"] is True
        assert people[world.guest.user.pk]["partner_name"] == "西湖茶馆"
        assert people[world.member.user.pk]["is_external"] is False
        assert world.supplier_guest.user.pk not in people
    detail = world.api(world.owner).get(f"/api/v1/conversations/{conv}").json()
    assert detail["shared_with"] == [world.customer.pk]
    assert detail["partners"][0]["name"] == "西湖茶馆"
    assert detail["external_member_count"] == 1
    assert world.api(world.supplier_guest).get(f"/api/v1/conversations/{conv}/members").status_code == 404
    assert world.api(world.outsider).get(f"/api/v1/conversations/{conv}/members").status_code == 404
    assert world.api(None).get(f"/api/v1/conversations/{conv}/members").status_code == 401


def test_leave(world: World) -> None:
    conv = create_conversation(world, world.owner, "private", "管理层", member_ids=[world.member.user.pk])
    assert world.api(world.member).post(f"/api/v1/conversations/{conv}/leave").status_code == 200
    assert world.api(world.member).post(f"/api/v1/conversations/{conv}/leave").status_code == 404
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member.user.pk])
    res = world.api(world.member).post(f"/api/v1/conversations/{dm}/leave")
    assert res.status_code == 403 and error_code(res) == "is_dm"
    public = create_conversation(world, world.owner, "public", "公告")
    res = world.api(world.member).post(f"/api/v1/conversations/{public}/leave")
    assert res.status_code == 409 and error_code(res) == "not_a_participant"
    assert world.api(world.outsider).post(f"/api/v1/conversations/{public}/leave").status_code == 404


# --- details and archive ------------------------------------------------------------------------------


def test_topic_by_participant_name_by_manager(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告", member_ids=[world.member.user.pk])
    res = world.api(world.member).patch(f"/api/v1/conversations/{conv}", {"topic": "本周  促销\n活动"})
    assert res.status_code == 200, res.content
    assert res.json()["topic"] == "本周 促销 活动"  # one line of plain text
    res = world.api(world.member).patch(f"/api/v1/conversations/{conv}", {"name": "新名字"})
    assert res.status_code == 403 and error_code(res) == "not_a_manager"
    res = world.api(world.owner).patch(f"/api/v1/conversations/{conv}", {"name": "新名字", "purpose": "通知"})
    assert res.status_code == 200 and res.json()["name"] == "新名字"
    updated = [e for e in events(world, world.owner, conv) if e["type"] == "conversation.updated"]
    assert [sorted(e["changed"]) for e in updated] == [["topic"], ["name", "purpose"]]
    assert updated[-1]["conversation"]["last_seq"] == updated[-1]["seq"]


def test_details_bad_input_and_strangers(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告")
    shared = shared_channel(world)
    api = world.api(world.owner)
    assert error_code(api.patch(f"/api/v1/conversations/{conv}", {"topic": "a\x00b"})) == "invalid_text"
    assert api.patch(f"/api/v1/conversations/{conv}", {"topic": "x" * 251}).status_code == 422
    assert error_code(api.patch(f"/api/v1/conversations/{conv}", {})) == "nothing_to_change"
    assert error_code(api.patch(f"/api/v1/conversations/{conv}", {"name": "  "})) == "name_required"
    assert world.api(world.guest).patch(f"/api/v1/conversations/{shared}", {"topic": "x"}).status_code == 403
    assert world.api(world.outsider).patch(f"/api/v1/conversations/{conv}", {"topic": "x"}).status_code == 404
    assert world.api(None).patch(f"/api/v1/conversations/{conv}", {"topic": "x"}).status_code == 401
    # Not joined: may read a public channel, not change it.
    res = world.api(world.member).patch(f"/api/v1/conversations/{conv}", {"topic": "x"})
    assert res.status_code == 403 and error_code(res) == "not_a_participant"


def test_archive_blocks_posting_until_unarchived(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告", member_ids=[world.member.user.pk])
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/archive")
    assert res.status_code == 403 and error_code(res) == "not_a_manager"
    res = world.api(world.owner).post(f"/api/v1/conversations/{conv}/archive")
    assert res.status_code == 200 and res.json()["archived"] is True
    res = world.api(world.member).post(
        f"/api/v1/conversations/{conv}/messages", {"body": "hi", "client_id": "7b0f7a53-8a43-4b2b-9e2f-0e6c3f1b0a11"}
    )
    assert res.status_code == 403 and error_code(res) == "archived"
    assert world.api(world.owner).post(f"/api/v1/conversations/{conv}/unarchive").json()["archived"] is False
    send(world, world.member, conv)
    assert world.api(world.outsider).post(f"/api/v1/conversations/{conv}/archive").status_code == 404
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member.user.pk])
    assert error_code(world.api(world.owner).post(f"/api/v1/conversations/{dm}/archive")) == "is_dm"


def test_mute_and_notification_level_are_personal(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "公告", member_ids=[world.member.user.pk])
    path = f"/api/v1/conversations/{conv}/notifications"
    res = world.api(world.member).patch(path, {"muted": True, "notification_level": "mentions"})
    assert res.status_code == 200, res.content
    assert res.json() == {"muted": True, "notification_level": "mentions"}
    rows = {
        c["id"]: c for c in world.api(world.member).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    }
    assert rows[conv]["muted"] is True and rows[conv]["notification_level"] == "mentions"
    owner_rows = {
        c["id"]: c for c in world.api(world.owner).get("/api/v1/conversations", workspace=world.workspace.pk).json()
    }
    assert owner_rows[conv]["muted"] is False
    assert world.api(world.member).patch(path, {"notification_level": "loud"}).status_code == 422
    assert world.api(world.member2).patch(path, {"muted": True}).status_code == 403  # not joined
    assert world.api(world.outsider).patch(path, {"muted": True}).status_code == 404
    # A guest of a shared channel has settings too (their row appears on first use).
    shared = shared_channel(world)
    res = world.api(world.guest).patch(f"/api/v1/conversations/{shared}/notifications", {"muted": True})
    assert res.status_code == 200 and res.json()["muted"] is True


# --- ad-hoc groups --------------------------------------------------------------------------------------


def test_group_from_dm_and_from_message_then_named_and_converted(world: World) -> None:
    dm = create_conversation(world, world.member, "dm", "", member_ids=[world.member2.user.pk])
    msg = send(world, world.member2, dm, "报价单需要老板看一下")
    res = world.api(world.member).post(
        "/api/v1/conversations",
        {
            "workspace_id": world.workspace.pk,
            "kind": "group",
            "member_ids": [world.owner.user.pk],
            "from_conversation_id": dm,
            "from_message_id": msg["id"],
        },
    )
    assert res.status_code == 201, res.content
    group = res.json()["id"]
    people = {
        m["user_id"] for m in world.api(world.owner).get(f"/api/v1/conversations/{group}/members").json()["members"]
    }
    assert people == {world.member.user.pk, world.member2.user.pk, world.owner.user.pk}
    first = world.api(world.owner).get(f"/api/v1/conversations/{group}/messages").json()["messages"]
    assert len(first) == 1 and first[0]["forwarded_from_id"] == msg["id"]
    assert "报价单需要老板看一下" in first[0]["body"] and "<blockquote>" in first[0]["html"]
    # Named later by any participant.
    assert world.api(world.member2).patch(f"/api/v1/conversations/{group}", {"name": "报价讨论"}).status_code == 200
    # Converted into a private channel: same id, history kept, converter manages it.
    res = world.api(world.member2).post(f"/api/v1/conversations/{group}/convert", {"kind": "private"})
    assert res.status_code == 200, res.content
    assert res.json()["kind"] == "private" and res.json()["name"] == "报价讨论"
    assert Participant.objects.get(conversation_id=group, user=world.member2.user).role == "manager"
    assert error_code(world.api(world.member2).post(f"/api/v1/conversations/{group}/convert", {})) == "not_a_group"
    assert world.api(world.outsider).post(f"/api/v1/conversations/{group}/convert", {}).status_code == 404


def test_group_from_unreadable_sources_is_404(world: World) -> None:
    private = create_conversation(world, world.owner, "private", "管理层")
    secret = send(world, world.owner, private, "机密")
    base = {
        "workspace_id": world.workspace.pk,
        "kind": "group",
        "member_ids": [world.member2.user.pk, world.admin.user.pk],
    }
    api = world.api(world.member)
    assert api.post("/api/v1/conversations", {**base, "from_message_id": secret["id"]}).status_code == 404
    assert api.post("/api/v1/conversations", {**base, "from_conversation_id": private}).status_code == 404
    res = api.post("/api/v1/conversations", {**base, "kind": "public", "from_conversation_id": private})
    assert res.status_code == 400 and error_code(res) == "invalid_kind"
    assert world.api(world.guest).post("/api/v1/conversations", base).status_code == 404


# --- sharing ----------------------------------------------------------------------------------------------


def test_share_gives_guests_access_and_unshare_takes_it_at_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    conv = create_conversation(world, world.owner, "public", "客户群", member_ids=[world.member.user.pk])
    assert world.api(world.guest).get(f"/api/v1/conversations/{conv}/messages").status_code == 404
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk})
    assert res.status_code == 403  # plain members do not share channels
    res = world.api(world.owner).post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk})
    assert res.status_code == 200 and res.json()["shared_with"] == [world.customer.pk]
    send(world, world.guest, conv, "你们好，我是西湖茶馆的")
    assert world.api(world.supplier_guest).get(f"/api/v1/conversations/{conv}/messages").status_code == 404

    channel = _listen(user_group(world.guest.user.pk))
    with django_capture_on_commit_callbacks(execute=True):
        res = world.api(world.owner).delete(f"/api/v1/conversations/{conv}/share/{world.customer.pk}")
    assert res.status_code == 200 and res.json()["shared_with"] == []
    assert world.api(world.guest).get(f"/api/v1/conversations/{conv}/messages").status_code == 404
    got = _receive(channel)
    assert got is not None and got["type"] == LAYER_ACCESS and got["conversation_id"] == conv
    kinds = [e["type"] for e in events(world, world.owner, conv)]
    assert kinds[-2:] == ["conversation.unshared", "member.left"]
    assert world.api(world.owner).delete(f"/api/v1/conversations/{conv}/share/{world.customer.pk}").status_code == 404


def test_share_bad_input_and_strangers(world: World) -> None:
    conv = create_conversation(world, world.owner, "public", "客户群")
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member.user.pk])
    api = world.api(world.owner)
    assert api.post(f"/api/v1/conversations/{conv}/share", {"partner_id": "abc"}).status_code == 422
    assert api.post(f"/api/v1/conversations/{conv}/share", {"partner_id": 999999}).status_code == 404
    assert (
        error_code(api.post(f"/api/v1/conversations/{dm}/share", {"partner_id": world.customer.pk})) == "not_a_channel"
    )
    other_partner = world.api(world.outsider).post(
        f"/api/v1/workspaces/{world.other_workspace.pk}/partners", {"name": "别家", "kind": "customer"}
    )
    assert other_partner.status_code == 201, other_partner.content
    res = api.post(f"/api/v1/conversations/{conv}/share", {"partner_id": other_partner.json()["id"]})
    assert res.status_code == 404
    res = world.api(world.outsider).post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk})
    assert res.status_code == 404
    assert (
        world.api(None).post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk}).status_code
        == 401
    )
    shared = shared_channel(world, "共享")
    res = world.api(world.guest).delete(f"/api/v1/conversations/{shared}/share/{world.customer.pk}")
    assert res.status_code == 403


@pytest.mark.parametrize("kind", ["private", "group"])
def test_removed_person_socket_is_told(world: World, kind: str, django_capture_on_commit_callbacks: Any) -> None:
    conv = create_conversation(
        world, world.owner, kind, "小组", member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    channel = _listen(user_group(world.member.user.pk))
    with django_capture_on_commit_callbacks(execute=True):
        res = world.api(world.owner).delete(f"/api/v1/conversations/{conv}/members/{world.member.user.pk}")
    assert res.status_code == 200, res.content
    got = _receive(channel)
    assert got is not None and got["type"] == LAYER_ACCESS


def test_group_with_a_guest_cannot_become_a_channel(world: World) -> None:
    shared = shared_channel(world)
    send(world, world.guest, shared, "hi")
    res = world.api(world.guest).post(
        "/api/v1/conversations",
        {
            "workspace_id": world.workspace.pk,
            "kind": "group",
            "member_ids": [world.member.user.pk, world.member2.user.pk],
        },
    )
    assert res.status_code == 201, res.content
    group = res.json()["id"]
    res = world.api(world.member).post(f"/api/v1/conversations/{group}/convert", {"name": "客户小组"})
    assert res.status_code == 400 and error_code(res) == "has_guests"
    res = world.api(world.guest).post(f"/api/v1/conversations/{group}/convert", {"name": "客户小组"})
    assert res.status_code == 403 and error_code(res) == "guest"


def test_group_from_another_workspace_is_404(world: World) -> None:
    from hub.models import Member

    dm = create_conversation(world, world.member, "dm", "", member_ids=[world.member2.user.pk])
    msg = send(world, world.member, dm, "内部")
    Member.objects.create(workspace=world.other_workspace, user=world.member.user, role=Member.Role.MEMBER)
    base = {"workspace_id": world.other_workspace.pk, "kind": "group", "member_ids": [world.outsider.user.pk]}
    api = world.api(world.member)
    assert api.post("/api/v1/conversations", {**base, "from_message_id": msg["id"]}).status_code == 404
    assert api.post("/api/v1/conversations", {**base, "from_conversation_id": dm}).status_code == 404


def test_created_event_carries_its_own_seq(world: World) -> None:
    conv = create_conversation(world, world.owner, "private", "新", member_ids=[world.member.user.pk])
    first = events(world, world.owner, conv)[0]
    assert first["type"] == "conversation.created" and first["seq"] == 1
    assert first["conversation"]["last_seq"] == 1
    assert sorted(first["member_ids"]) == sorted([world.owner.user.pk, world.member.user.pk])
