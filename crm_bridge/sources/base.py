"""The one interface every ERP/CRM source implements, its value types and its typed errors.

Everything above this module (cards, slash commands, approvals, sync, watch rules) talks to
``Source`` only, so the built-in ERP-lite, Odoo and a configured REST system are
interchangeable — and one contract-test suite (tests/crm_bridge/contract/) holds all of
them to the same behaviour, with ERP-lite as the reference.

Conventions every implementation follows:
* record keys are the source's own stable ids, as strings (Odoo's integer ids, ERPNext's
  ``name``, ERP-lite's primary keys);
* datetimes are timezone-aware UTC (Odoo's naive UTC strings are converted at the edge);
* money is ``Decimal`` with an ISO currency code, never float;
* empty is ``None`` / ``""`` / ``()`` (Odoo's ``False`` for empty never leaks out);
* ``version`` is an opaque string that changes whenever the record changes (Odoo's
  ``write_date``, ERPNext's ``modified``, ERP-lite's row version) — approvals send it back
  as the expected version;
* ``internal`` holds what guests must never see (cost, margin, internal notes); cards drop
  it for guests.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo


class RecordType(enum.StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    CONTACT = "contact"
    PRODUCT = "product"
    SALES_ORDER = "sales_order"
    PURCHASE_ORDER = "purchase_order"
    INVOICE = "invoice"


class Transition(enum.StrEnum):
    """Business state changes a card can ask for. Each source maps them to one business
    method (Odoo ``button_approve`` / ``action_confirm`` / ``button_cancel``, ERPNext
    ``submit`` / ``cancel``, ERP-lite's own state machine)."""

    APPROVE = "approve"
    REJECT = "reject"
    CONFIRM = "confirm"
    CANCEL = "cancel"


class Status(enum.StrEnum):
    """Normalised record status; ``Record.status_label`` keeps the source's own wording."""

    DRAFT = "draft"
    TO_APPROVE = "to_approve"
    APPROVED = "approved"
    CONFIRMED = "confirmed"
    DONE = "done"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    OPEN = "open"  # invoices: posted and not paid
    PAID = "paid"
    ACTIVE = "active"  # parties and products


@dataclass(frozen=True)
class RecordRef:
    type: RecordType
    key: str

    def __str__(self) -> str:
        return f"{self.type}:{self.key}"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = "CNY"


@dataclass(frozen=True)
class RecordLine:
    """One line of an order or invoice."""

    name: str
    quantity: Decimal
    product: RecordRef | None = None
    sku: str = ""
    unit_price: Money | None = None
    amount: Money | None = None
    # Stock flag for the card: available quantity where the line ships from, when known.
    available: Decimal | None = None

    @property
    def short(self) -> bool:
        return self.available is not None and self.available < self.quantity


@dataclass(frozen=True)
class Record:
    ref: RecordRef
    number: str  # what people type and see: "SO-1001", a customer code, a SKU
    title: str  # display name: the party's name, the product's name, "SO-1001 · 西湖龙井"
    status: Status
    version: str
    updated_at: datetime
    status_label: str = ""
    counterparty: RecordRef | None = None
    counterparty_name: str = ""
    amount: Money | None = None
    amount_due: Money | None = None
    due_date: date | None = None
    owner: str = ""
    lines: Sequence[RecordLine] = ()
    url: str = ""  # a link into the source's own UI, if it has one
    # The customer/supplier record this record belongs to (itself for a party): guests see
    # only records whose ``party`` is their own company.
    party: RecordRef | None = None
    # Who may approve, and up to which amount: filled by sources that know it.
    approvers: Sequence[str] = ()  # e-mail addresses
    fields: Mapping[str, Any] = field(default_factory=dict)  # type-specific public fields
    internal: Mapping[str, Any] = field(default_factory=dict)  # never shown to guests


@dataclass(frozen=True)
class StockLevel:
    product: RecordRef
    sku: str
    name: str
    warehouse: str
    on_hand: Decimal
    reserved: Decimal
    reorder_point: Decimal | None = None

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def below_reorder_point(self) -> bool:
        return self.reorder_point is not None and self.available < self.reorder_point


@dataclass(frozen=True)
class PriceQuote:
    product: RecordRef
    sku: str
    name: str
    quantity: Decimal
    unit_price: Money
    price_list: str  # which list or rule produced the price ("标准价", "VIP 客户价")
    customer: RecordRef | None = None
    min_quantity: Decimal | None = None


@dataclass(frozen=True)
class SalesSummary:
    day: date
    time_zone: str
    order_count: int
    total: Money
    by_hour: Sequence[tuple[int, Decimal]] = ()  # (hour 0-23 in time_zone, amount) for the chart
    top_products: Sequence[tuple[str, Decimal]] = ()  # (name, amount), biggest first


@dataclass(frozen=True)
class ChangeBatch:
    """Records changed since a cursor, oldest first. Feed ``cursor`` back to continue;
    ``more`` says another call would return more right away."""

    records: Sequence[Record]
    cursor: str
    more: bool = False


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""
    latency_ms: float | None = None


# --- errors ----------------------------------------------------------------------------------


class SourceError(Exception):
    """Base of every error a source raises; ``code`` is stable and shown to API clients."""

    code = "source_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SourceUnavailable(SourceError):
    """Down, timing out, 5xx, or the circuit breaker is open: cards go stale, writes disabled."""

    code = "source_unavailable"


class RecordNotFound(SourceError):
    code = "record_not_found"


class SourcePermissionDenied(SourceError):
    """The source refused (bad credentials, access rights, or a webhook signature)."""

    code = "source_permission_denied"


class VersionConflict(SourceError):
    """The record changed since the caller saw it; ``current`` is the fresh copy."""

    code = "version_conflict"

    def __init__(self, message: str, current: Record | None = None) -> None:
        super().__init__(message)
        self.current = current


class InvalidTransition(SourceError):
    """The record's state does not allow that transition (already approved, cancelled, …)."""

    code = "invalid_transition"


class RateLimited(SourceError):
    code = "source_rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(SourceError):
    """A write timed out: it may or may not have happened. Reconcile by re-reading, never by
    retrying the write blindly."""

    code = "outcome_unknown"


# --- the interface ---------------------------------------------------------------------------


@runtime_checkable
class Source(Protocol):
    """One configured ERP/CRM system. Implementations are synchronous (called from actions,
    tasks and management commands; async callers use ``sync_to_async``) and must be safe to
    call from several threads."""

    kind: str  # "builtin" | "odoo" | "rest"
    label: str  # shown on cards: "as of 10:42 from <label>"

    def resolve(self, text: str) -> RecordRef | None:
        """A reference someone typed or pasted — a number (``SO-1001``), a party name, a URL
        into this source's UI — to a record, or None when it is not one of ours."""

    def get(self, ref: RecordRef) -> Record:
        """Read one record fresh from the source. Raises RecordNotFound."""

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        """Records of one type whose number or name matches ``query`` (case-insensitive
        substring; Chinese works), best matches first."""

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        """Stock per warehouse for the products matching ``product_query``."""

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        """The price that applies to that customer (or the default list) at that quantity."""

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        """Confirmed sales of one calendar day in ``tz``."""

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        """Records modified after ``cursor`` (None = from the beginning), oldest first.
        Implementations overlap by a look-back window so that clock skew and same-second
        writes are never missed; the consumer upserts idempotently."""

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        """Apply one business transition if the record is still at ``expected_version``
        (else VersionConflict with the fresh record); returns the updated record. Raises
        InvalidTransition, OutcomeUnknown on a timeout."""

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        """Post a note on the record in the source (Odoo ``message_post``, ERPNext Comment)."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        """Verify a webhook's signature (SourcePermissionDenied if wrong) and say which
        records it concerns. Webhooks are hints only: callers re-read the records."""

    def health(self) -> Health:
        """A cheap liveness probe."""
