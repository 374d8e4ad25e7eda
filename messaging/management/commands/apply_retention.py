"""``manage.py apply_retention [--workspace ID]`` — purge messages past each workspace's
retention now (the worker does it daily). Prints what it purged per workspace."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.models import Workspace
from hub.policy.quotas import limits_for
from messaging.retention import apply_retention_everywhere, do_apply_retention


class Command(BaseCommand):
    help = "Purge messages older than each workspace's retention period (normally run daily by the worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", type=int, default=None, help="only this workspace")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workspace"] is None:
            results = apply_retention_everywhere()
        else:
            workspace_id = options["workspace"]
            if not Workspace.objects.filter(pk=workspace_id).exists():
                raise CommandError(f"no workspace with id {workspace_id}")
            days = limits_for(workspace_id).retention_days
            if days is None:
                self.stdout.write(f"workspace #{workspace_id} keeps messages forever; nothing to do")
                return
            results = {workspace_id: do_apply_retention(workspace_id, days)}
        for workspace_id, result in results.items():
            self.stdout.write(
                f"workspace #{workspace_id}: {result.messages} messages, {result.attachments} files purged, "
                f"{result.events_redacted} log entries redacted"
            )
        if not results:
            self.stdout.write("no workspace has a retention period")
