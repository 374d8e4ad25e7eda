"""Rows of approvals in chat (imported by ``crm_bridge.models``): one ``Approval`` per round of
"this order awaits approval", the cards posted for it, and every click on those cards.

``ApprovalAction`` is unique per (card, action, person): a double click, a retried request or
a second browser tab finds the first row and acts no second time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Approval(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "awaiting a decision"
        DECIDING = "deciding", "a decision is being written to the source"
        APPROVED = "approved", "approved here"
        REJECTED = "rejected", "rejected here"
        UNKNOWN = "unknown", "the write timed out: reconcile by re-reading"
        CLOSED = "closed", "decided or withdrawn in the source itself"

    snapshot = models.ForeignKey("crm_bridge.RecordSnapshot", on_delete=models.CASCADE, related_name="approvals")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # The version the cards show: what a click expects the record still to be.
    seen_version = models.CharField(max_length=128)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # When the state last changed: a DECIDING row left behind by a crashed process is
    # reconciled like UNKNOWN once it is old.
    state_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One open round per record: a record re-entering "to approve" later opens a new one.
            models.UniqueConstraint(
                fields=["snapshot"],
                condition=models.Q(state__in=["pending", "deciding", "unknown"]),
                name="approval_one_open_per_record",
            ),
        ]
        indexes = [models.Index(fields=["state", "state_changed_at"], name="approval_state")]

    def __str__(self) -> str:
        return f"approval {self.pk} of {self.snapshot_id} ({self.state})"


class ApprovalCard(models.Model):
    """A message showing the approval (a DM from the assistant to one approver, or a post in
    the configured approvals channel)."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="cards")
    message = models.OneToOneField("messaging.Message", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"card {self.message_id} of approval {self.approval_id}"


class ApprovalAction(models.Model):
    class Verb(models.TextChoices):
        APPROVE = "approve", "approve"
        REJECT = "reject", "reject"

    class Outcome(models.TextChoices):
        PENDING = "pending", "being written"
        DONE = "done", "applied in the source"
        CONFLICT = "conflict", "the record changed since it was shown"
        DENIED = "denied", "refused by the source"
        UNAVAILABLE = "unavailable", "the source was unreachable: nothing happened"
        UNKNOWN = "unknown", "timed out: reconciling"
        NOT_APPLIED = "not_applied", "reconciled: the write did not happen"
        SUPERSEDED = "superseded", "decided elsewhere first"

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="actions")
    card = models.ForeignKey(ApprovalCard, on_delete=models.CASCADE, related_name="actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=16, choices=Verb.choices)
    comment = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["card", "verb", "actor"], name="approvalaction_once_per_card_person"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} by {self.actor_id} on card {self.card_id}: {self.outcome}"
