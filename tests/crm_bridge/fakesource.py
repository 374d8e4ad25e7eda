"""A small in-memory ``Source`` for the bridge's feature tests (cards, references, commands,
approvals), registered as kind ``"fake"``. It keeps those tests independent of ERP-lite's
data and lets them switch the source off, make a write time out, or change a record behind
the hub's back."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_bridge.models import ErpSource
from crm_bridge.sources.base import (
    ChangeBatch,
    Health,
    InvalidTransition,
    Money,
    OutcomeUnknown,
    PriceQuote,
    Record,
    RecordLine,
    RecordNotFound,
    RecordRef,
    RecordType,
    SalesSummary,
    SourcePermissionDenied,
    SourceUnavailable,
    Status,
    StockLevel,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.registry import register_kind

T = RecordType


@dataclass
class FakeErp:
    records: dict[RecordRef, Record] = field(default_factory=dict)
    stock_levels: list[StockLevel] = field(default_factory=list)
    down: bool = False
    # The next transition times out: applied (True) or not (False) behind the timeout.
    time_out_next: bool | None = None
    calls: list[str] = field(default_factory=list)
    notes: list[tuple[RecordRef, str, str]] = field(default_factory=list)
    # approver email → limit: the source's own check on write.
    limits: dict[str, Decimal] = field(default_factory=dict)
    # Seconds a transition takes (widens the window for race tests).
    transition_delay: float = 0.0

    def put(self, record: Record) -> Record:
        self.records[record.ref] = record
        return record

    def bump(self, ref: RecordRef, **changes: object) -> Record:
        """Change a record behind the hub's back (someone edited it in the ERP)."""
        old = self.records[ref]
        new = dataclasses.replace(old, version=str(int(old.version) + 1), updated_at=datetime.now(UTC), **changes)  # type: ignore[arg-type]
        return self.put(new)


_STATE: dict[int, FakeErp] = {}


def erp_of(source: ErpSource) -> FakeErp:
    return _STATE.setdefault(source.pk, FakeErp())


def reset() -> None:
    _STATE.clear()


class FakeSource:
    kind = "fake"

    def __init__(self, config: ErpSource) -> None:
        self.config = config
        self.label = config.name
        self.source_id = config.pk

    @property
    def erp(self) -> FakeErp:
        # Looked up per call, not kept: the registry may reuse an adapter built for an earlier
        # test's source row with the same id, after the fake state was reset.
        return _STATE.setdefault(self.source_id, FakeErp())

    def _check_up(self) -> None:
        if self.erp.down:
            raise SourceUnavailable("connection refused")

    def resolve(self, text: str) -> RecordRef | None:
        self._check_up()
        text = text.strip()
        url = re.match(r"https://erp\.example\.test/(\w+)/(\d+)$", text)
        if url:
            ref = RecordRef(RecordType(url.group(1)), url.group(2))
            return ref if ref in self.erp.records else None
        for record in self.erp.records.values():
            if record.number.lower() == text.lower() or record.title == text:
                return record.ref
        return None

    def get(self, ref: RecordRef) -> Record:
        self._check_up()
        self.erp.calls.append(f"get {ref}")
        try:
            return self.erp.records[ref]
        except KeyError:
            raise RecordNotFound(str(ref)) from None

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        self._check_up()
        q = query.lower()
        found = [
            r
            for r in self.erp.records.values()
            if r.ref.type == type and (q in r.number.lower() or q in r.title.lower() or q in r.counterparty_name)
        ]
        return found[:limit]

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        self._check_up()
        q = product_query.lower()
        return [
            s
            for s in self.erp.stock_levels
            if (q in s.sku.lower() or q in s.name.lower()) and (warehouse is None or warehouse in s.warehouse)
        ]

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        self._check_up()
        products = self.search(T.PRODUCT, product_query, 1)
        if not products:
            raise RecordNotFound(product_query)
        product = products[0]
        customer = self.search(T.CUSTOMER, customer_query, 1)[0] if customer_query else None
        assert product.amount is not None
        unit = product.amount.amount * (Decimal("0.9") if customer else 1)
        if quantity >= 10:
            unit = unit * Decimal("0.95")
        return PriceQuote(
            product=product.ref,
            sku=product.number,
            name=product.title,
            quantity=quantity,
            unit_price=Money(unit.quantize(Decimal("0.01"))),
            price_list="VIP 客户价" if customer else "标准价",
            customer=customer.ref if customer else None,
        )

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        self._check_up()
        return SalesSummary(
            day=day,
            time_zone=str(tz),
            order_count=3,
            total=Money(Decimal("36800.00")),
            by_hour=((9, Decimal("12000.00")), (14, Decimal("24800.00"))),
            top_products=(("西湖龙井 500g", Decimal("24000.00")),),
        )

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        self._check_up()
        return ChangeBatch(records=[r for r in self.erp.records.values() if r.ref.type in types][:limit], cursor="x")

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        self._check_up()
        self.erp.calls.append(f"transition {ref} {action} by {actor}")
        if self.erp.transition_delay:
            time.sleep(self.erp.transition_delay)
        record = self.get(ref)
        if record.version != expected_version:
            raise VersionConflict("changed", current=record)
        if record.status != Status.TO_APPROVE or action not in (Transition.APPROVE, Transition.REJECT):
            raise InvalidTransition(f"{record.number} is {record.status}")
        limit = self.erp.limits.get(actor)
        if self.erp.limits and (limit is None or (record.amount and record.amount.amount > limit)):
            raise SourcePermissionDenied(f"{actor} may not approve {record.number}")
        status = Status.APPROVED if action == Transition.APPROVE else Status.REJECTED
        label = "已批准" if status == Status.APPROVED else "已驳回"
        timed_out, self.erp.time_out_next = self.erp.time_out_next, None
        if timed_out is False:
            raise OutcomeUnknown("timed out before the ERP answered")
        updated = self.erp.bump(ref, status=status, status_label=label)
        if timed_out:
            raise OutcomeUnknown("timed out after the ERP applied it")
        return updated

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        self._check_up()
        self.erp.notes.append((ref, body, author))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        return []

    def health(self) -> Health:
        return Health(ok=not self.erp.down)


register_kind("fake", FakeSource)


NOW = datetime(2026, 11, 26, 2, 42, tzinfo=UTC)


def customer(key: str, name: str, number: str, type: RecordType = T.CUSTOMER) -> Record:
    ref = RecordRef(type, key)
    return Record(
        ref=ref,
        number=number,
        title=name,
        status=Status.ACTIVE,
        status_label="有效",
        version="1",
        updated_at=NOW,
        party=ref,
        fields={"phone": "0571-8888", "contacts": [{"name": "赵顾客"}]},
        internal={"credit_limit": "50000.00", "notes": "付款慢"},
    )


def product(key: str, sku: str, name: str, price: str) -> Record:
    return Record(
        ref=RecordRef(T.PRODUCT, key),
        number=sku,
        title=name,
        status=Status.ACTIVE,
        version="1",
        updated_at=NOW,
        amount=Money(Decimal(price)),
        internal={"cost_price": "300.00", "margin": "380.00"},
    )


def order(
    key: str,
    number: str,
    party: Record,
    amount: str,
    *,
    type: RecordType = T.SALES_ORDER,
    status: Status = Status.CONFIRMED,
    approvers: tuple[str, ...] = (),
) -> Record:
    return Record(
        ref=RecordRef(type, key),
        number=number,
        title=f"{number} · {party.title}",
        status=status,
        status_label={Status.TO_APPROVE: "待审批", Status.CONFIRMED: "已确认"}.get(status, str(status)),
        version="1",
        updated_at=NOW,
        counterparty=party.ref,
        counterparty_name=party.title,
        amount=Money(Decimal(amount)),
        owner="张三",
        party=party.ref,
        approvers=approvers,
        lines=(
            RecordLine(
                name="西湖龙井 500g",
                quantity=Decimal("20"),
                sku="TEA-500G",
                product=RecordRef(T.PRODUCT, "1"),
                amount=Money(Decimal(amount)),
                available=Decimal("12"),
            ),
        ),
        internal={"cost": "6000.00", "margin": "7600.00", "notes": "老客户，可让利"},
    )


def invoice(key: str, number: str, party: Record, due: str) -> Record:
    return Record(
        ref=RecordRef(T.INVOICE, key),
        number=number,
        title=f"{number} · {party.title}",
        status=Status.OPEN,
        status_label="未结清 · 逾期 5 天",
        version="1",
        updated_at=NOW,
        counterparty=party.ref,
        counterparty_name=party.title,
        amount=Money(Decimal(due)),
        amount_due=Money(Decimal(due)),
        due_date=date(2026, 11, 21),
        party=party.ref,
    )
