"""References typed in messages become cards: detection, resolution, RecordLink rows and the
``record.cards`` event, on new, edited and deleted messages."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.models import RecordLink
from crm_bridge.references import Candidate, find_candidates
from crm_bridge.sources.base import RecordType
from tests.conftest import World
from tests.crm_bridge.chat_fixtures import Erp
from tests.messaging.helpers_http import events, send

pytestmark = pytest.mark.django_db


def test_candidates_are_found_cheaply_and_in_order() -> None:
    found = find_candidates(
        "SO-1001 发货了吗？#客户:西湖茶馆，见 https://erp.example.test/invoice/31 。TEA-500G 还有 e-mail so-1 SO-1001"
    )
    assert found == [
        Candidate("number", "SO-1001"),
        Candidate("party", "西湖茶馆", RecordType.CUSTOMER),
        Candidate("url", "https://erp.example.test/invoice/31"),
        Candidate("number", "TEA-500G"),
    ]
    assert find_candidates("#supplier:龙井包装厂") == [Candidate("party", "龙井包装厂", RecordType.SUPPLIER)]
    assert find_candidates("今天天气不错 co-op x-ray") == []


def cards_events(world: World, conv: int) -> list[dict[str, Any]]:
    return [e for e in events(world, world.member, conv) if e["type"] == "record.cards"]


def test_new_message_gets_cards(world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = send(
            world,
            world.member,
            channel,
            "SO-1001 和 #客户:西湖茶馆 还有 https://erp.example.test/invoice/31 ，AB-9999 不存在",
        )
    sid = erp.source.pk
    (event,) = cards_events(world, channel)
    assert event["message_id"] == message["id"]
    assert event["refs"] == [f"{sid}:sales_order:11", f"{sid}:customer:1", f"{sid}:invoice:31"]
    assert RecordLink.objects.filter(message_id=message["id"], kind="reference").count() == 3


def test_plain_messages_cost_nothing(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, channel, "今天下午开会")
    assert not cards_events(world, channel) and not erp.fake.calls


def test_references_are_capped(world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, channel, "SO-1001 SO-1002 PO-2001 INV-3001 TEA-500G TEA-250G C-001")
    (event,) = cards_events(world, channel)
    assert len(event["refs"]) == 5


def test_edit_and_delete_update_the_cards(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, world.member, channel, "SO-1001 和 SO-1002")
    api = world.api(world.member)
    with django_capture_on_commit_callbacks(execute=True):
        res = api.patch(f"/api/v1/messages/{message['id']}", {"body": "只有 SO-1002"})
    assert res.status_code == 200, res.content
    sid = erp.source.pk
    assert [e["refs"] for e in cards_events(world, channel)] == [
        [f"{sid}:sales_order:11", f"{sid}:sales_order:12"],
        [f"{sid}:sales_order:12"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/messages/{message['id']}", {"body": "没有单号了"})
    assert cards_events(world, channel)[-1]["refs"] == []
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/messages/{message['id']}", {"body": "又是 SO-1001"})
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/messages/{message['id']}").status_code in (200, 204)
    assert not RecordLink.objects.filter(message_id=message["id"]).exists()


def test_history_page_gets_cards_per_viewer(
    world: World, erp: Erp, shared: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, world.member, shared, "SO-1001 对比 SO-1002，成本见 #客户:东方茶行")
    sid = erp.source.pk
    params = {"workspace": world.workspace.pk, "message_ids": [message["id"]]}
    staff = world.api(world.member).get("/api/v1/records/cards", **params).json()
    assert staff["messages"] == {
        str(message["id"]): [f"{sid}:sales_order:11", f"{sid}:sales_order:12", f"{sid}:customer:2"]
    }
    guest = world.api(world.guest).get("/api/v1/records/cards", **params).json()
    assert guest["messages"] == {str(message["id"]): [f"{sid}:sales_order:11"]}
    assert [c["number"] for c in guest["cards"]] == ["SO-1001"] and guest["cards"][0]["internal"] is None
    # The event itself carries references only, never card data another company could read.
    (event,) = [e for e in events(world, world.guest, shared) if e["type"] == "record.cards"]
    assert set(event) == {"type", "conversation_id", "seq", "message_id", "refs"}


def test_messages_of_unreadable_conversations_give_nothing(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, world.member, channel, "SO-1001")
    res = world.api(world.guest).get("/api/v1/records/cards", workspace=world.workspace.pk, message_ids=[message["id"]])
    assert res.json()["messages"] == {} and res.json()["cards"] == []


def test_source_down_skips_unknown_but_uses_cached_numbers(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, channel, "SO-1001")
    erp.fake.down = True
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, channel, "再看 SO-1001 和 SO-1002")
    sid = erp.source.pk
    assert cards_events(world, channel)[-1]["refs"] == [f"{sid}:sales_order:11"]  # the cached one, shown stale


def test_a_plain_message_costs_no_query(world: World, erp: Erp, channel: int, django_assert_num_queries: Any) -> None:
    from crm_bridge.references import on_event_logged

    frame = {"type": "message.new", "message": {"id": 1, "body": "今天下午三点开会，记得带样品", "blocks": []}}
    with django_assert_num_queries(0):
        on_event_logged(None, conversation_id=channel, event_type="message.new", frame=frame)
