"""Django admin for notification channels: operators see health (masked target, last success,
last error, delivery status), never a URL, key or secret (the sealed columns are not shown).
Read-only: changes go through the person's own settings, which audit them."""

from __future__ import annotations

from django.contrib import admin

from messaging.admin import ReadOnlyAdmin
from messaging.delivery.models import ForwardTarget, NotifyDelivery, PushSubscription


@admin.register(ForwardTarget)
class ForwardTargetAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "label", "masked", "enabled", "last_success_at", "failure_count")
    list_filter = ("kind", "enabled")
    fields = ("user", "kind", "label", "masked", "has_secret", "enabled", "created_at", "last_success_at", "last_error")
    raw_id_fields = ("user",)


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "host", "user_agent", "created_at", "last_success_at")
    fields = ("user", "host", "user_agent", "created_at", "last_success_at", "last_error")
    raw_id_fields = ("user",)


@admin.register(NotifyDelivery)
class NotifyDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "subscription", "target", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status",)
    raw_id_fields = ("user", "subscription", "target")
