"""Rows of the integrations: incoming webhooks, outgoing event subscriptions with their
delivery log, and slash commands served by external apps (with their response URLs).

Capability keys (the secret part of a webhook URL or a response URL) are stored as SHA-256
only. Secrets the server must *use* — a DingTalk/Feishu signing secret to verify requests,
a subscription's secret to sign deliveries — are sealed (``hub.crypto``)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from hub.models import Member, Workspace
from messaging.models import Conversation

SEALED_PURPOSE = "integrations"


def new_key() -> str:
    """An unguessable capability key (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class IncomingWebhook(models.Model):
    """A URL that existing tools post to in their platform's shape; messages appear in one
    conversation as the webhook's own bot identity."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"
        DINGTALK = "dingtalk", "钉钉"
        WECOM = "wecom", "企业微信"
        FEISHU = "feishu", "飞书"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=80)
    bot = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    secret_sealed = models.TextField(blank=True)  # signing secret (DingTalk 加签, Feishu 签名校验)
    # DingTalk / Feishu "custom keywords" security: a message must contain one of them.
    keywords = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "revoked_at"], name="webhook_conv_active")]

    def __str__(self) -> str:
        return f"{self.kind} webhook #{self.pk} {self.name}"


class EventSubscription(models.Model):
    """Outgoing events for an app's bot: what happens in the conversations the bot is in is
    POSTed as signed JSON to ``url``."""

    class EventType(models.TextChoices):
        MESSAGE = "message", "message posted"
        APP_MENTION = "app_mention", "the bot was mentioned"
        REACTION = "reaction", "reaction added or removed"
        MEMBER_JOINED = "member_joined", "someone joined"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    bot = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(max_length=2000)
    secret_sealed = models.TextField()
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    failure_streak = models.PositiveIntegerField(default=0)  # failed attempts since the last success
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "active"], name="subscription_ws_active")]

    def __str__(self) -> str:
        return f"subscription #{self.pk} → {self.url}"


class Delivery(models.Model):
    """One event for one subscription: the delivery log, and the retry queue's state."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"  # gave up after the last attempt (or the subscription was disabled)

    subscription = models.ForeignKey(EventSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="delivery_sub_time"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.event_id} ({self.status})"


class AppCommand(models.Model):
    """A slash command served by an external app (Slack's model): typing it POSTs a form to
    ``url``; the app answers within 3 seconds and may reply later through a response URL."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    bot = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")  # in-channel replies post as it
    name = models.CharField(max_length=32)
    url = models.URLField(max_length=2000)
    usage = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=200, blank=True)
    secret_sealed = models.TextField()  # {"token", "signing_secret"} as JSON
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], condition=models.Q(revoked_at__isnull=True), name="appcommand_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"/{self.name} → {self.url}"


class CommandInvocation(models.Model):
    """One run of an app command; its ``response_url`` (a capability, stored hashed) lets the
    app answer later, for 30 minutes."""

    command = models.ForeignKey(AppCommand, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    thread_root_id = models.BigIntegerField(null=True, blank=True)
    text = models.CharField(max_length=4000, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responses = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"/{self.command_id} run #{self.pk}"
