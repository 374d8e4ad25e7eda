"""One row per workspace that differs from the deployment's defaults (``HUB_RETENTION_DAYS``,
``HUB_STORAGE_QUOTA_BYTES``, ``HUB_MEMBER_QUOTA``). A missing row or a null field means "the
default"; ``0`` in a default means "no limit"."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from hub.models import Workspace


class WorkspacePolicy(models.Model):
    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="policy")
    # Messages older than this many days are purged daily; null = the deployment default.
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Set by the operator (Django admin), not by the workspace's own admins.
    storage_quota_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    member_quota = models.PositiveIntegerField(null=True, blank=True)
    last_retention_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "workspace policy"
        verbose_name_plural = "workspace policies"

    def __str__(self) -> str:
        return f"policy of workspace {self.workspace_id}"
