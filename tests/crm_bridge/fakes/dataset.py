"""The one business data set every source under test is seeded with (the fake Odoo, the fake
ERPNext and the built-in ERP-lite), so that one contract suite can ask all of them the same
questions and expect the same answers.

Chosen to exercise the edges: Chinese names, a customer-specific price list, stock in two
warehouses with reservations and a reorder point, sales orders on both sides of midnight in
Asia/Shanghai (the sales summary must use the workspace's time zone, not UTC), a purchase
order awaiting approval, an open and a paid invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

SALES_DAY = date(2026, 11, 26)
TIME_ZONE = "Asia/Shanghai"
CURRENCY = "CNY"
DEFAULT_PRICE_LIST = "标准价"


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    email: str
    price_list: str | None = None


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    list_price: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Stock:
    sku: str
    warehouse: str  # warehouse code
    on_hand: Decimal
    reserved: Decimal


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Order:
    number: str
    party: str  # party code
    state: str  # draft | to_approve | approved | confirmed
    ordered_at: datetime
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class Invoice:
    number: str
    party: str
    amount: Decimal
    amount_due: Decimal
    invoice_date: date
    due_date: date

    @property
    def paid(self) -> bool:
        return self.amount_due == 0


D = Decimal
CUSTOMERS = (
    Party("C0001", "西湖茶馆", "boss@xihu-teahouse.cn", price_list="VIP 客户价"),
    Party("C0002", "Lucky Tea House", "buy@luckytea.example"),
)
SUPPLIERS = (Party("S0001", "龙井包装厂", "sales@ljpack.cn"),)
WAREHOUSES = (("WH-HZ", "杭州仓"), ("WH-SH", "上海仓"))
PRODUCTS = (
    Product("LJ-250", "西湖龙井 250g", D("168.00"), D("90.00")),
    Product("BLC-100", "碧螺春 100g", D("88.00"), D("41.50")),
    Product("BOX-01", "礼盒 Gift box", D("12.50"), D("4.20")),
)
STOCK = (
    Stock("LJ-250", "WH-HZ", D("120"), D("20")),
    Stock("LJ-250", "WH-SH", D("5"), D("0")),
    Stock("BLC-100", "WH-HZ", D("40"), D("0")),
    Stock("BOX-01", "WH-HZ", D("3"), D("0")),
)
REORDER_POINTS = (("BOX-01", "WH-HZ", D("50")),)
# (price list, sku, unit price): the VIP list of 西湖茶馆.
CUSTOMER_PRICES = (("VIP 客户价", "LJ-250", D("158.00")),)
SALES_ORDERS = (
    # 10:15 in Shanghai on the sales day.
    Order(
        "SO-1001",
        "C0001",
        "confirmed",
        datetime(2026, 11, 26, 2, 15, tzinfo=UTC),
        (Line("LJ-250", D("10"), D("150.00")), Line("BLC-100", D("5"), D("88.00"))),
    ),
    Order(
        "SO-1002", "C0002", "draft", datetime(2026, 11, 26, 3, 0, tzinfo=UTC), (Line("LJ-250", D("2"), D("168.00")),)
    ),
    # 00:30 in Shanghai on the sales day, still the day before in UTC.
    Order(
        "SO-1003",
        "C0002",
        "confirmed",
        datetime(2026, 11, 25, 16, 30, tzinfo=UTC),
        (Line("BOX-01", D("4"), D("12.50")),),
    ),
    # 00:30 in Shanghai the day after, still the sales day in UTC.
    Order(
        "SO-1004",
        "C0001",
        "confirmed",
        datetime(2026, 11, 26, 16, 30, tzinfo=UTC),
        (Line("BLC-100", D("1"), D("88.00")),),
    ),
)
PURCHASE_ORDERS = (
    Order(
        "PO-2001",
        "S0001",
        "to_approve",
        datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
        (Line("BOX-01", D("400"), D("12.50")),),
    ),
    Order(
        "PO-2002",
        "S0001",
        "approved",
        datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        (Line("BOX-01", D("100"), D("12.00")),),
    ),
)
INVOICES = (
    Invoice("INV-3001", "C0001", D("1940.00"), D("940.00"), date(2026, 11, 26), date(2026, 12, 10)),
    Invoice("INV-3002", "C0002", D("50.00"), D("0.00"), date(2026, 11, 20), date(2026, 11, 30)),
)

# What the sales summary of SALES_DAY in TIME_ZONE must say.
EXPECTED_SALES_TOTAL = D("1990.00")  # SO-1001 + SO-1003
EXPECTED_SALES_COUNT = 2


def product(sku: str) -> Product:
    return next(p for p in PRODUCTS if p.sku == sku)


def party(code: str) -> Party:
    return next(p for p in (*CUSTOMERS, *SUPPLIERS) if p.code == code)


def warehouse_name(code: str) -> str:
    return dict(WAREHOUSES)[code]
