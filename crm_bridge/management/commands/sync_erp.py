"""``manage.py sync_erp [--workspace WS] [--source ID|NAME] [--full] [--schedule]``

Pulls what changed in the connected ERP/CRM systems into the record cache (incremental by
modification time; ``--full`` re-reads everything), with a progress line per record type.
``--schedule`` only makes sure the periodic background sync is queued. Errors are reported
per type and never stop the other types or sources; the exit status is 1 when any failed."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_bridge.models import ErpSource
from crm_bridge.sources.base import RecordType
from crm_bridge.sync import sync_source


class Progress:
    """A redrawn counter on a terminal (the total is unknown: it is an incremental pull); one
    line per type elsewhere, so that logs stay readable."""

    def __init__(self, write: Any, tty: bool) -> None:
        self.write, self.tty = write, tty
        self.counts: dict[RecordType, int] = {}
        self.started = time.monotonic()
        self.current: RecordType | None = None

    def __call__(self, record_type: RecordType, count: int) -> None:
        if self.current is not None and record_type != self.current:
            self.finish_line()
        self.current = record_type
        self.counts[record_type] = self.counts.get(record_type, 0) + count
        if self.tty:
            done = self.counts[record_type]
            rate = done / max(time.monotonic() - self.started, 1e-6)
            self.write(f"\r  {record_type:<15} {done:>8} records  {rate:,.0f}/s", ending="")

    def finish_line(self) -> None:
        if self.current is None:
            return
        if self.tty:
            self.write("")
        else:
            self.write(f"  {self.current:<15} {self.counts[self.current]:>8} records")
        self.current = None
        self.started = time.monotonic()


class Command(BaseCommand):
    help = "Pull changes from connected ERP/CRM sources into the record cache."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="only this workspace (id or exact name)")
        parser.add_argument("--source", help="only this source (id or exact name)")
        parser.add_argument("--full", action="store_true", help="re-read everything, not only changes")
        parser.add_argument("--schedule", action="store_true", help="only queue the periodic background sync")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            from crm_bridge.sync_tasks import schedule_sync

            queued = schedule_sync()
            self.stdout.write(
                "periodic ERP sync queued" if queued else "periodic ERP sync already queued (or no deferring backend)"
            )
            return
        rows = ErpSource.objects.filter(enabled=True).exclude(kind=ErpSource.Kind.BUILTIN).order_by("pk")
        if options["workspace"]:
            ws = options["workspace"]
            rows = rows.filter(workspace_id=int(ws)) if ws.isdigit() else rows.filter(workspace__name=ws)
        if options["source"]:
            src = options["source"]
            rows = rows.filter(pk=int(src)) if src.isdigit() else rows.filter(name=src)
        sources = list(rows)
        if not sources:
            raise CommandError("no enabled ERP source matches (ERP-lite needs no sync)")
        failed = False
        for row in sources:
            self.stdout.write(
                f"{row.name} ({row.kind}, workspace {row.workspace_id}){' — full' if options['full'] else ''}"
            )
            progress = Progress(self.stdout.write, sys.stdout.isatty())
            report = sync_source(row, full=options["full"], progress=progress)
            progress.finish_line()
            lag = "" if report.lag_seconds is None else f", lag {report.lag_seconds:.0f} s"
            self.stdout.write(f"  {report.fetched} records read, {report.changed} changed{lag}")
            for record_type, error in report.errors.items():
                failed = True
                self.stdout.write(self.style.ERROR(f"  {record_type}: {error}"))
        if failed:
            sys.exit(1)
