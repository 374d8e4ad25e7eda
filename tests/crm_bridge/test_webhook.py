"""``POST /api/v1/erp/sources/{id}/webhook``: the signature is checked by the source's adapter,
the named records are re-read from the source (never taken from the body) into the cache, and
live cards hear of it through ``record_changed``."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.signals import record_changed
from crm_bridge.sync import sync_source
from tests.crm_bridge.fakes.erpnext import FakeERPNext
from tests.crm_bridge.fakes.odoo import FakeOdoo
from tests.crm_bridge.remote_fixtures import ODOO_WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def post(source_id: int, body: bytes, headers: dict[str, str], query: str = "") -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"}
    return Client().post(
        f"/api/v1/erp/sources/{source_id}/webhook{query}", body, content_type="application/json", **extra
    )


@pytest.fixture
def changes() -> Any:
    seen: list[str] = []

    def receiver(sender: Any, snapshot: RecordSnapshot, **kwargs: Any) -> None:
        seen.append(snapshot.number)

    record_changed.connect(receiver, weak=False)
    yield seen
    record_changed.disconnect(receiver)


def test_erpnext_webhook_rereads_the_record(erpnext_row: ErpSource, erpnext_fake: FakeERPNext, changes: Any) -> None:
    sync_source(erpnext_row)
    changes.clear()
    erpnext_fake.touch("Sales Order", "SO-1002", status="To Deliver and Bill", docstatus=1)
    headers, body = erpnext_fake.signed_webhook("Sales Order", "SO-1002")
    response = post(erpnext_row.pk, body, headers)
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 1}
    snapshot = RecordSnapshot.objects.get(source=erpnext_row, number="SO-1002")
    assert snapshot.data["status"] == "confirmed"
    assert changes == ["SO-1002"]


def test_the_body_is_a_hint_not_data(erpnext_row: ErpSource, erpnext_fake: FakeERPNext) -> None:
    # A correctly signed body that claims a status: the cache holds what the ERP says.
    body = json.dumps({"doctype": "Sales Order", "name": "SO-1002", "status": "Completed"}).encode()
    import base64

    from tests.crm_bridge.fakes.erpnext import WEBHOOK_SECRET

    signature = base64.b64encode(hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert post(erpnext_row.pk, body, {"X-Frappe-Webhook-Signature": signature}).status_code == 202
    assert RecordSnapshot.objects.get(source=erpnext_row, number="SO-1002").data["status"] == "draft"


def test_wrong_signature_is_refused_and_nothing_is_read(erpnext_row: ErpSource, erpnext_fake: FakeERPNext) -> None:
    headers, body = erpnext_fake.signed_webhook("Sales Order", "SO-1002", secret="not-the-secret")
    before = len(erpnext_fake.requests)
    response = post(erpnext_row.pk, body, headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert len(erpnext_fake.requests) == before
    tampered_headers, good_body = erpnext_fake.signed_webhook("Sales Order", "SO-1002")
    assert post(erpnext_row.pk, good_body.replace(b"1002", b"1001"), tampered_headers).status_code == 403
    assert post(erpnext_row.pk, good_body, {}).status_code == 403


def test_odoo_webhook_with_the_url_token(odoo_row: ErpSource, odoo_fake: FakeOdoo, changes: Any) -> None:
    so = odoo_fake.find("sale.order", name="SO-1002")
    body = json.dumps({"_model": "sale.order", "_id": so, "_name": "SO-1002", "state": "draft"}).encode()
    response = post(odoo_row.pk, body, {}, query=f"?token={ODOO_WEBHOOK_SECRET}")
    assert response.status_code == 202 and response.json() == {"accepted": 1}
    assert changes == ["SO-1002"]
    assert post(odoo_row.pk, body, {}, query="?token=guess").status_code == 403


def test_odoo_webhook_signed_and_for_a_partner(odoo_row: ErpSource, odoo_fake: FakeOdoo, changes: Any) -> None:
    partner = odoo_fake.find("res.partner", ref="C0001")
    body = json.dumps({"_model": "res.partner", "_id": partner}).encode()
    signature = hmac.new(ODOO_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = post(odoo_row.pk, body, {"X-Odoo-Signature": signature})
    # Both possible types are named; the re-read keeps the one the partner really is.
    assert response.status_code == 202 and response.json() == {"accepted": 2}
    assert changes == ["C0001"]
    assert not RecordSnapshot.objects.filter(source=odoo_row, record_type="supplier").exists()


def test_webhook_while_the_source_is_down_is_accepted(odoo_row: ErpSource, odoo_fake: FakeOdoo) -> None:
    odoo_fake.stop()
    body = json.dumps({"_model": "sale.order", "_id": 1}).encode()
    response = post(odoo_row.pk, body, {}, query=f"?token={ODOO_WEBHOOK_SECRET}")
    assert response.status_code == 202  # the next sync pass catches up
    assert not RecordSnapshot.objects.filter(source=odoo_row).exists()


def test_bad_bodies_get_a_4xx(odoo_row: ErpSource) -> None:
    response = post(odoo_row.pk, b"not json", {}, query=f"?token={ODOO_WEBHOOK_SECRET}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_webhook"
    assert post(odoo_row.pk, "中文".encode(), {}, query="?token=x").status_code == 403


def test_unknown_disabled_and_builtin_sources(world: Any, odoo_row: ErpSource) -> None:
    assert post(987654, b"{}", {}).status_code == 404
    ErpSource.objects.filter(pk=odoo_row.pk).update(enabled=False)
    assert post(odoo_row.pk, b"{}", {}, query=f"?token={ODOO_WEBHOOK_SECRET}").status_code == 404
    builtin = ErpSource.objects.create(workspace=world.workspace, name="ERP-lite", kind="builtin")
    assert post(builtin.pk, b"{}", {}).status_code == 403  # ERP-lite sends no webhooks
