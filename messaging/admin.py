"""Django admin for messaging: for operators looking at data, not for changing it — every
change to a conversation must go through ``actions`` so that it lands in the event log, so
conversations, messages and events are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from messaging.models import (
    Attachment,
    Conversation,
    ConversationShare,
    Event,
    Message,
    NotificationPrefs,
    Participant,
    PendingNotification,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Writes here would bypass the event log (no seq, no event): clients would diverge."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ParticipantInline(admin.TabularInline[Participant, Conversation]):
    model = Participant
    extra = 0
    fields = ("user", "role", "active", "last_read_seq", "notification_level", "muted")
    readonly_fields = fields
    can_delete = False


class ShareInline(admin.TabularInline[ConversationShare, Conversation]):
    model = ConversationShare
    extra = 0
    readonly_fields = ("partner", "created_at")
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "workspace", "kind", "name", "last_seq", "archived_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "topic")
    inlines = (ParticipantInline, ShareInline)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "conversation", "seq", "sender", "created_at", "edited_at", "deleted_at")
    search_fields = ("body",)
    list_select_related = ("conversation", "sender")
    raw_id_fields = ("conversation", "sender", "thread_root", "forwarded_from", "deleted_by")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "conversation", "seq", "type", "created_at")
    list_filter = ("type",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "original_name", "content_type", "size", "conversation", "uploader", "created_at")
    search_fields = ("original_name",)


@admin.register(NotificationPrefs)
class NotificationPrefsAdmin(admin.ModelAdmin[NotificationPrefs]):
    list_display = ("user", "email_enabled", "email_delay_minutes", "dnd_start", "dnd_end")
    raw_id_fields = ("user",)


@admin.register(PendingNotification)
class PendingNotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "reason", "conversation", "seq", "created_at", "emailed_at")
    list_filter = ("reason",)


# Notification channels (Web Push, forwarding): their admin pages live beside them.
from messaging.delivery import admin as delivery_admin  # noqa: E402, F401
