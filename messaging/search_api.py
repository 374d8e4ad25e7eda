"""``GET /api/v1/search`` — messages, documents and record cards the caller may read, matching a
query (docs/search.md)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hub.access import access_member
from hub.apicore import ErrorOut, authed_user
from hub.errors import HubError
from messaging.search import KINDS, PAGE_MAX
from messaging.search import search as run_search

router = Router(tags=["search"])


class SearchParams(Schema):
    workspace: int
    q: str = Field(
        ...,
        description='words, "phrases", -excluded, from:@name in:#channel before: after: on: '
        "has:file|link|record is:thread mentions:@name kind:message|document|record",
    )
    types: str | None = Field(
        None,
        description="comma-separated kinds of results: message, document, record (default: message, "
        "or the query's kind: operators)",
    )
    order: Literal["newest", "relevance"] = "newest"
    page: int = Field(1, ge=1, le=1000)
    limit: int = Field(20, ge=1, le=PAGE_MAX)


class DocumentOut(Schema):
    document_id: int
    title: str
    conversation_id: int | None
    url: str = Field(..., description="the web app's page of the document")


class RecordOut(Schema):
    ref: str = Field(..., description="the card reference for the card API: <source>:<type>:<key>")
    source_id: int
    source_label: str
    record_type: str
    number: str
    title: str
    counterparty_name: str
    status_label: str


class SearchResultOut(Schema):
    kind: str = Field(..., description="message | document | record")
    created_at: str = Field(..., description="sent (message), last edited (document), changed in the ERP (record)")
    snippet: str = Field(..., description="HTML: the text escaped, matches wrapped in <mark>")
    score: float
    # kind == "message"
    message_id: int | None = None
    conversation_id: int | None = None
    conversation_name: str | None = None
    conversation_kind: str | None = None
    sender_id: int | None = None
    sender_name: str | None = None
    seq: int | None = None
    thread_root_id: int | None = None
    context_url: str | None = None
    # kind == "document" / "record"
    document: DocumentOut | None = None
    record: RecordOut | None = None


class SearchOut(Schema):
    results: list[SearchResultOut]
    total: int
    total_exact: bool = Field(..., description="false: newest-first stopped early; total is extrapolated")
    page: int
    limit: int


@router.get("/search", response={200: SearchOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, object]:
    member = access_member(authed_user(request), params.workspace)
    kinds = None
    if params.types is not None:
        kinds = tuple(dict.fromkeys(t.strip() for t in params.types.split(",") if t.strip()))
        if not kinds or any(k not in KINDS for k in kinds):
            raise HubError("invalid_request", f"types: a comma-separated list of {', '.join(KINDS)}", status=422)
    found = run_search(member, params.q, order=params.order, page=params.page, limit=params.limit, kinds=kinds)
    return {
        "results": found.results,
        "total": found.total,
        "total_exact": found.total_exact,
        "page": found.page,
        "limit": found.limit,
    }
