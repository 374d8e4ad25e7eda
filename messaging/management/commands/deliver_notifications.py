"""Deliver every due Web Push / forwarded notification now. The deferred tasks do this when the
task backend can defer (the default database backend + the worker ``serve`` starts); this
command is the sweep for backends that cannot, for cron, and for catching up after downtime."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from messaging.delivery.pipeline import run_due


class Command(BaseCommand):
    help = "Collect pending mentions/DMs into notifications and deliver the due ones (push, forwarding)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = run_due()
        self.stdout.write(f"{sent} notification(s) delivered")
