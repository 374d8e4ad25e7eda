"""Record cards in search: the record source (Chinese, numbers, SKUs, never internal fields),
guest filtering by company, re-indexing on ``record_changed``, ``has:record`` on messages and
the ``record`` kind of ``GET /api/v1/search``."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crm_bridge.cache import upsert_snapshot
from crm_bridge.models import RecordLink, RecordSnapshot
from crm_bridge.sources.base import Record
from hub.search import indexer
from tests.conftest import Persona, World
from tests.crm_bridge.chat_fixtures import Erp


@pytest.fixture(autouse=True)
def search_index(settings: Any, tmp_path: Path) -> None:
    # An index per test (database ids are reused between tests) and no indexing thread: the
    # tests drain the queue themselves.
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    settings.SEARCH_INDEXING = "off"


def cache(erp: Erp, capture: Any, *records: Record) -> list[RecordSnapshot]:
    """Put records in the hub's cache as a sync would (``record_changed`` after commit)."""
    with capture(execute=True):
        return [upsert_snapshot(erp.source, record)[0] for record in records]


def search(world: World, persona: Persona, q: str, **params: Any) -> Any:
    indexer.index_pending()
    res = world.api(persona).get("/api/v1/search", workspace=world.workspace.pk, q=q, **params)
    return res


def numbers(world: World, persona: Persona, q: str, **params: Any) -> list[str]:
    res = search(world, persona, q, types="record", **params)
    assert res.status_code == 200, res.content
    return sorted(r["record"]["number"] for r in res.json()["results"])


@pytest.fixture
def cached(erp: Erp, django_capture_on_commit_callbacks: Any) -> list[RecordSnapshot]:
    return cache(erp, django_capture_on_commit_callbacks, erp.so_mine, erp.so_rival, erp.tea, erp.teahouse)


def test_records_found_by_chinese_number_and_sku(world: World, erp: Erp, cached: list[RecordSnapshot]) -> None:
    assert numbers(world, world.member, "西湖茶馆") == ["C-001", "SO-1001"]  # title / counterparty
    assert numbers(world, world.member, "龙井") == ["SO-1001", "SO-1002", "TEA-500G"]  # lines and product
    assert numbers(world, world.member, "茶行") == ["SO-1002"]  # an n-gram inside 东方茶行
    assert numbers(world, world.member, "so-1001") == ["SO-1001"]  # exact, not SO-1002
    assert numbers(world, world.member, "TEA-500G") == ["SO-1001", "SO-1002", "TEA-500G"]
    assert numbers(world, world.member, "已确认 SO-1002") == ["SO-1002"]  # status label


def test_internal_and_staff_only_fields_are_never_indexed(world: World, erp: Erp, cached: list[RecordSnapshot]) -> None:
    assert numbers(world, world.owner, "让利") == []  # internal notes of the orders
    assert numbers(world, world.owner, "付款慢") == []  # internal notes of the customer
    assert numbers(world, world.owner, "赵顾客") == []  # contacts: public, but staff-only on cards
    assert numbers(world, world.owner, "0571-8888") == ["C-001"]  # a public field


def test_guests_find_only_their_own_companys_records(world: World, erp: Erp, cached: list[RecordSnapshot]) -> None:
    assert numbers(world, world.member, "龙井") == ["SO-1001", "SO-1002", "TEA-500G"]
    assert numbers(world, world.guest, "龙井") == ["SO-1001"]  # the teahouse's order only
    assert numbers(world, world.guest, "东方茶行") == []
    assert numbers(world, world.supplier_guest, "龙井") == []
    # The same through the kind: operator, and the totals never count what they cannot read.
    res = search(world, world.guest, "龙井 kind:record").json()
    assert [r["record"]["number"] for r in res["results"]] == ["SO-1001"] and res["total"] == 1


def test_a_changed_record_is_reindexed_and_a_deleted_one_vanishes(
    world: World, erp: Erp, cached: list[RecordSnapshot], django_capture_on_commit_callbacks: Any
) -> None:
    assert numbers(world, world.member, "加急") == []
    cache(erp, django_capture_on_commit_callbacks, replace(erp.so_rival, title="加急订单", version="2"))
    assert numbers(world, world.member, "加急") == ["SO-1002"]
    assert numbers(world, world.member, "东方茶行 SO-1002") == ["SO-1002"]  # counterparty unchanged
    with django_capture_on_commit_callbacks(execute=True):
        RecordSnapshot.objects.filter(number="SO-1002").delete()
    indexer.index_pending()
    assert "record:" + str(cached[1].pk) not in indexer.get_backend().doc_versions(world.workspace.pk)
    assert indexer.check_workspace(world.workspace.pk).ok
    # A whole source deleted (its snapshots cascade): its records leave the index too.
    with django_capture_on_commit_callbacks(execute=True):
        erp.source.delete()
    indexer.index_pending()
    assert not [d for d in indexer.get_backend().doc_versions(world.workspace.pk) if d.startswith("record:")]
    assert indexer.check_workspace(world.workspace.pk).ok


def test_rebuild_and_consistency_check_cover_records(world: World, erp: Erp, cached: list[RecordSnapshot]) -> None:
    indexer.index_pending()
    assert indexer.check_workspace(world.workspace.pk).ok
    # A change nobody signalled (e.g. a crash right after commit) is drift until a rebuild.
    RecordSnapshot.objects.filter(pk=cached[0].pk).update(title="改过的标题", version="9")
    assert indexer.check_workspace(world.workspace.pk).stale == [f"record:{cached[0].pk}"]
    indexer.rebuild_workspace(world.workspace.pk)
    assert indexer.check_workspace(world.workspace.pk).ok
    assert numbers(world, world.member, "改过的标题") == ["SO-1001"]


def test_result_shape_and_types(world: World, erp: Erp, cached: list[RecordSnapshot], channel: int) -> None:
    res = world.api(world.owner).post(
        f"/api/v1/conversations/{channel}/messages", {"body": "西湖茶馆又来催货了", "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 201, res.content
    # Messages only by default: clients that predate records keep getting what they expect.
    default = search(world, world.member, "西湖茶馆").json()["results"]
    assert [r["kind"] for r in default] == ["message"]
    mixed = search(world, world.member, "西湖茶馆", types="message,record").json()["results"]
    assert sorted(r["kind"] for r in mixed) == ["message", "record", "record"]
    order = next(r for r in mixed if r["kind"] == "record" and r["record"]["number"] == "SO-1001")
    snapshot = cached[0]
    assert order["record"]["ref"] == f"{snapshot.source_id}:{snapshot.record_type}:{snapshot.key}"
    assert order["record"]["counterparty_name"] == "西湖茶馆" and order["message_id"] is None
    assert "<mark>西湖茶馆</mark>" in order["snippet"]
    bad = search(world, world.member, "西湖茶馆", types="message,invoice")
    assert bad.status_code == 422
    assert search(world, world.member, "西湖茶馆 -kind:record").status_code == 400
    assert search(world, world.member, "西湖茶馆 kind:发票").status_code == 400


def test_has_record_finds_messages_linked_to_a_record(
    world: World, erp: Erp, cached: list[RecordSnapshot], channel: int
) -> None:
    def send(body: str) -> int:
        res = world.api(world.owner).post(
            f"/api/v1/conversations/{channel}/messages", {"body": body, "client_id": str(uuid.uuid4())}
        )
        assert res.status_code == 201, res.content
        return int(res.json()["id"])

    linked = send("请看 SO-1001 的发货")
    unknown = send("SO-9999 的发货")  # looks like a reference, but no ERP record behind it
    RecordLink.objects.get_or_create(snapshot=cached[0], message_id=linked, defaults={"conversation_id": channel})
    res = search(world, world.member, "发货 has:record").json()
    assert [r["message_id"] for r in res["results"]] == [linked]
    res = search(world, world.member, "发货 -has:record").json()
    assert [r["message_id"] for r in res["results"]] == [unknown]
