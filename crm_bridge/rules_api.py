"""Admin HTTP API of watch rules: list, create, change, delete; and each rule's open alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from crm_bridge import access
from crm_bridge.rule_models import WatchAlert, WatchRule
from crm_bridge.rules import RuleFields, check_rule_fields, do_create_rule, do_delete_rule, do_update_rule
from crm_bridge.sources.builtin import ensure_default_source
from hub.access import access_workspace_admin
from hub.apicore import authed_user
from hub.models import Member

router = Router(tags=["erp"])


class RuleIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    kind: WatchRule.Kind
    channel_id: int
    source_id: int | None = Field(default=None, description="default: the workspace's default source")
    days: int = Field(default=0, ge=0, le=3650, description="invoice_overdue: overdue by more than this")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    enabled: bool = True


class AlertOut(Schema):
    id: int
    record_type: str
    record_key: str
    number: str
    detail: str
    message_id: int | None
    opened_at: datetime


class RuleOut(Schema):
    id: int
    name: str
    kind: str
    channel_id: int
    source_id: int
    days: int
    amount: Decimal | None
    enabled: bool
    open_alerts: list[AlertOut]


def rule_payload(rule: WatchRule) -> dict[str, object]:
    alerts = WatchAlert.objects.filter(rule=rule, cleared_at__isnull=True).order_by("-opened_at", "-pk")
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "channel_id": rule.channel_id,
        "source_id": rule.source_id,
        "days": rule.days,
        "amount": rule.amount,
        "enabled": rule.enabled,
        "open_alerts": [
            {
                "id": a.pk,
                "record_type": a.record_type,
                "record_key": a.record_key,
                "number": a.number,
                "detail": a.detail,
                "message_id": a.message_id,
                "opened_at": a.opened_at,
            }
            for a in alerts
        ],
    }


def _fields(member: Member, payload: RuleIn) -> RuleFields:
    channel = access.access_alert_channel(member, payload.channel_id)
    if payload.source_id is None:
        source = access.default_source(member.workspace_id) or ensure_default_source(member.workspace)
    else:
        source = access.access_source(member, payload.source_id)
    return check_rule_fields(
        RuleFields(
            name=payload.name,
            kind=payload.kind,
            channel=channel,
            source=source,
            days=payload.days,
            amount=payload.amount,
            enabled=payload.enabled,
        )
    )


@router.get("/workspaces/{workspace_id}/erp/rules", response=list[RuleOut])
def list_rules(request: HttpRequest, workspace_id: int) -> list[dict[str, object]]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    return [rule_payload(r) for r in WatchRule.objects.filter(workspace_id=member.workspace_id).order_by("pk")]


@router.post("/workspaces/{workspace_id}/erp/rules", response={201: RuleOut})
def create_rule(request: HttpRequest, workspace_id: int, payload: RuleIn) -> Status[object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    return Status(201, rule_payload(do_create_rule(member, _fields(member, payload))))


@router.put("/workspaces/{workspace_id}/erp/rules/{rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, workspace_id: int, rule_id: int, payload: RuleIn) -> dict[str, object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    rule = access.access_watch_rule(member, rule_id)
    return rule_payload(do_update_rule(member, rule, _fields(member, payload)))


@router.delete("/workspaces/{workspace_id}/erp/rules/{rule_id}", response={204: None})
def delete_rule(request: HttpRequest, workspace_id: int, rule_id: int) -> Status[None]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    do_delete_rule(member, access.access_watch_rule(member, rule_id))
    return Status(204, None)
