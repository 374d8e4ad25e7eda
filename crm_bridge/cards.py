"""Record → card payload: what the web app's record card shows, cut to what the viewer may see.

A card is built per viewer from the cached snapshot (``RecordSnapshot.data``), never sent
as one payload to a whole conversation: a shared channel holds guests, and a guest's card
has no ``internal`` fields (cost, margin, internal notes), no link into the ERP, and exists
only for their own company's records (``crm_bridge.access.can_view_record``).

Money stays a string on the wire (``{"amount": "12000.00", "currency": "CNY"}``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from crm_bridge import access
from crm_bridge.cache import read_through
from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.sources.base import RecordNotFound, RecordRef, RecordType, SourceUnavailable
from crm_bridge.sources.registry import build_source
from hub.errors import HubError, NotFound
from hub.models import Member

# Lines shown on a card; the rest is summarised as "+N more".
MAX_LINES = 5
# Public fields that are lists of people or rows: kept for staff, dropped for guests, who see
# the record's own facts only.
_STAFF_ONLY_FIELDS = frozenset({"contacts"})


class MoneyOut(TypedDict):
    amount: str
    currency: str


class CardLine(TypedDict):
    name: str
    sku: str
    quantity: str
    amount: MoneyOut | None
    available: str | None
    short: bool


class Card(TypedDict):
    ref: str  # "<source_id>:<type>:<key>" — the client's cache key
    source_id: int
    source_label: str
    record_type: str
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
    lines: list[CardLine]
    more_lines: int
    fields: dict[str, Any]
    internal: dict[str, Any] | None  # None for guests
    url: str
    version: str
    as_of: str  # when the hub last read it from the source
    stale_since: str | None  # set while the source is unreachable: write buttons disabled
    writable: bool


def card_ref(source_id: int, record_type: str, key: str) -> str:
    return f"{source_id}:{record_type}:{key}"


def parse_card_ref(text: str) -> tuple[int, RecordRef]:
    """``"3:sales_order:17"`` → (3, RecordRef). ValueError on anything else."""
    source_id, record_type, key = text.split(":", 2)
    if not key:
        raise ValueError("empty key")
    return int(source_id), RecordRef(RecordType(record_type), key)


def source_label(source: ErpSource) -> str:
    return source.name or source.get_kind_display()


def _line(line: dict[str, Any]) -> CardLine:
    available = line.get("available")
    return {
        "name": line.get("name", ""),
        "sku": line.get("sku", ""),
        "quantity": line.get("quantity", "0"),
        "amount": line.get("amount"),
        "available": available,
        # Compared as decimals by the source's own rule (RecordLine.short); recomputed here
        # from strings so the client never does arithmetic on money or quantities.
        "short": available is not None and _decimal(available) < _decimal(line.get("quantity", "0")),
    }


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return Decimal(0)


def build_card(member: Member, snapshot: RecordSnapshot) -> Card:
    """The card ``member`` sees. The caller has checked ``access.can_view_record``."""
    data = snapshot.data
    staff = access.can_see_internal(member)
    lines = list(data.get("lines", []))
    fields = {k: v for k, v in (data.get("fields") or {}).items() if staff or k not in _STAFF_ONLY_FIELDS}
    return {
        "ref": card_ref(snapshot.source_id, snapshot.record_type, snapshot.key),
        "source_id": snapshot.source_id,
        "source_label": source_label(snapshot.source),
        "record_type": snapshot.record_type,
        "key": snapshot.key,
        "number": snapshot.number,
        "title": snapshot.title,
        "status": data.get("status", ""),
        "status_label": data.get("status_label", ""),
        "counterparty_name": data.get("counterparty_name", ""),
        "amount": data.get("amount"),
        "amount_due": data.get("amount_due"),
        "due_date": data.get("due_date"),
        "owner": data.get("owner", ""),
        "lines": [_line(line) for line in lines[:MAX_LINES]],
        "more_lines": max(len(lines) - MAX_LINES, 0),
        "fields": fields,
        "internal": dict(data.get("internal") or {}) if staff else None,
        "url": data.get("url", "") if staff else "",
        "version": snapshot.version,
        "as_of": snapshot.fetched_at.isoformat(),
        "stale_since": snapshot.stale_since.isoformat() if snapshot.stale_since else None,
        "writable": snapshot.stale_since is None and staff,
    }


def record_block(snapshot: RecordSnapshot) -> dict[str, Any]:
    """The message block that shows ``snapshot`` as a live card (clients fetch the card)."""
    return {"type": "record", "source_id": snapshot.source_id, "record_type": snapshot.record_type, "key": snapshot.key}


def load_snapshot(member: Member, source: ErpSource, ref: RecordRef, *, force: bool = False) -> RecordSnapshot:
    """The viewer's snapshot of ``ref``, read through the cache (``force`` re-reads the
    source). 404 for records that do not exist *or* that the viewer may not see; 503 when the
    source is down and nothing is cached (a cached copy comes back marked stale instead)."""
    try:
        snapshot = read_through(source, build_source(source), ref, force=force)
    except RecordNotFound:
        raise NotFound("record") from None
    except SourceUnavailable as exc:
        raise HubError(
            "source_unavailable", f"{source_label(source)} is unavailable: {exc.message}", status=503
        ) from None
    snapshot.source = source  # already loaded: card building reads its name and workspace
    access.check_view_record(member, snapshot)
    return snapshot
