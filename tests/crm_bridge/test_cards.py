"""Record cards over HTTP: one card, refresh, the batch form, search — each cut to the viewer
(guests: own company's records only, never internal fields), stale when the source is down."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.cards import build_card
from crm_bridge.models import RecordSnapshot
from tests.conftest import Persona, World
from tests.crm_bridge.chat_fixtures import Erp
from tests.messaging.helpers_http import error_code

pytestmark = pytest.mark.django_db


def card(world: World, persona: Persona, erp: Erp, record_type: str, key: str) -> Any:
    return world.api(persona).get("/api/v1/records/card", source_id=erp.source.pk, type=record_type, key=key)


def test_staff_card_has_everything(world: World, erp: Erp) -> None:
    res = card(world, world.member, erp, "sales_order", "11")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["number"] == "SO-1001" and body["status_label"] == "已确认"
    assert body["counterparty_name"] == "西湖茶馆" and body["owner"] == "张三"
    assert body["amount"] == {"amount": "13600.00", "currency": "CNY"}
    assert body["lines"][0]["short"] is True and body["lines"][0]["available"] == "12"
    assert body["internal"]["margin"] == "7600.00"
    assert body["source_label"] == "测试ERP" and body["stale_since"] is None and body["writable"] is True
    assert body["ref"] == f"{erp.source.pk}:sales_order:11"


def test_guest_sees_own_company_without_internal_fields(world: World, erp: Erp) -> None:
    res = card(world, world.guest, erp, "sales_order", "11")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["internal"] is None and body["url"] == "" and body["writable"] is False
    assert "margin" not in str(body) and "老客户" not in str(body)
    customer = card(world, world.guest, erp, "customer", "1").json()
    assert "contacts" not in customer["fields"] and customer["internal"] is None


@pytest.mark.parametrize(
    ("persona", "record_type", "key"),
    [
        ("guest", "sales_order", "12"),  # another company's order
        ("guest", "customer", "2"),
        ("guest", "purchase_order", "21"),  # the supplier's order
        ("supplier_guest", "sales_order", "11"),
        ("outsider", "sales_order", "11"),
    ],
)
def test_others_records_are_not_found(world: World, erp: Erp, persona: str, record_type: str, key: str) -> None:
    res = card(world, getattr(world, persona), erp, record_type, key)
    assert res.status_code == 404 and error_code(res) == "not_found"


def test_supplier_guest_sees_its_purchase_order(world: World, erp: Erp) -> None:
    res = card(world, world.supplier_guest, erp, "purchase_order", "21")
    assert res.status_code == 200 and res.json()["internal"] is None


def test_unknown_record_and_bad_input(world: World, erp: Erp) -> None:
    assert card(world, world.member, erp, "sales_order", "999").status_code == 404
    bad_type = card(world, world.member, erp, "spaceship", "1")
    assert 400 <= bad_type.status_code < 500
    missing = world.api(world.member).get("/api/v1/records/card", source_id=erp.source.pk)
    assert 400 <= missing.status_code < 500


def test_source_down_serves_stale_card_with_writes_disabled(world: World, erp: Erp) -> None:
    assert card(world, world.member, erp, "sales_order", "11").status_code == 200
    erp.fake.down = True
    refreshed = world.api(world.member).post(
        "/api/v1/records/card/refresh", {"source_id": erp.source.pk, "type": "sales_order", "key": "11"}
    )
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["stale_since"] is not None and body["writable"] is False and body["number"] == "SO-1001"
    never_cached = card(world, world.member, erp, "invoice", "31")
    assert never_cached.status_code == 503 and error_code(never_cached) == "source_unavailable"


def test_refresh_reads_the_new_version(world: World, erp: Erp) -> None:
    first = card(world, world.member, erp, "sales_order", "11").json()
    erp.fake.bump(erp.so_mine.ref, status_label="已发货")
    cached = card(world, world.member, erp, "sales_order", "11").json()
    assert cached["version"] == first["version"]  # still fresh in the cache
    res = world.api(world.member).post(
        "/api/v1/records/card/refresh", {"source_id": erp.source.pk, "type": "sales_order", "key": "11"}
    )
    assert res.json()["status_label"] == "已发货" and res.json()["version"] != first["version"]


def test_batch_cards_filter_per_viewer(world: World, erp: Erp) -> None:
    refs = [f"{erp.source.pk}:sales_order:11", f"{erp.source.pk}:sales_order:12", "garbage", "999:sales_order:1"]
    staff = world.api(world.member).get("/api/v1/records/cards", workspace=world.workspace.pk, refs=refs).json()
    assert [c["number"] for c in staff["cards"]] == ["SO-1001", "SO-1002"]
    assert staff["missing"] == ["garbage", "999:sales_order:1"]
    guest = world.api(world.guest).get("/api/v1/records/cards", workspace=world.workspace.pk, refs=refs).json()
    assert [c["number"] for c in guest["cards"]] == ["SO-1001"]
    assert guest["cards"][0]["internal"] is None
    outsider = world.api(world.outsider).get("/api/v1/records/cards", workspace=world.workspace.pk, refs=refs)
    assert outsider.status_code == 404


def test_search_is_filtered_for_guests(world: World, erp: Erp) -> None:
    params = {"workspace": world.workspace.pk, "type": "sales_order", "q": "SO-"}
    staff = world.api(world.member).get("/api/v1/records/search", **params).json()["cards"]
    assert {c["number"] for c in staff} == {"SO-1001", "SO-1002"}
    guest = world.api(world.guest).get("/api/v1/records/search", **params).json()["cards"]
    assert [c["number"] for c in guest] == ["SO-1001"] and guest[0]["internal"] is None
    erp.fake.down = True  # from the cache while the source is down
    cached = world.api(world.guest).get("/api/v1/records/search", **params).json()["cards"]
    assert [c["number"] for c in cached] == ["SO-1001"]


def test_card_lines_are_capped(world: World, erp: Erp) -> None:
    from dataclasses import replace

    erp.fake.put(replace(erp.so_rival, lines=tuple(erp.so_mine.lines) * 8))
    assert card(world, world.member, erp, "sales_order", "12").status_code == 200
    snapshot = RecordSnapshot.objects.get(source=erp.source, key="12")
    from hub.models import Member

    built = build_card(Member.objects.get(user=world.member.user, workspace=world.workspace), snapshot)
    assert len(built["lines"]) == 5 and built["more_lines"] == 3


@pytest.mark.parametrize("persona", ["member", "guest"])
def test_a_page_of_cards_costs_the_same_queries_for_2_or_5(world: World, erp: Erp, persona: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sid = erp.source.pk
    all_refs = [
        f"{sid}:sales_order:11",
        f"{sid}:customer:1",
        f"{sid}:invoice:31",
        f"{sid}:sales_order:12",
        f"{sid}:customer:2",
    ]
    api = world.api(getattr(world, persona))
    api.get("/api/v1/records/cards", workspace=world.workspace.pk, refs=all_refs)  # cache them all
    counts = []
    for refs in (all_refs[:2], all_refs):
        with CaptureQueriesContext(connection) as queries:
            res = api.get("/api/v1/records/cards", workspace=world.workspace.pk, refs=refs)
        assert res.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
