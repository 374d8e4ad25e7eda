"""The shared data set written into ERP-lite (the built-in source's own tables)."""

from __future__ import annotations

from collections.abc import Callable

from crm_bridge.erplite.actions import recompute_total
from crm_bridge.erplite.models import (
    Invoice,
    Note,
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
from crm_bridge.sources.base import RecordRef
from hub.models import Workspace
from tests.crm_bridge.fakes import dataset as ds


def seed_builtin(ws: Workspace) -> tuple[Callable[[str], None], Callable[[RecordRef], list[str]]]:
    standard = PriceList.objects.create(workspace=ws, name=ds.DEFAULT_PRICE_LIST, is_default=True)
    lists = {name: PriceList.objects.create(workspace=ws, name=name) for name, _, _ in ds.CUSTOMER_PRICES}
    parties = {}
    for p in ds.CUSTOMERS:
        parties[p.code] = Party.objects.create(
            workspace=ws,
            kind="customer",
            code=p.code,
            name=p.name,
            email=p.email,
            price_list=lists.get(p.price_list or ""),
            internal_notes="内部：付款慢",
        )
    for p in ds.SUPPLIERS:
        parties[p.code] = Party.objects.create(workspace=ws, kind="supplier", code=p.code, name=p.name, email=p.email)
    Party.objects.create(workspace=ws, kind="customer", code="C9999", name="西湖旧客户", active=False)
    products = {
        p.sku: Product.objects.create(workspace=ws, sku=p.sku, name=p.name, list_price=p.list_price, cost_price=p.cost)
        for p in ds.PRODUCTS
    }
    for p in ds.PRODUCTS:
        PriceListItem.objects.create(
            workspace=ws, price_list=standard, product=products[p.sku], unit_price=p.list_price
        )
    for name, sku, price in ds.CUSTOMER_PRICES:
        PriceListItem.objects.create(workspace=ws, price_list=lists[name], product=products[sku], unit_price=price)
    warehouses = {code: Warehouse.objects.create(workspace=ws, code=code, name=name) for code, name in ds.WAREHOUSES}
    reorder = {(sku, wh): qty for sku, wh, qty in ds.REORDER_POINTS}
    for s in ds.STOCK:
        Stock.objects.create(
            workspace=ws,
            product=products[s.sku],
            warehouse=warehouses[s.warehouse],
            on_hand=s.on_hand,
            reserved=s.reserved,
            reorder_point=reorder.get((s.sku, s.warehouse)),
        )
    for o in ds.SALES_ORDERS:
        order = SalesOrder.objects.create(
            workspace=ws,
            number=o.number,
            party=parties[o.party],
            state=o.state,
            order_date=o.ordered_at.date(),
            confirmed_at=o.ordered_at if o.state == "confirmed" else None,
        )
        for line in o.lines:
            SalesOrderLine.objects.create(
                order=order,
                product=products[line.sku],
                quantity=line.quantity,
                unit_price=line.unit_price,
                warehouse=warehouses["WH-HZ"],
            )
        recompute_total(order)
    for o in ds.PURCHASE_ORDERS:
        po = PurchaseOrder.objects.create(
            workspace=ws, number=o.number, party=parties[o.party], state=o.state, order_date=o.ordered_at.date()
        )
        for line in o.lines:
            PurchaseOrderLine.objects.create(
                order=po, product=products[line.sku], quantity=line.quantity, unit_price=line.unit_price
            )
        recompute_total(po)
    for inv in ds.INVOICES:
        Invoice.objects.create(
            workspace=ws,
            number=inv.number,
            party=parties[inv.party],
            amount=inv.amount,
            amount_due=inv.amount_due,
            issue_date=inv.invoice_date,
            due_date=inv.due_date,
        )

    def touch(number: str) -> None:
        model = PurchaseOrder if number.startswith("PO") else SalesOrder
        order = model.objects.get(workspace=ws, number=number)
        order.internal_notes = "changed elsewhere"
        order.save()

    def notes(ref: RecordRef) -> list[str]:
        return list(
            Note.objects.filter(workspace=ws, record_type=str(ref.type), record_id=int(ref.key)).values_list(
                "body", flat=True
            )
        )

    return touch, notes
