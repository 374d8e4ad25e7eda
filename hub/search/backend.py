"""The search engine boundary. Everything above talks to ``SearchBackend``; only
``whoosh_backend`` knows whoosh (an unmaintained library: swapping it must stay a one-module job).

Documents are generic so that messages, collaborative documents and record cards share one
index per workspace: each carries ``acl`` keys (any one grants reading, e.g.
``"conversation:12"``) that the document's *source* resolves for the asking user at query time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from hub.search.query import TextTerm

Order = Literal["newest", "relevance"]


@dataclass(frozen=True)
class IndexDoc:
    doc_id: str  # "<kind>:<object id>", unique in the workspace's index
    kind: str  # "message" (later "document", "record")
    object_id: int
    acl: tuple[str, ...]  # permission keys; a reader needs any one of them
    container_id: int  # the conversation (for in:#channel)
    author_id: int | None
    created_at: datetime
    text: str
    mentions: tuple[int, ...] = ()
    has: tuple[str, ...] = ()  # "file", "link", "record"
    flags: tuple[str, ...] = ()  # "thread"
    version: str = ""  # changes when the indexed content changes (stale-hit detection)


@dataclass(frozen=True)
class SearchFilters:
    """Operators resolved to ids plus the permission filter. ``None`` = no restriction;
    an empty tuple = nothing can match."""

    allowed_acl: tuple[str, ...] | None
    denied_acl: tuple[str, ...] = ()  # used instead of allowed_acl when it is the shorter list
    kinds: tuple[str, ...] | None = None
    containers: tuple[int, ...] | None = None
    authors: tuple[int, ...] | None = None
    mentions: tuple[int, ...] | None = None
    has: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # Exclusions (-in: -from: -mentions: -has: -is:): a hit matching any of them is dropped.
    not_containers: tuple[int, ...] = ()
    not_authors: tuple[int, ...] = ()
    not_mentions: tuple[int, ...] = ()
    not_has: tuple[str, ...] = ()
    not_flags: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class SearchRequest:
    terms: tuple[TextTerm, ...]
    filters: SearchFilters
    order: Order = "newest"
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class Hit:
    doc_id: str
    kind: str
    object_id: int
    score: float
    version: str


@dataclass
class HitPage:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    total_exact: bool = True  # False: extrapolated from the part of the index scanned


class IndexBusy(Exception):
    """Another writer holds this workspace's index; try again later (never wait in a request)."""


class IndexWriter(Protocol):
    def upsert(self, doc: IndexDoc) -> None: ...
    def delete(self, doc_id: str) -> None: ...
    def commit(self) -> None: ...
    def cancel(self) -> None: ...


class SearchBackend(Protocol):
    def writer(self, workspace_id: int, *, clear: bool = False) -> IndexWriter:
        """The single writer of a workspace's index (raises ``IndexBusy``). ``clear`` starts
        from an empty index that replaces the old one on commit (rebuilds)."""
        ...

    def search(self, workspace_id: int, request: SearchRequest) -> HitPage: ...

    def doc_versions(self, workspace_id: int) -> dict[str, str]:
        """Every indexed doc id with its version (the consistency check)."""
        ...

    def doc_count(self, workspace_id: int) -> int: ...

    def drop(self, workspace_id: int) -> None: ...

    def index_bytes(self, workspace_id: int) -> int: ...
