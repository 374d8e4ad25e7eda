"""Documents in search: the document source (title + plain text of the persisted content) and
the permission-filtered read behind ``GET /api/v1/documents/search``.

The queue is ``Document.revision``, bumped by every change search must see (a flushed batch of
edits, a rename, a delete); ``SearchCursor(source="documents", key=<document id>)`` is the
revision the index holds. Indexing is debounced: a document is re-read only once nobody has
changed it for ``QUIET_SECONDS`` — or once ``MAX_REVISIONS_BEHIND`` flushes have piled up
while people keep typing — so a busy document is indexed every few seconds, never per keystroke
(flushes are already batched every 200 ms by the room).

Hits are filtered by the documents the asker may read now (``access.readable_documents``, one
ACL key per document) and re-checked against the database on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from docs_collab import access, content, store
from docs_collab.models import Document
from hub.models import Member
from hub.search import indexer
from hub.search.backend import Hit, IndexDoc, SearchFilters, SearchRequest
from hub.search.highlight import snippet
from hub.search.models import SearchCursor
from hub.search.query import ParsedQuery, parse_query
from hub.search.sources import PendingBatch, register_source
from messaging.search import Grant, register_result_kind, user_time_zone

SOURCE = "documents"
KIND = "document"
QUIET_SECONDS = 5.0  # index a document once its edits have paused this long ...
MAX_REVISIONS_BEHIND = 50  # ... or once this many changes wait (people typing non-stop)
PAGE_MAX = 50


def doc_id(document_id: int) -> str:
    return f"{KIND}:{document_id}"


def acl_key(document_id: int) -> str:
    return f"document:{document_id}"


def document_text(document: Document) -> str:
    """What search reads: the title, then the document's text as persisted."""
    body = content.plain_text(store.build_doc(store.load_state(document.pk)))
    return f"{document.title}\n{body}"


def build_doc(document: Document) -> IndexDoc:
    return IndexDoc(
        doc_id=doc_id(document.pk),
        kind=KIND,
        object_id=document.pk,
        acl=(acl_key(document.pk),),
        container_id=document.conversation_id or 0,
        author_id=document.last_editor_id or document.created_by_id,
        created_at=document.updated_at,
        text=document_text(document),
        version=str(document.revision),
    )


class DocumentsSource:
    name = SOURCE
    kind = KIND

    def _behind(self) -> Any:
        cursor = SearchCursor.objects.filter(source=SOURCE, key=OuterRef("pk")).values("position")[:1]
        quiet_since = timezone.now() - timedelta(seconds=QUIET_SECONDS)
        return (
            Document.objects.annotate(indexed=Coalesce(Subquery(cursor), 0))
            .filter(revision__gt=F("indexed"))
            .filter(Q(updated_at__lte=quiet_since) | Q(revision__gte=F("indexed") + MAX_REVISIONS_BEHIND))
        )

    def dirty_workspaces(self) -> list[int]:
        return list(self._behind().values_list("workspace_id", flat=True).distinct())

    def pending(self, workspace_id: int, limit: int) -> PendingBatch:
        batch = PendingBatch()
        # Each document is a whole-state replay: a handful per pass keeps a pass short.
        for document in self._behind().filter(workspace_id=workspace_id).order_by("updated_at")[: max(1, limit // 50)]:
            if document.deleted_at is None:
                batch.upserts.append(build_doc(document))
            else:
                batch.deletes.append(doc_id(document.pk))
            batch.cursors[document.pk] = document.revision
        return batch

    def log_positions(self, workspace_id: int) -> dict[int, int]:
        return dict(Document.objects.filter(workspace_id=workspace_id).values_list("id", "revision"))

    def _live(self, workspace_id: int) -> Any:
        return Document.objects.filter(workspace_id=workspace_id, deleted_at__isnull=True)

    def count(self, workspace_id: int) -> int:
        return int(self._live(workspace_id).count())

    def all_docs(self, workspace_id: int) -> Iterator[IndexDoc]:
        for document in self._live(workspace_id).order_by("pk").iterator(chunk_size=200):
            yield build_doc(document)

    def versions(self, workspace_id: int) -> dict[str, str]:
        return {doc_id(pk): str(rev) for pk, rev in self._live(workspace_id).values_list("pk", "revision")}


register_source(DocumentsSource())


# --- the read ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentHit:
    document: Document
    snippet: str


def search_documents(member: Member, q: str, *, limit: int = 20) -> list[DocumentHit]:
    """Documents matching ``q`` that ``member`` may read now, newest first."""
    parsed = parse_query(q, user_time_zone(member))
    indexer.ensure_running()
    readable = set(access.readable_documents(member).values_list("pk", flat=True))
    if not readable or not parsed.terms:
        return []
    request = SearchRequest(
        terms=tuple(parsed.terms),
        filters=SearchFilters(allowed_acl=tuple(acl_key(pk) for pk in sorted(readable)), kinds=(KIND,)),
        order="newest",
        limit=limit,
    )
    hits = indexer.get_backend().search(member.workspace_id, request)
    rows = Document.objects.in_bulk([h.object_id for h in hits.hits])
    found = []
    for hit in hits.hits:
        document = rows.get(hit.object_id)
        # Re-check what the index may not know yet (deleted, access lost). A hit whose text
        # changed since indexing still shows: the debounce makes the index lag by seconds.
        if document is None or document.pk not in readable or document.deleted_at is not None:
            continue
        found.append(DocumentHit(document, snippet(document_text(document), list(parsed.terms))))
    return found


class _DocumentReader:
    """Documents as a kind of ``GET /api/v1/search`` results (``messaging.search``)."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.readable = set(access.readable_documents(member).values_list("pk", flat=True))

    def grant(self) -> Grant:
        others = self._all().exclude(pk__in=self.readable).values_list("pk", flat=True)
        return Grant(allowed=tuple(acl_key(pk) for pk in sorted(self.readable)), denied=tuple(map(acl_key, others)))

    def _all(self) -> Any:
        return Document.objects.filter(workspace_id=self.member.workspace_id)

    def results(self, hits: list[Hit], parsed: ParsedQuery) -> dict[str, dict[str, Any]]:
        rows = Document.objects.in_bulk([h.object_id for h in hits])
        out = {}
        for hit in hits:
            document = rows.get(hit.object_id)
            if document is None or document.pk not in self.readable or document.deleted_at is not None:
                continue
            out[hit.doc_id] = {
                "kind": KIND,
                "created_at": document.updated_at.isoformat(),
                "snippet": snippet(document_text(document), list(parsed.terms)),
                "score": round(hit.score, 4),
                "document": {
                    "document_id": document.pk,
                    "title": document.title,
                    "conversation_id": document.conversation_id,
                    "url": f"/app/w/{document.workspace_id}/d/{document.pk}/",
                },
            }
        return out


register_result_kind(KIND, _DocumentReader)
