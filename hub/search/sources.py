"""Document sources: the apps above ``hub`` (messages, documents, record cards) register what
they put into the index, so that ``hub.search`` never imports them (imports flow one way)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

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
