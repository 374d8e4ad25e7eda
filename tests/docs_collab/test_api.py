"""HTTP API of documents: create, list, get, rename, access, permissions, export."""

from __future__ import annotations

from typing import Any

import pytest

from docs_collab.models import Document
from messaging import actions as messaging_actions
from messaging.models import Conversation, Message
from tests.conftest import World
from tests.docs_collab.conftest import make_document, member_of, write_text

pytestmark = pytest.mark.django_db


def _channel(world: World, kind: str = Conversation.Kind.PUBLIC, name: str = "采购") -> Conversation:
    return messaging_actions.check_create_conversation(member_of(world, world.owner), kind, name)


def test_create_returns_id_and_title(world: World) -> None:
    response = world.api(world.member).post(
        "/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "  报价单模板 "}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "报价单模板" and isinstance(body["id"], int)
    assert body["role"] == "owner"
    assert body["socket_path"] == f"/ws/docs/{body['id']}/"


def test_create_bad_input(world: World) -> None:
    api = world.api(world.member)
    ws = world.workspace.pk
    assert (
        api.post("/api/v1/documents", {"workspace_id": ws, "title": "   "}).json()["error"]["code"] == "title_required"
    )
    assert (
        api.post("/api/v1/documents", {"workspace_id": ws, "title": "x" * 201}).json()["error"]["code"]
        == "invalid_title"
    )
    assert api.post("/api/v1/documents", {"workspace_id": ws}).status_code == 422
    assert api.post("/api/v1/documents", {"workspace_id": "abc", "title": "t"}).status_code == 422
    response = api.post("/api/v1/documents", {"workspace_id": ws, "title": "t", "default_access": "admin"})
    assert response.status_code == 422


def test_outsider_gets_404_everywhere(world: World) -> None:
    document = make_document(world)
    api = world.api(world.outsider)
    assert api.post("/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "x"}).status_code == 404
    for path in ("", "/versions", "/export"):
        response = api.get(f"/api/v1/documents/{document.pk}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert api.patch(f"/api/v1/documents/{document.pk}", {"title": "pwned"}).status_code == 404
    assert api.get("/api/v1/documents", workspace=world.workspace.pk).status_code == 404
    assert world.api(None).get(f"/api/v1/documents/{document.pk}").status_code == 401


def test_create_in_conversation_posts_a_card(world: World) -> None:
    channel = _channel(world)
    messaging_actions.check_join_conversation(member_of(world, world.member), channel)
    response = world.api(world.member).post(
        "/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "周报", "conversation_id": channel.pk}
    )
    assert response.status_code == 201, response.content
    card = Message.objects.filter(conversation=channel).order_by("-seq").first()
    assert card is not None and f"/d/{response.json()['id']}/" in card.body and "周报" in card.body
    assert card.blocks == [{"type": "document", "document_id": response.json()["id"]}]


def test_conversation_of_another_workspace_is_404(world: World) -> None:
    from hub.models import Member

    other_owner = Member.objects.get(workspace=world.other_workspace, user=world.outsider.user)
    foreign = messaging_actions.check_create_conversation(other_owner, Conversation.Kind.PUBLIC, "foreign")
    response = world.api(world.member).post(
        "/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "x", "conversation_id": foreign.pk}
    )
    assert response.status_code == 404


def test_guest_sees_only_documents_of_channels_shared_with_them(world: World) -> None:
    shared = _channel(world, name="客户群")
    messaging_actions.check_share(member_of(world, world.owner), shared, world.customer)
    in_shared = make_document(world, title="给客户的方案", conversation=shared)
    private = make_document(world, title="内部成本")
    api = world.api(world.guest)
    listed = {d["id"] for d in api.get("/api/v1/documents", workspace=world.workspace.pk).json()}
    assert listed == {in_shared.pk}
    assert api.get(f"/api/v1/documents/{in_shared.pk}").json()["role"] == "edit"
    assert api.get(f"/api/v1/documents/{private.pk}").status_code == 404
    assert world.api(world.supplier_guest).get(f"/api/v1/documents/{in_shared.pk}").status_code == 404
    # guests create documents only inside their shared channels
    response = api.post("/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "x"})
    assert response.status_code == 404
    response = api.post(
        "/api/v1/documents", {"workspace_id": world.workspace.pk, "title": "x", "conversation_id": shared.pk}
    )
    assert response.status_code == 201


def test_explicit_grant_does_not_leak_to_a_guest_outside_shared_channels(world: World) -> None:
    private = make_document(world, title="内部")
    owner_api = world.api(world.owner)
    response = owner_api.post(
        f"/api/v1/documents/{private.pk}/permissions", {"user_id": world.guest.user.pk, "role": "edit"}
    )
    assert response.status_code == 200
    assert world.api(world.guest).get(f"/api/v1/documents/{private.pk}").status_code == 404


def test_private_channel_document_is_invisible_to_non_participants(world: World) -> None:
    private = messaging_actions.check_create_conversation(
        member_of(world, world.owner), Conversation.Kind.PRIVATE, "董事会"
    )
    document = make_document(world, conversation=private)
    assert world.api(world.member).get(f"/api/v1/documents/{document.pk}").status_code == 404
    listed = world.api(world.member).get("/api/v1/documents", workspace=world.workspace.pk).json()
    assert document.pk not in {d["id"] for d in listed}


def test_view_only_default_and_overrides(world: World) -> None:
    document = make_document(world, default_access=Document.Access.VIEW)
    member_api = world.api(world.member)
    assert member_api.get(f"/api/v1/documents/{document.pk}").json()["role"] == "view"
    response = member_api.patch(f"/api/v1/documents/{document.pk}", {"title": "renamed"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "document_edit_required"
    owner_api = world.api(world.owner)
    assert (
        owner_api.post(
            f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.member.user.pk, "role": "edit"}
        ).status_code
        == 200
    )
    assert member_api.patch(f"/api/v1/documents/{document.pk}", {"title": "renamed"}).json()["title"] == "renamed"
    # members cannot hand out access; owners cannot remove the last owner
    response = member_api.post(
        f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.member2.user.pk, "role": "edit"}
    )
    assert response.status_code == 403
    response = owner_api.post(
        f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.owner.user.pk, "role": None}
    )
    assert response.json()["error"]["code"] == "last_owner"
    response = owner_api.post(
        f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.outsider.user.pk, "role": "edit"}
    )
    assert response.status_code == 404
    # a per-user override can also lower access
    owner_api.patch(f"/api/v1/documents/{document.pk}", {"default_access": "edit"})
    owner_api.post(f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.member2.user.pk, "role": "view"})
    assert world.api(world.member2).get(f"/api/v1/documents/{document.pk}").json()["role"] == "view"
    owner_api.patch(f"/api/v1/documents/{document.pk}", {"default_access": "none"})
    assert world.api(world.admin).get(f"/api/v1/documents/{document.pk}").status_code == 404


def test_list_and_get(world: World) -> None:
    first = make_document(world, title="一")
    second = make_document(world, world.member, title="二")
    listed = world.api(world.member2).get("/api/v1/documents", workspace=world.workspace.pk).json()
    assert {d["id"] for d in listed} == {first.pk, second.pk}
    body = world.api(world.member).get(f"/api/v1/documents/{second.pk}").json()
    assert body["role"] == "owner" and body["editing_now"] == 0
    assert body["permissions"] == [{"user_id": world.member.user.pk, "role": "owner"}]
    assert world.api(world.member).get(f"/api/v1/documents/{first.pk}").json()["permissions"] is None


def test_delete_is_owner_only_and_hides_the_document(world: World) -> None:
    document = make_document(world)
    assert world.api(world.member).delete(f"/api/v1/documents/{document.pk}").status_code == 403
    assert world.api(world.owner).delete(f"/api/v1/documents/{document.pk}").status_code == 204
    assert world.api(world.owner).get(f"/api/v1/documents/{document.pk}").status_code == 404


def test_export_markdown_and_sanitised_html(world: World, build_rich: Any) -> None:
    document = make_document(world, title="<b>标题</b>")
    build_rich(document)
    api = world.api(world.member)
    md = api.get(f"/api/v1/documents/{document.pk}/export", format="markdown")
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    text = md.content.decode()
    assert "## 采购计划" in text
    assert "**加粗**" in text and "[官网](https://example.cn)" in text
    assert "javascript:" not in text  # unsafe link targets are dropped in Markdown too
    assert "- [x] 已完成" in text and "- [ ] 待办" in text
    assert "1. 第一" in text and "| 品名 | 数量 |" in text
    html = api.get(f"/api/v1/documents/{document.pk}/export", format="html")
    assert html.status_code == 200 and html["Content-Disposition"].startswith("attachment")
    page = html.content.decode()
    assert "<h2>采购计划</h2>" in page and "<strong>加粗</strong>" in page
    assert "<script" not in page and "javascript:" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the hostile alt text stays inert text
    assert "&lt;b&gt;标题&lt;/b&gt;" in page
    assert api.get(f"/api/v1/documents/{document.pk}/export", format="pdf").status_code == 422


def test_empty_document_exports(world: World) -> None:
    document = make_document(world)
    assert world.api(world.owner).get(f"/api/v1/documents/{document.pk}/export").content == b"\n"
    write_text(document, "纯文本")
    assert world.api(world.owner).get(f"/api/v1/documents/{document.pk}/export").content.decode() == "纯文本\n"


def test_activity_says_who_changed_what_when_and_survives_compaction(world: World) -> None:
    from docs_collab import store

    document = make_document(world)
    write_text(document, "by the owner", world.owner)
    write_text(document, "by a member", world.member)
    write_text(document, "by the member again", world.member)
    store.compact(document.pk)
    body = world.api(world.member2).get(f"/api/v1/documents/{document.pk}/activity").json()
    by_author = {row["author_id"]: row["updates"] for row in body}
    assert by_author == {world.owner.user.pk: 1, world.member.user.pk: 2}
    assert world.api(world.outsider).get(f"/api/v1/documents/{document.pk}/activity").status_code == 404
    assert world.api(world.guest).get(f"/api/v1/documents/{document.pk}/activity").status_code == 404
