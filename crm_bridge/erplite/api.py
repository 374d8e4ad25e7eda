"""Admin HTTP API of ERP-lite: create and change parties, products, stock, orders and invoices
without the Django admin (a phone app, a script). Owners and admins only. Changes carry the
row ``version`` the caller read: a row changed meanwhile answers 409 ``version_conflict``
instead of overwriting someone else's edit. Order state changes go through the cards
(approve, confirm, cancel: ``Source.transition``), not through here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from crm_bridge.erplite import actions
from crm_bridge.erplite.models import ErpRow, Invoice, Party, Product, PurchaseOrder, SalesOrder, Warehouse
from crm_bridge.erplite.records import record_of
from crm_bridge.serialize import record_to_json
from crm_bridge.sources.base import RecordNotFound
from crm_bridge.sources.builtin import BuiltinSource, ensure_default_source
from hub.access import access_workspace_admin
from hub.apicore import authed_user
from hub.errors import HubError, NotFound
from hub.models import Member

router = Router(tags=["erp"])

Money = Field(ge=0, max_digits=14, decimal_places=2)
Quantity = Field(ge=0, max_digits=14, decimal_places=3)


class PartyIn(Schema):
    kind: Party.Kind
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    address: str = Field(default="", max_length=255)
    partner_id: int | None = None


class PartyPatch(Schema):
    version: int
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=255)
    partner_id: int | None = None
    active: bool | None = None


class ProductIn(Schema):
    sku: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    unit: str = Field(default="件", min_length=1, max_length=16)
    list_price: Decimal = Money
    cost_price: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)


class ProductPatch(Schema):
    version: int
    name: str | None = Field(default=None, min_length=1, max_length=120)
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    list_price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    cost_price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    active: bool | None = None


class StockIn(Schema):
    sku: str = Field(min_length=1, max_length=40)
    warehouse: str = Field(min_length=1, max_length=80, description="code or name; created if new")
    on_hand: Decimal = Quantity
    reserved: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=3)
    reorder_point: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=3)


class LineIn(Schema):
    sku: str = Field(min_length=1, max_length=40)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    unit_price: Decimal | None = Field(
        default=None, ge=0, max_digits=14, decimal_places=2, description="sales orders: default is the customer's price"
    )
    warehouse: str | None = Field(default=None, max_length=80)


class OrderIn(Schema):
    number: str = Field(min_length=1, max_length=32)
    party: str = Field(min_length=1, max_length=120, description="customer / supplier code or exact name")
    lines: list[LineIn] = Field(min_length=1, max_length=200)


class InvoiceIn(Schema):
    number: str = Field(min_length=1, max_length=32)
    customer: str = Field(min_length=1, max_length=120)
    amount: Decimal = Money
    amount_due: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    issue_date: date | None = None
    due_date: date


class InvoicePatch(Schema):
    version: int
    amount_due: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    due_date: date | None = None


class RecordOut(Schema):
    id: int
    version: int
    record: dict[str, Any] = Field(description="the record as the built-in source returns it")


def _out(row: ErpRow) -> dict[str, object]:
    return {"id": row.pk, "version": row.version, "record": record_to_json(record_of(row))}


def _row(member: Member, model: type[ErpRow], pk: int) -> Any:
    row = model._default_manager.filter(pk=pk, workspace_id=member.workspace_id).first()
    if row is None:
        raise NotFound(str(model._meta.verbose_name))
    return row


def _party(member: Member, text: str, kind: str) -> Party:
    party = (
        Party.objects.filter(workspace_id=member.workspace_id, kind=kind)
        .filter(Q(code__iexact=text) | Q(name=text))
        .first()
    )
    if party is None:
        raise HubError("unknown_party", f"no {kind} {text!r}", status=422)
    return party


def _product(member: Member, sku: str) -> Product:
    product = Product.objects.filter(workspace_id=member.workspace_id, sku__iexact=sku).first()
    if product is None:
        raise HubError("unknown_product", f"no product {sku!r}", status=422)
    return product


def _warehouse(member: Member, text: str | None, *, create: bool = False) -> Warehouse | None:
    if not text:
        return None
    found = Warehouse.objects.filter(workspace_id=member.workspace_id).filter(Q(code__iexact=text) | Q(name=text))
    warehouse = found.first()
    if warehouse is None and create:
        return Warehouse.objects.create(workspace_id=member.workspace_id, code=text[:16], name=text, owner=member.user)
    if warehouse is None:
        raise HubError("unknown_warehouse", f"no warehouse {text!r}", status=422)
    return warehouse


def _partner(member: Member, partner_id: int | None) -> dict[str, object]:
    if partner_id is None:
        return {}
    from hub.access import access_partner

    return {"partner": access_partner(member, partner_id)}


@router.post("/workspaces/{workspace_id}/erp/parties", response={201: RecordOut})
def create_party(request: HttpRequest, workspace_id: int, payload: PartyIn) -> Status[object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    fields = payload.dict(exclude={"partner_id"}) | _partner(member, payload.partner_id)
    return Status(201, _out(actions.do_create_party(member, fields)))


@router.patch("/workspaces/{workspace_id}/erp/parties/{party_id}", response=RecordOut)
def update_party(request: HttpRequest, workspace_id: int, party_id: int, payload: PartyPatch) -> dict[str, object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    party = _row(member, Party, party_id)
    changes = payload.dict(exclude={"version", "partner_id"}, exclude_none=True) | _partner(member, payload.partner_id)
    return _out(actions.do_update_row(member, party, changes, payload.version))


@router.post("/workspaces/{workspace_id}/erp/products", response={201: RecordOut})
def create_product(request: HttpRequest, workspace_id: int, payload: ProductIn) -> Status[object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    return Status(201, _out(actions.do_create_product(member, payload.dict())))


@router.patch("/workspaces/{workspace_id}/erp/products/{product_id}", response=RecordOut)
def update_product(
    request: HttpRequest, workspace_id: int, product_id: int, payload: ProductPatch
) -> dict[str, object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    product = _row(member, Product, product_id)
    changes = payload.dict(exclude={"version"}, exclude_none=True)
    return _out(actions.do_update_row(member, product, changes, payload.version))


@router.put("/workspaces/{workspace_id}/erp/stock", response=RecordOut)
def set_stock(request: HttpRequest, workspace_id: int, payload: StockIn) -> dict[str, object]:
    """Set one product's stock in one warehouse; answers with the product's record."""
    member = access_workspace_admin(authed_user(request), workspace_id)
    product = _product(member, payload.sku)
    warehouse = _warehouse(member, payload.warehouse, create=True)
    assert warehouse is not None
    actions.do_set_stock(member, product, warehouse, payload.on_hand, payload.reserved, payload.reorder_point)
    product.refresh_from_db()
    return _out(product)


def _lines(member: Member, payload: OrderIn, customer: Party | None) -> list[Any]:
    source = BuiltinSource(ensure_default_source(member.workspace)) if customer is not None else None
    lines = []
    for line in payload.lines:
        product = _product(member, line.sku)
        price = line.unit_price
        if price is None and source is not None and customer is not None:
            try:
                price = source.price(product.sku, customer.code, line.quantity).unit_price.amount
            except RecordNotFound:
                price = product.list_price
        if price is None:
            raise HubError("unit_price_required", f"line {line.sku}: purchase lines need a unit price", status=422)
        lines.append((product, line.quantity, price, _warehouse(member, line.warehouse)))
    return lines


@router.post("/workspaces/{workspace_id}/erp/sales-orders", response={201: RecordOut})
def create_sales_order(request: HttpRequest, workspace_id: int, payload: OrderIn) -> Status[object]:
    """A draft sales order; lines without a unit price get the customer's price."""
    member = access_workspace_admin(authed_user(request), workspace_id)
    customer = _party(member, payload.party, Party.Kind.CUSTOMER)
    order = actions.do_create_order(member, SalesOrder, payload.number, customer, _lines(member, payload, customer))
    return Status(201, _out(order))


@router.post("/workspaces/{workspace_id}/erp/purchase-orders", response={201: RecordOut})
def create_purchase_order(request: HttpRequest, workspace_id: int, payload: OrderIn) -> Status[object]:
    """A draft purchase order (submit it for approval with the card's confirm)."""
    member = access_workspace_admin(authed_user(request), workspace_id)
    supplier = _party(member, payload.party, Party.Kind.SUPPLIER)
    order = actions.do_create_order(member, PurchaseOrder, payload.number, supplier, _lines(member, payload, None))
    return Status(201, _out(order))


@router.post("/workspaces/{workspace_id}/erp/invoices", response={201: RecordOut})
def create_invoice(request: HttpRequest, workspace_id: int, payload: InvoiceIn) -> Status[object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    fields: dict[str, Any] = {
        "number": payload.number,
        "party": _party(member, payload.customer, Party.Kind.CUSTOMER),
        "amount": payload.amount,
        "amount_due": payload.amount if payload.amount_due is None else payload.amount_due,
        "due_date": payload.due_date,
    }
    if payload.issue_date is not None:
        fields["issue_date"] = payload.issue_date
    return Status(201, _out(actions.do_create_invoice(member, fields)))


@router.patch("/workspaces/{workspace_id}/erp/invoices/{invoice_id}", response=RecordOut)
def update_invoice(
    request: HttpRequest, workspace_id: int, invoice_id: int, payload: InvoicePatch
) -> dict[str, object]:
    """Record a payment (a lower amount due; 0 = paid) or move the due date."""
    member = access_workspace_admin(authed_user(request), workspace_id)
    invoice = _row(member, Invoice, invoice_id)
    changes = payload.dict(exclude={"version"}, exclude_none=True)
    if changes.get("amount_due", Decimal(0)) > invoice.amount:
        raise HubError("invalid_amount_due", "the amount due cannot exceed the invoice amount", status=422)
    return _out(actions.do_update_row(member, invoice, changes, payload.version))
