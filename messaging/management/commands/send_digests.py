"""Email every due notification digest now. The deferred ``send_digest`` task does this per
person when the task backend can defer; this command is the sweep for cron or for backends
that cannot (and a way to catch up after downtime)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from messaging.notifications import send_due_digests


class Command(BaseCommand):
    help = "Send email digests of unread mentions, DMs and thread replies that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_due_digests()
        self.stdout.write(f"{sent} digest email(s) sent")
