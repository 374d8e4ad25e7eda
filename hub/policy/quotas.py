"""Effective limits of a workspace, its usage, and the checks the write actions call.

Storage usage is reported by the apps that store files (``register_storage_usage`` from their
``retention`` module, e.g. messaging's attachments): ``hub`` cannot import them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from hub.errors import HubError
from hub.models import Member, Workspace
from hub.policy.models import WorkspacePolicy

StorageUsage = Callable[[int], int]  # workspace id -> bytes
_STORAGE_USAGE: dict[str, StorageUsage] = {}


def register_storage_usage(name: str, usage: StorageUsage) -> None:
    _STORAGE_USAGE[name] = usage


@dataclass(frozen=True)
class Limits:
    retention_days: int | None  # None = keep forever
    storage_quota_bytes: int | None  # None = unlimited
    member_quota: int | None


def _or_default(value: int | None, default: int) -> int | None:
    chosen = default if value is None else value
    return chosen if chosen > 0 else None


def limits_for(workspace_id: int) -> Limits:
    policy = WorkspacePolicy.objects.filter(workspace_id=workspace_id).first() or WorkspacePolicy()
    return Limits(
        retention_days=_or_default(policy.retention_days, settings.HUB_RETENTION_DAYS),
        storage_quota_bytes=_or_default(policy.storage_quota_bytes, settings.HUB_STORAGE_QUOTA_BYTES),
        member_quota=_or_default(policy.member_quota, settings.HUB_MEMBER_QUOTA),
    )


def storage_used(workspace_id: int) -> int:
    return sum(usage(workspace_id) for usage in _STORAGE_USAGE.values())


def member_count(workspace_id: int) -> int:
    """Active members, guests included: each is a seat the hosted service carries."""
    return Member.objects.filter(workspace_id=workspace_id, is_active=True).count()


def check_storage_quota(workspace_id: int, adding_bytes: int) -> None:
    quota = limits_for(workspace_id).storage_quota_bytes
    if quota is None:
        return
    used = storage_used(workspace_id)
    if used + adding_bytes > quota:
        raise HubError(
            "storage_quota_exceeded",
            f"this workspace has used {used} of its {quota} bytes of file storage; "
            "delete files or ask the operator for more",
            status=413,
        )


def check_member_quota(workspace_id: int) -> None:
    """Caller holds a transaction: the workspace row is locked so that two people joining at
    once cannot both take the last seat (SQLite serialises writers anyway)."""
    quota = limits_for(workspace_id).member_quota
    if quota is None:
        return
    if transaction.get_connection().in_atomic_block:
        Workspace.objects.select_for_update().filter(pk=workspace_id).first()
    if member_count(workspace_id) >= quota:
        raise HubError(
            "member_quota_exceeded",
            f"this workspace has reached its limit of {quota} members; ask the operator for more",
            status=403,
        )
