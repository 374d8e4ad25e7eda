"""Export jobs started from the API (progress, the finished archive) and the record of
imports that makes a repeated import fail clearly instead of duplicating a company."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.models import Workspace


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    # Relative to $HUB_DATA_DIR/exports (outside files/, so backups do not carry old exports).
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="export_ws_created")]

    def __str__(self) -> str:
        return f"export #{self.pk} of workspace {self.workspace_id} ({self.status})"


class ImportRecord(models.Model):
    """``source_key`` identifies the exported workspace (deployment + id + creation time), so
    importing the same company twice — from the same archive or a newer one — is refused."""

    source_key = models.CharField(max_length=64, unique=True)
    source_site = models.CharField(max_length=200)
    source_workspace_id = models.BigIntegerField()
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    exported_at = models.DateTimeField()
    imported_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"workspace {self.source_workspace_id} of {self.source_site} → {self.workspace_id}"
