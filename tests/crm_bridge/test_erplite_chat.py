"""The conversation features against the real built-in source (ERP-lite's demo data), not
the fake: approval write-back through ERP-lite's state machine and approval limits, and the
guest rule through ``Party.partner``."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge import access
from crm_bridge.approval_models import Approval, ApprovalCard
from crm_bridge.erplite.models import Note, PurchaseOrder
from crm_bridge.erplite.receivers import prime_cache
from crm_bridge.models import ErpSource, RecordSnapshot
from hub.demo import DemoData
from hub.errors import PermissionDenied
from hub.models import AuditEvent, Member
from tests.conftest import ApiClient
from tests.crm_bridge.erplite_fixtures import demo_persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(source_row: ErpSource, django_capture_on_commit_callbacks: Any) -> Approval:
    with django_capture_on_commit_callbacks(execute=True):
        prime_cache(source_row)
    return Approval.objects.get(snapshot__number="PO-2001")


def test_po_2001_goes_to_the_owner_only_and_is_approved_in_erplite(demo: DemoData, opened: Approval) -> None:
    owner, finance = demo_persona("owner"), demo_persona("finance")
    (card,) = ApprovalCard.objects.filter(approval=opened)
    assert card.recipient == owner.user  # 90,000 is above the finance manager's 50,000 limit
    finance_member = Member.objects.get(user=finance.user, workspace=demo.workspace)
    with pytest.raises(PermissionDenied) as denied:
        access.check_can_decide(finance_member, opened.snapshot)
    assert "90,000.00" in denied.value.message
    res = ApiClient(owner).post(
        f"/api/v1/messages/{card.message_id}/actions", {"action_id": f"crm:approve:{opened.pk}", "comment": "同意"}
    )
    assert res.json()["status"] == "done", res.content
    order = PurchaseOrder.objects.get(workspace=demo.workspace, number="PO-2001")
    assert order.state == "approved" and order.decided_by == owner.user.email
    assert Note.objects.filter(record_id=order.pk, body__contains="小微 Hub").exists()
    assert AuditEvent.objects.filter(action="crm.approval.approved", actor=owner.user).exists()
    snapshot = RecordSnapshot.objects.get(pk=opened.snapshot_id)
    assert snapshot.data["status"] == "approved" and snapshot.version == str(order.version)


def test_an_edit_in_erplite_is_a_conflict(demo: DemoData, opened: Approval) -> None:
    owner = demo_persona("owner")
    card = ApprovalCard.objects.get(approval=opened)
    order = PurchaseOrder.objects.get(workspace=demo.workspace, number="PO-2001")
    order.internal_notes = "再砍 3%"
    order.save()  # a new version the card has not shown (the save hook's refresh runs after commit)
    res = ApiClient(owner).post(
        f"/api/v1/messages/{card.message_id}/actions", {"action_id": f"crm:approve:{opened.pk}"}
    )
    assert res.json()["status"] == "conflict"
    order.refresh_from_db()
    assert order.state == "to_approve"


def test_guest_sees_only_own_company_through_party_partner(demo: DemoData, primed: ErpSource) -> None:
    guest = ApiClient(demo_persona("customer"))
    mine = RecordSnapshot.objects.get(source=primed, number="SO-1001")  # 上海悦茗
    other = RecordSnapshot.objects.get(source=primed, number="SO-1002")  # 杭州湖畔茶馆
    own = guest.get("/api/v1/records/card", source_id=primed.pk, type="sales_order", key=mine.key)
    assert own.status_code == 200 and own.json()["internal"] is None
    assert "竹韵" not in str(own.json()) and "cost" not in str(own.json())
    assert guest.get("/api/v1/records/card", source_id=primed.pk, type="sales_order", key=other.key).status_code == 404
    supplier_po = RecordSnapshot.objects.get(source=primed, number="PO-2001")
    assert (
        guest.get("/api/v1/records/card", source_id=primed.pk, type="purchase_order", key=supplier_po.key).status_code
        == 404
    )
    found = guest.get("/api/v1/records/search", workspace=demo.workspace.pk, type="sales_order", q="SO-").json()
    numbers = {c["number"] for c in found["cards"]}
    assert "SO-1001" in numbers and "SO-1002" not in numbers
