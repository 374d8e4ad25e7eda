"""Tagged references people type — ``#customer:西湖茶馆``, ``#product：龙井`` (full-width colon
too) — parsed the same way by every remote adapter (ERP-lite has its own copy of the rule)."""

from __future__ import annotations

import re

from crm_bridge.sources.base import RecordType

_TAG = re.compile(r"^#(customer|supplier|product|contact|order|invoice)[:：]\s*(.+)$", re.IGNORECASE)
TAG_TYPES: dict[str, tuple[RecordType, ...]] = {
    "customer": (RecordType.CUSTOMER,),
    "supplier": (RecordType.SUPPLIER,),
    "product": (RecordType.PRODUCT,),
    "contact": (RecordType.CONTACT,),
    "order": (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER),
    "invoice": (RecordType.INVOICE,),
}


def parse_tag(text: str) -> tuple[tuple[RecordType, ...], str] | None:
    """``("#customer:西湖茶馆")`` → ``((CUSTOMER,), "西湖茶馆")``; None when not a tag."""
    match = _TAG.match(text.strip())
    if match is None:
        return None
    return TAG_TYPES[match.group(1).lower()], match.group(2).strip()
