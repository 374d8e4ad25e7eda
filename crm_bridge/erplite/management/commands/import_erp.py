"""``manage.py import_erp <workspace> <type> <file> [--encoding gbk]``

Imports customers, suppliers, products, stock or prices into a workspace's ERP-lite from a
CSV or .xlsx file, with a progress bar and a per-row error report. ``<workspace>`` is an id or
the exact name."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_bridge.importer.columns import IMPORT_TYPES
from crm_bridge.importer.readers import FileUnreadable
from crm_bridge.importer.run import run_import
from hub.models import Workspace

BAR_WIDTH = 30


class ProgressBar:
    """One redrawn line on a terminal; a line per 10% elsewhere (logs stay readable)."""

    def __init__(self, write: Any, tty: bool) -> None:
        self.write, self.tty = write, tty
        self.started = time.monotonic()
        self.last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = min(done / max(total, 1), 1.0)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        filled = int(BAR_WIDTH * fraction)
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {fraction:4.0%} {rate:,.0f} rows/s"
        if self.tty:
            self.write(f"\r{line}", ending="")
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self.write(line)


class Command(BaseCommand):
    help = "Import customers, suppliers, products, stock or prices into ERP-lite from CSV or Excel (.xlsx)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workspace", help="workspace id or exact name")
        parser.add_argument("type", choices=IMPORT_TYPES)
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", default="", help="CSV encoding (default: UTF-8, else GBK/GB18030)")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = _workspace(options["workspace"])
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        tty = sys.stdout.isatty()
        bar = ProgressBar(self.stdout.write, tty)
        try:
            report = run_import(
                workspace, options["type"], content, path.name, encoding=options["encoding"], progress=bar
            )
        except FileUnreadable as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        if tty:
            self.stdout.write("")
        self.stdout.write(
            f"{path.name} ({report.encoding}): {report.processed} rows — {report.created} created, "
            f"{report.updated} updated, {report.rejected} rejected"
        )
        if report.unknown_columns:
            self.stdout.write(f"ignored columns: {', '.join(report.unknown_columns)}")
        for error in report.errors:
            self.stdout.write(f"  row {error['row']}: {error['message']}")


def _workspace(text: str) -> Workspace:
    found = Workspace.objects.filter(pk=int(text)) if text.isdigit() else Workspace.objects.filter(name=text)
    rows = list(found[:2])
    if len(rows) != 1:
        raise CommandError(f"no single workspace {text!r}" + (" (several have that name: use the id)" if rows else ""))
    return rows[0]
