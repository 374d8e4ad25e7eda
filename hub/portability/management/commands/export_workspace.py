"""``manage.py export_workspace <workspace id> [-o FILE]`` — every conversation, message,
file, document and record of one workspace into a zip, with a progress bar. The hub keeps
running meanwhile. The archive path is the last line of output."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.models import Workspace
from hub.portability.actions import export_workspace
from hub.search.management.commands.rebuild_search_index import Progress


class Command(BaseCommand):
    help = "Export a workspace (JSON + files in a zip) for moving it to another deployment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workspace", type=int, help="workspace id")
        parser.add_argument(
            "-o", "--output", default=None, help="zip file to write (default: ./workspace-<id>-<time>.zip)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(pk=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"no workspace with id {options['workspace']}")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = Path(options["output"] or f"workspace-{workspace.pk}-{stamp}.zip")
        if target.exists():
            raise CommandError(f"{target} exists; choose another --output")
        progress = Progress(self.stdout.write, f"Exporting {workspace.name}", sys.stdout.isatty())
        try:
            manifest = export_workspace(workspace, target, progress)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if sys.stdout.isatty():
            self.stdout.write("")
        os.chmod(target, 0o600)  # members' email addresses and every message
        counts = ", ".join(f"{name.split('/')[-1].split('.')[0]} {n}" for name, n in manifest["counts"].items())
        self.stdout.write(f"Exported workspace #{workspace.pk} {workspace.name}: {counts}")
        self.stdout.write(str(target.resolve()))
