"""``manage.py rebuild_search_index [--workspace ID ...] [--check]``

Rebuilds search indexes from the database (the truth) with a progress bar, or with ``--check``
only reports drift between the index and the database (after applying what is queued)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.models import Workspace
from hub.search import indexer
from hub.search.backend import IndexBusy

BAR_WIDTH = 30


class Progress:
    """A one-line bar on a terminal; a line every 10% elsewhere (logs stay readable)."""

    def __init__(self, write: Any, label: str, tty: bool) -> None:
        self.write = write
        self.label = label
        self.tty = tty
        self.started = time.monotonic()
        self.last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        fraction = min(done / total, 1.0)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        filled = int(BAR_WIDTH * fraction)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = f"{self.label} [{bar}] {done}/{total} {fraction:4.0%} {rate:,.0f} docs/s"
        if self.tty:
            self.write(f"\r{line}", ending="")
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self.write(line)


class Command(BaseCommand):
    help = "Rebuild the search index of each workspace from the database (or check it for drift)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", type=int, action="append", help="workspace id (repeatable; default all)")
        parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["workspace"] or list(Workspace.objects.order_by("pk").values_list("pk", flat=True))
        unknown = set(ids) - set(Workspace.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise CommandError(f"no workspace with id {', '.join(map(str, sorted(unknown)))}")
        if options["check"]:
            self._check(ids)
            return
        tty = sys.stdout.isatty()
        for ws in ids:
            bar = Progress(self.stdout.write, f"workspace {ws}", tty)
            try:
                count = indexer.rebuild_workspace(ws, progress=bar)
            except IndexBusy as exc:
                raise CommandError(f"{exc}; try again in a moment") from exc
            if tty:
                self.stdout.write("")
            seconds = time.monotonic() - bar.started
            self.stdout.write(f"workspace {ws}: {count} documents indexed in {seconds:.1f} s")

    def _check(self, ids: list[int]) -> None:
        drifted = False
        for ws in ids:
            indexer.index_pending(ws)
            drift = indexer.check_workspace(ws)
            state = "ok" if drift.ok else "DRIFT"
            self.stdout.write(
                f"workspace {ws}: {state} (missing {len(drift.missing)}, extra {len(drift.extra)}, "
                f"stale {len(drift.stale)})"
            )
            for name, items in (("missing", drift.missing), ("extra", drift.extra), ("stale", drift.stale)):
                if items:
                    self.stdout.write(f"  {name}: {' '.join(items[:10])}{' …' if len(items) > 10 else ''}")
            drifted = drifted or not drift.ok
        if drifted:
            raise CommandError("the search index drifted from the database: run rebuild_search_index")
