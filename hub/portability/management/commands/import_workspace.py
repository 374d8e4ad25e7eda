"""``manage.py import_workspace <archive.zip>`` — recreate an exported workspace on this
deployment (new ids; people matched by email, unknown people created inactive). An archive
whose workspace was imported here before is refused."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.errors import HubError
from hub.models import User
from hub.portability.actions import import_workspace
from hub.search.management.commands.rebuild_search_index import Progress


class Command(BaseCommand):
    help = "Import a workspace archive written by export_workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the .zip written by export_workspace")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        before = set(User.objects.values_list("pk", flat=True))
        progress = Progress(self.stdout.write, "Importing", sys.stdout.isatty())
        try:
            result = import_workspace(path, progress)
        except HubError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        if sys.stdout.isatty():
            self.stdout.write("")
        workspace = result.workspace
        created = User.objects.filter(memberships__workspace=workspace).exclude(pk__in=before)
        self.stdout.write(self.style.SUCCESS(f"Imported as workspace #{workspace.pk} {workspace.name}."))
        if created.exists():
            self.stdout.write(
                f"{created.count()} people had no account here and were created inactive; activate them in "
                "the Django admin (they then set a password with 'forgot password')."
            )
        self.stdout.write("Run `manage.py rebuild_search_index` to make the workspace searchable at once.")
