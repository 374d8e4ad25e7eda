"""ERP-lite rows → the bridge's ``Record`` values (what ``BuiltinSource.get`` returns).

One function per record type. Public fields go into ``fields``; cost, margin and internal
notes into ``internal`` (cards drop it for guests). Keys are primary keys as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from crm_bridge.erplite.models import (
    ApprovalLimit,
    Contact,
    ErpRow,
    Invoice,
    Party,
    Product,
    PurchaseOrder,
    SalesOrder,
    Stock,
)
from crm_bridge.sources.base import Money, Record, RecordLine, RecordRef, RecordType, Status
from hub.models import Member

# Which table serves which record type (parties serve two, told apart by ``kind``).
MODELS: dict[RecordType, type[ErpRow]] = {
    RecordType.CUSTOMER: Party,
    RecordType.SUPPLIER: Party,
    RecordType.CONTACT: Contact,
    RecordType.PRODUCT: Product,
    RecordType.SALES_ORDER: SalesOrder,
    RecordType.PURCHASE_ORDER: PurchaseOrder,
    RecordType.INVOICE: Invoice,
}

# What the admin's change page is called, for ``Record.url``.
_ADMIN_NAMES = {
    RecordType.CUSTOMER: "party",
    RecordType.SUPPLIER: "party",
    RecordType.CONTACT: "contact",
    RecordType.PRODUCT: "product",
    RecordType.SALES_ORDER: "salesorder",
    RecordType.PURCHASE_ORDER: "purchaseorder",
    RecordType.INVOICE: "invoice",
}

_STATUS_LABELS = {
    "draft": "草稿",
    "confirmed": "已确认",
    "done": "已完成",
    "cancelled": "已取消",
    "to_approve": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "open": "未结清",
    "paid": "已付清",
    "active": "有效",
}


def rows_of(workspace_id: int, type: RecordType) -> QuerySet[Any]:
    """The rows of one record type in one workspace."""
    rows: QuerySet[Any] = MODELS[type]._default_manager.filter(workspace_id=workspace_id)
    if type in (RecordType.CUSTOMER, RecordType.SUPPLIER):
        rows = rows.filter(kind=str(type))
    return rows


def party_type(party: Party) -> RecordType:
    return RecordType.CUSTOMER if party.kind == Party.Kind.CUSTOMER else RecordType.SUPPLIER


def party_ref(party: Party) -> RecordRef:
    return RecordRef(party_type(party), str(party.pk))


def _url(type: RecordType, pk: int) -> str:
    return f"/admin/erplite/{_ADMIN_NAMES[type]}/{pk}/change/"


def _base(row: ErpRow, type: RecordType) -> dict[str, object]:
    return {
        "ref": RecordRef(type, str(row.pk)),
        "version": str(row.version),
        "updated_at": row.updated_at,
        "owner": row.owner.name if row.owner_id and row.owner else "",
        "url": _url(type, row.pk),
    }


def _status(value: str) -> tuple[Status, str]:
    return Status(value), _STATUS_LABELS.get(value, value)


def party_record(party: Party) -> Record:
    type = party_type(party)
    contacts = [
        {"name": c.name, "title": c.title, "phone": c.phone, "email": c.email} for c in party.contacts.order_by("pk")
    ]
    return Record(
        **_base(party, type),  # type: ignore[arg-type]
        number=party.code,
        title=party.name,
        status=Status.ACTIVE if party.active else Status.CANCELLED,
        status_label="有效" if party.active else "已停用",
        party=RecordRef(type, str(party.pk)),
        fields={
            "code": party.code,
            "phone": party.phone,
            "email": party.email,
            "address": party.address,
            "contacts": contacts,
            "price_list": party.price_list.name if party.price_list_id and party.price_list else "",
        },
        internal={
            "credit_limit": party.credit_limit,
            "notes": party.internal_notes,
        },
    )


def contact_record(contact: Contact) -> Record:
    party = contact.party
    return Record(
        **_base(contact, RecordType.CONTACT),  # type: ignore[arg-type]
        number=contact.name,
        title=f"{contact.name} · {party.name}",
        status=Status.ACTIVE,
        status_label="有效",
        counterparty=party_ref(party),
        counterparty_name=party.name,
        party=party_ref(party),
        fields={"title": contact.title, "phone": contact.phone, "email": contact.email},
    )


def stock_rows(product: Product) -> list[Stock]:
    return list(product.stock.select_related("warehouse").order_by("warehouse__code"))


def product_record(product: Product) -> Record:
    stock = stock_rows(product)
    available = sum((s.available for s in stock), Decimal(0))
    margin = product.list_price - product.cost_price
    return Record(
        **_base(product, RecordType.PRODUCT),  # type: ignore[arg-type]
        number=product.sku,
        title=product.name,
        status=Status.ACTIVE if product.active else Status.CANCELLED,
        status_label="在售" if product.active else "停售",
        amount=Money(product.list_price, product.currency),
        fields={
            "unit": product.unit,
            "list_price": product.list_price,
            "available": available,
            "stock": [
                {
                    "warehouse": s.warehouse.name,
                    "warehouse_code": s.warehouse.code,
                    "on_hand": s.on_hand,
                    "reserved": s.reserved,
                    "available": s.available,
                    "reorder_point": s.reorder_point,
                    "below_reorder_point": s.reorder_point is not None and s.available < s.reorder_point,
                }
                for s in stock
            ],
        },
        internal={"cost_price": product.cost_price, "margin": margin},
    )


def _availability(lines: list[Any]) -> Callable[[int, int | None], Decimal]:
    """Available stock per (product, warehouse) of all the lines' products in one query: a
    50-line order costs one stock query, not fifty."""
    rows = Stock.objects.filter(product_id__in={line.product_id for line in lines}).values_list(
        "product_id", "warehouse_id", "on_hand", "reserved"
    )
    per_warehouse = {(product, warehouse): on_hand - reserved for product, warehouse, on_hand, reserved in rows}

    def available(product_id: int, warehouse_id: int | None) -> Decimal:
        return sum(
            (
                amount
                for (product, warehouse), amount in per_warehouse.items()
                if product == product_id and (warehouse_id is None or warehouse == warehouse_id)
            ),
            Decimal(0),
        )

    return available


def approvers_for(workspace_id: int, doc_type: str, amount: Decimal) -> list[str]:
    """Emails of whoever may approve an order of ``amount``: those whose limit covers it, or
    — when the workspace set no limits for that type — its owners and admins."""
    limits = ApprovalLimit.objects.filter(workspace_id=workspace_id, doc_type=doc_type)
    if limits.exists():
        return sorted(limits.filter(max_amount__gte=amount).values_list("approver__email", flat=True))
    return sorted(
        Member.objects.filter(
            workspace_id=workspace_id,
            is_active=True,
            role__in=[Member.Role.OWNER, Member.Role.ADMIN],
            user__is_bot=False,
        ).values_list("user__email", flat=True)
    )


def _order_record(order: SalesOrder | PurchaseOrder, type: RecordType) -> Record:
    party = order.party
    lines = list(order.lines.select_related("product").order_by("pk"))
    available = _availability(lines) if type == RecordType.SALES_ORDER else None
    status, label = _status(order.state)
    cost = sum((line.quantity * line.product.cost_price for line in lines), Decimal(0))
    internal: dict[str, object] = {"notes": order.internal_notes}
    if type == RecordType.SALES_ORDER:
        internal.update(cost=cost, margin=order.amount_total - cost)
    fields: dict[str, object] = {"order_date": order.order_date}
    if isinstance(order, SalesOrder):
        fields["confirmed_at"] = order.confirmed_at
    else:
        fields.update(decided_by=order.decided_by, decided_at=order.decided_at)
    return Record(
        **_base(order, type),  # type: ignore[arg-type]
        number=order.number,
        title=f"{order.number} · {party.name}",
        status=status,
        status_label=label,
        counterparty=party_ref(party),
        counterparty_name=party.name,
        amount=Money(order.amount_total, order.currency),
        party=party_ref(party),
        approvers=tuple(approvers_for(order.workspace_id, str(type), order.amount_total)),
        lines=tuple(
            RecordLine(
                name=line.product.name,
                quantity=line.quantity,
                product=RecordRef(RecordType.PRODUCT, str(line.product_id)),
                sku=line.product.sku,
                unit_price=Money(line.unit_price, order.currency),
                amount=Money(line.amount, order.currency),
                # Only what leaves our warehouses is flagged short; goods we buy are not.
                available=available(line.product_id, line.warehouse_id) if available else None,
            )
            for line in lines
        ),
        fields=fields,
        internal=internal,
    )


def sales_order_record(order: SalesOrder) -> Record:
    return _order_record(order, RecordType.SALES_ORDER)


def purchase_order_record(order: PurchaseOrder) -> Record:
    return _order_record(order, RecordType.PURCHASE_ORDER)


def invoice_record(invoice: Invoice) -> Record:
    party = invoice.party
    status, label = _status(invoice.state)
    today = timezone.localdate()
    overdue_days = (today - invoice.due_date).days if invoice.state == Invoice.State.OPEN else 0
    return Record(
        **_base(invoice, RecordType.INVOICE),  # type: ignore[arg-type]
        number=invoice.number,
        title=f"{invoice.number} · {party.name}",
        status=status,
        status_label=label + (f" · 逾期 {overdue_days} 天" if overdue_days > 0 else ""),
        counterparty=party_ref(party),
        counterparty_name=party.name,
        amount=Money(invoice.amount, invoice.currency),
        amount_due=Money(invoice.amount_due, invoice.currency),
        due_date=invoice.due_date,
        party=party_ref(party),
        fields={
            "issue_date": invoice.issue_date,
            "sales_order": invoice.sales_order.number if invoice.sales_order_id and invoice.sales_order else "",
            "overdue_days": max(overdue_days, 0),
        },
    )


_BUILDERS: dict[type[Model], Callable[[Any], Record]] = {
    Party: party_record,
    Contact: contact_record,
    Product: product_record,
    SalesOrder: sales_order_record,
    PurchaseOrder: purchase_order_record,
    Invoice: invoice_record,
}

# What ``get`` preloads per type, so building a card costs a fixed number of queries.
RELATED: dict[RecordType, tuple[str, ...]] = {
    RecordType.CUSTOMER: ("owner", "price_list"),
    RecordType.SUPPLIER: ("owner", "price_list"),
    RecordType.CONTACT: ("owner", "party"),
    RecordType.PRODUCT: ("owner",),
    RecordType.SALES_ORDER: ("owner", "party"),
    RecordType.PURCHASE_ORDER: ("owner", "party"),
    RecordType.INVOICE: ("owner", "party", "sales_order"),
}


def record_of(row: ErpRow) -> Record:
    return _BUILDERS[type(row)](row)


def ref_of(row: ErpRow) -> RecordRef:
    """The record a row *is* (a party, a product, an order …)."""
    if isinstance(row, Party):
        return party_ref(row)
    for record_type, model in MODELS.items():
        if isinstance(row, model):
            return RecordRef(record_type, str(row.pk))
    raise LookupError(f"{type(row).__name__} is not a record")
