"""The Odoo adapter: the ``Source`` interface on top of ``execute_kw``-style calls (either
protocol, see ``client.py``), with the row mapping in ``mapping.py``."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from crm_bridge.sources import window
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
    SourceError,
    SourcePermissionDenied,
    SourceUnavailable,
    Status,
    StockLevel,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.odoo.client import OdooClient
from crm_bridge.sources.odoo.config import OdooConfig
from crm_bridge.sources.odoo.mapping import (
    MODEL_OF_APP,
    PURCHASE_STATUS,
    SALE_STATUS,
    SPECS,
    TYPES_OF_MODEL,
    decimal,
    empty,
    format_datetime,
    invoice_status,
    m2o_id,
    m2o_name,
    money_amount,
    parse_date,
    parse_datetime,
    split_code,
    text,
    version_of,
)
from crm_bridge.sources.tags import parse_tag

# (record type, transition) → (Odoo business method, states it may be called from).
TRANSITIONS: dict[tuple[RecordType, Transition], tuple[str, frozenset[str]]] = {
    (RecordType.PURCHASE_ORDER, Transition.APPROVE): ("button_approve", frozenset({"to approve"})),
    (RecordType.PURCHASE_ORDER, Transition.REJECT): ("button_cancel", frozenset({"to approve"})),
    (RecordType.PURCHASE_ORDER, Transition.CONFIRM): ("button_confirm", frozenset({"draft", "sent"})),
    (RecordType.PURCHASE_ORDER, Transition.CANCEL): (
        "button_cancel",
        frozenset({"draft", "sent", "to approve", "purchase"}),
    ),
    # Odoo's sales orders have no approval step of their own: approving a quotation confirms it.
    (RecordType.SALES_ORDER, Transition.APPROVE): ("action_confirm", frozenset({"draft", "sent"})),
    (RecordType.SALES_ORDER, Transition.CONFIRM): ("action_confirm", frozenset({"draft", "sent"})),
    (RecordType.SALES_ORDER, Transition.REJECT): ("action_cancel", frozenset({"draft", "sent"})),
    (RecordType.SALES_ORDER, Transition.CANCEL): ("action_cancel", frozenset({"draft", "sent", "sale"})),
}
_RESOLVE_ORDER = (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER, RecordType.INVOICE, RecordType.PRODUCT)


class OdooSource:
    kind = "odoo"

    def __init__(
        self, client: OdooClient, config: OdooConfig, *, label: str = "Odoo", webhook_secret: str = ""
    ) -> None:
        self.client = client
        self.config = config
        self.label = label
        self._webhook_secret = webhook_secret

    # --- reading rows ----------------------------------------------------------------------

    def _search_read(
        self,
        record_type: RecordType,
        domain: Iterable[Any],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        spec = SPECS[record_type]
        kwargs: dict[str, Any] = {"domain": [*map(list_term, spec.domain), *domain], "fields": list(spec.fields)}
        if limit:
            kwargs["limit"] = limit
        if offset:
            kwargs["offset"] = offset
        if order:
            kwargs["order"] = order
        rows = self.client.call(spec.model, "search_read", **kwargs)
        return list(rows or [])

    def _row(self, ref: RecordRef) -> dict[str, Any]:
        try:
            key = int(ref.key)
        except ValueError:
            raise RecordNotFound(f"{ref} is not an Odoo id") from None
        rows = self._search_read(ref.type, [["id", "=", key]], limit=1)
        if not rows:
            raise RecordNotFound(f"{ref.type} {ref.key} not found in {self.label}")
        return rows[0]

    # --- building records ------------------------------------------------------------------

    def _records(self, record_type: RecordType, rows: Sequence[dict[str, Any]]) -> list[Record]:
        if not rows:
            return []
        if record_type in (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER):
            lines = self._lines(record_type, [int(r["id"]) for r in rows])
            return [self._order(record_type, row, lines.get(int(row["id"]), [])) for row in rows]
        if record_type == RecordType.INVOICE:
            return [self._invoice(row) for row in rows]
        if record_type == RecordType.PRODUCT:
            return [self._product(row) for row in rows]
        return [self._party(record_type, row) for row in rows]

    def _url(self, model: str, key: int) -> str:
        return f"{self.config.ui_url}/web#id={key}&model={model}&view_type=form"

    def _party(self, record_type: RecordType, row: dict[str, Any]) -> Record:
        ref = RecordRef(record_type, str(row["id"]))
        parent = RecordRef(RecordType.CUSTOMER, str(m2o_id(row.get("parent_id")))) if row.get("parent_id") else None
        return Record(
            ref=ref,
            number=text(row.get("ref")) or str(row["id"]),
            title=text(row.get("name")),
            status=Status.ACTIVE,
            status_label="",
            version=version_of(row),
            updated_at=parse_datetime(row.get("write_date")) or datetime.now(UTC),
            owner=m2o_name(row.get("user_id")),
            url=self._url("res.partner", int(row["id"])),
            party=parent if record_type == RecordType.CONTACT else ref,
            fields={k: text(row.get(k)) for k in ("email", "phone", "city", "vat", "function") if text(row.get(k))},
            internal={"notes": text(row.get("comment"))} if text(row.get("comment")) else {},
        )

    def _product(self, row: dict[str, Any]) -> Record:
        currency = self.config.currency
        return Record(
            ref=RecordRef(RecordType.PRODUCT, str(row["id"])),
            number=text(row.get("default_code")) or str(row["id"]),
            title=text(row.get("name")),
            status=Status.ACTIVE,
            version=version_of(row),
            updated_at=parse_datetime(row.get("write_date")) or datetime.now(UTC),
            amount=Money(money_amount(row.get("list_price")), currency),
            url=self._url("product.product", int(row["id"])),
            fields={
                "list_price": money_amount(row.get("list_price")),
                "qty_available": decimal(row.get("qty_available")),
                "uom": m2o_name(row.get("uom_id")),
                "barcode": text(row.get("barcode")),
            },
            internal={"cost": money_amount(row.get("standard_price"))},
        )

    def _lines(self, record_type: RecordType, order_ids: list[int]) -> dict[int, list[RecordLine]]:
        sale = record_type == RecordType.SALES_ORDER
        model = "sale.order.line" if sale else "purchase.order.line"
        qty_field = "product_uom_qty" if sale else "product_qty"
        rows = self.client.call(
            model,
            "search_read",
            domain=[["order_id", "in", order_ids]],
            fields=["order_id", "product_id", "name", qty_field, "price_unit", "price_subtotal", "currency_id"],
            order="order_id, sequence, id",
        )
        available = self._available([m2o_id(r.get("product_id")) for r in rows]) if sale else {}
        lines: dict[int, list[RecordLine]] = defaultdict(list)
        for r in rows:
            product_id = m2o_id(r.get("product_id"))
            sku, name = split_code(m2o_name(r.get("product_id")))
            currency = m2o_name(r.get("currency_id")) or self.config.currency
            order_id = m2o_id(r.get("order_id"))
            if order_id is None:
                continue
            lines[order_id].append(
                RecordLine(
                    name=name or text(r.get("name")).split("\n")[0],
                    quantity=decimal(r.get(qty_field)),
                    product=RecordRef(RecordType.PRODUCT, str(product_id)) if product_id else None,
                    sku=sku,
                    unit_price=Money(money_amount(r.get("price_unit")), currency),
                    amount=Money(money_amount(r.get("price_subtotal")), currency),
                    available=available.get(product_id) if product_id else None,
                )
            )
        return lines

    def _quants(self, product_ids: list[int]) -> list[dict[str, Any]]:
        if not product_ids:
            return []
        return list(
            self.client.call(
                "stock.quant",
                "search_read",
                domain=[["product_id", "in", product_ids], ["location_id.usage", "=", "internal"]],
                fields=["product_id", "location_id", "warehouse_id", "quantity", "reserved_quantity"],
            )
            or []
        )

    def _available(self, product_ids: Iterable[int | None]) -> dict[int, Decimal]:
        ids = sorted({p for p in product_ids if p})
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for q in self._quants(ids):
            pid = m2o_id(q.get("product_id"))
            if pid is not None:
                totals[pid] += decimal(q.get("quantity")) - decimal(q.get("reserved_quantity"))
        return {pid: totals.get(pid, Decimal(0)) for pid in ids}

    def _order(self, record_type: RecordType, row: dict[str, Any], lines: list[RecordLine]) -> Record:
        sale = record_type == RecordType.SALES_ORDER
        status, label = (SALE_STATUS if sale else PURCHASE_STATUS).get(
            text(row.get("state")), (Status.DRAFT, text(row.get("state")))
        )
        party_type = RecordType.CUSTOMER if sale else RecordType.SUPPLIER
        partner = m2o_id(row.get("partner_id"))
        party = RecordRef(party_type, str(partner)) if partner else None
        currency = m2o_name(row.get("currency_id")) or self.config.currency
        number = text(row.get("name"))
        counterparty_name = m2o_name(row.get("partner_id"))
        ordered = parse_datetime(row.get("date_order"))
        return Record(
            ref=RecordRef(record_type, str(row["id"])),
            number=number,
            title=f"{number} · {counterparty_name}" if counterparty_name else number,
            status=status,
            status_label=label,
            version=version_of(row),
            updated_at=parse_datetime(row.get("write_date")) or datetime.now(UTC),
            counterparty=party,
            counterparty_name=counterparty_name,
            amount=Money(money_amount(row.get("amount_total")), currency),
            owner=m2o_name(row.get("user_id")),
            lines=tuple(lines),
            url=self._url(SPECS[record_type].model, int(row["id"])),
            party=party,
            fields={
                "ordered_at": ordered.isoformat() if ordered else "",
                "reference": text(row.get("client_order_ref" if sale else "partner_ref")),
                "amount_untaxed": money_amount(row.get("amount_untaxed")),
                "odoo_state": text(row.get("state")),
            },
        )

    def _invoice(self, row: dict[str, Any]) -> Record:
        status, label = invoice_status(text(row.get("state")), text(row.get("payment_state")))
        partner = m2o_id(row.get("partner_id"))
        party = RecordRef(RecordType.CUSTOMER, str(partner)) if partner else None
        currency = m2o_name(row.get("currency_id")) or self.config.currency
        number = text(row.get("name"))
        counterparty_name = m2o_name(row.get("partner_id"))
        return Record(
            ref=RecordRef(RecordType.INVOICE, str(row["id"])),
            number=number,
            title=f"{number} · {counterparty_name}" if counterparty_name else number,
            status=status,
            status_label=label,
            version=version_of(row),
            updated_at=parse_datetime(row.get("write_date")) or datetime.now(UTC),
            counterparty=party,
            counterparty_name=counterparty_name,
            amount=Money(money_amount(row.get("amount_total")), currency),
            amount_due=Money(money_amount(row.get("amount_residual")), currency),
            due_date=parse_date(row.get("invoice_date_due")),
            owner=m2o_name(row.get("invoice_user_id")),
            url=self._url("account.move", int(row["id"])),
            party=party,
            fields={
                "invoice_date": text(empty(row.get("invoice_date"))),
                "payment_state": text(row.get("payment_state")),
            },
        )

    # --- the interface: reads --------------------------------------------------------------

    def get(self, ref: RecordRef) -> Record:
        return self._records(ref.type, [self._row(ref)])[0]

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        spec = SPECS[type]
        query = query.strip()
        domain: list[Any] = []
        if query:
            domain = ["|"] * (len(spec.search_fields) - 1) + [[f, "ilike", query] for f in spec.search_fields]
        rows = self._search_read(type, domain, limit=max(limit * 3, 20), order="write_date desc, id desc")
        ranked = sorted(rows, key=lambda r: _rank(query, text(r.get(spec.number_field)), text(r.get("name"))))
        return self._records(type, ranked[:limit])

    def resolve(self, text: str) -> RecordRef | None:
        value = text.strip()
        if not value:
            return None
        if value.startswith(("http://", "https://")):
            return self._resolve_url(value)
        tagged = parse_tag(value)
        if tagged is not None:
            types, query = tagged
            for record_type in types:
                found = self.search(record_type, query, limit=1)
                if found:
                    return found[0].ref
            return None
        for record_type in _RESOLVE_ORDER:
            spec = SPECS[record_type]
            rows = self.client.call(
                spec.model,
                "search_read",
                domain=[*map(list_term, spec.domain), [spec.number_field, "=ilike", value]],
                fields=["id"],
                limit=1,
            )
            if rows:
                return RecordRef(record_type, str(rows[0]["id"]))
        for record_type in (RecordType.CUSTOMER, RecordType.SUPPLIER):
            for field_name in ("ref", "name"):
                rows = self._search_read(record_type, [[field_name, "=ilike", value]], limit=1)
                if rows:
                    return RecordRef(record_type, str(rows[0]["id"]))
        return None

    def _resolve_url(self, url: str) -> RecordRef | None:
        parts = urlsplit(url)
        ours = {urlsplit(self.config.base_url).netloc, urlsplit(self.config.ui_url).netloc}
        if parts.netloc not in ours:
            return None
        model, key = "", ""
        fragment = parse_qs(parts.fragment)
        if "model" in fragment and "id" in fragment:  # /web#id=42&model=sale.order
            model, key = fragment["model"][0], fragment["id"][0]
        else:  # /odoo/sales/42, /odoo/sale.order/42 (Odoo 17.2+)
            segments = [s for s in parts.path.split("/") if s]
            if len(segments) >= 3 and segments[0] == "odoo" and segments[-1].isdigit():
                app = segments[-2]
                model, key = MODEL_OF_APP.get(app, app if "." in app else ""), segments[-1]
        if not key.isdigit() or model not in TYPES_OF_MODEL:
            return None
        for record_type in TYPES_OF_MODEL[model]:
            try:
                self._row(RecordRef(record_type, key))
            except RecordNotFound:
                continue
            return RecordRef(record_type, key)
        return None

    def _best(self, record_type: RecordType, query: str) -> dict[str, Any]:
        spec = SPECS[record_type]
        domain = ["|"] * (len(spec.search_fields) - 1) + [[f, "ilike", query.strip()] for f in spec.search_fields]
        rows = self._search_read(record_type, domain, limit=20)
        if not rows:
            raise RecordNotFound(f"no {record_type} matches “{query}” in {self.label}")
        return min(rows, key=lambda r: _rank(query.strip(), text(r.get(spec.number_field)), text(r.get("name"))))

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        spec = SPECS[RecordType.PRODUCT]
        domain = ["|"] * (len(spec.search_fields) - 1) + [
            [f, "ilike", product_query.strip()] for f in spec.search_fields
        ]
        products = {int(p["id"]): p for p in self._search_read(RecordType.PRODUCT, domain, limit=20)}
        if not products:
            raise RecordNotFound(f"no product matches “{product_query}” in {self.label}")
        reorder = {
            (m2o_id(o.get("product_id")), m2o_name(o.get("warehouse_id"))): decimal(o.get("product_min_qty"))
            for o in self.client.call(
                "stock.warehouse.orderpoint",
                "search_read",
                domain=[["product_id", "in", sorted(products)]],
                fields=["product_id", "warehouse_id", "product_min_qty"],
            )
            or []
        }
        totals: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for q in self._quants(sorted(products)):
            pid = m2o_id(q.get("product_id"))
            wh = m2o_name(q.get("warehouse_id")) or m2o_name(q.get("location_id"))
            if pid is None or (warehouse and warehouse.strip().casefold() not in wh.casefold()):
                continue
            totals[(pid, wh)][0] += decimal(q.get("quantity"))
            totals[(pid, wh)][1] += decimal(q.get("reserved_quantity"))
        levels = [
            StockLevel(
                product=RecordRef(RecordType.PRODUCT, str(pid)),
                sku=text(products[pid].get("default_code")),
                name=text(products[pid].get("name")),
                warehouse=wh,
                on_hand=on_hand,
                reserved=reserved,
                reorder_point=reorder.get((pid, wh)),
            )
            for (pid, wh), (on_hand, reserved) in totals.items()
        ]
        return sorted(levels, key=lambda s: (s.sku, s.warehouse))

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        product = self._best(RecordType.PRODUCT, product_query)
        list_price = money_amount(product.get("list_price"))
        customer_ref: RecordRef | None = None
        pricelist: list[Any] | None = None
        if customer_query:
            customer = self._best(RecordType.CUSTOMER, customer_query)
            customer_ref = RecordRef(RecordType.CUSTOMER, str(customer["id"]))
            pricelist = customer.get("property_product_pricelist") or None
        base = PriceQuote(
            product=RecordRef(RecordType.PRODUCT, str(product["id"])),
            sku=text(product.get("default_code")),
            name=text(product.get("name")),
            quantity=quantity,
            unit_price=Money(list_price, self.config.currency),
            price_list=self.config.default_price_list,
            customer=customer_ref,
        )
        pricelist_id = m2o_id(pricelist)
        if pricelist_id is None:
            return base
        items = self.client.call(
            "product.pricelist.item",
            "search_read",
            domain=[
                ["pricelist_id", "=", pricelist_id],
                ["min_quantity", "<=", float(quantity)],
                "|",
                ["product_id", "=", int(product["id"])],
                ["product_tmpl_id", "=", m2o_id(product.get("product_tmpl_id")) or 0],
            ],
            fields=[
                "product_id", "product_tmpl_id", "min_quantity", "compute_price", "fixed_price", "percent_price",
                "date_start", "date_end", "currency_id", "pricelist_id",
            ],
        )  # fmt: skip
        now = datetime.now(UTC)
        usable = [
            i
            for i in items or []
            if (parse_datetime(i.get("date_start")) or now) <= now <= (parse_datetime(i.get("date_end")) or now)
            and i.get("compute_price") in ("fixed", "percentage")
        ]
        if not usable:
            return base
        # Odoo's own precedence: a variant rule beats a template rule; then the biggest
        # quantity break that applies.
        item = max(usable, key=lambda i: (bool(i.get("product_id")), decimal(i.get("min_quantity"))))
        if item.get("compute_price") == "fixed":
            unit = money_amount(item.get("fixed_price"))
        else:
            unit = (list_price * (1 - decimal(item.get("percent_price")) / 100)).quantize(Decimal("0.01"))
        return PriceQuote(
            product=base.product,
            sku=base.sku,
            name=base.name,
            quantity=quantity,
            unit_price=Money(unit, m2o_name(item.get("currency_id")) or self.config.currency),
            price_list=m2o_name(item.get("pricelist_id")) or m2o_name(pricelist),
            customer=customer_ref,
            min_quantity=decimal(item.get("min_quantity")) or None,
        )

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        start = datetime.combine(day, dtime(0), tz)
        end = datetime.combine(day + timedelta(days=1), dtime(0), tz)
        orders = self.client.call(
            "sale.order",
            "search_read",
            domain=[
                ["state", "in", ["sale", "done"]],
                ["date_order", ">=", format_datetime(start)],
                ["date_order", "<", format_datetime(end)],
            ],
            fields=["id", "amount_total", "date_order", "currency_id"],
        )
        orders = list(orders or [])
        currency = next((m2o_name(o.get("currency_id")) for o in orders if o.get("currency_id")), self.config.currency)
        by_hour: dict[int, Decimal] = defaultdict(Decimal)
        total = Decimal(0)
        for o in orders:
            amount = money_amount(o.get("amount_total"))
            total += amount
            ordered = parse_datetime(o.get("date_order"))
            if ordered is not None:
                by_hour[ordered.astimezone(tz).hour] += amount
        products: dict[str, Decimal] = defaultdict(Decimal)
        if orders:
            for line in (
                self.client.call(
                    "sale.order.line",
                    "search_read",
                    domain=[["order_id", "in", [int(o["id"]) for o in orders]]],
                    fields=["product_id", "price_subtotal"],
                )
                or []
            ):
                _, name = split_code(m2o_name(line.get("product_id")))
                products[name or "?"] += money_amount(line.get("price_subtotal"))
        top = sorted(products.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return SalesSummary(
            day=day,
            time_zone=str(tz.key),
            order_count=len(orders),
            total=Money(total, currency),
            by_hour=tuple(sorted(by_hour.items())),
            top_products=tuple(top),
        )

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        types = list(dict.fromkeys(types))
        page = max(1, limit // max(1, len(types)))
        windows = window.plan(
            cursor, types, now=datetime.now(UTC), lookback=timedelta(seconds=self.config.lookback_seconds)
        )
        records: list[Record] = []
        pages: dict[RecordType, window.Page] = {}
        for record_type, w in windows.items():
            domain: list[Any] = [["write_date", "<=", format_datetime(w.until)]]
            if w.after is not None:
                # Keyset: strictly after the last record read in this pass.
                stamp, key = w.after
                domain += ["|", ["write_date", ">", stamp], "&", ["write_date", "=", stamp], ["id", ">", int(key)]]
            elif w.since is not None:
                domain.append(["write_date", ">=", format_datetime(w.since)])
            rows = self._search_read(record_type, domain, limit=page, order="write_date asc, id asc")
            last = (text(rows[-1].get("write_date")), str(rows[-1]["id"])) if rows else None
            pages[record_type] = window.Page(len(rows), last)
            records.extend(self._records(record_type, rows))
        new_cursor, more = window.advance(windows, pages, page)
        records.sort(key=lambda r: (r.updated_at, str(r.ref.type), r.ref.key))
        return ChangeBatch(records=tuple(records), cursor=new_cursor, more=more)

    # --- the interface: writes -------------------------------------------------------------

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        try:
            method, allowed = TRANSITIONS[(ref.type, action)]
        except KeyError:
            raise InvalidTransition(f"{self.label} has no “{action}” for a {ref.type}") from None
        current = self.get(ref)
        if current.version != expected_version:
            raise VersionConflict(f"{current.number} changed since you saw it", current=current)
        state = str(current.fields.get("odoo_state", ""))
        if state not in allowed:
            raise InvalidTransition(f"{current.number} is “{current.status_label}”: it cannot be {action}d now")
        model = SPECS[ref.type].model
        # Odoo has no compare-and-set for business methods: the re-read just above is the
        # check; the window between it and this call is one round trip.
        self.client.call(model, method, ids=[int(ref.key)], write=True)
        if comment:
            self._post_note(model, int(ref.key), f"{action}: {comment}", author=actor)
        try:
            return self.get(ref)
        except SourceUnavailable:
            raise OutcomeUnknown(f"{current.number} was {action}d but could not be re-read; refresh the card") from None

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        model = SPECS[ref.type].model
        self._row(ref)  # a clean RecordNotFound instead of Odoo's MissingError deep in mail
        self._post_note(model, int(ref.key), body, author=author)

    def _post_note(self, model: str, key: int, body: str, *, author: str) -> None:
        # message_post's body is HTML: escape what people wrote. subtype "note" makes it an
        # internal log note (followers are not e-mailed), not a message to the customer.
        html_body = f"<p><b>{html.escape(author)}</b> (小微协作 Xiaowei Hub):</p><p>{html.escape(body)}</p>".replace(
            "\n", "<br/>"
        )
        self.client.call(
            model,
            "message_post",
            ids=[key],
            write=True,
            body=html_body,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    # --- webhooks and health -----------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        """Odoo's "Send Webhook Notification" automation POSTs ``{"_model", "_id", ...}``. It
        cannot sign, so the URL carries the secret (``?token=``, passed in as the
        ``X-Hub-Webhook-Token`` header); a custom server action may instead sign the body
        (``X-Odoo-Signature``: hex HMAC-SHA256)."""
        if not self._webhook_secret:
            raise SourcePermissionDenied("no webhook secret is configured for this source")
        lowered = {k.lower(): v for k, v in headers.items()}
        secret = self._webhook_secret.encode("utf-8")
        signature = lowered.get("x-odoo-signature", "")
        token = lowered.get("x-hub-webhook-token", "")
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not (
            (signature and hmac.compare_digest(signature.strip().lower(), expected))
            or (token and hmac.compare_digest(token.encode("utf-8"), secret))
        ):
            raise SourcePermissionDenied("webhook signature or token does not match")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SourceError("webhook body is not JSON") from None
        items = payload if isinstance(payload, list) else [payload]
        refs: list[RecordRef] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            model = str(item.get("_model") or item.get("model") or "")
            key = item.get("_id", item.get("id"))
            if model in TYPES_OF_MODEL and isinstance(key, int | str) and str(key).isdigit():
                refs.extend(RecordRef(t, str(key)) for t in TYPES_OF_MODEL[model])
        return refs

    def health(self) -> Health:
        started = time.monotonic()
        try:
            version = self.client.server_version()
        except SourceError as exc:
            return Health(ok=False, detail=exc.message, latency_ms=(time.monotonic() - started) * 1000)
        return Health(ok=True, detail=f"Odoo {version}", latency_ms=(time.monotonic() - started) * 1000)


def list_term(term: Any) -> Any:
    """Domain terms travel as JSON lists (tuples would too, but keep one shape)."""
    return list(term) if isinstance(term, tuple) else term


def _rank(query: str, number: str, name: str) -> tuple[int, int, str]:
    """Best match first: exact number or name, then prefix, then substring; shorter first."""
    q = query.casefold()
    n, t = number.casefold(), name.casefold()
    if q and q in (n, t):
        score = 0
    elif q and (n.startswith(q) or t.startswith(q)):
        score = 1
    else:
        score = 2
    return score, len(name), name
