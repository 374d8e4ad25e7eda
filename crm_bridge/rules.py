"""Watch rules ("business diagnosis and early warning"): stock below its reorder point, an
invoice overdue by more than N days, a sales order at or above an amount. Rules are rows
(``WatchRule``), configured per workspace by its admins.

Rules read the record cache (``RecordSnapshot``), so they work the same for every source:
the sync pass, webhooks and ERP-lite's own saves keep the cache current, ``record_changed``
re-evaluates the changed record at once, and the periodic task re-evaluates everything —
time alone makes an invoice overdue, and stock can move without its product changing.

Each firing is an *episode* (``WatchAlert``): the alert card is posted to the rule's channel
once when the condition starts holding; nothing more while it holds; the episode closes when
it clears; the next time it holds is a new episode with a new card.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.rule_models import WatchAlert, WatchRule
from crm_bridge.serialize import record_from_json
from crm_bridge.sources.base import Record, RecordType, SourceError, Status
from crm_bridge.sources.registry import build_source
from hub.actions import audit
from hub.bots import BotSpec, ensure_bot
from hub.errors import HubError
from hub.models import Member
from messaging.models import Conversation

logger = logging.getLogger(__name__)

ALERT_BOT = BotSpec("alerts", "经营预警")
EVERY = timedelta(minutes=5)
_ALERT_NAMESPACE = uuid.UUID("0b6b2f55-5f43-4a2c-9d07-1f2a3c4d5e6f")

# Which record type each kind of rule watches.
WATCHED_TYPE: dict[str, RecordType] = {
    WatchRule.Kind.STOCK_BELOW_REORDER: RecordType.PRODUCT,
    WatchRule.Kind.INVOICE_OVERDUE: RecordType.INVOICE,
    WatchRule.Kind.LARGE_SALES_ORDER: RecordType.SALES_ORDER,
}
_PLACED = {Status.CONFIRMED, Status.DONE, Status.APPROVED}


@dataclass(frozen=True)
class Verdict:
    holds: bool
    detail: str = ""


UNKNOWN = None  # the source could not tell (down): leave the episode as it is


def evaluate(rule: WatchRule, snapshot: RecordSnapshot, source: Any = None) -> Verdict | None:
    """Does ``rule``'s condition hold for the cached record? None when it cannot be told."""
    record = record_from_json(snapshot.data)
    if rule.kind == WatchRule.Kind.INVOICE_OVERDUE:
        return _overdue(rule, record)
    if rule.kind == WatchRule.Kind.LARGE_SALES_ORDER:
        return _large_order(rule, record)
    return _stock_low(record, source or build_source(snapshot.source))


def _overdue(rule: WatchRule, record: Record) -> Verdict:
    due = record.amount_due.amount if record.amount_due else Decimal(0)
    if record.status in (Status.PAID, Status.CANCELLED, Status.DRAFT) or due <= 0 or record.due_date is None:
        return Verdict(False)
    late = (timezone.localdate() - record.due_date).days
    if late <= rule.days:
        return Verdict(False)
    currency = record.amount_due.currency if record.amount_due else ""
    return Verdict(
        True, f"{record.number} {record.counterparty_name} 逾期 {late} 天，未收 {due:,.2f} {currency} · overdue"
    )


def _large_order(rule: WatchRule, record: Record) -> Verdict:
    amount = record.amount.amount if record.amount else Decimal(0)
    if record.status not in _PLACED or rule.amount is None or amount < rule.amount:
        return Verdict(False)
    currency = record.amount.currency if record.amount else ""
    return Verdict(
        True, f"{record.number} {record.counterparty_name} 大额订单 {amount:,.2f} {currency} ≥ {rule.amount:,.2f}"
    )


def _stock_low(record: Record, source: Any) -> Verdict | None:
    low = _low_from_card(record)
    if low is None:
        # Asked from the source: every source reports stock through ``stock()``, and in most
        # ERPs a quant changes without its product's version changing.
        try:
            levels = [s for s in source.stock(record.number) if s.product == record.ref]
        except SourceError:
            return UNKNOWN
        low = [(s.warehouse, s.available, s.reorder_point) for s in levels if s.below_reorder_point]
    if not low:
        return Verdict(False)
    where = "，".join(f"{name} 可用 {_qty(available)} < 补货点 {_qty(point)}" for name, available, point in low)
    return Verdict(True, f"{record.number} {record.title} 库存不足：{where}")


def _low_from_card(record: Record) -> list[tuple[str, Decimal, Decimal | None]] | None:
    """Sources whose product record carries its stock per warehouse *and* a new version
    whenever stock moves (ERP-lite) are read from the cache: no call per product. None when
    the record does not carry it."""
    stock = record.fields.get("stock")
    if not isinstance(stock, list) or not all(isinstance(s, dict) and "below_reorder_point" in s for s in stock):
        return None
    return [
        (str(s.get("warehouse", "")), Decimal(str(s["available"])), Decimal(str(s["reorder_point"])))
        for s in stock
        if s["below_reorder_point"]
    ]


def _qty(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)).normalize():f}"  # 120.000 → "120", 0.500 → "0.5"


# --- episodes -----------------------------------------------------------------------------------


def apply_verdict(rule: WatchRule, snapshot: RecordSnapshot, verdict: Verdict | None) -> WatchAlert | None:
    """Open an episode (and post its card) when the condition starts holding, close it when
    it stops. Returns the alert opened now, if any."""
    if verdict is None:
        return None
    episodes = WatchAlert.objects.filter(
        rule=rule, record_type=snapshot.record_type, record_key=snapshot.key, cleared_at__isnull=True
    )
    if not verdict.holds:
        episodes.update(cleared_at=timezone.now())
        return None
    if episodes.exists():
        return None
    try:
        return do_open_alert(rule, snapshot, verdict.detail)
    except IntegrityError:
        return None  # a concurrent evaluation opened this episode first


@transaction.atomic
def do_open_alert(rule: WatchRule, snapshot: RecordSnapshot, detail: str) -> WatchAlert:
    from messaging.actions.bots import do_post_bot_message

    alert = WatchAlert.objects.create(
        rule=rule, record_type=snapshot.record_type, record_key=snapshot.key, number=snapshot.number, detail=detail
    )
    bot = ensure_bot(rule.channel.workspace, ALERT_BOT)
    alert.message = do_post_bot_message(
        bot,
        rule.channel,
        f"⚠️ **{rule.name}**：{detail}",
        blocks=[
            {
                "type": "record",
                "source_id": snapshot.source_id,
                "record_type": snapshot.record_type,
                "key": snapshot.key,
            }
        ],
        # One card per episode even if this runs twice (a retried task).
        client_id=uuid.uuid5(_ALERT_NAMESPACE, f"alert:{alert.pk}"),
    )
    alert.save(update_fields=["message"])
    return alert


def _rules_for(source_id: int, record_type: str) -> list[WatchRule]:
    kinds = [kind for kind, watched in WATCHED_TYPE.items() if watched == record_type]
    if not kinds:
        return []
    return list(
        WatchRule.objects.select_related("channel__workspace").filter(
            source_id=source_id, kind__in=kinds, enabled=True, channel__archived_at__isnull=True
        )
    )


def check_snapshot(snapshot: RecordSnapshot) -> list[WatchAlert]:
    """Evaluate the rules that watch this record (on ``record_changed``)."""
    opened = []
    source = None
    for rule in _rules_for(snapshot.source_id, snapshot.record_type):
        if rule.kind == WatchRule.Kind.STOCK_BELOW_REORDER and source is None:
            source = build_source(snapshot.source)
        alert = apply_verdict(rule, snapshot, evaluate(rule, snapshot, source))
        if alert is not None:
            opened.append(alert)
    return opened


def evaluate_rule(rule: WatchRule) -> list[WatchAlert]:
    """Evaluate one rule over every cached record it watches; episodes of records that left
    the cache are closed."""
    source = build_source(rule.source) if rule.kind == WatchRule.Kind.STOCK_BELOW_REORDER else None
    snapshots = RecordSnapshot.objects.select_related("source").filter(
        source_id=rule.source_id, record_type=WATCHED_TYPE[rule.kind]
    )
    opened, seen = [], set()
    for snapshot in snapshots.iterator(chunk_size=500):
        seen.add(snapshot.key)
        alert = apply_verdict(rule, snapshot, evaluate(rule, snapshot, source))
        if alert is not None:
            opened.append(alert)
    WatchAlert.objects.filter(rule=rule, cleared_at__isnull=True).exclude(record_key__in=seen).update(
        cleared_at=timezone.now()
    )
    return opened


def evaluate_all(workspace_id: int | None = None) -> int:
    """The periodic pass; returns how many alerts were opened."""
    rules = WatchRule.objects.select_related("source", "channel__workspace").filter(
        enabled=True, source__enabled=True, channel__archived_at__isnull=True
    )
    if workspace_id is not None:
        rules = rules.filter(workspace_id=workspace_id)
    opened = 0
    for rule in rules.order_by("pk"):
        try:
            opened += len(evaluate_rule(rule))
        except Exception:  # one broken rule or source must not stop the others
            logger.exception("watch rule %s failed", rule.pk)
    return opened


@task()
def evaluate_watch_rules() -> int:
    return evaluate_all()


def on_record_changed(sender: Any, snapshot: RecordSnapshot, previous_version: str | None, **kwargs: Any) -> None:
    if snapshot.record_type in WATCHED_TYPE.values():
        check_snapshot(snapshot)


# --- configuring rules (admins) -------------------------------------------------------------------


@dataclass
class RuleFields:
    name: str
    kind: str
    channel: Conversation
    source: ErpSource
    days: int = 0
    amount: Decimal | None = None
    enabled: bool = True


def check_rule_fields(fields: RuleFields) -> RuleFields:
    fields.name = fields.name.strip()
    if not fields.name or len(fields.name) > 80:
        raise HubError("invalid_name", "a rule needs a name of at most 80 characters", status=422)
    if fields.kind not in WatchRule.Kind.values:
        raise HubError("invalid_kind", f"kind must be one of: {', '.join(WatchRule.Kind.values)}", status=422)
    if fields.kind == WatchRule.Kind.LARGE_SALES_ORDER and (fields.amount is None or fields.amount <= 0):
        raise HubError("amount_required", "a large-order rule needs an amount above 0", status=422)
    if not fields.channel.is_channel or fields.channel.archived_at is not None:
        raise HubError("invalid_channel", "alerts go to a channel that is not archived", status=422)
    return fields


@transaction.atomic
def do_create_rule(member: Member, fields: RuleFields) -> WatchRule:
    rule = WatchRule.objects.create(
        workspace_id=member.workspace_id,
        source=fields.source,
        name=fields.name,
        kind=fields.kind,
        days=fields.days,
        amount=fields.amount,
        channel=fields.channel,
        enabled=fields.enabled,
        created_by=member.user,
    )
    audit("erp.rule_created", actor=member.user, workspace=member.workspace_id, target=rule, name=rule.name)
    return rule


@transaction.atomic
def do_update_rule(member: Member, rule: WatchRule, fields: RuleFields) -> WatchRule:
    condition_changed = (fields.kind, fields.days, fields.amount, fields.source.pk) != (
        rule.kind,
        rule.days,
        rule.amount,
        rule.source_id,
    )
    rule.name, rule.kind, rule.days, rule.amount = fields.name, fields.kind, fields.days, fields.amount
    rule.channel, rule.source, rule.enabled = fields.channel, fields.source, fields.enabled
    rule.save()
    if condition_changed:
        # A different condition is a different rule: old episodes end, and what holds now
        # is alerted afresh at the next evaluation.
        WatchAlert.objects.filter(rule=rule, cleared_at__isnull=True).update(cleared_at=timezone.now())
    audit("erp.rule_updated", actor=member.user, workspace=member.workspace_id, target=rule, name=rule.name)
    return rule


@transaction.atomic
def do_delete_rule(member: Member, rule: WatchRule) -> None:
    audit("erp.rule_deleted", actor=member.user, workspace=member.workspace_id, target=rule, name=rule.name)
    rule.delete()
