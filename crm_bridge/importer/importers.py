"""One row → one validated upsert. Each handler raises ``RowError`` with a reason a person can
act on ("单价 'abc' is not a number"); the runner keeps going with the next row. Upserts are
keyed by the natural key (party code, SKU, product × warehouse, list × product × customer ×
quantity break), so importing the same file twice changes nothing the second time."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from crm_bridge.erplite.models import Party, PriceList, PriceListItem, Product, Stock, Warehouse
from hub.models import User, Workspace


class RowError(ValueError):
    pass


Row = dict[str, str]
# Returns True when a row was created, False when an existing one was updated (or unchanged).
Handler = Callable[[Workspace, Row, User | None], bool]

_MONEY_NOISE = re.compile(r"[,\s¥￥$]|元|RMB|CNY", re.IGNORECASE)


def decimal(row: Row, field: str, *, required: bool = False, default: Decimal | None = None) -> Decimal | None:
    raw = unicodedata.normalize("NFKC", row.get(field, "")).strip()
    if not raw:
        if required:
            raise RowError(f"{field} is required")
        return default
    try:
        value = Decimal(_MONEY_NOISE.sub("", raw))
    except InvalidOperation:
        raise RowError(f"{field} {raw!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"{field} {raw!r} is not a number")
    if value < 0:
        raise RowError(f"{field} {raw!r} must not be negative")
    return value


def text(row: Row, field: str, max_length: int, *, required: bool = False) -> str:
    value = row.get(field, "").strip()
    if required and not value:
        raise RowError(f"{field} is required")
    if len(value) > max_length:
        raise RowError(f"{field} is longer than {max_length} characters")
    return value


def _save(obj: Product | Party | Stock | PriceListItem, fields: dict[str, object]) -> bool:
    """Set ``fields`` and save only when something differs (an unchanged row keeps its
    version, so re-importing a file does not make every card "changed")."""
    created = obj._state.adding
    changed = created or any(getattr(obj, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(obj, name, value)
    if changed:
        obj.save()
    return created


def _party(kind: str) -> Handler:
    def handle(ws: Workspace, row: Row, user: User | None) -> bool:
        code = text(row, "code", 32, required=True)
        fields: dict[str, object] = {"name": text(row, "name", 120, required=True)}
        for name, length in (("phone", 40), ("email", 254), ("address", 255)):
            if name in row:
                fields[name] = text(row, name, length)
        if "credit_limit" in row:
            fields["credit_limit"] = decimal(row, "credit_limit")
        party = Party.objects.filter(workspace=ws, code=code).first()
        if party is not None and party.kind != kind:
            raise RowError(f"code {code!r} is already a {party.get_kind_display()}")
        return _save(party or Party(workspace=ws, code=code, kind=kind, owner=user), fields)

    return handle


def import_product(ws: Workspace, row: Row, user: User | None) -> bool:
    sku = text(row, "sku", 40, required=True)
    fields: dict[str, object] = {"name": text(row, "name", 120, required=True)}
    if row.get("unit", "").strip():
        fields["unit"] = text(row, "unit", 16)
    for name in ("list_price", "cost_price"):
        value = decimal(row, name)
        if value is not None:
            fields[name] = value
    product = Product.objects.filter(workspace=ws, sku__iexact=sku).first()
    return _save(product or Product(workspace=ws, sku=sku, owner=user), fields)


def _product(ws: Workspace, row: Row) -> Product:
    sku = text(row, "sku", 40, required=True)
    product = Product.objects.filter(workspace=ws, sku__iexact=sku).first()
    if product is None:
        raise RowError(f"unknown product {sku!r}: import products first")
    return product


def import_stock(ws: Workspace, row: Row, user: User | None) -> bool:
    product = _product(ws, row)
    name = text(row, "warehouse", 80, required=True)
    warehouse = Warehouse.objects.filter(workspace=ws).filter(Q(code__iexact=name) | Q(name=name)).first()
    if warehouse is None:
        # A warehouse is only a label here: the first stock row naming it creates it.
        warehouse = Warehouse.objects.create(workspace=ws, code=name[:16], name=name, owner=user)
    on_hand = decimal(row, "on_hand", required=True)
    reserved = decimal(row, "reserved", default=Decimal(0))
    assert on_hand is not None and reserved is not None
    if reserved > on_hand:
        raise RowError(f"reserved ({reserved}) is more than on hand ({on_hand})")
    fields: dict[str, object] = {"on_hand": on_hand, "reserved": reserved}
    if "reorder_point" in row:
        fields["reorder_point"] = decimal(row, "reorder_point")
    stock = Stock.objects.filter(product=product, warehouse=warehouse).first()
    return _save(stock or Stock(workspace=ws, product=product, warehouse=warehouse, owner=user), fields)


def import_price(ws: Workspace, row: Row, user: User | None) -> bool:
    product = _product(ws, row)
    unit_price = decimal(row, "unit_price", required=True)
    min_quantity = decimal(row, "min_quantity", default=Decimal(1))
    assert unit_price is not None and min_quantity is not None
    list_name = text(row, "price_list", 80)
    price_list = _price_list(ws, list_name, user)
    customer = None
    customer_text = text(row, "customer", 120)
    if customer_text:
        customer = (
            Party.objects.filter(workspace=ws, kind=Party.Kind.CUSTOMER)
            .filter(Q(code__iexact=customer_text) | Q(name=customer_text))
            .first()
        )
        if customer is None:
            raise RowError(f"unknown customer {customer_text!r}: import customers first")
    item = PriceListItem.objects.filter(
        price_list=price_list, product=product, customer=customer, min_quantity=min_quantity
    ).first()
    new = PriceListItem(
        workspace=ws, price_list=price_list, product=product, customer=customer, min_quantity=min_quantity, owner=user
    )
    return _save(item or new, {"unit_price": unit_price})


def _price_list(ws: Workspace, name: str, user: User | None) -> PriceList:
    lists = PriceList.objects.filter(workspace=ws)
    if not name:
        default = lists.filter(is_default=True).first()
        if default is not None:
            return default
        name = "标准价"
    found = lists.filter(name=name).first()
    if found is not None:
        return found
    # The workspace's first list becomes its default list.
    return PriceList.objects.create(workspace=ws, name=name, is_default=not lists.exists(), owner=user)


HANDLERS: dict[str, Handler] = {
    "customers": _party(Party.Kind.CUSTOMER),
    "suppliers": _party(Party.Kind.SUPPLIER),
    "products": import_product,
    "stock": import_stock,
    "prices": import_price,
}
