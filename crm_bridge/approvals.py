"""Approvals in chat: an order awaiting approval posts a card to its approver(s); Approve /
Reject on the card writes the decision back to the source, safely.

The write-back, in this order (docs/erp.md, "Approvals"):
1. permission and amount limit (``access.check_can_decide``) and the idempotency claim — one
   ``ApprovalAction`` per (card, action, person): a double click or a retry acts once;
2. a fresh re-read from the source (never decide on a cached copy);
3. the expected version: if the record changed since the card showed it, nothing is written,
   the card is refreshed and the person is told "changed since you saw it";
4. one business call (``Source.transition``);
5. an audit entry (``hub.actions.audit``);
6. the updated card for everyone (``do_update_message_blocks``);
7. a log note on the record in the source.

The source call runs outside any database transaction (a remote ERP may take seconds; on
SQLite a transaction holds the whole database's write lock). The claim commits first and
moves the approval to DECIDING, so a second click — by anyone — waits for the outcome instead
of calling the source again. A timeout (``OutcomeUnknown``) leaves the approval UNKNOWN: the
reconcile step re-reads the record (periodically, and whenever a card of it is viewed) and
settles the state from what the source says — it never repeats the write blindly.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from crm_bridge import access
from crm_bridge.approval_models import Approval, ApprovalAction, ApprovalCard
from crm_bridge.cache import mark_stale, upsert_snapshot
from crm_bridge.cards import record_block
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.sources.base import (
    InvalidTransition,
    Record,
    RecordNotFound,
    RecordRef,
    RecordType,
    SourceError,
    SourcePermissionDenied,
    SourceUnavailable,
    Status,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.registry import build_source
from hub.actions import audit
from hub.bots import ASSISTANT, ensure_bot
from hub.errors import HubError, NotFound
from hub.models import Member, User
from messaging.actions import do_post_bot_message, do_update_message_blocks
from messaging.actions.conversations import do_create_conversation
from messaging.interactions import ActionRequest, ActionResult
from messaging.models import Conversation, Message

logger = logging.getLogger(__name__)

APPROVABLE_TYPES = {RecordType.PURCHASE_ORDER, RecordType.SALES_ORDER}
OPEN_STATES = (Approval.State.PENDING, Approval.State.DECIDING, Approval.State.UNKNOWN)
# A DECIDING row older than this was left by a crashed process: reconcile it like UNKNOWN.
DECIDING_TIMEOUT = timedelta(minutes=2)
# Outcomes after which the same person clicking the same button again is a repeat, not a retry.
_SETTLED = {ApprovalAction.Outcome.PENDING, ApprovalAction.Outcome.DONE, ApprovalAction.Outcome.UNKNOWN}
_VERBS = {"approve": Transition.APPROVE, "reject": Transition.REJECT}
_NAMESPACE = uuid.UUID("0b7c8c52-4d0e-4f43-9a55-6f0c1f1a2b3c")


# --- the card ------------------------------------------------------------------------------------


def _money_text(snapshot: RecordSnapshot) -> str:
    amount = snapshot.data.get("amount")
    return f"{amount['currency']} {amount['amount']}" if amount else ""


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else ""


def status_line(approval: Approval, snapshot: RecordSnapshot) -> str:
    who = approval.decided_by.name if approval.decided_by else ""
    state = approval.state
    if state == Approval.State.APPROVED:
        return f"✅ 已批准 · {who} · {_when(approval.decided_at)}" + (
            f" · {approval.comment}" if approval.comment else ""
        )
    if state == Approval.State.REJECTED:
        return f"❌ 已驳回 · {who} · {_when(approval.decided_at)}" + (
            f" · {approval.comment}" if approval.comment else ""
        )
    if state == Approval.State.UNKNOWN:
        return "⏳ 结果未知：ERP 未及时答复，正在重新读取核对，请勿重复操作"
    if state == Approval.State.DECIDING:
        return "⏳ 正在提交到 ERP…"
    if state == Approval.State.CLOSED:
        return f"已在 ERP 中处理 · 当前状态：{snapshot.data.get('status_label') or snapshot.data.get('status')}"
    if snapshot.stale_since is not None:
        return f"⚠️ ERP 暂不可用（自 {_when(snapshot.stale_since)} 起），恢复后才能审批"
    return f"待审批 · {snapshot.number} · {_money_text(snapshot)}"


def card_blocks(approval: Approval) -> list[dict[str, Any]]:
    snapshot = approval.snapshot
    open_for_decision = approval.state == Approval.State.PENDING and snapshot.stale_since is None
    return [
        {"type": "header", "text": f"审批请求 · {snapshot.number}"},
        record_block(snapshot),
        {"type": "context", "text": status_line(approval, snapshot)},
        {
            "type": "actions",
            "actions": [
                {
                    "id": f"crm:approve:{approval.pk}",
                    "label": "批准",
                    "style": "primary",
                    "confirm": f"批准 {snapshot.number}（{_money_text(snapshot)}）？",
                    "disabled": not open_for_decision,
                },
                {
                    "id": f"crm:reject:{approval.pk}",
                    "label": "驳回",
                    "style": "danger",
                    "needs_comment": True,
                    "disabled": not open_for_decision,
                },
            ],
        },
    ]


def do_refresh_cards(approval: Approval) -> None:
    """Every card of the approval shows its current state (``message.updated`` to everyone)."""
    blocks = card_blocks(approval)
    for card in approval.cards.select_related("message__conversation"):
        do_update_message_blocks(card.message, blocks)


# --- posting -------------------------------------------------------------------------------------


def approver_members(source_row: ErpSource, snapshot: RecordSnapshot) -> list[Member]:
    members = Member.objects.select_related("user", "workspace").filter(
        workspace_id=source_row.workspace_id, is_active=True, user__is_bot=False
    )
    emails = [str(e).lower() for e in snapshot.data.get("approvers", [])]
    if emails:
        return [m for m in members.exclude(role=Member.Role.GUEST) if m.user.email.lower() in emails]
    return list(members.filter(role__in=[Member.Role.OWNER, Member.Role.ADMIN]))


def _post_card(approval: Approval, bot: Member, conversation: Conversation, recipient: User | None) -> None:
    snapshot = approval.snapshot
    message = do_post_bot_message(
        bot,
        conversation,
        f"{snapshot.title} 待审批（{_money_text(snapshot)}）",
        blocks=card_blocks(approval),
        client_id=uuid.uuid5(_NAMESPACE, f"approval:{approval.pk}:{conversation.pk}"),
    )
    ApprovalCard.objects.get_or_create(message=message, defaults={"approval": approval, "recipient": recipient})
    RecordLink.objects.get_or_create(
        snapshot=snapshot, message=message, defaults={"conversation": conversation, "kind": RecordLink.Kind.CARD}
    )


@transaction.atomic
def do_open_approval(snapshot: RecordSnapshot) -> Approval | None:
    """Open an approval round for a record awaiting approval and post its cards: in the
    source's approvals channel (``config["approval_channel_id"]``) when one is set, else as a
    DM from the assistant to each approver. None when one is already open."""
    source_row = snapshot.source
    if Approval.objects.filter(snapshot=snapshot, state__in=OPEN_STATES).exists():
        return None
    approval = Approval.objects.create(snapshot=snapshot, seen_version=snapshot.version)
    bot = ensure_bot(source_row.workspace, ASSISTANT)
    channel_id = (source_row.config or {}).get("approval_channel_id")
    channel = (
        Conversation.objects.filter(pk=channel_id, workspace_id=source_row.workspace_id, archived_at=None).first()
        if channel_id
        else None
    )
    if channel is not None:
        _post_card(approval, bot, channel, None)
        return approval
    for member in approver_members(source_row, snapshot):
        dm = do_create_conversation(bot, Conversation.Kind.DM, "", [member])
        _post_card(approval, bot, dm, member.user)
    return approval


def on_record_changed(sender: Any, snapshot: RecordSnapshot, previous_version: str | None, **kwargs: Any) -> None:
    """Open a round when a record starts awaiting approval; keep an open round's cards in
    step with the record; close it when the source decided without us."""
    if snapshot.record_type not in APPROVABLE_TYPES:
        return
    snapshot = RecordSnapshot.objects.select_related("source__workspace").get(pk=snapshot.pk)
    awaiting = snapshot.data.get("status") == Status.TO_APPROVE
    approval = Approval.objects.filter(snapshot=snapshot, state=Approval.State.PENDING).first()
    if approval is None:
        if awaiting and snapshot.source.enabled:
            do_open_approval(snapshot)
        return
    with transaction.atomic():
        approval.snapshot = snapshot
        approval.seen_version = snapshot.version
        if not awaiting:
            _set_state(approval, Approval.State.CLOSED)
        approval.save()
        do_refresh_cards(approval)


# --- deciding ------------------------------------------------------------------------------------


def _set_state(approval: Approval, state: str) -> None:
    approval.state = state
    approval.state_changed_at = timezone.now()


def _result(status: str, message: str, **data: Any) -> ActionResult:
    return ActionResult(status=status, message=message, data=data)  # type: ignore[arg-type]


def access_card(member: Member, message: Message, approval_id: int) -> ApprovalCard:
    card = (
        ApprovalCard.objects.select_related("approval__snapshot__source__workspace", "approval__decided_by")
        .filter(message=message, approval_id=approval_id, approval__snapshot__source__workspace_id=member.workspace_id)
        .first()
    )
    if card is None:
        raise NotFound("approval")
    return card


def handle_action(request: ActionRequest) -> ActionResult:
    """The ``crm:`` button namespace (registered in ``crm_bridge.apps``)."""
    parts = request.action_id.split(":")
    if len(parts) != 3 or parts[1] not in _VERBS or not parts[2].isdigit():
        raise NotFound("action")
    card = access_card(request.member, request.message, int(parts[2]))
    return check_decide(request.member, card, parts[1], request.comment)


def check_decide(member: Member, card: ApprovalCard, verb: str, comment: str) -> ActionResult:
    snapshot = card.approval.snapshot
    access.check_can_decide(member, snapshot)
    if verb == ApprovalAction.Verb.REJECT and not comment:
        raise HubError("comment_required", "please give a reason for the rejection")
    claimed = _claim(member, card, verb, comment)
    if isinstance(claimed, ActionResult):
        return claimed
    return _write_back(member, card.approval, claimed)


@transaction.atomic
def _claim(member: Member, card: ApprovalCard, verb: str, comment: str) -> ApprovalAction | ActionResult:
    """Step 1: take the approval for this click, or say why this click does nothing."""
    approval = (
        Approval.objects.select_for_update(of=("self",))
        .select_related("decided_by", "snapshot__source")
        .get(pk=card.approval_id)
    )
    action = ApprovalAction.objects.filter(card=card, verb=verb, actor=member.user).first()
    if action is not None and action.outcome in _SETTLED:
        return _result("already_done", _repeat_message(action), outcome=action.outcome)
    if approval.state == Approval.State.UNKNOWN:
        return _result("unknown", "上一次操作结果未知，正在与 ERP 核对，请稍后查看卡片")
    if approval.state == Approval.State.DECIDING:
        return _result("already_done", "正在处理另一项操作，请稍候")
    if approval.state != Approval.State.PENDING:
        return _result("already_done", status_line(approval, approval.snapshot), state=approval.state)
    now = timezone.now()
    if action is None:
        action = ApprovalAction.objects.create(
            approval=approval, card=card, actor=member.user, verb=verb, comment=comment, created_at=now, updated_at=now
        )
    else:  # a retry after a conflict or an outage: nothing happened the first time
        action.outcome, action.comment, action.detail, action.updated_at = (
            ApprovalAction.Outcome.PENDING,
            comment,
            "",
            now,
        )
        action.save()
    _set_state(approval, Approval.State.DECIDING)
    approval.save(update_fields=["state", "state_changed_at"])
    return action


def _repeat_message(action: ApprovalAction) -> str:
    if action.outcome == ApprovalAction.Outcome.DONE:
        return "已处理（重复的点击不会再次执行）"
    if action.outcome == ApprovalAction.Outcome.UNKNOWN:
        return "结果未知，正在与 ERP 核对"
    return "正在处理，请稍候"


def _write_back(member: Member, approval: Approval, action: ApprovalAction) -> ActionResult:
    """Steps 2-7. ``approval`` is DECIDING and ``action`` PENDING (committed by ``_claim``)."""
    source_row = approval.snapshot.source
    source = build_source(source_row)
    ref = _ref(approval.snapshot)
    try:
        fresh = source.get(ref)
    except SourceUnavailable as exc:
        mark_stale(approval.snapshot)
        _finish(approval, action, Approval.State.PENDING, ApprovalAction.Outcome.UNAVAILABLE, exc.message)
        return _result("failed", f"{source_row.name} 暂不可用，未做任何更改；卡片已标记为过期")
    except RecordNotFound:
        _finish(approval, action, Approval.State.CLOSED, ApprovalAction.Outcome.SUPERSEDED, "record gone")
        return _result("failed", "该单据在 ERP 中已不存在")
    stale_result = _check_fresh(approval, action, source_row, fresh, member)
    if stale_result is not None:
        return stale_result
    transition = _VERBS[action.verb]
    try:
        updated = source.transition(
            ref, transition, expected_version=fresh.version, actor=member.user.email, comment=action.comment
        )
    except VersionConflict as exc:
        return _conflict(approval, action, source_row, exc.current or fresh)
    except SourcePermissionDenied as exc:
        _finish(approval, action, Approval.State.PENDING, ApprovalAction.Outcome.DENIED, exc.message)
        return _result("failed", f"ERP 拒绝了此操作：{exc.message}")
    except InvalidTransition as exc:
        # The state moved on between the re-read and the call: settle the round from a fresh read.
        _finish(approval, action, _state_after_refusal(source_row, ref), ApprovalAction.Outcome.SUPERSEDED, exc.message)
        return _result("failed", f"ERP 不允许此操作：{exc.message}")
    except SourceUnavailable as exc:
        # Refused before the request went out (breaker open, connection refused): not applied.
        mark_stale(approval.snapshot)
        _finish(approval, action, Approval.State.PENDING, ApprovalAction.Outcome.UNAVAILABLE, exc.message)
        return _result("failed", f"{source_row.name} 暂不可用，未做任何更改")
    except Exception as exc:  # noqa: BLE001 — OutcomeUnknown, or any failure mid-call: the write may have happened
        logger.warning("approval %s: outcome unknown after %s: %s", approval.pk, action.verb, exc)
        _finish(approval, action, Approval.State.UNKNOWN, ApprovalAction.Outcome.UNKNOWN, str(exc))
        return _result("unknown", "ERP 未及时答复，结果未知：系统会重新读取单据核对，请勿重复操作")
    _decided(approval, action, source_row, updated, member.user, how="clicked")
    return _result("done", f"已{'批准' if transition == Transition.APPROVE else '驳回'} {updated.number}")


def _state_after_refusal(source_row: ErpSource, ref: RecordRef) -> str:
    """PENDING while the record still awaits approval (or cannot be read now), else CLOSED."""
    try:
        current = build_source(source_row).get(ref)
    except SourceError:
        return Approval.State.PENDING
    upsert_snapshot(source_row, current)
    return Approval.State.PENDING if current.status == Status.TO_APPROVE else Approval.State.CLOSED


def _check_fresh(
    approval: Approval, action: ApprovalAction, source_row: ErpSource, fresh: Record, member: Member
) -> ActionResult | None:
    """Step 3 (and a second look at the amount limit on the fresh copy)."""
    if fresh.version != approval.seen_version:
        return _conflict(approval, action, source_row, fresh)
    if fresh.status != Status.TO_APPROVE:
        upsert_snapshot(source_row, fresh)
        _finish(approval, action, Approval.State.CLOSED, ApprovalAction.Outcome.SUPERSEDED, str(fresh.status))
        return _result("already_done", f"{fresh.number} 已在 ERP 中处理（{fresh.status_label or fresh.status}）")
    return None


def _conflict(approval: Approval, action: ApprovalAction, source_row: ErpSource, current: Record) -> ActionResult:
    snapshot, _ = upsert_snapshot(source_row, current)
    approval.snapshot = snapshot
    approval.seen_version = current.version
    state = Approval.State.PENDING if current.status == Status.TO_APPROVE else Approval.State.CLOSED
    _finish(approval, action, state, ApprovalAction.Outcome.CONFLICT, f"now at version {current.version}")
    return _result(
        "conflict", f"{current.number} 在你查看后已被修改，卡片已刷新，请核对后再操作", version=current.version
    )


@transaction.atomic
def _finish(approval: Approval, action: ApprovalAction, state: str, outcome: str, detail: str = "") -> None:
    approval.snapshot.refresh_from_db()
    _set_state(approval, state)
    approval.save()
    action.outcome, action.detail, action.updated_at = outcome, detail[:1000], timezone.now()
    action.save(update_fields=["outcome", "detail", "updated_at"])
    do_refresh_cards(approval)


def _decided(
    approval: Approval, action: ApprovalAction, source_row: ErpSource, updated: Record, actor: User, *, how: str
) -> None:
    """Steps 5-7 once the source has applied the decision."""
    approved = action.verb == ApprovalAction.Verb.APPROVE
    with transaction.atomic():
        snapshot, _ = upsert_snapshot(source_row, updated)
        approval.snapshot = snapshot
        approval.seen_version = updated.version
        approval.decided_by, approval.decided_at, approval.comment = actor, timezone.now(), action.comment
        _set_state(approval, Approval.State.APPROVED if approved else Approval.State.REJECTED)
        approval.save()
        action.outcome, action.updated_at = ApprovalAction.Outcome.DONE, timezone.now()
        action.save(update_fields=["outcome", "updated_at"])
        audit(
            f"crm.approval.{'approved' if approved else 'rejected'}",
            actor=actor,
            workspace=source_row.workspace_id,
            target=approval,
            source=source_row.name,
            record=f"{snapshot.record_type}:{snapshot.key}",
            number=snapshot.number,
            amount=snapshot.data.get("amount"),
            version=updated.version,
            comment=action.comment,
            how=how,
        )
        do_refresh_cards(approval)
    # After commit: a failed note must not undo a decision the source has already applied.
    note = f"{'批准' if approved else '驳回'}（小微 Hub · {actor.name}）" + (
        f"：{action.comment}" if action.comment else ""
    )
    try:
        build_source(source_row).log_note(_ref(snapshot), note, author=actor.email)
    except SourceError as exc:
        logger.warning("approval %s decided, but the note was not logged: %s", approval.pk, exc.message)


def _ref(snapshot: RecordSnapshot) -> RecordRef:
    return RecordRef(RecordType(snapshot.record_type), snapshot.key)


# --- reconciling ---------------------------------------------------------------------------------


def reconcile(approval_id: int) -> str:
    """Settle an UNKNOWN (or long-DECIDING) approval from a fresh read of the record: the
    decision happened (→ APPROVED/REJECTED, audited, note logged), did not happen (→ PENDING,
    buttons enabled again: the person decides again, nothing is retried for them), or the
    source decided otherwise (→ CLOSED). Returns the resulting state."""
    approval = Approval.objects.select_related("snapshot__source__workspace", "decided_by").get(pk=approval_id)
    stuck_deciding = (
        approval.state == Approval.State.DECIDING and timezone.now() - approval.state_changed_at > DECIDING_TIMEOUT
    )
    if approval.state != Approval.State.UNKNOWN and not stuck_deciding:
        return str(approval.state)
    action = approval.actions.select_related("actor").filter(outcome__in=_SETTLED - {ApprovalAction.Outcome.DONE})
    pending = action.order_by("-updated_at").first()
    source_row = approval.snapshot.source
    try:
        fresh = build_source(source_row).get(_ref(approval.snapshot))
    except SourceUnavailable:
        return str(approval.state)  # try again on the next pass
    except RecordNotFound:
        fresh = None
    expected = {ApprovalAction.Verb.APPROVE: Status.APPROVED, ApprovalAction.Verb.REJECT: Status.REJECTED}
    if fresh is not None and pending is not None and fresh.status == expected[ApprovalAction.Verb(pending.verb)]:
        _decided(approval, pending, source_row, fresh, pending.actor, how="reconciled")
        return str(approval.state)
    if fresh is not None:
        snapshot, _ = upsert_snapshot(source_row, fresh)
        approval.snapshot = snapshot
        approval.seen_version = fresh.version
    state = Approval.State.PENDING if fresh is not None and fresh.status == Status.TO_APPROVE else Approval.State.CLOSED
    with transaction.atomic():
        _set_state(approval, state)
        approval.save()
        if pending is not None:
            pending.outcome, pending.updated_at = ApprovalAction.Outcome.NOT_APPLIED, timezone.now()
            pending.save(update_fields=["outcome", "updated_at"])
        do_refresh_cards(approval)
    return str(approval.state)


def reconcile_for_snapshot(snapshot: RecordSnapshot) -> None:
    """ "On next view": a card being fetched settles its record's unknown approval first."""
    for approval_id in Approval.objects.filter(
        snapshot=snapshot, state__in=[Approval.State.UNKNOWN, Approval.State.DECIDING]
    ).values_list("pk", flat=True):
        reconcile(approval_id)


@task()
def reconcile_unknown_approvals() -> int:
    """The periodic pass (every minute, ``hub.periodic``)."""
    cutoff = timezone.now() - DECIDING_TIMEOUT
    ids = list(Approval.objects.filter(state=Approval.State.UNKNOWN).values_list("pk", flat=True)) + list(
        Approval.objects.filter(state=Approval.State.DECIDING, state_changed_at__lt=cutoff).values_list("pk", flat=True)
    )
    for approval_id in ids:
        try:
            reconcile(approval_id)
        except Exception:  # one broken source must not stop the others' reconciling
            logger.exception("reconciling approval %s failed", approval_id)
    return len(ids)


# --- queries -------------------------------------------------------------------------------------


def awaiting(member: Member) -> list[Approval]:
    """Open approvals ``member`` may decide (the ``/approve`` list)."""
    found = []
    for approval in (
        Approval.objects.select_related("snapshot__source")
        .filter(state=Approval.State.PENDING, snapshot__source__workspace_id=member.workspace_id)
        .order_by("created_at")
    ):
        try:
            access.check_can_decide(member, approval.snapshot)
        except HubError:
            continue
        found.append(approval)
    return found
