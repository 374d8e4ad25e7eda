"""ERP-lite's writes that are more than saving one row: order totals, the order state
machines with approval limits, and notes. The source, the admin, the importer and the demo
all go through these."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from crm_bridge.erplite.models import (
    ApprovalLimit,
    ErpRow,
    Invoice,
    Note,
    Party,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Stock,
    Warehouse,
)
from crm_bridge.sources.base import InvalidTransition, SourcePermissionDenied, Transition
from hub.actions import audit
from hub.errors import HubError
from hub.models import Member

SO = SalesOrder.State
PO = PurchaseOrder.State

# (transition, current state) -> next state. Anything not listed is an invalid transition.
SALES_ORDER_MACHINE: dict[tuple[Transition, str], str] = {
    (Transition.CONFIRM, SO.DRAFT): SO.CONFIRMED,
    (Transition.CANCEL, SO.DRAFT): SO.CANCELLED,
    (Transition.CANCEL, SO.CONFIRMED): SO.CANCELLED,
}
PURCHASE_ORDER_MACHINE: dict[tuple[Transition, str], str] = {
    (Transition.CONFIRM, PO.DRAFT): PO.TO_APPROVE,  # submit for approval
    (Transition.APPROVE, PO.TO_APPROVE): PO.APPROVED,
    (Transition.REJECT, PO.TO_APPROVE): PO.REJECTED,
    (Transition.CANCEL, PO.DRAFT): PO.CANCELLED,
    (Transition.CANCEL, PO.TO_APPROVE): PO.CANCELLED,
    (Transition.CANCEL, PO.APPROVED): PO.CANCELLED,
    (Transition.CANCEL, PO.REJECTED): PO.CANCELLED,
}

# Transitions that decide on money and therefore need an approval limit covering the total.
_NEEDS_LIMIT = {(PurchaseOrder, Transition.APPROVE), (SalesOrder, Transition.CONFIRM)}
_NEEDS_APPROVER = {(PurchaseOrder, Transition.REJECT)}


def recompute_total(order: SalesOrder | PurchaseOrder) -> None:
    """Store the sum of the lines as the order total (a new version when it changed)."""
    total = order.lines.aggregate(total=Sum(F("quantity") * F("unit_price")))["total"] or Decimal(0)
    total = Decimal(total).quantize(Decimal("0.01"))
    if total != order.amount_total:
        order.amount_total = total
        order.save(update_fields=["amount_total"])


def check_approval_limit(order: SalesOrder | PurchaseOrder, action: Transition, actor: str) -> None:
    """With approval limits set for the order's type, the actor (an email) must hold one that
    covers the total; without any, the hub's own permission check is the only gate."""
    key = (type(order), action)
    if key not in _NEEDS_LIMIT and key not in _NEEDS_APPROVER:
        return
    doc_type = "purchase_order" if isinstance(order, PurchaseOrder) else "sales_order"
    limits = ApprovalLimit.objects.filter(workspace_id=order.workspace_id, doc_type=doc_type)
    if not limits.exists():
        return
    mine = limits.filter(approver__email__iexact=actor).first()
    if mine is None:
        raise SourcePermissionDenied(f"{actor} may not approve {order.number}")
    if key in _NEEDS_LIMIT and mine.max_amount < order.amount_total:
        raise SourcePermissionDenied(
            f"{order.number} ({order.amount_total} {order.currency}) exceeds {actor}'s approval limit "
            f"({mine.max_amount})"
        )


def next_state(order: SalesOrder | PurchaseOrder, action: Transition) -> str:
    machine = SALES_ORDER_MACHINE if isinstance(order, SalesOrder) else PURCHASE_ORDER_MACHINE
    try:
        return machine[(action, order.state)]
    except KeyError:
        raise InvalidTransition(f"{order.number} is {order.get_state_display()}: cannot {action}") from None


def do_transition(order: SalesOrder | PurchaseOrder, action: Transition, *, actor: str, comment: str = "") -> None:
    """Caller holds the row lock and has checked the expected version."""
    state = next_state(order, action)
    check_approval_limit(order, action, actor)
    now = timezone.now()
    order.state = state
    changed = ["state"]
    if isinstance(order, SalesOrder) and state == SO.CONFIRMED:
        order.confirmed_at = now
        changed.append("confirmed_at")
    if isinstance(order, PurchaseOrder) and action in (Transition.APPROVE, Transition.REJECT):
        order.decided_by, order.decided_at = actor, now
        changed += ["decided_by", "decided_at"]
    order.save(update_fields=changed)
    if comment:
        record_type = "sales_order" if isinstance(order, SalesOrder) else "purchase_order"
        do_log_note(order.workspace_id, record_type, order.pk, f"{action}: {comment}", actor)


@transaction.atomic
def do_log_note(workspace_id: int, record_type: str, record_id: int, body: str, author: str) -> Note:
    return Note.objects.create(
        workspace_id=workspace_id, record_type=record_type, record_id=record_id, body=body, author=author[:254]
    )


# --- admin writes (the admin HTTP API) ------------------------------------------------------------


class VersionMismatch(HubError):
    status = 409

    def __init__(self, row: ErpRow, expected: int) -> None:
        super().__init__(
            "version_conflict", f"{row} changed since you read it (version {expected}, now {row.version}): reload it"
        )


def _unique(model: type[ErpRow], workspace_id: int, exclude_pk: int | None = None, **key: str) -> None:
    clash = model._default_manager.filter(workspace_id=workspace_id, **key)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise HubError("duplicate", f"{', '.join(key.values())} already exists", status=409)


@transaction.atomic
def do_update_row(actor: Member, row: ErpRow, changes: dict[str, Any], expected_version: int) -> ErpRow:
    """Change some columns of one row if nobody changed it since the caller read it."""
    locked = type(row)._default_manager.select_for_update().get(pk=row.pk)
    if locked.version != expected_version:
        raise VersionMismatch(locked, expected_version)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save()
    audit(
        "erplite.updated",
        actor=actor.user,
        workspace=actor.workspace_id,
        target=locked,
        fields=sorted(changes),
    )
    return locked


@transaction.atomic
def do_create_party(actor: Member, fields: dict[str, Any]) -> Party:
    _unique(Party, actor.workspace_id, code=fields["code"])
    party = Party.objects.create(workspace_id=actor.workspace_id, owner=actor.user, **fields)
    audit("erplite.created", actor=actor.user, workspace=actor.workspace_id, target=party, code=party.code)
    return party


@transaction.atomic
def do_create_product(actor: Member, fields: dict[str, Any]) -> Product:
    _unique(Product, actor.workspace_id, sku=fields["sku"])
    product = Product.objects.create(workspace_id=actor.workspace_id, owner=actor.user, **fields)
    audit("erplite.created", actor=actor.user, workspace=actor.workspace_id, target=product, sku=product.sku)
    return product


@transaction.atomic
def do_set_stock(
    actor: Member, product: Product, warehouse: Warehouse, on_hand: Decimal, reserved: Decimal, reorder: Decimal | None
) -> Stock:
    if reserved > on_hand:
        raise HubError("invalid_stock", f"reserved ({reserved}) is more than on hand ({on_hand})", status=422)
    stock, _ = Stock.objects.select_for_update().get_or_create(
        product=product, warehouse=warehouse, defaults={"workspace_id": actor.workspace_id, "owner": actor.user}
    )
    stock.on_hand, stock.reserved, stock.reorder_point = on_hand, reserved, reorder
    stock.save()
    audit("erplite.stock_set", actor=actor.user, workspace=actor.workspace_id, target=stock, on_hand=str(on_hand))
    return stock


@transaction.atomic
def do_create_order(
    actor: Member,
    model: type[SalesOrder] | type[PurchaseOrder],
    number: str,
    party: Party,
    lines: list[tuple[Product, Decimal, Decimal, Warehouse | None]],
) -> SalesOrder | PurchaseOrder:
    """A draft order with its lines (product, quantity, unit price, warehouse)."""
    _unique(model, actor.workspace_id, number=number)
    order = model._default_manager.create(workspace_id=actor.workspace_id, number=number, party=party, owner=actor.user)
    if isinstance(order, SalesOrder):
        SalesOrderLine.objects.bulk_create(
            [SalesOrderLine(order=order, product=p, quantity=q, unit_price=u, warehouse=w) for p, q, u, w in lines]
        )
    else:
        PurchaseOrderLine.objects.bulk_create(
            [PurchaseOrderLine(order=order, product=p, quantity=q, unit_price=u, warehouse=w) for p, q, u, w in lines]
        )
    recompute_total(order)
    audit("erplite.created", actor=actor.user, workspace=actor.workspace_id, target=order, number=number)
    return order


@transaction.atomic
def do_create_invoice(actor: Member, fields: dict[str, Any]) -> Invoice:
    _unique(Invoice, actor.workspace_id, number=fields["number"])
    if fields["amount_due"] > fields["amount"]:
        raise HubError("invalid_amount_due", "the amount due cannot exceed the invoice amount", status=422)
    invoice = Invoice.objects.create(workspace_id=actor.workspace_id, owner=actor.user, **fields)
    audit("erplite.created", actor=actor.user, workspace=actor.workspace_id, target=invoice, number=invoice.number)
    return invoice
