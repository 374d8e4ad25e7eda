"""Several kinds in one index: documents through ``GET /api/v1/search`` (``types=`` and
``kind:``), and the permission filter combining every kind's grant (allow-list or mask)."""

from __future__ import annotations

from typing import Any

import pytest

from docs_collab import search as document_search
from hub.search import indexer
from messaging.models import Conversation
from messaging.search import Grant, combine_grants
from tests.conftest import World
from tests.docs_collab.conftest import make_document, write_text
from tests.search.conftest import make_channel, search, send


@pytest.fixture(autouse=True)
def no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_search, "QUIET_SECONDS", 0.0)


def kinds_found(world: World, persona: Any, q: str, **params: Any) -> tuple[list[tuple[str, int]], int]:
    indexer.index_pending()
    res = search(world, persona, q, **params)
    assert res.status_code == 200, res.content
    body = res.json()
    ids = [
        (r["kind"], r["message_id"] if r["kind"] == "message" else r["document"]["document_id"])
        for r in body["results"]
    ]
    return ids, body["total"]


def test_documents_are_a_kind_of_result(world: World) -> None:
    conv = make_channel(world)
    message = send(world, world.owner, conv, "春茶采购要快")["id"]
    document = make_document(world, title="春茶采购计划")
    write_text(document, "今年龙井茶的采购数量需要再确认一次")
    assert kinds_found(world, world.member, "采购") == ([("message", message)], 1)  # default: messages
    found, total = kinds_found(world, world.member, "采购", types="message,document")
    assert sorted(found) == [("document", document.pk), ("message", message)] and total == 2
    assert kinds_found(world, world.member, "采购 kind:文档") == ([("document", document.pk)], 1)
    assert kinds_found(world, world.member, "采购 kind:document", types="message") == ([], 0)
    result = search(world, world.member, "采购数量", types="document").json()["results"][0]
    assert result["document"] == {
        "document_id": document.pk,
        "title": "春茶采购计划",
        "conversation_id": None,
        "url": f"/app/w/{world.workspace.pk}/d/{document.pk}/",
    }
    assert "<mark>采购数量</mark>" in result["snippet"]
    assert kinds_found(world, world.guest, "采购", types="message,document") == ([], 0)


def test_the_exclusion_mask_covers_every_kind(world: World) -> None:
    # The member reads three channels and not the private one: the filter becomes a mask of the
    # unreadable keys, which must name the private channel's document too — or the total
    # would count it (results are re-checked; totals are not).
    for name in ("一", "二", "三"):
        make_channel(world, name)
    private = make_channel(world, "机密", kind="private")
    secret = make_document(world, title="机密采购价", conversation=Conversation.objects.get(pk=private))
    write_text(secret, "采购底价")
    assert kinds_found(world, world.owner, "采购", types="document") == ([("document", secret.pk)], 1)
    assert kinds_found(world, world.member, "采购", types="message,document") == ([], 0)


def test_combining_grants() -> None:
    messages = Grant(allowed=("conversation:1", "conversation:2", "conversation:3"), denied=("conversation:4",))
    documents = Grant(allowed=(), denied=("document:9",))
    assert combine_grants([messages, documents]) == (None, ("conversation:4", "document:9"))
    # A kind that cannot list what it denies (a guest's records) forces the allow-list.
    records = Grant(allowed=("record-party:1:customer:7",), denied=None)
    assert combine_grants([messages, records]) == (
        ("conversation:1", "conversation:2", "conversation:3", "record-party:1:customer:7"),
        (),
    )
    few = Grant(allowed=("conversation:1",), denied=("conversation:2", "conversation:3"))
    assert combine_grants([few]) == (("conversation:1",), ())
