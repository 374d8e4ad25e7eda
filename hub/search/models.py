"""The indexer's durable progress. The queue itself is each source's own log (for messages, the
per-conversation event log with its gap-free ``seq``): a cursor per (source, key) says how far
the index has applied it, so a crash between commit and indexing loses nothing — the worker
simply re-reads from the cursor, and re-applying is idempotent (documents are rebuilt from the
database, not from the event payload)."""

from __future__ import annotations

from django.db import models

from hub.models import Workspace


class SearchCursor(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=32)  # e.g. "messages"
    key = models.BigIntegerField()  # e.g. the conversation id
    # The last log position applied to the index *and committed there*.
    position = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="search_cursor_unique")]
        indexes = [models.Index(fields=["workspace", "source"], name="search_cursor_ws_source")]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}@{self.position}"
