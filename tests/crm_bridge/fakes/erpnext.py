"""A fake ERPNext (Frappe REST API) on loopback, faithful where the adapter depends on it:

* ``GET /api/resource/<DocType>`` with ``fields`` / ``filters`` / ``or_filters`` (JSON: lists of
  ``[field, op, value]`` or ``[doctype, field, op, value]``, or dicts), ``order_by``,
  ``limit_start`` / ``limit_page_length`` (default page 20, like Frappe) → ``{"data": [...]}``;
  only the requested fields come back (``name`` when none are asked for).
* ``GET /api/resource/<DocType>/<name>`` → the whole document with child tables (``items``).
* ``POST /api/resource/<DocType>`` (creates, e.g. a ``Comment``).
* ``POST /api/method/frappe.client.submit`` (checks the sent ``modified`` against the stored
  one: ``TimestampMismatchError``), ``frappe.client.cancel``, ``frappe.client.set_value``
  (refused on submitted documents: ``UpdateAfterSubmitError``),
  ``GET /api/method/frappe.auth.get_logged_user``.
* ``Authorization: token <api_key>:<api_secret>``; errors as HTTP status + ``{"exc_type",
  "exception", "_server_messages"}``; naive datetimes in the site's time zone with
  microseconds; ``modified`` moves on every change.
* Webhooks signed like Frappe's: ``X-Frappe-Webhook-Signature`` = base64 HMAC-SHA256 of the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.crm_bridge.fakes import dataset as ds
from tests.crm_bridge.fakes.base import FakeServer, Reply

SITE_TZ = ZoneInfo(ds.TIME_ZONE)
API_KEY, API_SECRET = "erp-api-key-1234", "erp-api-secret-abcdefgh"
READONLY_KEY, READONLY_SECRET = "erp-viewer-key", "erp-viewer-secret-xyz"
WEBHOOK_SECRET = "frappe-webhook-secret-0123456789"
COMPANY_ABBR = "XH"
SUBMITTED_STATUS = {"Sales Order": "To Deliver and Bill", "Purchase Order": "To Receive and Bill"}


class FrappeError(Exception):
    def __init__(self, status: int, exc_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type
        self.message = message


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _compare(value: Any, op: str, target: Any) -> bool:
    op = op.lower()
    if op in ("=", "=="):
        # MariaDB's default collation compares text case-insensitively.
        if isinstance(value, int | float):
            return value == float(target)
        return str(value).casefold() == str(target).casefold()
    if op == "!=":
        return not _compare(value, "=", target)
    if op in ("in", "not in"):
        items = target if isinstance(target, list) else [t.strip() for t in str(target).split(",")]
        inside = str(value) in [str(t) for t in items]
        return inside if op == "in" else not inside
    if op == "like":
        return _like(str(target), "" if value is None else str(value))
    if op == "not like":
        return not _like(str(target), "" if value is None else str(value))
    if op == "is":
        return (value not in (None, "")) == (str(target) == "set")
    if op == "between":
        return str(target[0]) <= str(value) <= str(target[1])
    if op in (">", ">=", "<", "<="):
        if value is None:
            return False
        a, b = (value, float(target)) if isinstance(value, int | float) else (str(value), str(target))
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
    raise FrappeError(417, "ValidationError", f"Unsupported operator {op}")


class FakeERPNext(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.keys: dict[str, tuple[str, bool]] = {API_KEY: (API_SECRET, True), READONLY_KEY: (READONLY_SECRET, False)}
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.counter = 0

    def now(self) -> str:
        return self.clock().astimezone(SITE_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")

    def insert(self, doctype: str, doc: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.counter += 1
            name = doc.get("name") or f"{doctype[:3].upper()}-{self.counter:05d}"
            stamp = self.now()
            full = {"doctype": doctype, "docstatus": 0, "owner": "Administrator", "creation": stamp, **doc}
            full.update(name=name, modified=stamp)
            self.docs.setdefault(doctype, {})[name] = full
            return full

    def touch(self, doctype: str, name: str, **values: Any) -> None:
        """Someone edits the document in ERPNext: ``modified`` moves."""
        with self.lock:
            self.docs[doctype][name].update(values, modified=self.now())

    def signed_webhook(self, doctype: str, name: str, secret: str = WEBHOOK_SECRET) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"doctype": doctype, "name": name}, ensure_ascii=False).encode("utf-8")
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return {"X-Frappe-Webhook-Signature": signature, "Content-Type": "application/json"}, body

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        try:
            may_write = self._auth(headers)
            parts = urlsplit(path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            segments = [unquote(s) for s in parts.path.split("/") if s]
            data = json.loads(body) if body else {}
            with self.lock:
                return Reply(200, self._route(method, segments, query, data, may_write))
        except FrappeError as exc:
            messages = json.dumps([json.dumps({"message": exc.message})])
            return Reply(
                exc.status,
                {
                    "exc_type": exc.exc_type,
                    "exception": f"frappe.exceptions.{exc.exc_type}: {exc.message}",
                    "_server_messages": messages,
                },
            )
        except json.JSONDecodeError as exc:
            return Reply(417, {"exc_type": "ValidationError", "exception": str(exc)})

    def _auth(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        key, _, secret = token.strip().partition(":")
        if scheme.lower() != "token" or key not in self.keys or self.keys[key][0] != secret:
            raise FrappeError(401, "AuthenticationError", "Invalid API key or secret")
        return self.keys[key][1]

    def _route(self, method: str, seg: list[str], query: dict[str, str], data: Any, may_write: bool) -> Any:
        if seg[:2] == ["api", "resource"] and len(seg) == 3:
            if method == "GET":
                return {"data": self._list(seg[2], query)}
            if method == "POST":
                self._writable(may_write, seg[2])
                return {"data": self.insert(seg[2], dict(data))}
        if seg[:2] == ["api", "resource"] and len(seg) == 4:
            doc = self._get(seg[2], seg[3])
            if method == "GET":
                return {"data": doc}
            if method == "PUT":
                self._writable(may_write, seg[2])
                doc.update(data, modified=self.now())
                return {"data": doc}
        if seg[:2] == ["api", "method"] and len(seg) == 3:
            return {"message": self._method(seg[2], data, may_write)}
        raise FrappeError(404, "DoesNotExistError", f"Page {'/'.join(seg)} not found")

    def _writable(self, may_write: bool, doctype: str) -> None:
        if not may_write:
            raise FrappeError(403, "PermissionError", f"No permission for {doctype}")

    def _get(self, doctype: str, name: str) -> dict[str, Any]:
        doc = self.docs.get(doctype, {}).get(name)
        if doc is None:
            raise FrappeError(404, "DoesNotExistError", f"{doctype} {name} not found")
        return doc

    def _list(self, doctype: str, query: dict[str, str]) -> list[dict[str, Any]]:
        if doctype not in self.docs:
            raise FrappeError(404, "DoesNotExistError", f"DocType {doctype} not found")
        fields = json.loads(query.get("fields", '["name"]'))
        filters = self._terms(json.loads(query.get("filters", "[]")))
        or_filters = self._terms(json.loads(query.get("or_filters", "[]")))
        rows = [
            d
            for d in self.docs[doctype].values()
            if all(_compare(d.get(f), op, v) for f, op, v in filters)
            and (not or_filters or any(_compare(d.get(f), op, v) for f, op, v in or_filters))
        ]
        for part in reversed([p.strip() for p in query.get("order_by", "modified desc").split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            column = name.strip("`")
            rows.sort(key=lambda r, n=column: str(r.get(n, "")), reverse=direction.strip().lower() == "desc")
        start = int(query.get("limit_start", 0))
        length = int(query.get("limit_page_length", 20))
        rows = rows[start : start + length] if length else rows[start:]
        if fields == ["*"]:
            return [{k: v for k, v in r.items() if not isinstance(v, list)} for r in rows]
        return [{f: r.get(f) for f in fields} for r in rows]

    @staticmethod
    def _terms(raw: Any) -> list[tuple[str, str, Any]]:
        terms: list[tuple[str, str, Any]] = []
        if isinstance(raw, dict):
            for field, value in raw.items():
                terms.append((field, value[0], value[1]) if isinstance(value, list) else (field, "=", value))
            return terms
        for term in raw:
            if len(term) == 4:
                term = term[1:]
            if len(term) != 3:
                raise FrappeError(417, "ValidationError", f"Filter {term} is not [field, operator, value]")
            terms.append((term[0], term[1], term[2]))
        return terms

    def _method(self, method: str, data: dict[str, Any], may_write: bool) -> Any:
        if method == "frappe.auth.get_logged_user":
            return "api@xiaowei.example"
        if method == "frappe.client.submit":
            sent = data.get("doc") or {}
            self._writable(may_write, str(sent.get("doctype")))
            doc = self._get(str(sent.get("doctype")), str(sent.get("name")))
            if sent.get("modified") != doc["modified"]:
                raise FrappeError(
                    417,
                    "TimestampMismatchError",
                    "Error: Document has been modified after you have opened it. Please refresh.",
                )
            if doc["docstatus"] != 0:
                raise FrappeError(417, "DocstatusTransitionError", "Cannot change docstatus from 1 to 1")
            doc.update(docstatus=1, status=SUBMITTED_STATUS.get(doc["doctype"], "Submitted"), modified=self.now())
            if "workflow_state" in doc:
                doc["workflow_state"] = "Approved"
            return doc
        if method == "frappe.client.cancel":
            self._writable(may_write, str(data.get("doctype")))
            doc = self._get(str(data.get("doctype")), str(data.get("name")))
            if doc["docstatus"] != 1:
                raise FrappeError(417, "DocstatusTransitionError", "Cannot cancel a document that is not submitted")
            doc.update(docstatus=2, status="Cancelled", modified=self.now())
            return doc
        if method == "frappe.client.set_value":
            self._writable(may_write, str(data.get("doctype")))
            doc = self._get(str(data.get("doctype")), str(data.get("name")))
            if doc["docstatus"] != 0:
                raise FrappeError(
                    417, "UpdateAfterSubmitError", f"Not allowed to change {data.get('fieldname')} after submission"
                )
            doc.update({str(data.get("fieldname")): data.get("value")}, modified=self.now())
            return doc
        raise FrappeError(404, "DoesNotExistError", f"Method {method} not found")


def _local(value: datetime) -> str:
    return value.astimezone(SITE_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")


def seeded_erpnext() -> FakeERPNext:
    """A fake ERPNext holding the shared data set (tests/crm_bridge/fakes/dataset.py)."""
    erp = FakeERPNext()
    for name in ("Comment", "Bin", "Item Price", "Warehouse"):
        erp.docs.setdefault(name, {})
    for p in ds.CUSTOMERS:
        erp.insert(
            "Customer",
            {
                "name": p.code,
                "customer_name": p.name,
                "email_id": p.email,
                "account_manager": "li@xiaowei.example",
                "default_price_list": p.price_list or "",
            },
        )
    for p in ds.SUPPLIERS:
        erp.insert("Supplier", {"name": p.code, "supplier_name": p.name, "email_id": p.email})
    for prod in ds.PRODUCTS:
        erp.insert(
            "Item",
            {
                "name": prod.sku,
                "item_code": prod.sku,
                "item_name": prod.name,
                "standard_rate": float(prod.list_price),
                "valuation_rate": float(prod.cost),
                "stock_uom": "件",
            },
        )
        erp.insert(
            "Item Price",
            {
                "item_code": prod.sku,
                "price_list": "Standard Selling",
                "price_list_rate": float(prod.list_price),
                "currency": ds.CURRENCY,
                "selling": 1,
            },
        )
    for list_name, sku, price in ds.CUSTOMER_PRICES:
        erp.insert(
            "Item Price",
            {
                "item_code": sku,
                "price_list": list_name,
                "price_list_rate": float(price),
                "currency": ds.CURRENCY,
                "selling": 1,
            },
        )
    for _code, name in ds.WAREHOUSES:
        erp.insert("Warehouse", {"name": f"{name} - {COMPANY_ABBR}", "warehouse_name": name})
    for s in ds.STOCK:
        erp.insert(
            "Bin",
            {
                "item_code": s.sku,
                "warehouse": f"{ds.warehouse_name(s.warehouse)} - {COMPANY_ABBR}",
                "actual_qty": float(s.on_hand),
                "reserved_qty": float(s.reserved),
            },
        )
    status = {"draft": (0, "Draft"), "confirmed": (1, "To Deliver and Bill")}
    for o in ds.SALES_ORDERS:
        docstatus, label = status[o.state]
        erp.insert(
            "Sales Order",
            {
                "name": o.number,
                "customer": o.party,
                "customer_name": ds.party(o.party).name,
                "status": label,
                "docstatus": docstatus,
                "grand_total": float(o.total),
                "currency": ds.CURRENCY,
                "transaction_date": o.ordered_at.astimezone(SITE_TZ).date().isoformat(),
                "creation": _local(o.ordered_at),
                "items": [
                    {
                        "item_code": li.sku,
                        "item_name": ds.product(li.sku).name,
                        "qty": float(li.quantity),
                        "rate": float(li.unit_price),
                        "amount": float(li.amount),
                        "warehouse": f"杭州仓 - {COMPANY_ABBR}",
                    }
                    for li in o.lines
                ],
            },
        )
    po_status = {"to_approve": (0, "Draft", "Pending Approval"), "approved": (1, "To Receive and Bill", "Approved")}
    for o in ds.PURCHASE_ORDERS:
        docstatus, label, workflow = po_status[o.state]
        erp.insert(
            "Purchase Order",
            {
                "name": o.number,
                "supplier": o.party,
                "supplier_name": ds.party(o.party).name,
                "status": label,
                "workflow_state": workflow,
                "docstatus": docstatus,
                "grand_total": float(o.total),
                "currency": ds.CURRENCY,
                "transaction_date": o.ordered_at.astimezone(SITE_TZ).date().isoformat(),
                "creation": _local(o.ordered_at),
                "items": [
                    {
                        "item_code": li.sku,
                        "item_name": ds.product(li.sku).name,
                        "qty": float(li.quantity),
                        "rate": float(li.unit_price),
                        "amount": float(li.amount),
                    }
                    for li in o.lines
                ],
            },
        )
    for inv in ds.INVOICES:
        label = "Paid" if inv.paid else ("Partly Paid" if inv.amount_due < inv.amount else "Unpaid")
        erp.insert(
            "Sales Invoice",
            {
                "name": inv.number,
                "customer": inv.party,
                "customer_name": ds.party(inv.party).name,
                "status": label,
                "docstatus": 1,
                "grand_total": float(inv.amount),
                "outstanding_amount": float(inv.amount_due),
                "currency": ds.CURRENCY,
                "posting_date": inv.invoice_date.isoformat(),
                "due_date": inv.due_date.isoformat(),
            },
        )
    return erp
