"""ERP-lite's demo data, its admin pages, the default source and the cache feed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from crm_bridge import rules
from crm_bridge.erplite.models import Invoice, Party, Product, SalesOrder, Stock
from crm_bridge.erplite.receivers import prime_cache
from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.rule_models import WatchAlert, WatchRule
from crm_bridge.sources.builtin import ensure_default_source
from hub.demo import DemoData, load_demo
from hub.models import User
from messaging.models import Message

pytestmark = pytest.mark.django_db


def _counts(ws: Any) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(workspace=ws).count()
        for model in (Party, Product, Stock, SalesOrder, Invoice)
    }


def test_demo_is_deterministic_and_idempotent(demo: DemoData) -> None:
    ws = demo.workspace
    first = _counts(ws)
    assert first == {"Party": 4, "Product": 5, "Stock": 6, "SalesOrder": 4, "Invoice": 3}
    again = load_demo()
    assert not again.created and _counts(ws) == first
    assert list(SalesOrder.objects.filter(workspace=ws).order_by("number").values_list("number", flat=True)) == [
        "SO-1001",
        "SO-1002",
        "SO-1003",
        "SO-1004",
    ]
    assert SalesOrder.objects.get(workspace=ws, number="SO-1001").amount_total == Decimal("80400.00")
    # The demo's partner organisations are the ERP-lite parties of the guests' companies.
    customer = Party.objects.get(workspace=ws, code="C001")
    supplier = Party.objects.get(workspace=ws, code="S001")
    assert customer.partner == demo.partners["customer"] and supplier.partner == demo.partners["supplier"]
    assert Party.objects.get(workspace=ws, code="C002").partner is None
    # The built-in source is the workspace's default, with the demo's watch rules.
    source = ErpSource.objects.get(workspace=ws, is_default=True)
    assert source.kind == "builtin"
    assert sorted(WatchRule.objects.filter(workspace=ws).values_list("kind", flat=True)) == [
        "invoice_overdue",
        "large_sales_order",
        "stock_below_reorder",
    ]


def test_demo_alerts_once_the_cache_is_primed(demo: DemoData, source_row: ErpSource) -> None:
    prime_cache(source_row)
    rules.evaluate_all(demo.workspace.pk)
    opened = dict(WatchAlert.objects.filter(rule__workspace=demo.workspace).values_list("rule__kind", "number"))
    assert opened == {
        "stock_below_reorder": "TEA-500G",
        "invoice_overdue": "INV-3003",
        "large_sales_order": "SO-1001",
    }
    general = demo.conversations["general"]
    assert Message.objects.filter(conversation=general, sender__is_bot=True, body__contains="TEA-500G").count() == 1


def test_ensure_default_source_once_and_keeps_another_default(world: Any) -> None:
    first = ensure_default_source(world.workspace)
    assert ensure_default_source(world.workspace) == first
    assert ErpSource.objects.filter(workspace=world.workspace).count() == 1
    first.is_default = False
    first.save()
    odoo = ErpSource.objects.create(workspace=world.workspace, name="Odoo", kind="odoo", is_default=True)
    assert ensure_default_source(world.workspace) == odoo


def test_erplite_saves_refresh_the_cache(
    demo: DemoData, source_row: ErpSource, django_capture_on_commit_callbacks: Any
) -> None:
    assert prime_cache(source_row) == RecordSnapshot.objects.filter(source=source_row).count() > 20
    product = Product.objects.get(workspace=demo.workspace, sku="TEA-250G")
    with django_capture_on_commit_callbacks(execute=True):
        stock = product.stock.get(warehouse__code="HZ")
        stock.on_hand = Decimal(7)
        stock.save()
    snapshot = RecordSnapshot.objects.get(source=source_row, record_type="product", key=str(product.pk))
    product.refresh_from_db()
    assert snapshot.version == str(product.version)
    assert snapshot.data["fields"]["available"] == "-33.000"  # 7 on hand, 40 reserved


def test_model_rules_hold_in_the_database(demo: DemoData) -> None:
    invoice = Invoice.objects.get(workspace=demo.workspace, number="INV-3003")
    invoice.amount_due = invoice.amount + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        invoice.save()
    party = Party.objects.get(workspace=demo.workspace, code="C001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.create(workspace=demo.workspace, code="C001", kind="customer", name="重复")
    assert party.version >= 1


def test_admin_pages_list_and_search_in_chinese(demo: DemoData) -> None:
    admin = User.objects.create_superuser("root@example.test", "pw-Secret-123")
    client = Client()
    client.force_login(admin)
    for page in ("party", "product", "stock", "salesorder", "purchaseorder", "invoice", "pricelist", "importjob"):
        response = client.get(f"/admin/erplite/{page}/")
        assert response.status_code == 200, page
    found = client.get("/admin/erplite/product/", {"q": "龙井"})
    assert "TEA-500G" in found.content.decode() and "TEA-BJ-100G" not in found.content.decode()
    order = SalesOrder.objects.get(workspace=demo.workspace, number="SO-1001")
    assert client.get(f"/admin/erplite/salesorder/{order.pk}/change/").status_code == 200
