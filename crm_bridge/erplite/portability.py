"""ERP-lite's part of a workspace archive (hub/portability): the built-in ERP's customers and
suppliers, contacts, products, warehouses and stock, price lists, orders with their lines,
invoices and notes. Models are listed so that every row's targets come first."""

from __future__ import annotations

from crm_bridge.erplite import models as m
from hub.portability.registry import register_contributor
from hub.portability.rows import ModelRowsContributor

register_contributor(
    ModelRowsContributor(
        name="erplite",
        order=25,  # before crm_bridge: record cards describe these rows
        models=[
            (m.PriceList, "workspace"),
            (m.Party, "workspace"),
            (m.Contact, "workspace"),
            (m.Product, "workspace"),
            (m.Warehouse, "workspace"),
            (m.Stock, "workspace"),
            (m.PriceListItem, "workspace"),
            (m.ApprovalLimit, "workspace"),
            (m.SalesOrder, "workspace"),
            (m.PurchaseOrder, "workspace"),
            (m.SalesOrderLine, "order__workspace"),
            (m.PurchaseOrderLine, "order__workspace"),
            (m.Invoice, "workspace"),
            (m.Note, "workspace"),
        ],
    )
)
