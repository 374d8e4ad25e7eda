"""The generic REST adapter: the ``Source`` interface driven entirely by a ``RestConfig``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

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
    StockLevel,
    Transition,
    VersionConflict,
)
from crm_bridge.sources.http import HttpTransport
from crm_bridge.sources.rest.config import Request, RestConfig, TypeConfig
from crm_bridge.sources.tags import parse_tag

CENT = Decimal("0.01")
_RESOLVE_ORDER = (RecordType.SALES_ORDER, RecordType.PURCHASE_ORDER, RecordType.INVOICE, RecordType.PRODUCT)
# Frappe's exception types (``exc_type`` in error bodies) → typed errors.
_ERROR_BY_TYPE: dict[str, type[SourceError]] = {
    "DoesNotExistError": RecordNotFound,
    "PermissionError": SourcePermissionDenied,
    "AuthenticationError": SourcePermissionDenied,
    "CSRFTokenError": SourcePermissionDenied,
    "TimestampMismatchError": VersionConflict,
    "ValidationError": InvalidTransition,
    "DocstatusTransitionError": InvalidTransition,
    "UpdateAfterSubmitError": InvalidTransition,
    "WorkflowTransitionError": InvalidTransition,
}
_ERROR_BY_STATUS: dict[int, type[SourceError]] = {
    401: SourcePermissionDenied,
    403: SourcePermissionDenied,
    404: RecordNotFound,
    409: VersionConflict,
    417: InvalidTransition,
    422: InvalidTransition,
}


def path_get(data: Any, path: str) -> Any:
    """``"customer.name"`` in ``{"customer": {"name": "x"}}`` → ``"x"``; ``a|b`` = first non-empty."""
    if not path:
        return None
    for alternative in path.split("|"):
        value = data
        for part in alternative.strip().split("."):
            if isinstance(value, Mapping):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = None
                break
        if value not in (None, ""):
            return value
    return None


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill ``{name}`` placeholders in a JSON-like template (see config.py)."""
    if isinstance(template, str):
        stripped = template.strip()
        if stripped.startswith("{") and stripped.endswith("}") and stripped[1:-1] in values:
            return values[stripped[1:-1]]
        out = template
        for name, value in values.items():
            if isinstance(value, str | int | float | Decimal):
                out = out.replace("{" + name + "}", str(value))
        return out
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


def _decimal(value: Any) -> Decimal | None:
    if value in (None, "", False):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _str(value: Any) -> str:
    return "" if value in (None, False) else str(value)


class RestSource:
    kind = "rest"

    def __init__(
        self,
        config: RestConfig,
        credentials: Mapping[str, str],
        *,
        label: str = "REST",
        transport: HttpTransport | None = None,
    ) -> None:
        from crm_bridge.resilience import Policy

        self.config = config
        self.label = label
        self._webhook_secret = credentials.get("webhook_secret", "")
        policy = Policy.from_config(config.resilience)
        auth = fill(config.auth_template, dict(credentials))
        headers = {config.auth_header: auth} if config.auth_header and auth else {}
        self.http = transport or HttpTransport(
            config.base, timeout=policy.timeout, connect_timeout=policy.connect_timeout, headers=headers
        )
        self.zone = ZoneInfo(config.time_zone)

    # --- HTTP -------------------------------------------------------------------------------

    def _call(
        self,
        request: Request,
        values: Mapping[str, Any],
        *,
        write: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        params = {**request.params, **(extra or {})}
        filled = {k: fill(v, values) for k, v in params.items()}
        query = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in filled.items()}
        body = fill(request.body, values) if request.body is not None else None
        path = fill(request.path, {k: v for k, v in values.items() if isinstance(v, str | int)})
        response = self.http.request(request.method, path, params=query or None, json=body, write=write)
        return self._payload(response)

    def _payload(self, response: requests.Response) -> Any:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code < 400:
            return payload
        detail = payload if isinstance(payload, dict) else {}
        exc_type = str(detail.get("exc_type", ""))
        message = _frappe_message(detail) or f"HTTP {response.status_code}"
        cls = _ERROR_BY_TYPE.get(exc_type) or _ERROR_BY_STATUS.get(response.status_code)
        if cls is None:
            if response.status_code >= 500:
                raise SourceUnavailable(f"{self.label}: {message}")
            cls = SourceError
        raise cls(f"{self.label}: {message}")

    def _list(
        self,
        record_type: RecordType,
        extra: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        limit: int,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        spec = self._spec(record_type)
        paging = self.config.paging
        params: dict[str, Any] = {**extra, paging.limit_param: limit}
        if paging.style == "offset":
            params[paging.offset_param] = offset
        else:
            params[paging.page_param] = paging.first_page + offset // max(1, limit)
        payload = self._call(spec.list, values, extra=params)
        items = path_get(payload, self.config.list_path) if self.config.list_path else payload
        return [i for i in items or [] if isinstance(i, dict)]

    def _spec(self, record_type: RecordType) -> TypeConfig:
        spec = self.config.types.get(record_type)
        if spec is None:
            raise RecordNotFound(f"{self.label} is not configured for {record_type} records")
        return spec

    def _fetch(self, ref: RecordRef) -> dict[str, Any]:
        spec = self._spec(ref.type)
        request = Request(path=spec.item)
        payload = self._call(request, {"key": ref.key})
        item = path_get(payload, self.config.item_path) if self.config.item_path else payload
        if not isinstance(item, dict):
            raise RecordNotFound(f"{ref.type} {ref.key} not found in {self.label}")
        return item

    # --- mapping ----------------------------------------------------------------------------

    def _datetime(self, value: Any) -> datetime | None:
        if value in (None, "", False):
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=self.zone).astimezone(UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def _format(self, value: datetime) -> str:
        return value.astimezone(self.zone).strftime(self.config.datetime_format)

    def _record(
        self, record_type: RecordType, raw: dict[str, Any], *, stock: Mapping[str, Decimal] | None = None
    ) -> Record:
        spec = self._spec(record_type)
        f = spec.fields
        key = _str(path_get(raw, f.key))
        ref = RecordRef(record_type, key)
        currency = _str(path_get(raw, f.currency)) or self.config.currency
        status_raw = _str(path_get(raw, f.status))
        status = spec.status_map.get(status_raw, spec.default_status) if f.status else spec.default_status
        updated = self._datetime(path_get(raw, f.updated_at)) or datetime.now(UTC)
        number = _str(path_get(raw, f.number)) or key
        title = _str(path_get(raw, f.title))
        counterparty_key = _str(path_get(raw, f.counterparty_key))
        party_type = RecordType.SUPPLIER if record_type == RecordType.PURCHASE_ORDER else RecordType.CUSTOMER
        counterparty = RecordRef(party_type, counterparty_key) if counterparty_key else None
        is_party = record_type in (RecordType.CUSTOMER, RecordType.SUPPLIER)
        amount, due = _decimal(path_get(raw, f.amount)), _decimal(path_get(raw, f.amount_due))
        due_date_raw = _str(path_get(raw, f.due_date))
        lines: list[RecordLine] = []
        if spec.line is not None and f.lines:
            for item in path_get(raw, f.lines) or []:
                sku = _str(path_get(item, spec.line.sku))
                product_key = _str(path_get(item, spec.line.product_key))
                unit, line_amount = (
                    _decimal(path_get(item, spec.line.unit_price)),
                    _decimal(path_get(item, spec.line.amount)),
                )
                lines.append(
                    RecordLine(
                        name=_str(path_get(item, spec.line.name)),
                        quantity=_decimal(path_get(item, spec.line.quantity)) or Decimal(0),
                        product=RecordRef(RecordType.PRODUCT, product_key) if product_key else None,
                        sku=sku,
                        unit_price=Money(unit.quantize(CENT), currency) if unit is not None else None,
                        amount=Money(line_amount.quantize(CENT), currency) if line_amount is not None else None,
                        available=(stock or {}).get(product_key) if stock is not None else None,
                    )
                )
        ui = fill(spec.ui_url, {"base_url": self.config.base, "key": key}) if spec.ui_url else ""
        return Record(
            ref=ref,
            number=number,
            title=f"{number} · {title}"
            if title and title != number and not is_party and record_type != RecordType.PRODUCT
            else title or number,
            status=status,
            status_label=status_raw,
            version=_str(path_get(raw, f.version or f.updated_at)) or updated.isoformat(),
            updated_at=updated,
            counterparty=counterparty,
            counterparty_name=_str(path_get(raw, f.counterparty_name)),
            amount=Money(amount.quantize(CENT), currency) if amount is not None else None,
            amount_due=Money(due.quantize(CENT), currency) if due is not None else None,
            due_date=date.fromisoformat(due_date_raw[:10]) if due_date_raw else None,
            owner=_str(path_get(raw, f.owner)),
            lines=tuple(lines),
            url=ui,
            party=ref if is_party else counterparty,
            fields={name: v for name, p in f.extra.items() if (v := path_get(raw, p)) not in (None, "")},
            internal={name: v for name, p in f.internal.items() if (v := path_get(raw, p)) not in (None, "")},
        )

    def _full(self, record_type: RecordType, rows: Sequence[dict[str, Any]]) -> list[Record]:
        """Records from collection rows; types with lines are re-read one by one (collection
        endpoints do not carry child rows), so a synced copy equals a fresh ``get``."""
        spec = self._spec(record_type)
        if spec.line is None or not spec.fields.lines:
            return [self._record(record_type, row) for row in rows]
        return [self.get(RecordRef(record_type, _str(path_get(row, spec.fields.key)))) for row in rows]

    # --- the interface: reads --------------------------------------------------------------

    def get(self, ref: RecordRef) -> Record:
        raw = self._fetch(ref)
        spec = self._spec(ref.type)
        stock = None
        if spec.line_stock and spec.line is not None and self.config.stock is not None:
            keys = sorted(
                {_str(path_get(i, spec.line.product_key)) for i in path_get(raw, spec.fields.lines) or []} - {""}
            )
            stock = self._available(keys)
        return self._record(ref.type, raw, stock=stock)

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        spec = self._spec(type)
        query = query.strip()
        extra = spec.search_params if query else {}
        rows = self._list(type, extra, {"query": query}, limit=max(limit * 3, 20))
        f = spec.fields
        rows.sort(key=lambda r: _rank(query, _str(path_get(r, f.number)), _str(path_get(r, f.title))))
        return self._full(type, rows[:limit])

    def resolve(self, text: str) -> RecordRef | None:
        value = text.strip()
        if not value:
            return None
        if value.startswith(("http://", "https://")):
            return self._resolve_url(value)
        tagged = parse_tag(value)
        if tagged is not None:
            for record_type in tagged[0]:
                if record_type in self.config.types:
                    found = self.search(record_type, tagged[1], limit=1)
                    if found:
                        return found[0].ref
            return None
        for record_type in (*_RESOLVE_ORDER, RecordType.CUSTOMER, RecordType.SUPPLIER):
            spec = self.config.types.get(record_type)
            if spec is None or not spec.number_params:
                continue
            rows = self._list(record_type, spec.number_params, {"number": value}, limit=1)
            if rows:
                return RecordRef(record_type, _str(path_get(rows[0], spec.fields.key)))
        for record_type in (RecordType.CUSTOMER, RecordType.SUPPLIER):
            if record_type in self.config.types:
                found = [r for r in self.search(record_type, value, limit=3) if r.title == value]
                if found:
                    return found[0].ref
        return None

    def _resolve_url(self, url: str) -> RecordRef | None:
        if urlsplit(url).netloc != urlsplit(self.config.base).netloc:
            return None
        for record_type, spec in self.config.types.items():
            if not spec.ui_url:
                continue
            prefix = fill(spec.ui_url, {"base_url": self.config.base, "key": "\0"}).split("\0")[0]
            if url.startswith(prefix):
                key = url[len(prefix) :].split("?")[0].split("#")[0].strip("/")
                if key:
                    return RecordRef(record_type, requests.utils.unquote(key))
        return None

    def _available(self, product_keys: list[str]) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for level in self._stock_rows(product_keys):
            totals[level[0]] += level[2] - level[3]
        return {k: totals.get(k, Decimal(0)) for k in product_keys}

    def _stock_rows(self, product_keys: list[str]) -> list[tuple[str, str, Decimal, Decimal, Decimal | None]]:
        cfg = self.config.stock
        if cfg is None or not product_keys:
            return []
        payload = self._call(cfg.request, {"product_keys": product_keys})
        items = path_get(payload, self.config.list_path) if self.config.list_path else payload
        return [
            (
                _str(path_get(i, cfg.product_key)),
                _str(path_get(i, cfg.warehouse)),
                _decimal(path_get(i, cfg.on_hand)) or Decimal(0),
                _decimal(path_get(i, cfg.reserved)) or Decimal(0),
                _decimal(path_get(i, cfg.reorder_point)) if cfg.reorder_point else None,
            )
            for i in items or []
            if isinstance(i, dict)
        ]

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        products = {p.ref.key: p for p in self.search(RecordType.PRODUCT, product_query, limit=20)}
        if not products:
            raise RecordNotFound(f"no product matches “{product_query}” in {self.label}")
        levels = []
        for key, wh, on_hand, reserved, reorder in self._stock_rows(sorted(products)):
            if key not in products or (warehouse and warehouse.strip().casefold() not in wh.casefold()):
                continue
            p = products[key]
            levels.append(StockLevel(p.ref, p.number, p.title, _warehouse_name(wh), on_hand, reserved, reorder))
        return sorted(levels, key=lambda s: (s.sku, s.warehouse))

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        cfg = self.config.price
        found = self.search(RecordType.PRODUCT, product_query, limit=1)
        if not found:
            raise RecordNotFound(f"no product matches “{product_query}” in {self.label}")
        product = found[0]
        customer: Record | None = None
        customer_list = ""
        if customer_query:
            customers = self.search(RecordType.CUSTOMER, customer_query, limit=1)
            if not customers:
                raise RecordNotFound(f"no customer matches “{customer_query}” in {self.label}")
            customer = customers[0]
            if cfg is not None and cfg.customer_price_list:
                customer_list = _str(path_get(self._fetch(customer.ref), cfg.customer_price_list))
        list_price = product.amount.amount if product.amount else Decimal(0)
        fallback = PriceQuote(
            product.ref, product.number, product.title, quantity,
            Money(list_price, product.amount.currency if product.amount else self.config.currency),
            cfg.default_price_list if cfg else "", customer.ref if customer else None,
        )  # fmt: skip
        if cfg is None:
            return fallback
        payload = self._call(cfg.request, {"product_key": product.ref.key})
        rows = path_get(payload, self.config.list_path) if self.config.list_path else payload
        candidates = []
        for row in rows or []:
            row_customer = _str(path_get(row, cfg.customer_key))
            row_list = _str(path_get(row, cfg.price_list))
            min_qty = _decimal(path_get(row, cfg.min_quantity)) if cfg.min_quantity else None
            if min_qty is not None and min_qty > quantity:
                continue
            if row_customer:
                rank = 0 if customer is not None and row_customer == customer.ref.key else None
            elif customer_list and row_list == customer_list:
                rank = 1
            elif row_list == cfg.default_price_list:
                rank = 2
            else:
                rank = None
            if rank is not None:
                candidates.append((rank, -(min_qty or Decimal(0)), row, min_qty))
        if not candidates:
            return fallback
        _, _, row, min_qty = min(candidates, key=lambda c: (c[0], c[1]))
        unit = _decimal(path_get(row, cfg.unit_price)) or Decimal(0)
        return PriceQuote(
            product.ref, product.number, product.title, quantity,
            Money(unit.quantize(CENT), _str(path_get(row, cfg.currency)) or self.config.currency),
            _str(path_get(row, cfg.price_list)), customer.ref if customer else None, min_qty,
        )  # fmt: skip

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        cfg = self.config.sales_summary
        if cfg is None:
            raise SourceError(f"{self.label} is not configured for sales summaries")
        start = datetime.combine(day, dtime(0), tz)
        end = datetime.combine(day + timedelta(days=1), dtime(0), tz)
        payload = self._call(cfg.request, {"start": self._format(start), "end": self._format(end)})
        orders = [o for o in (path_get(payload, self.config.list_path) if self.config.list_path else payload) or []]
        total = Decimal(0)
        by_hour: dict[int, Decimal] = defaultdict(Decimal)
        currency = self.config.currency
        for o in orders:
            amount = (_decimal(path_get(o, cfg.amount)) or Decimal(0)).quantize(CENT)
            total += amount
            currency = _str(path_get(o, cfg.currency)) or currency
            at = self._datetime(path_get(o, cfg.time))
            if at is not None:
                by_hour[at.astimezone(tz).hour] += amount
        products: dict[str, Decimal] = defaultdict(Decimal)
        if cfg.top_products and RecordType.SALES_ORDER in self.config.types:
            key_path = self.config.types[RecordType.SALES_ORDER].fields.key
            for o in orders[:200]:
                record = self._record(
                    RecordType.SALES_ORDER, self._fetch(RecordRef(RecordType.SALES_ORDER, _str(path_get(o, key_path))))
                )
                for line in record.lines:
                    products[line.name or line.sku] += line.amount.amount if line.amount else Decimal(0)
        top = sorted(products.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return SalesSummary(
            day, str(tz.key), len(orders), Money(total, currency), tuple(sorted(by_hour.items())), tuple(top)
        )

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        types = [t for t in dict.fromkeys(types) if t in self.config.types]
        page = max(1, min(limit // max(1, len(types)), self.config.page_size))
        windows = window.plan(
            cursor, types, now=datetime.now(UTC), lookback=timedelta(seconds=self.config.lookback_seconds)
        )
        records: list[Record] = []
        pages: dict[RecordType, window.Page] = {}
        for record_type, w in windows.items():
            spec = self._spec(record_type)
            # Keyset paging when the configured query can say "after (time, key)" (the
            # ERPNext preset can); offset paging otherwise.
            keyset = "{after_key}" in json.dumps(spec.changes_params)
            since = self._format(w.since) if w.since else self._format(datetime(1970, 1, 2, tzinfo=UTC))
            values = {"since": since, "until": self._format(w.until), "after_key": ""}
            if keyset and w.after is not None:
                values["since"], values["after_key"] = w.after
            offset = 0 if keyset else w.offset
            rows = self._list(record_type, spec.changes_params, values, limit=page, offset=offset)
            f = spec.fields
            last = (_str(path_get(rows[-1], f.updated_at)), _str(path_get(rows[-1], f.key))) if rows else None
            pages[record_type] = window.Page(len(rows), last, keyset=keyset)
            records.extend(self._full(record_type, rows))
        new_cursor, more = window.advance(windows, pages, page)
        records.sort(key=lambda r: (r.updated_at, str(r.ref.type), r.ref.key))
        return ChangeBatch(records=tuple(records), cursor=new_cursor, more=more)

    # --- the interface: writes -------------------------------------------------------------

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        spec = self._spec(ref.type)
        call = spec.transitions.get(action)
        if call is None:
            raise InvalidTransition(f"{self.label} has no “{action}” for a {ref.type}")
        raw = self._fetch(ref)
        current = self._record(ref.type, raw)
        if current.version != expected_version:
            raise VersionConflict(f"{current.number} changed since you saw it", current=self.get(ref))
        if current.status not in call.allowed_from:
            raise InvalidTransition(
                f"{current.number} is “{current.status_label or current.status}”: it cannot be {action}d now"
            )
        try:
            # The record sent back carries its modification time: a system that checks it
            # (Frappe's TimestampMismatchError) refuses the call if someone changed it since.
            self._call(call.request, {"key": ref.key, "record": raw}, write=True)
        except VersionConflict as exc:
            raise VersionConflict(exc.message, current=self.get(ref)) from None
        if comment:
            self.log_note(ref, f"{action}: {comment}", author=actor)
        try:
            return self.get(ref)
        except SourceUnavailable:
            raise OutcomeUnknown(f"{current.number} was {action}d but could not be re-read; refresh the card") from None

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        cfg = self.config.note
        if cfg is None:
            raise SourceError(f"{self.label} is not configured for notes")
        spec = self._spec(ref.type)
        html_body = f"<p><b>{html.escape(author)}</b> (小微协作 Xiaowei Hub):</p><p>{html.escape(body)}</p>".replace(
            "\n", "<br>"
        )
        values = {"key": ref.key, "body": html_body, "author": author, "type_name": spec.webhook_name or str(ref.type)}
        self._call(cfg.request, values, write=True)

    # --- webhooks and health -----------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        cfg = self.config.webhook
        if not self._webhook_secret:
            raise SourcePermissionDenied("no webhook secret is configured for this source")
        lowered = {k.lower(): v for k, v in headers.items()}
        given = lowered.get(cfg.header.lower(), "").strip()
        digest = hmac.new(self._webhook_secret.encode("utf-8"), body, hashlib.sha256).digest()
        expected = cfg.prefix + (base64.b64encode(digest).decode("ascii") if cfg.encoding == "base64" else digest.hex())
        if not given or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise SourcePermissionDenied("webhook signature does not match")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SourceError("webhook body is not JSON") from None
        names = {spec.webhook_name or str(t): t for t, spec in self.config.types.items()}
        refs = []
        for item in payload if isinstance(payload, list) else [payload]:
            type_name, key = _str(path_get(item, cfg.type_path)), _str(path_get(item, cfg.key_path))
            record_type = names.get(type_name) or (
                RecordType(type_name) if type_name in RecordType._value2member_map_ else None
            )
            if record_type is not None and key:
                refs.append(RecordRef(record_type, key))
        return refs

    def health(self) -> Health:
        started = time.monotonic()
        try:
            self._call(Request(path=self.config.health_path), {})
        except SourceError as exc:
            return Health(ok=False, detail=exc.message, latency_ms=(time.monotonic() - started) * 1000)
        return Health(ok=True, detail=f"{self.label} answers", latency_ms=(time.monotonic() - started) * 1000)


def _frappe_message(detail: Mapping[str, Any]) -> str:
    """Frappe puts user-facing messages in ``_server_messages`` (a JSON list of JSON objects)."""
    raw = detail.get("_server_messages")
    if isinstance(raw, str):
        try:
            messages = [json.loads(m).get("message", "") for m in json.loads(raw)]
            if any(messages):
                return " ".join(str(m) for m in messages if m)
        except (ValueError, AttributeError, TypeError):
            pass
    for key in ("message", "exception", "exc_type", "error"):
        if detail.get(key):
            return str(detail[key])
    return ""


def _warehouse_name(code: str) -> str:
    # ERPNext names warehouses "<name> - <company abbreviation>" ("杭州仓 - XH"): show the name.
    return code.rsplit(" - ", 1)[0] if " - " in code else code


def _rank(query: str, number: str, name: str) -> tuple[int, int, str]:
    q, n, t = query.casefold(), number.casefold(), name.casefold()
    if q and q in (n, t):
        score = 0
    elif q and (n.startswith(q) or t.startswith(q)):
        score = 1
    else:
        score = 2
    return score, len(name), name
