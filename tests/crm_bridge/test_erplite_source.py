"""BuiltinSource over the demo's ERP-lite data: every method of the Source interface."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm_bridge.erplite.models import Invoice, Note, Product, PurchaseOrder, SalesOrder, Stock
from crm_bridge.sources.base import (
    InvalidTransition,
    RecordNotFound,
    RecordRef,
    RecordType,
    Source,
    SourcePermissionDenied,
    Status,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.builtin import BuiltinSource
from crm_bridge.sources.registry import build_source
from hub.demo import DemoData
from tests.crm_bridge.erplite_fixtures import ref

pytestmark = pytest.mark.django_db
T = RecordType


def test_is_a_source_and_registered(source: BuiltinSource, source_row: object) -> None:
    assert isinstance(source, Source)
    assert source.kind == "builtin"
    assert build_source(source_row).kind == "builtin"  # type: ignore[arg-type]


def test_resolve_numbers_skus_names_tags_and_urls(source: BuiltinSource) -> None:
    so = ref(source, "SO-1001")
    assert so.type == T.SALES_ORDER
    assert ref(source, "so-1001") == so  # case-insensitive
    assert ref(source, "PO-2001").type == T.PURCHASE_ORDER
    assert ref(source, "INV-3003").type == T.INVOICE
    assert ref(source, "TEA-500G").type == T.PRODUCT
    customer = ref(source, "#customer:悦茗")
    assert customer.type == T.CUSTOMER
    assert ref(source, "上海悦茗茶饮连锁有限公司") == customer
    assert ref(source, "#customer：悦茗") == customer  # full-width colon from a Chinese IME
    assert ref(source, "C001") == customer
    assert ref(source, "#supplier:竹韵").type == T.SUPPLIER
    assert ref(source, f"https://hub.example/admin/erplite/salesorder/{so.key}/change/") == so
    assert source.resolve("SO-9999") is None
    assert source.resolve("hello") is None
    assert source.resolve("") is None


def test_get_builds_full_records(source: BuiltinSource) -> None:
    order = source.get(ref(source, "SO-1001"))
    assert order.number == "SO-1001"
    assert order.status == Status.CONFIRMED and order.status_label == "已确认"
    assert order.counterparty_name == "上海悦茗茶饮连锁有限公司"
    assert order.amount is not None and order.amount.amount == Decimal("80400.00") and order.amount.currency == "CNY"
    assert order.party is not None and order.party.type == T.CUSTOMER
    assert order.owner == "林晓燕"
    (line,) = order.lines
    assert line.sku == "TEA-500G" and line.quantity == 300
    assert line.available == Decimal(120)  # 420 on hand − 300 reserved in the Hangzhou warehouse
    assert line.short
    assert "margin" in order.internal and "margin" not in order.fields
    product = source.get(ref(source, "TEA-500G"))
    assert product.internal["cost_price"] == Decimal("168.00")
    assert "cost_price" not in product.fields
    invoice = source.get(ref(source, "INV-3003"))
    assert invoice.status == Status.OPEN
    assert invoice.amount_due is not None and invoice.amount_due.amount == Decimal("8940.00")
    assert invoice.fields["overdue_days"] == 15
    assert source.get(ref(source, "INV-3001")).status == Status.PAID
    with pytest.raises(RecordNotFound):
        source.get(RecordRef(T.SALES_ORDER, "999999"))
    with pytest.raises(RecordNotFound):
        source.get(RecordRef(T.SALES_ORDER, "not-a-key"))
    # A customer's key is not a supplier's.
    with pytest.raises(RecordNotFound):
        source.get(RecordRef(T.SUPPLIER, ref(source, "C001").key))


def test_search_chinese_substring_and_ranking(source: BuiltinSource) -> None:
    names = [r.title for r in source.search(T.PRODUCT, "龙井")]
    assert names == ["西湖龙井 250g 罐装", "西湖龙井 500g 礼盒"]  # both, ranked by SKU
    assert [r.number for r in source.search(T.PRODUCT, "tea-500g")] == ["TEA-500G"]
    assert [r.number for r in source.search(T.CUSTOMER, "茶")] == ["C001", "C002"]
    assert [r.number for r in source.search(T.SALES_ORDER, "悦茗")] == ["SO-1001", "SO-1003"]
    assert [r.number for r in source.search(T.SALES_ORDER, "SO-100", limit=2)] == ["SO-1001", "SO-1002"]
    assert source.search(T.INVOICE, "不存在") == []
    assert len(source.search(T.PRODUCT, "", limit=3)) == 3


def test_search_is_scoped_to_the_workspace(source: BuiltinSource, world: object) -> None:
    from crm_bridge.sources.builtin import ensure_default_source

    other = BuiltinSource(ensure_default_source(world.workspace))  # type: ignore[attr-defined]
    assert other.search(T.PRODUCT, "龙井") == []
    assert other.resolve("SO-1001") is None


def test_stock_per_warehouse(source: BuiltinSource) -> None:
    levels = source.stock("TEA-500G")
    assert [(s.warehouse, s.available, s.below_reorder_point) for s in levels] == [
        ("杭州总仓", Decimal(120), True),
        ("上海前置仓", Decimal(60), False),
    ]
    assert [s.warehouse for s in source.stock("西湖龙井 500g", "SH")] == ["上海前置仓"]
    assert {s.sku for s in source.stock("龙井")} == {"TEA-500G", "TEA-250G"}
    with pytest.raises(RecordNotFound):
        source.stock("普洱")
    with pytest.raises(RecordNotFound):
        source.stock("TEA-500G", "北京仓")


def test_price_customer_prices_and_quantity_breaks(source: BuiltinSource) -> None:
    assert source.price("TEA-500G").unit_price.amount == Decimal("298.00")
    assert source.price("TEA-500G", quantity=Decimal(60)).unit_price.amount == Decimal("288.00")
    big = source.price("TEA-500G", quantity=Decimal(250))
    assert big.unit_price.amount == Decimal("278.00") and big.min_quantity == 200 and big.price_list == "标准价"
    # 悦茗 is on the VIP list; from 100 boxes it has its own price.
    assert source.price("TEA-500G", "悦茗").unit_price.amount == Decimal("275.00")
    special = source.price("TEA-500G", "悦茗", Decimal(300))
    assert special.unit_price.amount == Decimal("268.00") and "悦茗" in special.price_list
    assert special.customer is not None and special.customer.type == T.CUSTOMER
    # Another customer gets the standard list; a product with no list entry its list price.
    assert source.price("TEA-500G", "湖畔茶馆").unit_price.amount == Decimal("298.00")
    assert source.price("PKG-GIFT-BOX").unit_price.amount == Decimal("35.00")
    with pytest.raises(RecordNotFound):
        source.price("TEA-500G", "不存在的客户")
    with pytest.raises(RecordNotFound):
        source.price("普洱")


def test_sales_summary_in_a_time_zone(source: BuiltinSource) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    today = timezone.now().astimezone(tz).date()
    summary = source.sales_summary(today, tz)
    assert summary.order_count == 2  # SO-1001 and SO-1002; the draft and last week's do not count
    assert summary.total.amount == Decimal("80400.00") + Decimal("4440.00")
    assert summary.by_hour == [(9, Decimal("80400.00")), (11, Decimal("4440.00"))]
    assert summary.top_products[0] == ("西湖龙井 500g 礼盒", Decimal("80400.00"))
    # The same instants fall on other hours in another zone.
    utc = source.sales_summary(today, ZoneInfo("UTC"))
    assert utc.by_hour == [(1, Decimal("80400.00")), (3, Decimal("4440.00"))]
    assert source.sales_summary(today - timedelta(days=1), tz).order_count == 0


def test_changes_since_pages_and_looks_back(source: BuiltinSource) -> None:
    types = [T.SALES_ORDER, T.INVOICE]
    seen: list[str] = []
    cursor = None
    while True:
        batch = source.changes_since(cursor, types, limit=3)
        seen += [r.number for r in batch.records]
        cursor = batch.cursor
        if not batch.more:
            break
    assert sorted(seen) == ["INV-3001", "INV-3002", "INV-3003", "SO-1001", "SO-1002", "SO-1003", "SO-1004"]
    assert len(seen) == len(set(seen))  # keyset paging inside a pass: no repeats
    assert cursor.startswith("t:")
    # Nothing changed: the look-back re-reads only the last few seconds' rows.
    again = source.changes_since(cursor, types)
    assert not again.more and {r.number for r in again.records} <= set(seen)
    # An old timestamp written later (a slow transaction) is still seen within the look-back.
    order = SalesOrder.objects.get(number="SO-1003", workspace_id=source.workspace_id)
    order.internal_notes = "客户要求加急"
    order.save()
    later = source.changes_since(cursor, types)
    assert "SO-1003" in [r.number for r in later.records]
    with pytest.raises(ValueError):
        source.changes_since("garbage", types)


def test_changes_since_with_many_rows_at_one_instant_makes_progress(source: BuiltinSource) -> None:
    now = timezone.now()
    Product.objects.filter(workspace_id=source.workspace_id).update(updated_at=now)
    cursor, passes, seen = None, 0, []
    while True:
        batch = source.changes_since(cursor, [T.PRODUCT], limit=2)
        seen += [r.number for r in batch.records]
        cursor, passes = batch.cursor, passes + 1
        assert passes < 10
        if not batch.more:
            break
    assert sorted(seen) == sorted(
        Product.objects.filter(workspace_id=source.workspace_id).values_list("sku", flat=True)
    )


def test_transition_state_machine_and_versions(source: BuiltinSource) -> None:
    po_ref = ref(source, "PO-2001")
    po = source.get(po_ref)
    assert po.status == Status.TO_APPROVE
    assert po.approvers == ("owner@demo.xiaowei.test",)  # 90,000 is above the finance limit
    with pytest.raises(VersionConflict) as conflict:
        source.transition(po_ref, Transition.APPROVE, expected_version="0", actor="owner@demo.xiaowei.test")
    assert conflict.value.current is not None and conflict.value.current.version == po.version
    with pytest.raises(SourcePermissionDenied):
        source.transition(po_ref, Transition.APPROVE, expected_version=po.version, actor="finance@demo.xiaowei.test")
    approved = source.transition(
        po_ref,
        Transition.APPROVE,
        expected_version=po.version,
        actor="owner@demo.xiaowei.test",
        comment="同意，尽快发货",
    )
    assert approved.status == Status.APPROVED and approved.version != po.version
    assert approved.fields["decided_by"] == "owner@demo.xiaowei.test"
    assert Note.objects.filter(record_type="purchase_order", body__contains="同意").exists()
    with pytest.raises(InvalidTransition):
        source.transition(
            po_ref, Transition.APPROVE, expected_version=approved.version, actor="owner@demo.xiaowei.test"
        )
    with pytest.raises(InvalidTransition):
        source.transition(ref(source, "INV-3003"), Transition.APPROVE, expected_version="1", actor="x@y.z")
    # Sales orders: draft → confirmed → cancelled; confirmed is not confirmable again.
    so_ref = ref(source, "SO-1003")
    so = source.get(so_ref)
    confirmed = source.transition(
        so_ref, Transition.CONFIRM, expected_version=so.version, actor="sales@demo.xiaowei.test"
    )
    assert confirmed.status == Status.CONFIRMED
    assert SalesOrder.objects.get(pk=so_ref.key).confirmed_at is not None
    with pytest.raises(InvalidTransition):
        source.transition(so_ref, Transition.CONFIRM, expected_version=confirmed.version, actor="s@x.y")
    cancelled = source.transition(so_ref, Transition.CANCEL, expected_version=confirmed.version, actor="s@x.y")
    assert cancelled.status == Status.CANCELLED
    with pytest.raises(RecordNotFound):
        source.transition(RecordRef(T.PURCHASE_ORDER, "424242"), Transition.APPROVE, expected_version="1", actor="a")


def test_reject_needs_an_approver(source: BuiltinSource, demo: DemoData) -> None:
    po_ref = ref(source, "PO-2001")
    version = source.get(po_ref).version
    with pytest.raises(SourcePermissionDenied):
        source.transition(po_ref, Transition.REJECT, expected_version=version, actor="sales@demo.xiaowei.test")
    rejected = source.transition(po_ref, Transition.REJECT, expected_version=version, actor="finance@demo.xiaowei.test")
    assert rejected.status == Status.REJECTED
    assert PurchaseOrder.objects.get(pk=po_ref.key).state == "rejected"


def test_log_note_parse_webhook_and_health(source: BuiltinSource) -> None:
    customer = ref(source, "#customer:悦茗")
    source.log_note(customer, "孙经理确认 4 月 10 日前到货", author="sales@demo.xiaowei.test")
    (note,) = source.notes(customer)
    assert note.body == "孙经理确认 4 月 10 日前到货" and note.author == "sales@demo.xiaowei.test"
    with pytest.raises(RecordNotFound):
        source.log_note(RecordRef(T.CUSTOMER, "999999"), "x", author="a")
    with pytest.raises(SourcePermissionDenied):
        source.parse_webhook({"X-Signature": "abc"}, b"{}")
    health = source.health()
    assert health.ok and health.latency_ms is not None


def test_row_versions_and_model_rules(source: BuiltinSource) -> None:
    invoice = Invoice.objects.get(number="INV-3002", workspace_id=source.workspace_id)
    version = invoice.version
    invoice.amount_due = Decimal(0)
    invoice.save()
    assert invoice.state == Invoice.State.PAID and invoice.version == version + 1
    invoice.amount_due = Decimal(100)
    invoice.save()
    assert invoice.state == Invoice.State.OPEN
    stock = Stock.objects.get(product__sku="TEA-250G", workspace_id=source.workspace_id)
    product_version = stock.product.version
    stock.on_hand += 10
    stock.save()
    stock.product.refresh_from_db()
    assert stock.product.version == product_version + 1  # stock shows on the product card


def test_get_costs_the_same_queries_for_one_line_or_many(source: BuiltinSource) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm_bridge.erplite.models import SalesOrderLine

    so = ref(source, "SO-1003")
    with CaptureQueriesContext(connection) as one:
        source.get(so)
    order = SalesOrder.objects.get(pk=so.key)
    for product in Product.objects.filter(workspace_id=source.workspace_id):
        SalesOrderLine.objects.create(order=order, product=product, quantity=Decimal(1), unit_price=Decimal(1))
    with CaptureQueriesContext(connection) as many:
        record = source.get(so)
    assert len(record.lines) == 6
    assert len(many) == len(one)
