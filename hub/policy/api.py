"""``/api/v1/workspaces/{ws}/policy``: retention and quotas with current usage, for the
workspace's owners and admins."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from hub.access import access_workspace_admin
from hub.apicore import authed_user
from hub.policy import actions, quotas
from hub.policy.models import WorkspacePolicy
from hub.policy.schemas import PolicyIn, PolicyOut

router = Router(tags=["workspace policy"])


def _policy_out(workspace_id: int) -> PolicyOut:
    limits = quotas.limits_for(workspace_id)
    policy = WorkspacePolicy.objects.filter(workspace_id=workspace_id).first()
    return PolicyOut(
        retention_days=limits.retention_days,
        storage_quota_bytes=limits.storage_quota_bytes,
        storage_used_bytes=quotas.storage_used(workspace_id),
        member_quota=limits.member_quota,
        member_count=quotas.member_count(workspace_id),
        last_retention_at=policy.last_retention_at if policy else None,
    )


@router.get("/workspaces/{ws}/policy", response=PolicyOut)
def get_policy(request: HttpRequest, ws: int) -> PolicyOut:
    member = access_workspace_admin(authed_user(request), ws)
    return _policy_out(member.workspace_id)


@router.patch("/workspaces/{ws}/policy", response=PolicyOut)
def update_policy(request: HttpRequest, ws: int, payload: PolicyIn) -> PolicyOut:
    member = access_workspace_admin(authed_user(request), ws)
    actions.do_set_retention(member, payload.retention_days)
    return _policy_out(member.workspace_id)
