"""Rows of the notification channels. Secrets (push endpoints and keys, robot URLs and signing
secrets, apprise URLs) are stored sealed (``crypto``): a database dump alone does not hand out
anyone's robot. Imported by ``messaging.models`` so that they belong to the messaging app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PushSubscription(models.Model):
    """One browser's Web Push subscription (``PushManager.subscribe()``) of one person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    # SHA-256 of the endpoint: subscribing the same browser twice updates the row instead of
    # adding one, without storing the endpoint (a capability URL) in the clear.
    endpoint_hash = models.CharField(max_length=64, unique=True)
    sealed = models.TextField()  # {"endpoint", "p256dh", "auth"}
    host = models.CharField(max_length=255)  # the push service, shown to the owner
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"push subscription of {self.user_id} at {self.host}"


class ForwardTarget(models.Model):
    """Where a person's phone already listens: their own robot, mailbox or apprise URL."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk custom robot")
        FEISHU = "feishu", _("Feishu custom bot")
        EMAIL = "email", _("Email")
        APPRISE = "apprise", _("Apprise URL")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forward_targets")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=60, blank=True)
    sealed = models.TextField()  # {"url", "secret"?}
    masked = models.CharField(max_length=120)  # what the owner sees instead of the URL
    has_secret = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # Consecutive failed deliveries; the target switches itself off at a limit (pipeline).
    failure_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} target of {self.user_id}: {self.masked}"


class NotifyCursor(models.Model):
    """Per person: the last ``PendingNotification`` already handed to the channels, and when
    recent batches went out (the hourly rate limit). Locked while collecting, so two workers
    never turn the same rows into two batches."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_pending_id = models.BigIntegerField(default=0)
    recent_batches = models.JSONField(default=list, blank=True)  # ISO timestamps, last hour

    def __str__(self) -> str:
        return f"notify cursor of {self.user_id} at {self.last_pending_id}"


class NotifyDelivery(models.Model):
    """One coalesced notice (this person's pending rows ``first_pending_id``..``last_pending_id``)
    to one channel. It holds ids, not text: the notice is composed at each attempt, so a
    retry after someone lost access to a conversation no longer carries its content."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DROPPED = "dropped", _("Nothing left to say")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(PushSubscription, null=True, blank=True, on_delete=models.CASCADE)
    target = models.ForeignKey(ForwardTarget, null=True, blank=True, on_delete=models.CASCADE)
    first_pending_id = models.BigIntegerField()
    last_pending_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(subscription__isnull=True) ^ models.Q(target__isnull=True),
                name="notify_delivery_one_channel",
            )
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.user_id}: {self.status}"
