"""``manage.py compact_documents [--min-rows N] [--document ID ...]``: fold the update logs of
documents into their snapshots (rooms also do it themselves; this is for operators, e.g.
before a backup or after an import). Safe while the hub runs: one compactor per document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from docs_collab import store
from docs_collab.models import DocUpdate


class Command(BaseCommand):
    help = "Compact the Yjs update logs of documents into snapshots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-rows", type=int, default=1, help="only documents with at least this many log rows")
        parser.add_argument("--document", type=int, action="append", default=[], help="only this document (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = DocUpdate.objects.values("document_id").annotate(n=Count("id")).filter(n__gte=options["min_rows"])
        if options["document"]:
            rows = rows.filter(document_id__in=options["document"])
        done = skipped = 0
        for entry in rows.order_by("document_id"):
            result = store.compact(entry["document_id"], min_rows=options["min_rows"])
            if result is None:
                skipped += 1  # another compactor holds it, or it was compacted meanwhile
                continue
            done += 1
            self.stdout.write(
                f"document {entry['document_id']}: {result.rows_folded} rows → {result.snapshot_bytes} bytes "
                f"in {result.seconds * 1000:.0f} ms"
            )
        self.stdout.write(f"compacted {done} document(s), skipped {skipped}")
