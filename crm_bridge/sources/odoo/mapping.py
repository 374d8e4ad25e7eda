"""Odoo rows → the interface's value types, and Odoo's quirks handled in one place:

* ``False`` stands for every empty value (a missing date, an empty char, no many2one);
* a many2one is ``[id, "display name"]``; a product's display name is ``"[CODE] Name"``;
* datetimes are naive UTC strings ``"2026-11-26 10:42:00"``, dates ``"2026-11-26"``;
* money and quantities are floats: converted through ``str`` to ``Decimal`` and money rounded
  to cents, so 0.1 + 0.2 never shows as 0.30000000000000004.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crm_bridge.sources.base import RecordType, Status

CENT = Decimal("0.01")
_CODE_PREFIX = re.compile(r"^\[(?P<code>[^\]]+)\]\s*(?P<name>.*)$", re.DOTALL)


def empty(value: Any) -> Any:
    """Odoo's ``False`` (for a non-boolean field) as ``None``."""
    return None if value is False else value


def text(value: Any) -> str:
    return "" if value in (False, None) else str(value)


def m2o_id(value: Any) -> int | None:
    return int(value[0]) if isinstance(value, list | tuple) and value else None


def m2o_name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


def split_code(display_name: str) -> tuple[str, str]:
    """``"[LJ-250] 西湖龙井"`` → ``("LJ-250", "西湖龙井")``; no code → ``("", name)``."""
    match = _CODE_PREFIX.match(display_name)
    if match is None:
        return "", display_name
    return match["code"], match["name"].strip()


def decimal(value: Any) -> Decimal:
    if value in (False, None, ""):
        return Decimal(0)
    return Decimal(str(value))


def money_amount(value: Any) -> Decimal:
    return decimal(value).quantize(CENT)


def parse_datetime(value: Any) -> datetime | None:
    """``"2026-11-26 10:42:00"`` (naive UTC, Odoo's wire format) → aware UTC."""
    if value in (False, None, ""):
        return None
    return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def parse_date(value: Any) -> date | None:
    if value in (False, None, ""):
        return None
    return date.fromisoformat(str(value)[:10])


def format_datetime(value: datetime) -> str:
    """Aware datetime → Odoo's naive UTC string (for domains)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def version_of(row: dict[str, Any]) -> str:
    """``write_date`` plus a digest of the row. Odoo stamps ``write_date`` to the second, so two
    changes within one second would share it; the digest tells them apart."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:12]
    return f"{text(row.get('write_date'))}#{digest}"


@dataclass(frozen=True)
class ModelSpec:
    model: str
    domain: tuple[Any, ...]  # always ANDed in: what makes a partner a customer, a move an invoice
    fields: tuple[str, ...]
    number_field: str  # what people type: "SO-1001", a customer code, a SKU
    search_fields: tuple[str, ...]  # ilike-searched by search()


PARTNER_FIELDS = (
    "id",
    "name",
    "ref",
    "email",
    "phone",
    "city",
    "vat",
    "user_id",
    "comment",
    "customer_rank",
    "supplier_rank",
    "property_product_pricelist",
    "write_date",
)
SPECS: dict[RecordType, ModelSpec] = {
    RecordType.CUSTOMER: ModelSpec(
        "res.partner", (("customer_rank", ">", 0),), PARTNER_FIELDS, "ref", ("name", "ref", "email")
    ),
    RecordType.SUPPLIER: ModelSpec(
        "res.partner", (("supplier_rank", ">", 0),), PARTNER_FIELDS, "ref", ("name", "ref", "email")
    ),
    RecordType.CONTACT: ModelSpec(
        "res.partner",
        (("is_company", "=", False), ("parent_id", "!=", False)),
        (*PARTNER_FIELDS, "parent_id", "function"),
        "email",
        ("name", "email", "phone"),
    ),
    RecordType.PRODUCT: ModelSpec(
        "product.product",
        (),
        (
            "id",
            "name",
            "default_code",
            "barcode",
            "list_price",
            "standard_price",
            "qty_available",
            "uom_id",
            "product_tmpl_id",
            "write_date",
        ),
        "default_code",
        ("name", "default_code", "barcode"),
    ),
    RecordType.SALES_ORDER: ModelSpec(
        "sale.order",
        (),
        (
            "id",
            "name",
            "partner_id",
            "state",
            "amount_total",
            "amount_untaxed",
            "currency_id",
            "date_order",
            "user_id",
            "client_order_ref",
            "warehouse_id",
            "write_date",
        ),
        "name",
        ("name", "client_order_ref", "partner_id"),
    ),
    RecordType.PURCHASE_ORDER: ModelSpec(
        "purchase.order",
        (),
        (
            "id",
            "name",
            "partner_id",
            "state",
            "amount_total",
            "amount_untaxed",
            "currency_id",
            "date_order",
            "user_id",
            "partner_ref",
            "write_date",
        ),
        "name",
        ("name", "partner_ref", "partner_id"),
    ),
    RecordType.INVOICE: ModelSpec(
        "account.move",
        (("move_type", "in", ["out_invoice", "out_refund"]),),
        (
            "id",
            "name",
            "partner_id",
            "state",
            "payment_state",
            "move_type",
            "amount_total",
            "amount_residual",
            "currency_id",
            "invoice_date",
            "invoice_date_due",
            "invoice_user_id",
            "ref",
            "write_date",
        ),
        "name",
        ("name", "ref", "partner_id"),
    ),
}

# Odoo model → record types it can hold (a partner may be customer and supplier at once).
TYPES_OF_MODEL: dict[str, tuple[RecordType, ...]] = {
    "res.partner": (RecordType.CUSTOMER, RecordType.SUPPLIER),
    "product.product": (RecordType.PRODUCT,),
    "sale.order": (RecordType.SALES_ORDER,),
    "purchase.order": (RecordType.PURCHASE_ORDER,),
    "account.move": (RecordType.INVOICE,),
}
# Odoo 17+ web client paths (``/odoo/<app>/<id>``) → model.
MODEL_OF_APP = {
    "sales": "sale.order",
    "purchase": "purchase.order",
    "invoicing": "account.move",
    "accounting": "account.move",
    "contacts": "res.partner",
    "customers": "res.partner",
    "vendors": "res.partner",
    "products": "product.product",
}

SALE_STATUS = {
    "draft": (Status.DRAFT, "报价单 Quotation"),
    "sent": (Status.DRAFT, "已发送报价 Quotation sent"),
    "sale": (Status.CONFIRMED, "销售订单 Sales order"),
    "done": (Status.DONE, "已锁定 Locked"),
    "cancel": (Status.CANCELLED, "已取消 Cancelled"),
}
PURCHASE_STATUS = {
    "draft": (Status.DRAFT, "询价单 RFQ"),
    "sent": (Status.DRAFT, "已发送询价 RFQ sent"),
    "to approve": (Status.TO_APPROVE, "待批准 To approve"),
    "purchase": (Status.APPROVED, "采购订单 Purchase order"),
    "done": (Status.DONE, "已锁定 Locked"),
    "cancel": (Status.CANCELLED, "已取消 Cancelled"),
}


def invoice_status(state: str, payment_state: str) -> tuple[Status, str]:
    if state == "draft":
        return Status.DRAFT, "草稿 Draft"
    if state == "cancel":
        return Status.CANCELLED, "已取消 Cancelled"
    if payment_state in ("paid", "in_payment", "reversed"):
        return Status.PAID, "已付款 Paid"
    if payment_state == "partial":
        return Status.OPEN, "部分付款 Partially paid"
    return Status.OPEN, "未付款 Not paid"
