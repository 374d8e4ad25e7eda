"""The built-in source: ERP-lite (``crm_bridge.erplite``) behind the ``Source`` interface.

It is the embedded default (every workspace gets one on first use, ``ensure_default_source``),
the demo's data, and the reference behaviour the other adapters are held to by the contract
tests. One instance serves one workspace; every query is filtered by it.

ERP-lite sends no webhooks — its own writes refresh the record cache directly
(``crm_bridge.erplite.receivers``) — so ``parse_webhook`` rejects every call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q, QuerySet

from crm_bridge.erplite import actions as erp_actions
from crm_bridge.erplite.models import (
    ErpRow,
    Invoice,
    Note,
    Party,
    PriceListItem,
    Product,
    PurchaseOrder,
    SalesOrder,
    SalesOrderLine,
    Stock,
    Warehouse,
)
from crm_bridge.erplite.records import MODELS, RELATED, record_of, rows_of
from crm_bridge.models import ErpSource
from crm_bridge.sources.base import (
    ChangeBatch,
    Health,
    InvalidTransition,
    Money,
    PriceQuote,
    Record,
    RecordNotFound,
    RecordRef,
    RecordType,
    SalesSummary,
    SourcePermissionDenied,
    SourceUnavailable,
    StockLevel,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.registry import register_kind
from hub.models import Workspace

DEFAULT_NAME = "ERP-lite"

# Incremental sync re-reads this much before the cursor: a transaction that stamped
# ``updated_at`` before a later one but committed after it is still seen.
LOOKBACK = timedelta(seconds=5)

# Search columns per type: (number-like column, name-like columns).
_SEARCH: dict[RecordType, tuple[str, tuple[str, ...]]] = {
    RecordType.CUSTOMER: ("code", ("name",)),
    RecordType.SUPPLIER: ("code", ("name",)),
    RecordType.CONTACT: ("name", ("party__name", "phone", "email")),
    RecordType.PRODUCT: ("sku", ("name",)),
    RecordType.SALES_ORDER: ("number", ("party__name",)),
    RecordType.PURCHASE_ORDER: ("number", ("party__name",)),
    RecordType.INVOICE: ("number", ("party__name",)),
}
# Types that have a document number people type (``SO-1001``), tried in this order.
_NUMBERED = (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER, RecordType.INVOICE, RecordType.PRODUCT)
_TAG = re.compile(r"^#(customer|supplier|product|contact|order|invoice)[:：]\s*(.+)$", re.IGNORECASE)
_TAG_TYPES = {
    "customer": (RecordType.CUSTOMER,),
    "supplier": (RecordType.SUPPLIER,),
    "product": (RecordType.PRODUCT,),
    "contact": (RecordType.CONTACT,),
    "order": (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER),
    "invoice": (RecordType.INVOICE,),
}
_ADMIN_URL = re.compile(r"/admin/erplite/(party|contact|product|salesorder|purchaseorder|invoice)/(\d+)/")
_URL_TYPES = {
    "contact": RecordType.CONTACT,
    "product": RecordType.PRODUCT,
    "salesorder": RecordType.SALES_ORDER,
    "purchaseorder": RecordType.PURCHASE_ORDER,
    "invoice": RecordType.INVOICE,
}
_TYPE_ORDER = {t: i for i, t in enumerate(RecordType)}


class BuiltinSource:
    kind = "builtin"

    def __init__(self, config: ErpSource) -> None:
        self.workspace_id = config.workspace_id
        self.label = config.name or "ERP-lite"

    # --- reading ------------------------------------------------------------------------------

    def _rows(self, type: RecordType) -> QuerySet[ErpRow]:
        return rows_of(self.workspace_id, type).select_related(*RELATED[type])

    def _row(self, ref: RecordRef) -> ErpRow:
        if not ref.key.isdigit():
            raise RecordNotFound(f"no {ref.type} {ref.key!r}")
        row = self._rows(ref.type).filter(pk=int(ref.key)).first()
        if row is None:
            raise RecordNotFound(f"no {ref.type} {ref.key!r}")
        return row

    def get(self, ref: RecordRef) -> Record:
        return _guard(lambda: record_of(self._row(ref)))

    def resolve(self, text: str) -> RecordRef | None:
        text = text.strip()
        if not text:
            return None
        tagged = _TAG.match(text)
        if tagged:
            return self._resolve_name(_TAG_TYPES[tagged.group(1).lower()], tagged.group(2).strip())
        url = _ADMIN_URL.search(text)
        if url:
            return self._resolve_url(url.group(1), int(url.group(2)))
        for type in _NUMBERED:
            column = _SEARCH[type][0]
            row = rows_of(self.workspace_id, type).filter(**{f"{column}__iexact": text}).first()
            if row is not None:
                return RecordRef(type, str(row.pk))
        party = Party.objects.filter(workspace_id=self.workspace_id).filter(Q(code__iexact=text) | Q(name=text)).first()
        if party is not None:
            return RecordRef(RecordType(party.kind), str(party.pk))
        return None

    def _resolve_name(self, types: Sequence[RecordType], name: str) -> RecordRef | None:
        for type in types:
            found = self.search(type, name, limit=1)
            if found:
                return found[0].ref
        return None

    def _resolve_url(self, admin_name: str, pk: int) -> RecordRef | None:
        if admin_name == "party":
            party = Party.objects.filter(workspace_id=self.workspace_id, pk=pk).first()
            return RecordRef(RecordType(party.kind), str(pk)) if party else None
        type = _URL_TYPES[admin_name]
        return RecordRef(type, str(pk)) if rows_of(self.workspace_id, type).filter(pk=pk).exists() else None

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        return [record_of(row) for row in self._search_rows(type, query, limit)]

    def _search_rows(self, type: RecordType, query: str, limit: int) -> list[ErpRow]:
        number, names = _SEARCH[type]
        query = query.strip()
        rows = self._rows(type)
        if not query:
            return list(rows.order_by("-updated_at", "-pk")[:limit])
        match = Q(**{f"{number}__icontains": query})
        for name in names:
            match |= Q(**{f"{name}__icontains": query})
        # Chinese has no case, and icontains is a plain substring match on both databases, so
        # "龙井" finds "西湖龙井 500g". Rank in Python over a bounded candidate set.
        candidates = list(rows.filter(match).order_by("pk")[: max(limit * 5, 50)])
        lowered = query.lower()

        def rank(row: ErpRow) -> tuple[int, str]:
            code = str(getattr(row, number)).lower()
            label = _display_name(row).lower()
            if code == lowered:
                return (0, code)
            if label == lowered:
                return (1, code)
            if code.startswith(lowered):
                return (2, code)
            if label.startswith(lowered):
                return (3, code)
            return (4, code)

        return sorted(candidates, key=rank)[:limit]

    def _products(self, query: str) -> list[Product]:
        exact = Product.objects.filter(workspace_id=self.workspace_id, sku__iexact=query.strip()).first()
        if exact is not None:
            return [exact]
        found = [row for row in self._search_rows(RecordType.PRODUCT, query, 10) if isinstance(row, Product)]
        if not found or not query.strip():
            raise RecordNotFound(f"no product matches {query!r}")
        return found

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        products = self._products(product_query)
        rows = Stock.objects.filter(product__in=products).select_related("product", "warehouse")
        if warehouse:
            wanted = Warehouse.objects.filter(workspace_id=self.workspace_id).filter(
                Q(code__iexact=warehouse.strip()) | Q(name__icontains=warehouse.strip())
            )
            if not wanted.exists():
                raise RecordNotFound(f"no warehouse matches {warehouse!r}")
            rows = rows.filter(warehouse__in=wanted)
        order = {p.pk: i for i, p in enumerate(products)}
        return [
            StockLevel(
                product=RecordRef(RecordType.PRODUCT, str(s.product_id)),
                sku=s.product.sku,
                name=s.product.name,
                warehouse=s.warehouse.name,
                on_hand=s.on_hand,
                reserved=s.reserved,
                reorder_point=s.reorder_point,
            )
            for s in sorted(rows, key=lambda s: (order[s.product_id], s.warehouse.code))
        ]

    def _customer(self, query: str) -> Party:
        text = query.strip()
        base = Party.objects.filter(workspace_id=self.workspace_id, kind=Party.Kind.CUSTOMER)
        exact = base.filter(Q(code__iexact=text) | Q(name=text)).first()
        if exact is not None:
            return exact
        found = self._search_rows(RecordType.CUSTOMER, text, 1) if text else []
        if not found or not isinstance(found[0], Party):
            raise RecordNotFound(f"no customer matches {query!r}")
        return found[0]

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        product = self._products(product_query)[0]
        customer = self._customer(customer_query) if customer_query else None
        item = _best_price(product, customer, quantity)
        ref = RecordRef(RecordType.PRODUCT, str(product.pk))
        customer_ref = RecordRef(RecordType.CUSTOMER, str(customer.pk)) if customer else None
        if item is None:
            return PriceQuote(
                product=ref,
                sku=product.sku,
                name=product.name,
                quantity=quantity,
                unit_price=Money(product.list_price, product.currency),
                price_list="标准价",
                customer=customer_ref,
            )
        label = item.price_list.name + (f" · {customer.name} 专享" if item.customer_id and customer else "")
        return PriceQuote(
            product=ref,
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price=Money(item.unit_price, item.price_list.currency),
            price_list=label,
            customer=customer_ref,
            min_quantity=item.min_quantity,
        )

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        orders = list(
            SalesOrder.objects.filter(
                workspace_id=self.workspace_id,
                state__in=[SalesOrder.State.CONFIRMED, SalesOrder.State.DONE],
                confirmed_at__gte=start,
                confirmed_at__lt=end,
            ).only("amount_total", "confirmed_at", "currency")
        )
        by_hour: dict[int, Decimal] = {}
        for order in orders:
            assert order.confirmed_at is not None
            hour = order.confirmed_at.astimezone(tz).hour
            by_hour[hour] = by_hour.get(hour, Decimal(0)) + order.amount_total
        top: dict[str, Decimal] = {}
        for line in SalesOrderLine.objects.filter(order__in=orders).select_related("product"):
            top[line.product.name] = top.get(line.product.name, Decimal(0)) + line.amount
        return SalesSummary(
            day=day,
            time_zone=str(tz),
            order_count=len(orders),
            total=Money(sum((o.amount_total for o in orders), Decimal(0)), orders[0].currency if orders else "CNY"),
            by_hour=sorted(by_hour.items()),
            top_products=sorted(top.items(), key=lambda item: (-item[1], item[0]))[:5],
        )

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        """Cursor forms: ``t:<iso>`` — the high-water mark of a finished pass; the next pass
        starts ``LOOKBACK`` before it (re-returning a few rows, upserts are idempotent) —
        and ``k:<iso>|<type>|<pk>`` — a keyset position inside a pass, continued strictly
        after it so a pass always makes progress however many rows share a timestamp."""
        after, position = _parse_cursor(cursor)
        picked: list[tuple[datetime, int, int, ErpRow]] = []
        for type in types:
            rows = self._rows(type)
            if position is not None:
                rows = rows.filter(_after_position(_TYPE_ORDER[type], position))
            elif after is not None:
                rows = rows.filter(updated_at__gte=after - LOOKBACK)
            for row in rows.order_by("updated_at", "pk")[: limit + 1]:
                picked.append((row.updated_at, _TYPE_ORDER[type], row.pk, row))
        picked.sort(key=lambda item: item[:3])
        batch, more = picked[:limit], len(picked) > limit
        records = [record_of(row) for *_, row in batch]
        if more:
            at, type_order, pk, _ = batch[-1]
            next_cursor = f"k:{at.isoformat()}|{type_order}|{pk}"
        elif batch:
            next_cursor = f"t:{batch[-1][0].isoformat()}"
        elif position is not None:
            next_cursor = f"t:{position[0].isoformat()}"
        else:
            next_cursor = cursor or ""
        return ChangeBatch(records=records, cursor=next_cursor, more=more)

    # --- writing ------------------------------------------------------------------------------

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        model = MODELS[ref.type]
        if model not in (SalesOrder, PurchaseOrder):
            raise InvalidTransition(f"{ref.type} records have no {action}")
        with transaction.atomic():
            # The lock makes check-version-then-write one step: two approvers clicking at
            # once get one success and one VersionConflict, never two transitions.
            order = (
                model._default_manager.select_for_update()
                .filter(workspace_id=self.workspace_id, pk=int(ref.key) if ref.key.isdigit() else -1)
                .first()
            )
            if order is None:
                raise RecordNotFound(f"no {ref.type} {ref.key!r}")
            assert isinstance(order, SalesOrder | PurchaseOrder)
            if str(order.version) != expected_version:
                raise VersionConflict(
                    f"{order.number} changed since you saw it (version {expected_version} → {order.version})",
                    current=record_of(self._row(ref)),
                )
            erp_actions.do_transition(order, Transition(action), actor=actor, comment=comment)
        return self.get(ref)

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        row = self._row(ref)
        erp_actions.do_log_note(self.workspace_id, str(ref.type), row.pk, body, author)

    def notes(self, ref: RecordRef) -> list[Note]:
        """Notes logged on a record, newest first (not part of ``Source``: ERP-lite only)."""
        row = self._row(ref)
        return list(
            Note.objects.filter(workspace_id=self.workspace_id, record_type=str(ref.type), record_id=row.pk).order_by(
                "-created_at", "-pk"
            )
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        # ERP-lite never sends webhooks (its writes refresh the cache directly), so a call
        # claiming to come from it is not genuine.
        raise SourcePermissionDenied("ERP-lite sends no webhooks")

    def health(self) -> Health:
        started = time.monotonic()
        try:
            Warehouse.objects.filter(workspace_id=self.workspace_id).exists()
        except DatabaseError as exc:
            return Health(ok=False, detail=str(exc))
        return Health(ok=True, detail="ERP-lite", latency_ms=(time.monotonic() - started) * 1000)


def _guard(read: Callable[[], Record]) -> Record:
    """A database outage is the source being unavailable (cards go stale), not a 500."""
    try:
        return read()
    except DatabaseError as exc:
        raise SourceUnavailable(f"ERP-lite database error: {exc}") from exc


def _display_name(row: ErpRow) -> str:
    """The name a search also matches: the party's for documents, the row's own otherwise."""
    if isinstance(row, SalesOrder | PurchaseOrder | Invoice):
        return row.party.name
    return str(getattr(row, "name", ""))


def _after_position(type_order: int, position: tuple[datetime, int, int]) -> Q:
    """Rows strictly after a keyset position ordered by (updated_at, type, pk)."""
    at, position_type, pk = position
    if type_order > position_type:
        return Q(updated_at__gte=at)
    if type_order == position_type:
        return Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk)
    return Q(updated_at__gt=at)


def _best_price(product: Product, customer: Party | None, quantity: Decimal) -> PriceListItem | None:
    """Customer-specific prices win, then the customer's own list, then the default list;
    within each, the largest quantity break the order reaches."""
    items = PriceListItem.objects.filter(product=product, min_quantity__lte=quantity).select_related("price_list")
    lists = [pl for pl in [customer.price_list_id if customer else None] if pl]
    candidates = []
    if customer is not None:
        candidates.append(items.filter(customer=customer))
    if lists:
        candidates.append(items.filter(customer__isnull=True, price_list_id__in=lists))
    candidates.append(items.filter(customer__isnull=True, price_list__is_default=True))
    for rows in candidates:
        best = rows.order_by("-min_quantity", "unit_price").first()
        if best is not None:
            return best
    return None


def _parse_cursor(cursor: str | None) -> tuple[datetime | None, tuple[datetime, int, int] | None]:
    if not cursor:
        return None, None
    try:
        if cursor.startswith("t:"):
            return datetime.fromisoformat(cursor[2:]), None
        if cursor.startswith("k:"):
            at, type_order, pk = cursor[2:].split("|")
            return None, (datetime.fromisoformat(at), int(type_order), int(pk))
    except ValueError:
        pass
    raise ValueError(f"not an ERP-lite sync cursor: {cursor!r}")


register_kind("builtin", BuiltinSource)


def ensure_default_source(workspace: Workspace) -> ErpSource:
    """The workspace's default source, creating the built-in one on first need: a fresh
    workspace can use references, cards and commands before anyone configures an ERP.
    Race-safe: two first requests at once end with one row (the unique constraints)."""
    existing = ErpSource.objects.filter(workspace=workspace, is_default=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            source, created = ErpSource.objects.get_or_create(
                workspace=workspace, name=DEFAULT_NAME, defaults={"kind": ErpSource.Kind.BUILTIN}
            )
            if source.kind == ErpSource.Kind.BUILTIN and not source.is_default:
                source.is_default = True
                source.save(update_fields=["is_default"])
            if created:
                # ERP-lite rows saved before the source existed are not cached yet.
                from crm_bridge.erplite.receivers import prime_cache

                transaction.on_commit(lambda: prime_cache(source))
    except IntegrityError:
        pass  # a concurrent request made it (or made another source the default)
    found = ErpSource.objects.filter(workspace=workspace, is_default=True).first()
    if found is None:
        raise LookupError(f"workspace {workspace.pk} has a source named {DEFAULT_NAME!r} that is not ERP-lite")
    return found
