"""Documents joining the rest of the hub: their text in search (debounced, permission filtered)
and @mentions inside a document reaching the person in chat."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from pycrdt import XmlElement, XmlFragment, XmlText

from docs_collab import actions, content, search, store
from docs_collab.access import access_document
from docs_collab.models import DocMention, Document
from hub.search import indexer
from messaging.models import Conversation, Message
from tests.conftest import Persona, World
from tests.docs_collab.conftest import make_document, write_text


@pytest.fixture(autouse=True)
def search_index_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    return Path(settings.SEARCH_INDEX_DIR)


@pytest.fixture
def no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "QUIET_SECONDS", 0.0)


def write_mention(document: Document, user_id: int | str, label: str, author: Persona | None = None) -> None:
    base = store.build_doc(store.load_state(document.pk))
    updates: list[bytes] = []
    base.observe(lambda event: updates.append(event.update))
    paragraph = XmlElement("paragraph", {}, [XmlText("请 ")])
    base.get(content.FRAGMENT, type=XmlFragment).children.append(paragraph)
    paragraph.children.append(XmlElement("mention", {"id": str(user_id), "label": label}))
    paragraph.children.append(XmlText(" 确认价格"))
    store.append_batches(document.pk, [(author.user.pk if author else None, updates)])


def doc_hits(world: World, persona: Persona, q: str) -> list[int]:
    indexer.index_pending()
    response = world.api(persona).get("/api/v1/documents/search", workspace=world.workspace.pk, q=q)
    assert response.status_code == 200, response.content
    return [hit["id"] for hit in response.json()]


# --- content -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mentions_read_as_text_and_as_user_ids(world: World) -> None:
    document = make_document(world)
    write_mention(document, world.member.user.pk, "张三")
    write_mention(document, "not-a-number", "坏数据")
    doc = store.build_doc(store.load_state(document.pk))
    assert content.mentioned_user_ids(doc) == {world.member.user.pk}
    assert "请 @张三 确认价格" in content.plain_text(doc)
    assert "@张三" in content.to_markdown(doc)
    assert "@张三" in content.to_html(doc)


# --- search ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_document_text_is_found_in_chinese_by_who_may_read_it(world: World, no_debounce: None) -> None:
    document = make_document(world, title="春茶采购计划")
    write_text(document, "今年龙井茶的采购数量需要再确认一次")
    assert doc_hits(world, world.owner, "采购数量") == [document.pk]
    assert doc_hits(world, world.member, "龙井") == [document.pk]  # staff inherit edit access
    assert doc_hits(world, world.owner, "春茶") == [document.pk]  # the title is searchable too
    assert doc_hits(world, world.guest, "龙井") == []  # not in a conversation shared with them
    response = world.api(world.owner).get("/api/v1/documents/search", workspace=world.workspace.pk, q="采购数量")
    assert "<mark>采购数量</mark>" in response.json()[0]["snippet"]
    # Another workspace's people get a 404 for this workspace, and nothing from their own.
    assert (
        world.api(world.outsider).get("/api/v1/documents/search", workspace=world.workspace.pk, q="龙井").status_code
        == 404
    )


@pytest.mark.django_db
def test_lowered_access_and_deletion_hide_a_document_at_once(world: World, no_debounce: None) -> None:
    document = make_document(world)
    write_text(document, "报价单草稿")
    assert doc_hits(world, world.member, "报价单") == [document.pk]
    actions.check_update_document(access_document(world.owner.user, document.pk), None, "none")
    # Filtered at query time, before any re-index.
    assert doc_hits(world, world.member, "报价单") == []
    assert doc_hits(world, world.owner, "报价单") == [document.pk]  # the owner keeps access
    actions.check_delete_document(access_document(world.owner.user, document.pk))
    assert doc_hits(world, world.owner, "报价单") == []
    assert search.DocumentsSource().versions(world.workspace.pk) == {}


@pytest.mark.django_db
def test_rename_is_reindexed(world: World, no_debounce: None) -> None:
    document = make_document(world, title="旧标题")
    assert doc_hits(world, world.owner, "旧标题") == [document.pk]
    actions.check_update_document(access_document(world.owner.user, document.pk), "新的标题", None)
    assert doc_hits(world, world.owner, "新的标题") == [document.pk]
    assert doc_hits(world, world.owner, "旧标题") == []


@pytest.mark.django_db
def test_indexing_waits_for_a_pause_in_the_edits(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "QUIET_SECONDS", 3600.0)
    monkeypatch.setattr(search, "MAX_REVISIONS_BEHIND", 5)
    source = search.DocumentsSource()
    document = make_document(world)
    write_text(document, "第一行")
    assert world.workspace.pk not in source.dirty_workspaces()  # being edited: not yet
    assert source.pending(world.workspace.pk, 1000).empty
    for i in range(5):
        write_text(document, f"第{i}行")
    # Edits that never pause still reach the index after MAX_REVISIONS_BEHIND changes.
    batch = source.pending(world.workspace.pk, 1000)
    assert [d.object_id for d in batch.upserts] == [document.pk]
    assert "第4行" in batch.upserts[0].text


# --- @mentions ---------------------------------------------------------------------------------


def _notes(world: World, persona: Persona) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation__kind=Conversation.Kind.DM,
            conversation__participants__user=persona.user,
            sender=world.owner.user,
        ).order_by("pk")
    )


@pytest.mark.django_db
def test_a_mention_notifies_the_person_once_by_a_direct_message(world: World) -> None:
    document = make_document(world, title="周报")
    notified = actions.do_notify_mentions(document.pk, world.owner.user.pk, {world.member.user.pk})
    assert notified == [world.member.user.pk]
    notes = _notes(world, world.member)
    assert len(notes) == 1
    assert f"/app/w/{world.workspace.pk}/d/{document.pk}/" in notes[0].body and "周报" in notes[0].body
    assert world.member.user.pk in (notes[0].mentions or [])
    # Mentioned again (another process saw the same edit, or the mention was retyped): once.
    assert actions.do_notify_mentions(document.pk, world.owner.user.pk, {world.member.user.pk}) == []
    assert len(_notes(world, world.member)) == 1
    assert DocMention.objects.filter(document=document).count() == 1


@pytest.mark.django_db
def test_mentions_of_people_who_cannot_read_the_document_are_ignored(world: World) -> None:
    document = make_document(world, default_access="none")
    ids = {world.member.user.pk, world.outsider.user.pk, world.guest.user.pk, 999_999, world.owner.user.pk}
    assert actions.do_notify_mentions(document.pk, world.owner.user.pk, ids) == []
    assert not DocMention.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_mention_typed_in_the_editor_is_notified_after_it_is_persisted(
    world: World, connect: Any, doc_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = await database_sync_to_async(make_document)(world)
    alice = await connect(document.pk, world.owner)
    scans: list[int] = []
    real_scan = content.mentioned_user_ids

    def counting_scan(doc: Any) -> set[int]:
        scans.append(1)
        return real_scan(doc)

    monkeypatch.setattr(content, "mentioned_user_ids", counting_scan)
    alice.peer.paragraph("请 ")
    await alice.push()
    for _ in range(10):  # several flushes of plain typing: the tree is never walked for them
        await alice.pump(timeout=0.05)
    assert scans == []
    paragraph = list(alice.peer.fragment.children)[-1]
    assert isinstance(paragraph, XmlElement)
    paragraph.children.append(XmlElement("mention", {"id": str(world.member.user.pk), "label": "张三"}))
    await alice.push()

    async def notified() -> bool:
        return bool(await database_sync_to_async(_notes)(world, world.member))

    for _ in range(100):
        if await notified():
            break
        await alice.pump(timeout=0.05)
        await asyncio.sleep(0.05)
    assert await notified()
    assert len(scans) == 1


@pytest.mark.django_db
def test_mentionable_lists_members_who_may_read_the_document(world: World) -> None:
    document = make_document(world)
    listed = world.api(world.owner).get(f"/api/v1/documents/{document.pk}/mentionable")
    assert listed.status_code == 200
    ids = {p["user_id"] for p in listed.json()}
    assert {world.owner.user.pk, world.member.user.pk, world.member2.user.pk} <= ids
    assert world.guest.user.pk not in ids and world.outsider.user.pk not in ids
    found = world.api(world.owner).get(f"/api/v1/documents/{document.pk}/mentionable", q="张")
    assert [p["name"] for p in found.json()] == ["张三"]
    assert world.api(world.outsider).get(f"/api/v1/documents/{document.pk}/mentionable").status_code == 404
