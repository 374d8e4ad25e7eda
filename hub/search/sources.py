"""Document sources: the apps above ``hub`` (messages, documents, record cards) register what
they put into the index, so that ``hub.search`` never imports them (imports flow one way)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.search.backend import IndexDoc


@dataclass
class PendingBatch:
    """What one pass of the indexer applies for one source, then the cursors to store once the
    index has committed it."""

    upserts: list[IndexDoc] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    cursors: dict[int, int] = field(default_factory=dict)  # key -> new position

    @property
    def empty(self) -> bool:
        return not (self.upserts or self.deletes or self.cursors)


class DocumentSource(Protocol):
    name: str  # cursor namespace, e.g. "messages"
    kind: str  # IndexDoc.kind, e.g. "message"

    def dirty_workspaces(self) -> list[int]:
        """Workspaces whose log is ahead of the index."""
        ...

    def pending(self, workspace_id: int, limit: int) -> PendingBatch:
        """At most ~``limit`` log entries past the stored cursors, turned into index changes."""
        ...

    def log_positions(self, workspace_id: int) -> dict[int, int]:
        """The current end of the log per key (a rebuild's starting cursors)."""
        ...

    def count(self, workspace_id: int) -> int: ...

    def all_docs(self, workspace_id: int) -> Iterator[IndexDoc]:
        """Every live document, from the database (the truth)."""
        ...

    def versions(self, workspace_id: int) -> dict[str, str]:
        """doc_id -> version of every live document (the consistency check)."""
        ...


_SOURCES: dict[str, DocumentSource] = {}


def register_source(source: DocumentSource) -> None:
    _SOURCES[source.name] = source


def sources() -> list[DocumentSource]:
    return list(_SOURCES.values())


# --- change counters: a durable queue for sources without a log of their own ---------------------
#
# Messages have the event log; a source whose rows carry no ordered log (record cards: a cache
# of another system) counts changes instead. ``mark_changed`` bumps a per-row counter kept as a
# cursor under ``"<source>:changed"``; the source's own cursor holds the count the index has
# applied. Anything counted after a pass read the counters stays ahead of the stored cursor,
# so an update is never skipped, and re-applying one is idempotent (documents are rebuilt from
# the database).


def changes_name(source_name: str) -> str:
    return f"{source_name}:changed"


def mark_changed(workspace_id: int, source_name: str, key: int) -> None:
    """Count one change of ``key`` (race-free: a conflict-ignoring insert, then an atomic +1)."""
    from django.db.models import F

    from hub.search.models import SearchCursor

    name = changes_name(source_name)
    SearchCursor.objects.bulk_create(
        [SearchCursor(workspace_id=workspace_id, source=name, key=key, position=0)], ignore_conflicts=True
    )
    SearchCursor.objects.filter(source=name, key=key).update(position=F("position") + 1)


def _changes_behind(source_name: str) -> Any:
    from django.db.models import F, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from hub.search.models import SearchCursor

    applied = SearchCursor.objects.filter(source=source_name, key=OuterRef("key")).values("position")[:1]
    return (
        SearchCursor.objects.filter(source=changes_name(source_name))
        .annotate(applied=Coalesce(Subquery(applied), 0))
        .filter(position__gt=F("applied"))
    )


def changed_workspaces(source_name: str) -> list[int]:
    return list(_changes_behind(source_name).values_list("workspace_id", flat=True).distinct())


def changed_keys(workspace_id: int, source_name: str, limit: int) -> dict[int, int]:
    """Up to ``limit`` keys changed since indexed -> their change count (the cursor to store)."""
    rows = _changes_behind(source_name).filter(workspace_id=workspace_id).order_by("key")[:limit]
    return dict(rows.values_list("key", "position"))


def change_counts(workspace_id: int, source_name: str) -> dict[int, int]:
    """Every key's change count (a rebuild's starting cursors)."""
    from hub.search.models import SearchCursor

    rows = SearchCursor.objects.filter(workspace_id=workspace_id, source=changes_name(source_name))
    return dict(rows.values_list("key", "position"))
