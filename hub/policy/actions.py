"""Writes of workspace policies (the retention itself runs in the apps that own the data,
e.g. messaging/retention.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hub.actions import audit
from hub.errors import HubError
from hub.models import Member
from hub.policy.models import WorkspacePolicy

MAX_RETENTION_DAYS = 36500


@transaction.atomic
def do_set_retention(actor: Member, retention_days: int | None) -> WorkspacePolicy:
    """``None`` returns to the deployment default; 0 is refused (it would delete everything)."""
    if retention_days is not None and not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise HubError("invalid_retention", f"retention_days must be between 1 and {MAX_RETENTION_DAYS}, or null")
    policy, _ = WorkspacePolicy.objects.select_for_update().get_or_create(workspace_id=actor.workspace_id)
    before = policy.retention_days
    policy.retention_days = retention_days
    policy.updated_at = timezone.now()
    policy.save(update_fields=["retention_days", "updated_at"])
    audit(
        "workspace.retention",
        actor=actor.user,
        workspace=actor.workspace_id,
        target=policy,
        before=before,
        after=retention_days,
    )
    return policy


def do_mark_retention_run(workspace_id: int) -> None:
    WorkspacePolicy.objects.update_or_create(workspace_id=workspace_id, defaults={"last_retention_at": timezone.now()})
