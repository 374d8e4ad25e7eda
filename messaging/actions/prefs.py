"""Per-person notification preferences (email digests, do-not-disturb hours, push preview)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hub.errors import HubError
from hub.models import User
from messaging.models import NotificationPrefs

FIELDS = ("email_enabled", "email_delay_minutes", "dnd_start", "dnd_end", "push_preview")


def check_update_notification_prefs(user: User, changes: dict[str, Any]) -> NotificationPrefs:
    """``changes`` holds only the keys the caller sent; an explicit null clears quiet hours."""
    if any(changes.get(field, "set") is None for field in ("email_enabled", "email_delay_minutes", "push_preview")):
        raise HubError("invalid_request", "email_enabled, email_delay_minutes and push_preview cannot be null")
    return do_update_notification_prefs(user, {k: v for k, v in changes.items() if k in FIELDS})


@transaction.atomic
def do_update_notification_prefs(user: User, changes: dict[str, Any]) -> NotificationPrefs:
    prefs, _ = NotificationPrefs.objects.select_for_update().get_or_create(user=user)
    for field, value in changes.items():
        setattr(prefs, field, value)
    if (prefs.dnd_start is None) != (prefs.dnd_end is None):
        raise HubError("invalid_dnd", "set both dnd_start and dnd_end (or clear both)")
    prefs.save()
    return prefs
