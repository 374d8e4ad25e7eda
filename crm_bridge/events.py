"""Payload types of the conversation events the bridge appends (listed in docs/events.md).
Both carry references only — never card data — because every viewer's card is different
(guests: own company's records, no internal fields); clients fetch cards from the card API."""

from __future__ import annotations

from typing import TypedDict


class RecordCardsPayload(TypedDict):  # record.cards
    message_id: int
    refs: list[str]  # "<source_id>:<record_type>:<key>", in order of appearance; [] clears


class RecordRefPayload(TypedDict):
    ref: str
    source_id: int
    record_type: str
    key: str
    version: str
    stale_since: str | None  # set while the source is unreachable (the card is stale)


class RecordUpdatedPayload(TypedDict):  # record.updated
    record: RecordRefPayload
