"""The demo company's ERP-lite data: 杭州西湖茶业 sells tea to 上海悦茗 (the demo's customer
partner) and a tea house, buys gift boxes from 安吉竹韵 (the demo's supplier partner) and tea
leaves from a farmers' co-operative.

What the demo shows: SO-1001…SO-1004 (two confirmed today, for ``/sales-today``), PO-2001
awaiting approval above the finance manager's limit (only the owner may approve it), an
overdue invoice INV-3003, TEA-500G below its reorder point in the Hangzhou warehouse, a
customer price for 悦茗, and three watch rules whose alerts those records raise.
Deterministic: the same rows every time; dates are relative to the day the demo is loaded
(in Asia/Shanghai), so "today" and "overdue" stay true. Idempotent: a second load finds
customer C001 and adds nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from crm_bridge.erplite.actions import recompute_total
from crm_bridge.erplite.models import (
    ApprovalLimit,
    Contact,
    Invoice,
    Party,
    PriceList,
    PriceListItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Stock,
    Warehouse,
)

if TYPE_CHECKING:
    from hub.demo import DemoData

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

# sku, name, unit, list price, cost price
PRODUCTS = (
    ("TEA-500G", "西湖龙井 500g 礼盒", "盒", D("298.00"), D("168.00")),
    ("TEA-250G", "西湖龙井 250g 罐装", "罐", D("158.00"), D("88.00")),
    ("TEA-BJ-100G", "安吉白茶 100g", "盒", D("128.00"), D("70.00")),
    ("TEA-HM-500G", "九曲红梅 500g", "盒", D("238.00"), D("120.00")),
    ("PKG-GIFT-BOX", "竹制茶叶礼盒", "套", D("35.00"), D("18.00")),
)
WAREHOUSES = (("HZ", "杭州总仓"), ("SH", "上海前置仓"))
# sku, warehouse, on hand, reserved, reorder point — TEA-500G in HZ is below its point.
STOCK = (
    ("TEA-500G", "HZ", D(420), D(300), D(150)),
    ("TEA-500G", "SH", D(80), D(20), D(30)),
    ("TEA-250G", "HZ", D(600), D(40), D(100)),
    ("TEA-BJ-100G", "HZ", D(350), D(0), D(80)),
    ("TEA-HM-500G", "HZ", D(150), D(50), D(40)),
    ("PKG-GIFT-BOX", "HZ", D(1200), D(300), D(500)),
)
# code, kind, name, partner key in hub.demo.PARTNERS (or ""), phone, address
PARTIES = (
    ("C001", "customer", "上海悦茗茶饮连锁有限公司", "customer", "021-6288 1234", "上海市静安区南京西路 1266 号"),
    ("C002", "customer", "杭州湖畔茶馆", "", "0571-8702 5566", "杭州市西湖区北山街 32 号"),
    ("S001", "supplier", "安吉竹韵包装有限公司", "supplier", "0572-5123 888", "湖州市安吉县递铺街道竹韵路 8 号"),
    ("S002", "supplier", "龙坞茶农专业合作社", "", "0571-8761 2020", "杭州市西湖区转塘街道龙坞村"),
)
# party code, name, title, phone, email
CONTACTS = (
    ("C001", "孙悦", "采购经理", "138 1688 0001", "customer@demo.xiaowei.test"),
    ("C002", "许静", "店长", "139 5712 0002", "xujing@hupan.example"),
    ("S001", "吴海峰", "业务经理", "137 5720 0003", "supplier@demo.xiaowei.test"),
)


def add_demo_data(data: DemoData) -> None:
    workspace = data.workspace
    if Party.objects.filter(workspace=workspace, code="C001").exists():
        return
    from crm_bridge.sources.builtin import ensure_default_source

    with transaction.atomic():
        _create(data)
        _watch_rules(data, ensure_default_source(workspace))


# name, kind, conversation key in hub.demo.CONVERSATIONS, days, amount
WATCH_RULES = (
    ("库存低于补货点", "stock_below_reorder", "general", 0, None),
    ("应收逾期超过 7 天", "invoice_overdue", "management", 7, None),
    ("大额销售订单", "large_sales_order", "sales", 0, D("50000.00")),
)


def _watch_rules(data: DemoData, source: Any) -> None:
    """The early-warning rules of the demo: their first alerts appear once the cache is primed
    after the demo is committed (TEA-500G low in Hangzhou, INV-3003 overdue, SO-1001)."""
    from crm_bridge.rule_models import WatchRule

    for name, kind, conversation, days, amount in WATCH_RULES:
        channel = data.conversations.get(conversation)
        if channel is None:
            continue
        WatchRule.objects.create(
            workspace=data.workspace,
            source=source,
            name=name,
            kind=kind,
            channel=channel,
            days=days,
            amount=amount,
            created_by=data.users["owner"],
        )


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    today = timezone.now().astimezone(TZ).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour, minute), tzinfo=TZ)


def _create(data: DemoData) -> None:
    ws = data.workspace
    users = data.users
    sales, purchasing, finance, owner = users["sales"], users["purchasing"], users["finance"], users["owner"]
    today = timezone.now().astimezone(TZ).date()

    warehouses = {code: Warehouse.objects.create(workspace=ws, code=code, name=name) for code, name in WAREHOUSES}
    products = {
        sku: Product.objects.create(
            workspace=ws, sku=sku, name=name, unit=unit, list_price=price, cost_price=cost, owner=purchasing
        )
        for sku, name, unit, price, cost in PRODUCTS
    }
    for sku, wh, on_hand, reserved, reorder in STOCK:
        Stock.objects.create(
            workspace=ws,
            product=products[sku],
            warehouse=warehouses[wh],
            on_hand=on_hand,
            reserved=reserved,
            reorder_point=reorder,
            owner=users["warehouse"],
        )

    standard = PriceList.objects.create(workspace=ws, name="标准价", is_default=True)
    vip = PriceList.objects.create(workspace=ws, name="VIP 客户价")
    parties = {
        code: Party.objects.create(
            workspace=ws,
            code=code,
            kind=kind,
            name=name,
            partner=data.partners.get(partner_key) if partner_key else None,
            phone=phone,
            address=address,
            owner=sales if kind == "customer" else purchasing,
            price_list=vip if code == "C001" else None,
            credit_limit=D("500000.00") if code == "C001" else None,
            internal_notes="重点客户，年框合同谈判中" if code == "C001" else "",
        )
        for code, kind, name, partner_key, phone, address in PARTIES
    }
    for code, name, title, phone, email in CONTACTS:
        Contact.objects.create(workspace=ws, party=parties[code], name=name, title=title, phone=phone, email=email)

    # Standard prices with quantity breaks, a VIP list, and one price for 悦茗 only.
    for sku, breaks in {
        "TEA-500G": ((1, "298.00"), (50, "288.00"), (200, "278.00")),
        "TEA-250G": ((1, "158.00"), (100, "148.00")),
        "TEA-BJ-100G": ((1, "128.00"),),
        "TEA-HM-500G": ((1, "238.00"),),
    }.items():
        for min_qty, price in breaks:
            PriceListItem.objects.create(
                workspace=ws, price_list=standard, product=products[sku], min_quantity=D(min_qty), unit_price=D(price)
            )
    PriceListItem.objects.create(
        workspace=ws, price_list=vip, product=products["TEA-500G"], min_quantity=D(1), unit_price=D("275.00")
    )
    PriceListItem.objects.create(
        workspace=ws,
        price_list=vip,
        product=products["TEA-500G"],
        customer=parties["C001"],
        min_quantity=D(100),
        unit_price=D("268.00"),
    )

    ApprovalLimit.objects.create(
        workspace=ws, doc_type="purchase_order", approver=finance, max_amount=D("50000.00"), owner=owner
    )
    ApprovalLimit.objects.create(
        workspace=ws, doc_type="purchase_order", approver=owner, max_amount=D("1000000.00"), owner=owner
    )

    # number, customer, state, confirmed at, lines (sku, qty, unit price, warehouse)
    orders: tuple[tuple[Any, ...], ...] = (
        ("SO-1001", "C001", "confirmed", _at(0, 9, 30), (("TEA-500G", 300, "268.00", "HZ"),)),
        (
            "SO-1002",
            "C002",
            "confirmed",
            _at(0, 11, 15),
            (("TEA-250G", 20, "158.00", "HZ"), ("TEA-BJ-100G", 10, "128.00", "HZ")),
        ),
        ("SO-1003", "C001", "draft", None, (("TEA-HM-500G", 50, "238.00", "HZ"),)),
        ("SO-1004", "C002", "done", _at(-7, 15), (("TEA-500G", 30, "298.00", "HZ"),)),
    )
    sales_orders = {}
    for number, code, state, confirmed_at, lines in orders:
        order = SalesOrder.objects.create(
            workspace=ws,
            number=number,
            party=parties[code],
            state=state,
            confirmed_at=confirmed_at,
            order_date=(confirmed_at.date() if confirmed_at else today),
            owner=sales,
        )
        for sku, qty, price, wh in lines:
            SalesOrderLine.objects.create(
                order=order, product=products[sku], quantity=D(qty), unit_price=D(price), warehouse=warehouses[wh]
            )
        recompute_total(order)
        sales_orders[number] = order

    purchases: tuple[tuple[Any, ...], ...] = (
        ("PO-2001", "S001", "to_approve", (("PKG-GIFT-BOX", 5000, "18.00"),)),
        ("PO-2002", "S002", "approved", (("TEA-500G", 200, "150.00"),)),
    )
    for number, code, state, lines in purchases:
        po = PurchaseOrder.objects.create(
            workspace=ws,
            number=number,
            party=parties[code],
            state=state,
            owner=purchasing,
            internal_notes="竹韵报价比去年高 5%，可以再谈" if number == "PO-2001" else "",
            decided_by=owner.email if state == "approved" else "",
            decided_at=_at(-2, 10) if state == "approved" else None,
        )
        for sku, qty, price in lines:
            PurchaseOrderLine.objects.create(
                order=po, product=products[sku], quantity=D(qty), unit_price=D(price), warehouse=warehouses["HZ"]
            )
        recompute_total(po)

    for number, code, so_number, amount, due, issued, due_in in (
        ("INV-3001", "C001", None, "86400.00", "0.00", -40, -10),
        ("INV-3002", "C001", "SO-1001", "80400.00", "80400.00", 0, 30),
        ("INV-3003", "C002", "SO-1004", "8940.00", "8940.00", -37, -15),  # overdue 15 days
    ):
        Invoice.objects.create(
            workspace=ws,
            number=number,
            party=parties[code],
            sales_order=sales_orders[so_number] if so_number else None,
            amount=D(amount),
            amount_due=D(due),
            issue_date=today + timedelta(days=issued),
            due_date=today + timedelta(days=due_in),
            owner=finance,
        )
