"""``GET /api/v1/search`` — messages the caller may read, matching a query (docs/search.md)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hub.access import access_member
from hub.apicore import ErrorOut, authed_user
from messaging.search import PAGE_MAX, search_messages

router = Router(tags=["search"])


class SearchParams(Schema):
    workspace: int
    q: str = Field(
        ...,
        description='words, "phrases", -excluded, from:@name in:#channel before: after: on: '
        "has:file|link|record is:thread mentions:@name",
    )
    order: Literal["newest", "relevance"] = "newest"
    page: int = Field(1, ge=1, le=1000)
    limit: int = Field(20, ge=1, le=PAGE_MAX)


class SearchResultOut(Schema):
    message_id: int
    conversation_id: int
    conversation_name: str
    conversation_kind: str
    sender_id: int
    sender_name: str
    created_at: str
    seq: int
    thread_root_id: int | None
    snippet: str = Field(..., description="HTML: the text escaped, matches wrapped in <mark>")
    score: float
    context_url: str


class SearchOut(Schema):
    results: list[SearchResultOut]
    total: int
    total_exact: bool = Field(..., description="false: newest-first stopped early; total is extrapolated")
    page: int
    limit: int


@router.get("/search", response={200: SearchOut, 400: ErrorOut, 404: ErrorOut})
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, object]:
    member = access_member(authed_user(request), params.workspace)
    found = search_messages(member, params.q, order=params.order, page=params.page, limit=params.limit)
    return {
        "results": found.results,
        "total": found.total,
        "total_exact": found.total_exact,
        "page": found.page,
        "limit": found.limit,
    }
