"""Watch rules: fire once per episode, clear, fire again; evaluated periodically and on
record_changed; configured by admins through the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_bridge import rules
from crm_bridge.erplite.models import Invoice, SalesOrder, Stock
from crm_bridge.erplite.receivers import refresh_records
from crm_bridge.models import ErpSource
from crm_bridge.rule_models import WatchAlert, WatchRule
from crm_bridge.sources.base import RecordRef, RecordType
from crm_bridge.sources.builtin import BuiltinSource
from hub.demo import DemoData
from messaging.models import Conversation, Message
from tests.conftest import ApiClient
from tests.crm_bridge.erplite_fixtures import demo_persona, ref

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_demo_rules(demo: DemoData) -> None:
    """Each test sets up the rules it is about (the demo comes with three)."""
    WatchRule.objects.filter(workspace=demo.workspace).delete()


def _channel(demo: DemoData, name: str = "销售") -> Conversation:
    return Conversation.objects.get(workspace=demo.workspace, name=name)


def _rule(demo: DemoData, source_row: ErpSource, kind: str, **fields: Any) -> WatchRule:
    return WatchRule.objects.create(
        workspace=demo.workspace,
        source=source_row,
        name=fields.pop("name", kind),
        kind=kind,
        channel=_channel(demo),
        **fields,
    )


def _alerts(channel: Conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=channel, sender__is_bot=True).order_by("seq"))


def _refresh(source: BuiltinSource, *texts: str) -> None:
    refresh_records(source.workspace_id, {ref(source, t) for t in texts})


def test_large_order_fires_once_clears_and_fires_again(
    source: BuiltinSource, primed: ErpSource, demo: DemoData
) -> None:
    rule = _rule(demo, primed, "large_sales_order", name="大额订单", amount=Decimal("50000"))
    assert rules.evaluate_all() == 1  # SO-1001, 80,400 confirmed; SO-1002 is small, SO-1003 a draft
    (alert,) = WatchAlert.objects.filter(rule=rule)
    assert alert.number == "SO-1001" and alert.cleared_at is None
    (card,) = _alerts(_channel(demo))
    assert "大额订单" in card.body and "80,400.00" in card.body
    assert card.blocks == [
        {"type": "record", "source_id": primed.pk, "record_type": "sales_order", "key": ref(source, "SO-1001").key}
    ]
    # Still holding: no repeat.
    assert rules.evaluate_all() == 0
    assert len(_alerts(_channel(demo))) == 1
    # Cleared: the order is cancelled.
    order = SalesOrder.objects.get(workspace=demo.workspace, number="SO-1001")
    order.state = SalesOrder.State.CANCELLED
    order.save()
    _refresh(source, "SO-1001")
    assert rules.evaluate_all() == 0
    alert.refresh_from_db()
    assert alert.cleared_at is not None
    # Holding again: a new episode, a new card.
    order.state = SalesOrder.State.CONFIRMED
    order.save()
    _refresh(source, "SO-1001")
    assert rules.evaluate_all() == 1
    assert WatchAlert.objects.filter(rule=rule).count() == 2
    assert len(_alerts(_channel(demo))) == 2


def test_overdue_invoice_by_days(source: BuiltinSource, primed: ErpSource, demo: DemoData) -> None:
    strict = _rule(demo, primed, "invoice_overdue", days=10)
    lenient = _rule(demo, primed, "invoice_overdue", days=30)
    rules.evaluate_all()
    assert list(WatchAlert.objects.filter(rule=strict).values_list("number", flat=True)) == ["INV-3003"]
    assert not WatchAlert.objects.filter(rule=lenient).exists()
    assert "逾期 15 天" in WatchAlert.objects.get(rule=strict).detail
    # Paid: the episode ends.
    invoice = Invoice.objects.get(workspace=demo.workspace, number="INV-3003")
    invoice.amount_due = Decimal(0)
    invoice.save()
    _refresh(source, "INV-3003")
    rules.evaluate_all()
    assert WatchAlert.objects.get(rule=strict).cleared_at is not None


def test_stock_below_reorder_point(source: BuiltinSource, primed: ErpSource, demo: DemoData) -> None:
    rule = _rule(demo, primed, "stock_below_reorder")
    rules.evaluate_all()
    (alert,) = WatchAlert.objects.filter(rule=rule)
    assert alert.number == "TEA-500G" and "杭州总仓 可用 120 < 补货点 150" in alert.detail
    stock = Stock.objects.get(product__sku="TEA-500G", warehouse__code="HZ", workspace=demo.workspace)
    stock.on_hand += 100
    stock.save()
    _refresh(source, "TEA-500G")  # what ERP-lite's save does after commit
    rules.evaluate_all()
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_record_changed_evaluates_at_once(
    source: BuiltinSource, primed: ErpSource, demo: DemoData, django_capture_on_commit_callbacks: Any
) -> None:
    rule = _rule(demo, primed, "large_sales_order", amount=Decimal("10000"))
    so_ref = ref(source, "SO-1003")  # a 11,900 draft
    version = source.get(so_ref).version
    with django_capture_on_commit_callbacks(execute=True):
        source.transition(so_ref, "confirm", expected_version=version, actor="sales@demo.xiaowei.test")  # type: ignore[arg-type]
    # ERP-lite's save refreshed the cache after commit → record_changed → the rule ran.
    assert list(WatchAlert.objects.filter(rule=rule).values_list("number", flat=True)) == ["SO-1003"]


def test_disabled_rules_and_unknown_stock_leave_things_alone(
    source: BuiltinSource, primed: ErpSource, demo: DemoData
) -> None:
    _rule(demo, primed, "large_sales_order", amount=Decimal("1"), enabled=False)
    assert rules.evaluate_all() == 0

    class Down:
        def stock(self, *args: Any) -> Any:
            from crm_bridge.sources.base import SourceUnavailable

            raise SourceUnavailable("down")

    rule = _rule(demo, primed, "stock_below_reorder")
    snapshot = primed.snapshots.get(record_type="product", key=ref(source, "TEA-500G").key)
    # A source whose product cards carry no stock is asked; when it is down, nothing changes.
    del snapshot.data["fields"]["stock"]
    assert rules.evaluate(rule, snapshot, Down()) is None
    assert rules.apply_verdict(rule, snapshot, None) is None
    assert not WatchAlert.objects.filter(rule=rule).exists()
    assert RecordRef(RecordType.PRODUCT, snapshot.key) == ref(source, "TEA-500G")
    # … and when it answers, its stock levels decide.
    verdict = rules.evaluate(rule, snapshot, source)
    assert verdict is not None and verdict.holds and "杭州总仓 可用 120 < 补货点 150" in verdict.detail


# --- the admin API ----------------------------------------------------------------------------------


def test_rules_api_crud_and_permissions(source: BuiltinSource, primed: ErpSource, demo: DemoData, world: Any) -> None:
    ws = demo.workspace.pk
    owner, sales = ApiClient(demo_persona("owner")), ApiClient(demo_persona("sales"))
    channel = _channel(demo)
    body = {"name": "大额订单", "kind": "large_sales_order", "channel_id": channel.pk, "amount": "50000"}
    created = owner.post(f"/api/v1/workspaces/{ws}/erp/rules", body)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["source_id"] == primed.pk and Decimal(rule["amount"]) == 50000
    assert sales.post(f"/api/v1/workspaces/{ws}/erp/rules", body).status_code == 403
    assert ApiClient(world.outsider).get(f"/api/v1/workspaces/{ws}/erp/rules").status_code == 404
    no_amount = owner.post(f"/api/v1/workspaces/{ws}/erp/rules", {**body, "amount": None})
    assert no_amount.status_code == 422 and no_amount.json()["error"]["code"] == "amount_required"
    dm = Conversation.objects.filter(workspace=demo.workspace, kind="dm").first()
    assert dm is not None
    as_dm = owner.post(f"/api/v1/workspaces/{ws}/erp/rules", {**body, "channel_id": dm.pk})
    assert as_dm.status_code == 422
    other_ws_channel = Conversation.objects.exclude(workspace=demo.workspace).first()
    if other_ws_channel is not None:
        assert (
            owner.post(f"/api/v1/workspaces/{ws}/erp/rules", {**body, "channel_id": other_ws_channel.pk}).status_code
            == 404
        )
    assert owner.post(f"/api/v1/workspaces/{ws}/erp/rules", {**body, "kind": "weather"}).status_code == 422

    rules.evaluate_all()
    listed = owner.get(f"/api/v1/workspaces/{ws}/erp/rules").json()
    assert [a["number"] for a in listed[0]["open_alerts"]] == ["SO-1001"]
    # Raising the threshold is a new condition: open episodes end.
    changed = owner.client.put(
        f"/api/v1/workspaces/{ws}/erp/rules/{rule['id']}",
        {**body, "amount": "100000"},
        content_type="application/json",
        **owner.persona.auth,  # type: ignore[union-attr]
    )
    assert changed.status_code == 200 and changed.json()["open_alerts"] == []
    assert owner.delete(f"/api/v1/workspaces/{ws}/erp/rules/{rule['id']}").status_code == 204
    assert owner.delete(f"/api/v1/workspaces/{ws}/erp/rules/{rule['id']}").status_code == 404
    assert not WatchRule.objects.filter(pk=rule["id"]).exists()
