"""Approvals in chat: the card reaches the approvers; Approve / Reject write back safely —
permission and amount limit, fresh re-read, expected version, one business call, audit,
updated card for everyone, a note in the source — once per (card, action, person)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_bridge import approvals
from crm_bridge.approval_models import Approval, ApprovalAction, ApprovalCard
from crm_bridge.cache import read_through
from crm_bridge.sources.base import Status
from crm_bridge.sources.registry import build_source
from hub.models import AuditEvent, Member
from messaging.interactions import ActionRequest
from messaging.models import Message
from tests.conftest import Persona, World
from tests.crm_bridge.chat_fixtures import Erp
from tests.messaging.helpers_http import error_code, events

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(erp: Erp, django_capture_on_commit_callbacks: Any) -> Approval:
    """PO-2001 (awaiting approval) is read into the cache: its approval round opens."""
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.po.ref)
    return Approval.objects.get()


def card_of(approval: Approval, persona: Persona) -> Message:
    return ApprovalCard.objects.get(approval=approval, recipient=persona.user).message


def click(world: World, persona: Persona, message: Message, verb: str, approval: Approval, comment: str = "") -> Any:
    return world.api(persona).post(
        f"/api/v1/messages/{message.pk}/actions", {"action_id": f"crm:{verb}:{approval.pk}", "comment": comment}
    )


def buttons(message: Message) -> dict[str, bool]:
    message.refresh_from_db()
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    return {a["label"]: bool(a.get("disabled")) for a in actions["actions"]}


def status_text(message: Message) -> str:
    message.refresh_from_db()
    return next(b["text"] for b in message.blocks if b["type"] == "context")


def test_card_goes_to_each_approver_by_dm(world: World, erp: Erp, opened: Approval) -> None:
    cards = ApprovalCard.objects.filter(approval=opened)
    assert {c.recipient for c in cards} == {world.owner.user, world.admin.user}
    message = card_of(opened, world.owner)
    assert message.sender.is_bot and message.conversation.kind == "dm"
    assert [b["type"] for b in message.blocks] == ["header", "record", "context", "actions"]
    assert buttons(message) == {"批准": False, "驳回": False}
    assert "待审批" in status_text(message) and "12000.00" in status_text(message)
    # The person sees it in their DM list with the assistant.
    listed = world.api(world.owner).get(f"/api/v1/conversations/{message.conversation_id}/messages").json()
    assert listed["messages"][-1]["blocks"][1] == {
        "type": "record",
        "source_id": erp.source.pk,
        "record_type": "purchase_order",
        "key": "21",
    }


def test_approve_acts_once_however_often_clicked(world: World, erp: Erp, opened: Approval) -> None:
    message = card_of(opened, world.owner)
    first = click(world, world.owner, message, "approve", opened)
    assert first.status_code == 200 and first.json()["status"] == "done", first.content
    # A second click racing the first (sent before the card changed) reaches the handler.
    owner = Member.objects.get(user=world.owner.user, workspace=world.workspace)
    again = approvals.handle_action(ActionRequest(owner, message, f"crm:approve:{opened.pk}"))
    assert again.status == "already_done"
    # Once the card has changed, the button is no longer offered at all.
    assert click(world, world.owner, message, "approve", opened).status_code == 404
    assert [c for c in erp.fake.calls if c.startswith("transition")] == [
        "transition purchase_order:21 approve by owner@tea.test"
    ]
    assert ApprovalAction.objects.get().outcome == "done"
    opened.refresh_from_db()
    assert opened.state == "approved" and opened.decided_by == world.owner.user
    # Audit entry, note in the source, updated card for everyone (the admin's card too).
    audit = AuditEvent.objects.get(action="crm.approval.approved")
    assert audit.actor == world.owner.user and audit.data["number"] == "PO-2001" and audit.data["how"] == "clicked"
    assert erp.fake.notes == [(erp.po.ref, "批准（小微 Hub · 王老板）", "owner@tea.test")]
    admin_card = card_of(opened, world.admin)
    assert buttons(admin_card) == {"批准": True, "驳回": True} and "已批准 · 王老板" in status_text(admin_card)
    updated = [e for e in events(world, world.admin, admin_card.conversation_id) if e["type"] == "message.updated"]
    assert updated and "已批准" in str(updated[-1]["message"]["blocks"])
    # The admin's own click now does nothing: the approval was decided.
    late = click(world, world.admin, admin_card, "approve", opened)
    assert late.status_code == 404  # the disabled button is no longer offered


def test_second_approver_on_a_stale_card_is_told_it_is_decided(world: World, erp: Erp, opened: Approval) -> None:
    owner_card, admin_card = card_of(opened, world.owner), card_of(opened, world.admin)
    Approval.objects.filter(pk=opened.pk).update(state="approved")  # decided a moment ago
    res = click(world, world.admin, admin_card, "approve", opened)
    assert res.json()["status"] == "already_done" and owner_card.pk != admin_card.pk
    assert not [c for c in erp.fake.calls if c.startswith("transition")]


def test_changed_since_you_saw_it(world: World, erp: Erp, opened: Approval) -> None:
    message = card_of(opened, world.owner)
    erp.fake.bump(erp.po.ref, owner="李经理")  # edited in the ERP; the hub has not synced yet
    res = click(world, world.owner, message, "approve", opened)
    assert res.json()["status"] == "conflict" and "已被修改" in res.json()["message"]
    assert not [c for c in erp.fake.calls if c.startswith("transition")]
    opened.refresh_from_db()
    assert opened.state == "pending" and opened.seen_version == "2" and opened.snapshot.version == "2"
    assert buttons(message) == {"批准": False, "驳回": False}
    # Having seen the refreshed card, the same person may approve.
    assert click(world, world.owner, message, "approve", opened).json()["status"] == "done"


def test_amount_limit_and_unauthorised_people(world: World, erp: Erp, opened: Approval) -> None:
    message = card_of(opened, world.owner)
    for persona in (world.member, world.guest):
        # Not a participant of the owner's DM: the card is not even readable.
        assert click(world, persona, message, "approve", opened).status_code == 404
    assert click(world, world.outsider, message, "approve", opened).status_code == 404
    # The source's approvers are computed from amount limits: the admin is dropped above 10,000.
    erp.fake.bump(erp.po.ref, approvers=("owner@tea.test",))
    read_through(erp.source, build_source(erp.source), erp.po.ref, force=True)
    admin = click(world, world.admin, card_of(opened, world.admin), "approve", opened)
    assert admin.status_code == 403 and error_code(admin) == "not_an_approver"
    assert "12,000.00" in admin.json()["error"]["message"]
    # The source enforces its own limit on write too.
    opened.refresh_from_db()
    Approval.objects.filter(pk=opened.pk).update(seen_version=opened.snapshot.version)
    erp.fake.limits = {"owner@tea.test": Decimal("5000")}
    refused = click(world, world.owner, message, "approve", opened)
    assert refused.json()["status"] == "failed" and "拒绝" in refused.json()["message"]
    opened.refresh_from_db()
    assert opened.state == "pending" and ApprovalAction.objects.get(actor=world.owner.user).outcome == "denied"


def test_source_down_disables_the_buttons(world: World, erp: Erp, opened: Approval) -> None:
    message = card_of(opened, world.owner)
    erp.fake.down = True
    res = click(world, world.owner, message, "approve", opened)
    assert res.json()["status"] == "failed" and "暂不可用" in res.json()["message"]
    assert buttons(message) == {"批准": True, "驳回": True} and "ERP 暂不可用" in status_text(message)
    card = (
        world.api(world.owner)
        .get("/api/v1/records/card", source_id=erp.source.pk, type="purchase_order", key="21")
        .json()
    )
    assert card["stale_since"] is not None and card["writable"] is False
    # Back up: a refresh clears the stale mark; the approver can decide.
    erp.fake.down = False
    world.api(world.owner).post(
        "/api/v1/records/card/refresh", {"source_id": erp.source.pk, "type": "purchase_order", "key": "21"}
    )
    opened.refresh_from_db()
    approvals.do_refresh_cards(opened)
    assert buttons(message) == {"批准": False, "驳回": False}
    assert click(world, world.owner, message, "approve", opened).json()["status"] == "done"


@pytest.mark.parametrize("applied", [True, False])
def test_timeout_leaves_the_outcome_unknown_and_reconciles_by_reading(
    world: World, erp: Erp, opened: Approval, applied: bool
) -> None:
    message = card_of(opened, world.owner)
    erp.fake.time_out_next = applied
    res = click(world, world.owner, message, "approve", opened)
    assert res.json()["status"] == "unknown"
    opened.refresh_from_db()
    assert opened.state == "unknown" and buttons(message) == {"批准": True, "驳回": True}
    assert "结果未知" in status_text(message)
    assert click(world, world.owner, message, "approve", opened).status_code == 404  # buttons disabled
    # The periodic pass re-reads; it never repeats the write.
    assert approvals.reconcile_unknown_approvals.call() == 1
    assert len([c for c in erp.fake.calls if c.startswith("transition")]) == 1
    opened.refresh_from_db()
    if applied:
        assert opened.state == "approved" and ApprovalAction.objects.get().outcome == "done"
        assert AuditEvent.objects.get(action="crm.approval.approved").data["how"] == "reconciled"
        assert len(erp.fake.notes) == 1
    else:
        assert opened.state == "pending" and ApprovalAction.objects.get().outcome == "not_applied"
        assert buttons(message) == {"批准": False, "驳回": False}
        assert not AuditEvent.objects.filter(action__startswith="crm.approval").exists()


def test_unknown_is_reconciled_on_next_view(world: World, erp: Erp, opened: Approval) -> None:
    erp.fake.time_out_next = True
    click(world, world.owner, card_of(opened, world.owner), "approve", opened)
    card = (
        world.api(world.admin)
        .get("/api/v1/records/card", source_id=erp.source.pk, type="purchase_order", key="21")
        .json()
    )
    assert card["status"] == "approved"
    opened.refresh_from_db()
    assert opened.state == "approved"


def test_reject_needs_a_comment_and_logs_it(world: World, erp: Erp, opened: Approval) -> None:
    message = card_of(opened, world.admin)
    bare = click(world, world.admin, message, "reject", opened)
    assert bare.status_code == 400 and error_code(bare) == "comment_required"
    res = click(world, world.admin, message, "reject", opened, comment="价格偏高，请重新询价")
    assert res.json()["status"] == "done"
    opened.refresh_from_db()
    assert opened.state == "rejected" and opened.comment == "价格偏高，请重新询价"
    assert erp.fake.notes[-1][1] == "驳回（小微 Hub · 李经理）：价格偏高，请重新询价"
    assert "已驳回 · 李经理" in status_text(message)
    assert AuditEvent.objects.get(action="crm.approval.rejected").data["comment"] == "价格偏高，请重新询价"


def test_decided_in_the_erp_closes_the_round(
    world: World, erp: Erp, opened: Approval, django_capture_on_commit_callbacks: Any
) -> None:
    erp.fake.bump(erp.po.ref, status=Status.APPROVED, status_label="已批准")
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.po.ref, force=True)
    opened.refresh_from_db()
    assert opened.state == "closed"
    message = card_of(opened, world.owner)
    assert buttons(message) == {"批准": True, "驳回": True} and "已在 ERP 中处理" in status_text(message)


def test_approvals_channel_and_the_approve_list(
    world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any
) -> None:
    erp.source.config = {**erp.source.config, "approval_channel_id": channel}
    erp.source.save()
    with django_capture_on_commit_callbacks(execute=True):
        read_through(erp.source, build_source(erp.source), erp.po.ref)
    (card,) = ApprovalCard.objects.all()
    assert card.message.conversation_id == channel and card.recipient is None
    # A channel member who is not an approver sees the card but cannot decide.
    res = world.api(world.member).post(
        f"/api/v1/messages/{card.message_id}/actions", {"action_id": f"crm:approve:{card.approval_id}"}
    )
    assert res.status_code == 403 and error_code(res) == "not_an_approver"
    listed = (
        world.api(world.owner)
        .post(f"/api/v1/conversations/{channel}/commands", {"text": "/approve", "client_id": str(uuid.uuid4())})
        .json()
    )
    assert "1" in listed["text"] and listed["blocks"][1]["key"] == "21"
    link = listed["blocks"][2]["actions"][0]["url"]
    assert link == f"/app/w/{world.workspace.pk}/c/{channel}/m/{card.message_id}/"
    nothing = (
        world.api(world.member)
        .post(f"/api/v1/conversations/{channel}/commands", {"text": "/approve", "client_id": str(uuid.uuid4())})
        .json()
    )
    assert nothing["text"] == "没有等待你审批的单据。"


def test_a_transition_the_erp_refuses_closes_the_round_when_decided_there(
    world: World, erp: Erp, opened: Approval, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.crm_bridge.fakesource import FakeSource

    real = FakeSource.transition

    def decided_meanwhile(self: FakeSource, ref: Any, action: Any, **kwargs: Any) -> Any:
        self.erp.bump(ref, status=Status.APPROVED, status_label="已批准")  # someone else, in the ERP
        return real(self, ref, action, expected_version=self.erp.records[ref].version, **kwargs_without(kwargs))

    def kwargs_without(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in kwargs.items() if k != "expected_version"}

    monkeypatch.setattr(FakeSource, "transition", decided_meanwhile)
    message = card_of(opened, world.owner)
    res = click(world, world.owner, message, "approve", opened)
    assert res.json()["status"] == "failed" and "不允许" in res.json()["message"]
    opened.refresh_from_db()
    assert opened.state == "closed" and opened.snapshot.data["status"] == "approved"
    assert "已在 ERP 中处理" in status_text(message)
