"""HTTP API of record cards: one card, a batch for a page of messages, search, refresh.
Thin: authenticate, parse, call one query, serialise. Every card is cut to the viewer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from crm_bridge import access, queries
from crm_bridge.cards import Card
from crm_bridge.models import ErpSource
from crm_bridge.sources.base import RecordRef, RecordType
from hub.access import access_member
from hub.apicore import authed_user
from hub.errors import NotFound
from hub.models import Member

router = Router(tags=["records"])


class MoneyOut(Schema):
    amount: str
    currency: str


class CardLineOut(Schema):
    name: str
    sku: str
    quantity: str
    amount: MoneyOut | None
    available: str | None
    short: bool


class CardOut(Schema):
    ref: str = Field(description='"<source_id>:<record_type>:<key>"')
    source_id: int
    source_label: str
    record_type: RecordType
    key: str
    number: str
    title: str
    status: str
    status_label: str
    counterparty_name: str
    amount: MoneyOut | None
    amount_due: MoneyOut | None
    due_date: str | None
    owner: str
    lines: list[CardLineOut]
    more_lines: int
    fields: dict[str, Any]
    internal: dict[str, Any] | None = Field(description="cost, margin, internal notes: null for guests")
    url: str
    version: str
    as_of: str
    stale_since: str | None
    writable: bool


class CardParams(Schema):
    source_id: int
    type: RecordType
    key: str = Field(min_length=1, max_length=128)


class CardsParams(Schema):
    workspace: int
    refs: list[str] = Field(default_factory=list, description='"<source_id>:<type>:<key>" each')
    message_ids: list[int] = Field(default_factory=list)


class CardsOut(Schema):
    cards: list[CardOut]
    messages: dict[int, list[str]] = Field(description="message id → refs of the cards under it")
    missing: list[str] = Field(description="refs not shown: unknown, not visible to you, or unreadable now")


class SearchParams(Schema):
    workspace: int
    type: RecordType
    q: str = Field(default="", max_length=100)
    limit: int = Field(default=10, ge=1, le=50)


class SearchOut(Schema):
    cards: list[CardOut]


def _member_and_source(request: HttpRequest, source_id: int) -> tuple[Member, ErpSource]:
    source = ErpSource.objects.filter(pk=source_id).only("workspace_id").first()
    if source is None:
        raise NotFound("ERP source")
    try:
        member = access_member(authed_user(request), source.workspace_id)
    except NotFound:
        raise NotFound("ERP source") from None
    return member, access.access_source(member, source_id)


@router.get("/records/card", response=CardOut)
def get_card(request: HttpRequest, params: Query[CardParams]) -> Card:
    member, source = _member_and_source(request, params.source_id)
    return queries.card_for(member, source, RecordRef(params.type, params.key))


@router.post("/records/card/refresh", response=CardOut)
def refresh_card(request: HttpRequest, payload: CardParams) -> Card:
    """Re-read the record from the source now (a stale card's "retry")."""
    member, source = _member_and_source(request, payload.source_id)
    return queries.card_for(member, source, RecordRef(payload.type, payload.key), force=True)


@router.get("/records/cards", response=CardsOut)
def get_cards(request: HttpRequest, params: Query[CardsParams]) -> dict[str, object]:
    member = access_member(authed_user(request), params.workspace)
    cards, messages, missing = queries.cards_batch(member, params.refs, params.message_ids)
    return {"cards": cards, "messages": messages, "missing": missing}


@router.get("/records/search", response=SearchOut)
def search_records(request: HttpRequest, params: Query[SearchParams]) -> dict[str, object]:
    member = access_member(authed_user(request), params.workspace)
    return {"cards": queries.search_cards(member, params.type, params.q.strip(), params.limit)}
