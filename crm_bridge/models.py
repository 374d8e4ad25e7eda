"""Core rows of the bridge: configured sources, the record cache, links from conversations
to records, and sync progress. ERP-lite's own business tables live in ``crm_bridge.erplite``
(its own app), feature tables (approvals, timeline, watch rules) in their modules' models
below."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ErpSource(models.Model):
    """One ERP/CRM system a workspace is connected to. ``config`` holds what may be shown
    (URLs, database name, REST preset, field paths); credentials are stored encrypted in
    ``credentials_encrypted`` and never returned in full by any API."""

    class Kind(models.TextChoices):
        BUILTIN = "builtin", "ERP-lite"
        ODOO = "odoo", "Odoo"
        REST = "rest", "REST"

    workspace = models.ForeignKey("hub.Workspace", on_delete=models.CASCADE, related_name="erp_sources")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True)
    # The source that bare references (``SO-1001``) and slash commands use.
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="erpsource_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="erpsource_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class RecordSnapshot(models.Model):
    """The cached card data of one record: what cards show at once, and what they keep
    showing (marked stale, never blank) when the source is down."""

    source = models.ForeignKey(ErpSource, on_delete=models.CASCADE, related_name="snapshots")
    record_type = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    number = models.CharField(max_length=128)
    title = models.CharField(max_length=255, blank=True)
    # The customer/supplier the record belongs to (guests see only their own company's).
    party_type = models.CharField(max_length=32, blank=True)
    party_key = models.CharField(max_length=128, blank=True)
    data = models.JSONField()  # crm_bridge.serialize.record_to_json(record)
    version = models.CharField(max_length=128)
    source_updated_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)
    # Set when a refresh failed because the source is unavailable; cleared by a good read.
    stale_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "record_type", "key"], name="snapshot_unique_record"),
        ]
        indexes = [
            models.Index(fields=["source", "number"], name="snapshot_number"),
            models.Index(fields=["source", "party_type", "party_key"], name="snapshot_party"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.number}"


class RecordLink(models.Model):
    """A conversation (and the message, when there is one) that references a record: what
    updates live cards, fills the customer's timeline, and finds a record's room."""

    class Kind(models.TextChoices):
        REFERENCE = "reference", "referenced in a message"
        ROOM = "room", "the record's room"
        CARD = "card", "card posted by the hub"

    snapshot = models.ForeignKey(RecordSnapshot, on_delete=models.CASCADE, related_name="links")
    conversation = models.ForeignKey("messaging.Conversation", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REFERENCE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "message"],
                condition=models.Q(message__isnull=False),
                name="recordlink_unique_message",
            ),
            models.UniqueConstraint(
                fields=["snapshot", "conversation"], condition=models.Q(kind="room"), name="recordlink_one_room"
            ),
        ]
        indexes = [models.Index(fields=["conversation", "snapshot"], name="recordlink_conversation")]

    def __str__(self) -> str:
        return f"{self.kind} link {self.snapshot_id} in {self.conversation_id}"


class SyncState(models.Model):
    """Incremental sync progress of one source and record type."""

    source = models.ForeignKey(ErpSource, on_delete=models.CASCADE, related_name="sync_states")
    record_type = models.CharField(max_length=32)
    cursor = models.CharField(max_length=255, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    records_synced = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "record_type"], name="syncstate_unique")]

    def __str__(self) -> str:
        return f"sync {self.source_id} {self.record_type}"


# Feature tables live in their own modules; importing them here registers them with the app.
from crm_bridge.approval_models import Approval, ApprovalAction, ApprovalCard  # noqa: E402
from crm_bridge.rule_models import WatchAlert, WatchRule  # noqa: E402

__all__ = [
    "Approval",
    "ApprovalAction",
    "ApprovalCard",
    "ErpSource",
    "RecordLink",
    "RecordSnapshot",
    "SyncState",
    "WatchAlert",
    "WatchRule",
]
