"""``Record`` ⇄ JSON for the record cache (``RecordSnapshot.data``) and for card payloads.

Decimals travel as strings (never floats: money must not round), dates and datetimes as
ISO 8601."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm_bridge.sources.base import Money, Record, RecordLine, RecordRef, RecordType, Status


def _money(m: Money | None) -> dict[str, str] | None:
    return None if m is None else {"amount": str(m.amount), "currency": m.currency}


def _ref(r: RecordRef | None) -> dict[str, str] | None:
    return None if r is None else {"type": str(r.type), "key": r.key}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record_to_json(record: Record) -> dict[str, Any]:
    return {
        "ref": _ref(record.ref),
        "number": record.number,
        "title": record.title,
        "status": str(record.status),
        "status_label": record.status_label,
        "version": record.version,
        "updated_at": record.updated_at.isoformat(),
        "counterparty": _ref(record.counterparty),
        "counterparty_name": record.counterparty_name,
        "amount": _money(record.amount),
        "amount_due": _money(record.amount_due),
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "owner": record.owner,
        "lines": [
            {
                "name": line.name,
                "quantity": str(line.quantity),
                "product": _ref(line.product),
                "sku": line.sku,
                "unit_price": _money(line.unit_price),
                "amount": _money(line.amount),
                "available": None if line.available is None else str(line.available),
            }
            for line in record.lines
        ],
        "url": record.url,
        "party": _ref(record.party),
        "approvers": list(record.approvers),
        "fields": _jsonable(record.fields),
        "internal": _jsonable(record.internal),
    }


def _money_in(d: Mapping[str, str] | None) -> Money | None:
    return None if d is None else Money(Decimal(d["amount"]), d["currency"])


def _ref_in(d: Mapping[str, str] | None) -> RecordRef | None:
    return None if d is None else RecordRef(RecordType(d["type"]), d["key"])


def record_from_json(d: Mapping[str, Any]) -> Record:
    ref = _ref_in(d["ref"])
    assert ref is not None
    return Record(
        ref=ref,
        number=d["number"],
        title=d["title"],
        status=Status(d["status"]),
        status_label=d.get("status_label", ""),
        version=d["version"],
        updated_at=datetime.fromisoformat(d["updated_at"]),
        counterparty=_ref_in(d.get("counterparty")),
        counterparty_name=d.get("counterparty_name", ""),
        amount=_money_in(d.get("amount")),
        amount_due=_money_in(d.get("amount_due")),
        due_date=date.fromisoformat(d["due_date"]) if d.get("due_date") else None,
        owner=d.get("owner", ""),
        lines=tuple(
            RecordLine(
                name=line["name"],
                quantity=Decimal(line["quantity"]),
                product=_ref_in(line.get("product")),
                sku=line.get("sku", ""),
                unit_price=_money_in(line.get("unit_price")),
                amount=_money_in(line.get("amount")),
                available=None if line.get("available") is None else Decimal(line["available"]),
            )
            for line in d.get("lines", [])
        ),
        url=d.get("url", ""),
        party=_ref_in(d.get("party")),
        approvers=tuple(d.get("approvers", ())),
        fields=d.get("fields", {}),
        internal=d.get("internal", {}),
    )
