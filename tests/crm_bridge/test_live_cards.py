"""Live cards: a record that changes sends ``record.updated`` (references only) to every
conversation that shows it — once per conversation, in batches."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge import live
from crm_bridge.cache import read_through
from crm_bridge.models import RecordLink, RecordSnapshot
from crm_bridge.sources.registry import build_source
from tests.conftest import World
from tests.crm_bridge.chat_fixtures import Erp
from tests.messaging.helpers_http import create_conversation, events, send

pytestmark = pytest.mark.django_db


def updates(world: World, conv: int) -> list[dict[str, Any]]:
    return [e for e in events(world, world.owner, conv) if e["type"] == "record.updated"]


def test_change_reaches_each_linked_conversation_once(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    other = create_conversation(world, world.owner, "public", "仓库")
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.owner, channel, "SO-1001 发货了吗")
        send(world, world.owner, channel, "SO-1001 客户在催")
        send(world, world.owner, other, "SO-1001 备货")
        send(world, world.owner, other, "SO-1002 不相关")
    erp.fake.bump(erp.so_mine.ref, status_label="已发货")
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.so_mine.ref, force=True)
    sid = erp.source.pk
    expected = {
        "ref": f"{sid}:sales_order:11",
        "source_id": sid,
        "record_type": "sales_order",
        "key": "11",
        "version": "2",
        "stale_since": None,
    }
    assert [e["record"] for e in updates(world, channel)] == [expected]
    assert [e["record"] for e in updates(world, other)] == [expected]
    # The event carries no card data: each viewer refetches the card cut for them.
    assert set(updates(world, channel)[0]) == {"type", "conversation_id", "seq", "record"}


def test_same_version_again_sends_nothing(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.owner, channel, "SO-1001")
        read_through(erp.source, build_source(erp.source), erp.so_mine.ref, force=True)
    assert updates(world, channel) == []


def test_wide_fan_out_runs_as_a_task_in_chunks(
    world: World, erp: Erp, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(live, "CHUNK", 2)
    monkeypatch.setattr(live, "INLINE_LIMIT", 3)
    read_through(erp.source, build_source(erp.source), erp.tea.ref)
    snapshot = RecordSnapshot.objects.get(key="1", record_type="product")
    convs = [create_conversation(world, world.owner, "public", f"门店{i}") for i in range(5)]
    RecordLink.objects.bulk_create([RecordLink(snapshot=snapshot, conversation_id=c) for c in convs])
    enqueued: list[int] = []
    original = live.publish_record_updated

    class Spy:
        def enqueue(self, snapshot_id: int) -> None:
            enqueued.append(snapshot_id)
            original.call(snapshot_id)

    monkeypatch.setattr(live, "publish_record_updated", Spy())
    erp.fake.bump(erp.tea.ref, title="西湖龙井 500g（新包装）")
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.tea.ref, force=True)
    assert enqueued == [snapshot.pk]
    assert all(len(updates(world, c)) == 1 for c in convs)


def test_guest_refetch_after_update_stays_filtered(
    world: World, erp: Erp, shared: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.owner, shared, "SO-1002 是东方茶行的")
    erp.fake.bump(erp.so_rival.ref, status_label="已发货")
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.so_rival.ref, force=True)
    (event,) = [e for e in events(world, world.guest, shared) if e["type"] == "record.updated"]
    res = world.api(world.guest).get(
        "/api/v1/records/cards", workspace=world.workspace.pk, refs=[event["record"]["ref"]]
    )
    assert res.json()["cards"] == [] and res.json()["missing"] == [event["record"]["ref"]]


def test_source_going_away_and_back_reaches_every_card(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    from crm_bridge.approval_models import Approval, ApprovalCard

    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.owner, channel, "PO-2001 要尽快批")  # caches it: the approval round opens too
    (card,) = ApprovalCard.objects.filter(approval=Approval.objects.get(), recipient=world.owner.user)
    refresh = {"source_id": erp.source.pk, "type": "purchase_order", "key": "21"}

    def buttons_disabled() -> bool:
        card.message.refresh_from_db()
        actions = next(b for b in card.message.blocks if b["type"] == "actions")
        return all(a.get("disabled") for a in actions["actions"])

    assert not buttons_disabled()
    erp.fake.down = True
    with django_capture_on_commit_callbacks(execute=True):
        assert world.api(world.member).post("/api/v1/records/card/refresh", refresh).json()["stale_since"]
    (gone,) = updates(world, channel)
    assert gone["record"]["stale_since"] is not None and gone["record"]["version"] == "1"
    assert buttons_disabled()
    erp.fake.down = False
    with django_capture_on_commit_callbacks(execute=True):
        assert world.api(world.member).post("/api/v1/records/card/refresh", refresh).json()["stale_since"] is None
    back = updates(world, channel)[-1]
    assert back["record"]["stale_since"] is None and len(updates(world, channel)) == 2
    assert not buttons_disabled()


def test_a_failed_sync_pass_turns_linked_cards_stale_at_once(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    from crm_bridge.sync import sync_source

    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.owner, channel, "SO-1001 今天发货")
    linked = RecordSnapshot.objects.get(links__conversation_id=channel)
    assert linked.stale_since is None and not updates(world, channel)
    erp.fake.down = True
    with django_capture_on_commit_callbacks(execute=True):
        report = sync_source(erp.source)
    assert any(t.error for t in report.types.values())
    (stale,) = updates(world, channel)
    assert stale["record"]["stale_since"] is not None
    linked.refresh_from_db()
    assert linked.stale_since is not None
    # Unlinked records are left alone (a big catalogue costs no write per row).
    assert not RecordSnapshot.objects.exclude(pk=linked.pk).filter(stale_since__isnull=False).exists()
    # Another failed pass changes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        sync_source(erp.source)
    assert len(updates(world, channel)) == 1
