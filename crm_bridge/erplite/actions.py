"""ERP-lite's writes that are more than saving one row: order totals, the order state
machines with approval limits, and notes. The source, the admin, the importer and the demo
all go through these."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from crm_bridge.erplite.models import ApprovalLimit, Note, PurchaseOrder, SalesOrder
from crm_bridge.sources.base import InvalidTransition, SourcePermissionDenied, Transition

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
