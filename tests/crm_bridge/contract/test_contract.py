"""ONE contract, every source: ERP-lite (the reference), Odoo over JSON-RPC, Odoo over JSON-2
and ERPNext through the generic REST adapter answer the same questions about the same data
the same way. Keys differ per source (ids, names), so the tests speak in numbers and names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_bridge.serialize import record_from_json, record_to_json
from crm_bridge.sources.base import (
    InvalidTransition,
    Record,
    RecordNotFound,
    RecordRef,
    RecordType,
    SourcePermissionDenied,
    Status,
    Transition,
    VersionConflict,
)
from tests.crm_bridge.contract.conftest import Harness
from tests.crm_bridge.fakes import dataset as ds


def by_number(h: Harness, number: str) -> Record:
    ref = h.source.resolve(number)
    assert ref is not None, f"{h.name} cannot resolve {number}"
    return h.source.get(ref)


def test_health(harness: Harness) -> None:
    health = harness.source.health()
    assert health.ok, health.detail


@pytest.mark.parametrize(
    ("text", "type", "number"),
    [
        ("SO-1001", RecordType.SALES_ORDER, "SO-1001"),
        ("so-1001", RecordType.SALES_ORDER, "SO-1001"),
        ("PO-2001", RecordType.PURCHASE_ORDER, "PO-2001"),
        ("INV-3001", RecordType.INVOICE, "INV-3001"),
        ("LJ-250", RecordType.PRODUCT, "LJ-250"),
        ("#customer:西湖", RecordType.CUSTOMER, "C0001"),
        ("#supplier：龙井包装", RecordType.SUPPLIER, "S0001"),
    ],
)
def test_resolve(harness: Harness, text: str, type: RecordType, number: str) -> None:
    ref = harness.source.resolve(text)
    assert ref is not None and ref.type == type
    assert harness.source.get(ref).number == number


def test_resolve_unknown_is_none(harness: Harness) -> None:
    assert harness.source.resolve("SO-999999") is None
    assert harness.source.resolve("") is None


def test_sales_order(harness: Harness) -> None:
    order = by_number(harness, "SO-1001")
    assert order.status == Status.CONFIRMED
    assert order.amount is not None and order.amount.amount == Decimal("1940.00") and order.amount.currency == "CNY"
    assert isinstance(order.amount.amount, Decimal)
    assert order.counterparty_name == "西湖茶馆"
    assert order.party is not None and order.party.type == RecordType.CUSTOMER
    assert harness.source.get(order.party).title == "西湖茶馆"
    lines = {(line.sku, line.quantity, line.amount.amount if line.amount else None) for line in order.lines}
    assert lines == {("LJ-250", Decimal(10), Decimal("1500.00")), ("BLC-100", Decimal(5), Decimal("440.00"))}
    assert order.version and order.updated_at.tzinfo is not None


def test_draft_and_purchase_states(harness: Harness) -> None:
    assert by_number(harness, "SO-1002").status == Status.DRAFT
    po = by_number(harness, "PO-2001")
    assert po.status == Status.TO_APPROVE
    assert po.amount is not None and po.amount.amount == Decimal("5000.00")
    assert po.party is not None and po.party.type == RecordType.SUPPLIER
    assert by_number(harness, "PO-2002").status == Status.APPROVED


def test_invoices(harness: Harness) -> None:
    open_invoice = by_number(harness, "INV-3001")
    assert open_invoice.status == Status.OPEN
    assert open_invoice.amount_due is not None and open_invoice.amount_due.amount == Decimal("940.00")
    assert open_invoice.due_date == date(2026, 12, 10)
    assert open_invoice.counterparty_name == "西湖茶馆"
    assert by_number(harness, "INV-3002").status == Status.PAID


def test_get_missing_record(harness: Harness) -> None:
    with pytest.raises(RecordNotFound):
        harness.source.get(RecordRef(RecordType.SALES_ORDER, "987654"))


def test_record_survives_the_cache_round_trip(harness: Harness) -> None:
    order = by_number(harness, "SO-1001")
    again = record_from_json(record_to_json(order))
    assert (again.ref, again.number, again.version, again.amount, again.lines) == (
        order.ref,
        order.number,
        order.version,
        order.amount,
        tuple(order.lines),
    )


def test_search_in_chinese_and_any_case(harness: Harness) -> None:
    assert [r.title for r in harness.source.search(RecordType.CUSTOMER, "西湖")][:1] == ["西湖茶馆"]
    assert [r.title for r in harness.source.search(RecordType.CUSTOMER, "lucky")] == ["Lucky Tea House"]
    assert harness.source.search(RecordType.PRODUCT, "龙井")[0].number == "LJ-250"
    assert "PO-2001" in [r.number for r in harness.source.search(RecordType.PURCHASE_ORDER, "龙井包装厂")]
    assert harness.source.search(RecordType.CUSTOMER, "没有这个客户") == [] or not harness.source.search(
        RecordType.CUSTOMER, "没有这个客户"
    )


def test_stock_per_warehouse(harness: Harness) -> None:
    levels = {(s.warehouse, s.on_hand, s.reserved, s.available) for s in harness.source.stock("LJ-250")}
    assert levels == {
        ("杭州仓", Decimal(120), Decimal(20), Decimal(100)),
        ("上海仓", Decimal(5), Decimal(0), Decimal(5)),
    }
    only = harness.source.stock("西湖龙井", "杭州")
    assert [(s.sku, s.warehouse) for s in only] == [("LJ-250", "杭州仓")]


def test_stock_of_unknown_product(harness: Harness) -> None:
    with pytest.raises(RecordNotFound):
        harness.source.stock("没有这个产品")


def test_prices(harness: Harness) -> None:
    plain = harness.source.price("LJ-250")
    assert plain.unit_price.amount == Decimal("168.00") and plain.customer is None
    vip = harness.source.price("LJ-250", "西湖茶馆")
    assert vip.unit_price.amount == Decimal("158.00")
    assert "VIP 客户价" in vip.price_list
    assert vip.customer is not None and harness.source.get(vip.customer).title == "西湖茶馆"
    # No VIP entry for this product: the ordinary price applies.
    assert harness.source.price("BLC-100", "西湖茶馆").unit_price.amount == Decimal("88.00")
    with pytest.raises(RecordNotFound):
        harness.source.price("没有这个产品")


def test_sales_summary_uses_the_time_zone(harness: Harness) -> None:
    summary = harness.source.sales_summary(ds.SALES_DAY, ZoneInfo(ds.TIME_ZONE))
    assert summary.order_count == ds.EXPECTED_SALES_COUNT
    assert summary.total.amount == ds.EXPECTED_SALES_TOTAL
    assert sum(amount for _, amount in summary.by_hour) == ds.EXPECTED_SALES_TOTAL
    assert dict(summary.by_hour) == {0: Decimal("50.00"), 10: Decimal("1940.00")}
    assert summary.top_products[0] == ("西湖龙井 250g", Decimal("1500.00"))


def _drain(h: Harness, cursor: str | None, types: list[RecordType], limit: int) -> tuple[list[Record], str]:
    seen: list[Record] = []
    for _ in range(50):  # bounded: a cursor that never finishes fails the test
        batch = h.source.changes_since(cursor, types, limit=limit)
        seen.extend(batch.records)
        cursor = batch.cursor
        if not batch.more:
            return seen, cursor
    raise AssertionError(f"{h.name}: changes_since never finished")


def test_changes_since_pages_through_everything(harness: Harness) -> None:
    records, _ = _drain(harness, None, [RecordType.SALES_ORDER], limit=2)
    assert {r.number for r in records} == {o.number for o in ds.SALES_ORDERS}
    everything, _ = _drain(harness, None, [RecordType.INVOICE, RecordType.PURCHASE_ORDER], limit=3)
    assert {r.number for r in everything} == {"INV-3001", "INV-3002", "PO-2001", "PO-2002"}


def test_changes_since_sees_a_later_change(harness: Harness) -> None:
    _, cursor = _drain(harness, None, [RecordType.PURCHASE_ORDER], limit=50)
    po = by_number(harness, "PO-2001")
    approved = harness.source.transition(po.ref, Transition.APPROVE, expected_version=po.version, actor="boss@tea.test")
    records, _ = _drain(harness, cursor, [RecordType.PURCHASE_ORDER], limit=50)
    latest = {r.number: r for r in records}
    assert "PO-2001" in latest
    assert latest["PO-2001"].version == approved.version and latest["PO-2001"].status == Status.APPROVED


def test_approve_then_approve_again(harness: Harness) -> None:
    po = by_number(harness, "PO-2001")
    approved = harness.source.transition(po.ref, Transition.APPROVE, expected_version=po.version, actor="boss@tea.test")
    assert approved.status == Status.APPROVED and approved.version != po.version
    assert harness.source.get(po.ref).status == Status.APPROVED
    with pytest.raises(InvalidTransition):
        harness.source.transition(po.ref, Transition.APPROVE, expected_version=approved.version, actor="boss@tea.test")


def test_reject(harness: Harness) -> None:
    po = by_number(harness, "PO-2001")
    rejected = harness.source.transition(
        po.ref, Transition.REJECT, expected_version=po.version, actor="boss@tea.test", comment="价格太高"
    )
    assert rejected.status in (Status.REJECTED, Status.CANCELLED)
    assert any("价格太高" in note for note in harness.notes(po.ref))


def test_confirm_a_draft_sales_order(harness: Harness) -> None:
    so = by_number(harness, "SO-1002")
    confirmed = harness.source.transition(so.ref, Transition.CONFIRM, expected_version=so.version, actor="li@tea.test")
    assert confirmed.status == Status.CONFIRMED


def test_changed_since_seen_is_a_version_conflict(harness: Harness) -> None:
    po = by_number(harness, "PO-2001")
    harness.touch("PO-2001")
    with pytest.raises(VersionConflict) as caught:
        harness.source.transition(po.ref, Transition.APPROVE, expected_version=po.version, actor="boss@tea.test")
    assert caught.value.current is not None and caught.value.current.version != po.version
    assert harness.source.get(po.ref).status == Status.TO_APPROVE  # nothing happened


def test_transition_that_does_not_exist(harness: Harness) -> None:
    invoice = by_number(harness, "INV-3001")
    with pytest.raises(InvalidTransition):
        harness.source.transition(invoice.ref, Transition.APPROVE, expected_version=invoice.version, actor="x@tea.test")


def test_log_note_in_chinese(harness: Harness) -> None:
    so = by_number(harness, "SO-1001")
    harness.source.log_note(so.ref, "客户要求下周三前发货", author="张三")
    assert any("客户要求下周三前发货" in note for note in harness.notes(so.ref))


def test_webhook_with_a_wrong_signature_is_refused(harness: Harness) -> None:
    with pytest.raises(SourcePermissionDenied):
        harness.source.parse_webhook({"X-Frappe-Webhook-Signature": "bm9wZQ==", "X-Odoo-Signature": "00"}, b"{}")
