"""ERP-lite's admin HTTP API: create and change the main types, optimistic concurrency by row
version, clear 4xx errors, admins only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_bridge.erplite.models import Invoice, Party, SalesOrder, Stock
from hub.models import AuditEvent
from tests.conftest import ApiClient, World

pytestmark = pytest.mark.django_db


def _base(world: World) -> str:
    return f"/api/v1/workspaces/{world.workspace.pk}/erp"


def _patch(client: ApiClient, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, body)


def _put(world: World, path: str, body: dict[str, Any]) -> Any:
    auth = f"Bearer {world.admin.token}"
    return world.api(world.admin).client.put(path, body, content_type="application/json", HTTP_AUTHORIZATION=auth)


def test_create_and_change_with_versions(world: World) -> None:
    admin = world.api(world.admin)
    base = _base(world)
    party = admin.post(
        f"{base}/parties",
        {"kind": "customer", "code": "C001", "name": "西湖茶馆", "partner_id": world.customer.pk},
    )
    assert party.status_code == 201, party.content
    assert party.json()["record"]["title"] == "西湖茶馆" and party.json()["version"] == 1
    assert Party.objects.get(pk=party.json()["id"]).partner == world.customer
    assert admin.post(f"{base}/parties", {"kind": "customer", "code": "C001", "name": "重复"}).status_code == 409

    product = admin.post(f"{base}/products", {"sku": "TEA-500G", "name": "西湖龙井 500g", "list_price": "298.00"})
    assert product.status_code == 201, product.content
    pid = product.json()["id"]
    changed = _patch(admin, f"{base}/products/{pid}", {"version": 1, "list_price": "308.00"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.json()["record"]["amount"] == {"amount": "308.00", "currency": "CNY"}
    # Someone edits with what they read before: refused, nothing overwritten.
    stale = _patch(admin, f"{base}/products/{pid}", {"version": 1, "list_price": "1.00"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"

    stock = _put(
        world,
        f"{base}/stock",
        {"sku": "tea-500g", "warehouse": "杭州总仓", "on_hand": "100", "reserved": "20", "reorder_point": "50"},
    )
    assert stock.status_code == 200, stock.content
    assert stock.json()["record"]["fields"]["available"] == "80.000"
    assert Stock.objects.get(product_id=pid).warehouse.name == "杭州总仓"

    order = admin.post(
        f"{base}/sales-orders", {"number": "SO-1", "party": "C001", "lines": [{"sku": "TEA-500G", "quantity": "2"}]}
    )
    assert order.status_code == 201, order.content
    assert order.json()["record"]["amount"]["amount"] == "616.00"  # 2 × the list price 308
    assert SalesOrder.objects.get(number="SO-1").state == "draft"

    invoice = admin.post(
        f"{base}/invoices", {"number": "INV-1", "customer": "西湖茶馆", "amount": "616", "due_date": "2026-12-31"}
    )
    assert invoice.status_code == 201, invoice.content
    iid = invoice.json()["id"]
    paid = _patch(admin, f"{base}/invoices/{iid}", {"version": 1, "amount_due": "0"})
    assert paid.status_code == 200 and paid.json()["record"]["status"] == "paid"
    assert Invoice.objects.get(pk=iid).state == "paid"
    assert AuditEvent.objects.filter(workspace=world.workspace, action="erplite.updated").count() == 2


def test_bad_input_is_a_clear_4xx(world: World) -> None:
    admin = world.api(world.admin)
    base = _base(world)
    admin.post(f"{base}/products", {"sku": "TEA-1", "name": "茶", "list_price": "1"})
    assert admin.post(f"{base}/products", {"sku": "TEA-2", "name": "茶", "list_price": "-1"}).status_code == 422
    unknown = admin.post(
        f"{base}/sales-orders", {"number": "SO-2", "party": "无名", "lines": [{"sku": "TEA-1", "quantity": 1}]}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_party"
    admin.post(f"{base}/parties", {"kind": "supplier", "code": "S1", "name": "包装厂"})
    no_price = admin.post(
        f"{base}/purchase-orders", {"number": "PO-1", "party": "S1", "lines": [{"sku": "TEA-1", "quantity": 1}]}
    )
    assert no_price.status_code == 422 and no_price.json()["error"]["code"] == "unit_price_required"
    po = admin.post(
        f"{base}/purchase-orders",
        {"number": "PO-1", "party": "S1", "lines": [{"sku": "TEA-1", "quantity": 5, "unit_price": "2.5"}]},
    )
    assert po.status_code == 201 and po.json()["record"]["amount"]["amount"] == "12.50"
    no_lines = admin.post(f"{base}/purchase-orders", {"number": "PO-2", "party": "S1", "lines": []})
    assert no_lines.status_code == 422
    admin.post(f"{base}/parties", {"kind": "customer", "code": "C1", "name": "茶馆"})
    too_much = admin.post(
        f"{base}/invoices",
        {"number": "INV-9", "customer": "C1", "amount": "1", "amount_due": "2", "due_date": "2026-01-01"},
    )
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "invalid_amount_due"
    over = _put(world, f"{base}/stock", {"sku": "TEA-1", "warehouse": "HZ", "on_hand": "1", "reserved": "2"})
    assert over.status_code == 422
    assert _patch(admin, f"{base}/products/999999", {"version": 1, "name": "x"}).status_code == 404


def test_admins_only(world: World) -> None:
    body = {"sku": "TEA-1", "name": "茶", "list_price": "1"}
    assert world.api(world.member).post(f"{_base(world)}/products", body).status_code == 403
    assert world.api(world.guest).post(f"{_base(world)}/products", body).status_code == 403
    assert world.api(world.outsider).post(f"{_base(world)}/products", body).status_code == 404
    created = world.api(world.owner).post(f"{_base(world)}/products", body)
    assert created.status_code == 201
    # Another workspace's admin cannot reach this workspace's rows by id.
    other = f"/api/v1/workspaces/{world.other_workspace.pk}/erp/products/{created.json()['id']}"
    assert world.api(world.outsider).patch(other, {"version": 1, "name": "x"}).status_code == 404
    assert Decimal(created.json()["record"]["amount"]["amount"]) == 1
