"""``manage.py search_worker`` — the single search index writer as its own process (scaled-out
deployments set ``HUB_SEARCH_INDEXING=worker`` so the web processes never write the index).

It polls the sources' logs; a pass that finds nothing costs one small query. Stopping it at any
moment is safe: cursors move only after the index commit, so the next start re-applies."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from hub.search import indexer


class Command(BaseCommand):
    help = "Apply queued changes to the search indexes, continuously (or once with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="drain the queue once and exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
        parser.add_argument("--batch", type=int, default=indexer.BATCH, help="documents per index commit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        if not options["once"]:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        self.stdout.write("search worker started")
        while True:
            started = time.monotonic()
            report = indexer.index_pending(batch=options["batch"])
            if report.changed or report.busy:
                self.stdout.write(
                    f"indexed {report.changed} changes in {time.monotonic() - started:.2f} s"
                    + (f"; busy (retry later): {report.busy}" if report.busy else "")
                )
            if options["once"]:
                break
            # A long-running process must not keep a connection past its max age/health.
            close_old_connections()
            if stop.wait(options["interval"]):
                break
        self.stdout.write("search worker stopped")
