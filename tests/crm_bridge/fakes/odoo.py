"""A fake Odoo speaking both external APIs over loopback HTTP, faithful where the adapter
depends on Odoo's behaviour:

* ``POST /jsonrpc`` — services ``common`` (``version``, ``login``, ``authenticate``),
  ``object`` (``execute_kw``, ``execute``), ``db`` (``list``); errors with HTTP 200 and
  ``{"error": {"code": 200, "message": "Odoo Server Error", "data": {"name", "message", ...}}}``.
* ``POST /json/2/<model>/<method>`` — named arguments as the JSON body, ``Authorization:
  bearer <api key>``, ``X-Odoo-Database``; errors as HTTP status + ``{"name", "message"}``.
* ORM semantics: ``False`` for empty, many2one read as ``[id, display_name]`` (products as
  ``"[CODE] Name"``), naive UTC datetime strings, ``write_date`` stamped to the second on every
  write, domains in prefix notation (``&``, ``|``, ``!``, implicit AND) with dotted paths and
  the usual operators, archived records hidden unless ``active`` is in the domain, ``order``
  strings, ``offset``/``limit``, unknown fields rejected, private methods refused, per-user
  write access.
* Business methods: ``sale.order.action_confirm`` / ``action_cancel``,
  ``purchase.order.button_confirm`` (double validation above a limit → ``to approve``) /
  ``button_approve`` / ``button_cancel``, ``message_post`` (stored as ``mail.message``).
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.crm_bridge.fakes import dataset as ds
from tests.crm_bridge.fakes.base import FakeServer, Reply

M2O: dict[str, dict[str, str]] = {
    "res.partner": {
        "user_id": "res.users",
        "property_product_pricelist": "product.pricelist",
        "parent_id": "res.partner",
    },
    "res.users": {},
    "res.currency": {},
    "product.template": {},
    "product.product": {"uom_id": "uom.uom", "product_tmpl_id": "product.template"},
    "uom.uom": {},
    "stock.warehouse": {},
    "stock.location": {"warehouse_id": "stock.warehouse"},
    "stock.quant": {
        "product_id": "product.product",
        "location_id": "stock.location",
        "warehouse_id": "stock.warehouse",
    },
    "stock.warehouse.orderpoint": {"product_id": "product.product", "warehouse_id": "stock.warehouse"},
    "product.pricelist": {"currency_id": "res.currency"},
    "product.pricelist.item": {
        "pricelist_id": "product.pricelist",
        "product_id": "product.product",
        "product_tmpl_id": "product.template",
        "currency_id": "res.currency",
    },
    "sale.order": {
        "partner_id": "res.partner",
        "currency_id": "res.currency",
        "user_id": "res.users",
        "warehouse_id": "stock.warehouse",
    },
    "sale.order.line": {"order_id": "sale.order", "product_id": "product.product", "currency_id": "res.currency"},
    "purchase.order": {"partner_id": "res.partner", "currency_id": "res.currency", "user_id": "res.users"},
    "purchase.order.line": {
        "order_id": "purchase.order",
        "product_id": "product.product",
        "currency_id": "res.currency",
    },
    "account.move": {"partner_id": "res.partner", "currency_id": "res.currency", "invoice_user_id": "res.users"},
    "mail.message": {},
}
O2M: dict[str, dict[str, tuple[str, str]]] = {
    "sale.order": {"order_line": ("sale.order.line", "order_id")},
    "purchase.order": {"order_line": ("purchase.order.line", "order_id")},
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "res.partner": {
        "name": False,
        "ref": False,
        "email": False,
        "phone": False,
        "city": False,
        "vat": False,
        "user_id": False,
        "comment": False,
        "customer_rank": 0,
        "supplier_rank": 0,
        "property_product_pricelist": False,
        "is_company": True,
        "parent_id": False,
        "function": False,
        "active": True,
    },
    "res.users": {"name": False, "login": False},
    "res.currency": {"name": False},
    "product.template": {"name": False},
    "uom.uom": {"name": False},
    "product.product": {
        "name": False,
        "default_code": False,
        "barcode": False,
        "list_price": 0.0,
        "standard_price": 0.0,
        "qty_available": 0.0,
        "uom_id": False,
        "product_tmpl_id": False,
        "active": True,
    },
    "stock.warehouse": {"name": False, "code": False},
    "stock.location": {"name": False, "usage": "internal", "warehouse_id": False},
    "stock.quant": {
        "product_id": False,
        "location_id": False,
        "warehouse_id": False,
        "quantity": 0.0,
        "reserved_quantity": 0.0,
    },
    "stock.warehouse.orderpoint": {"product_id": False, "warehouse_id": False, "product_min_qty": 0.0},
    "product.pricelist": {"name": False, "currency_id": False},
    "product.pricelist.item": {
        "pricelist_id": False,
        "product_id": False,
        "product_tmpl_id": False,
        "min_quantity": 0.0,
        "compute_price": "fixed",
        "fixed_price": 0.0,
        "percent_price": 0.0,
        "date_start": False,
        "date_end": False,
        "currency_id": False,
    },
    "sale.order": {
        "name": False,
        "partner_id": False,
        "state": "draft",
        "amount_total": 0.0,
        "amount_untaxed": 0.0,
        "currency_id": False,
        "date_order": False,
        "user_id": False,
        "client_order_ref": False,
        "warehouse_id": False,
    },
    "sale.order.line": {
        "order_id": False,
        "product_id": False,
        "name": False,
        "product_uom_qty": 0.0,
        "price_unit": 0.0,
        "price_subtotal": 0.0,
        "currency_id": False,
        "sequence": 10,
    },
    "purchase.order": {
        "name": False,
        "partner_id": False,
        "state": "draft",
        "amount_total": 0.0,
        "amount_untaxed": 0.0,
        "currency_id": False,
        "date_order": False,
        "user_id": False,
        "partner_ref": False,
    },
    "purchase.order.line": {
        "order_id": False,
        "product_id": False,
        "name": False,
        "product_qty": 0.0,
        "price_unit": 0.0,
        "price_subtotal": 0.0,
        "currency_id": False,
        "sequence": 10,
    },
    "account.move": {
        "name": False,
        "partner_id": False,
        "state": "draft",
        "payment_state": "not_paid",
        "move_type": "entry",
        "amount_total": 0.0,
        "amount_residual": 0.0,
        "currency_id": False,
        "invoice_date": False,
        "invoice_date_due": False,
        "invoice_user_id": False,
        "ref": False,
    },
    "mail.message": {
        "model": False,
        "res_id": 0,
        "body": False,
        "message_type": False,
        "subtype_xmlid": False,
        "author": False,
    },
}
PO_DOUBLE_VALIDATION_AMOUNT = 5000.0
READ_ONLY_METHODS = {"search", "search_read", "search_count", "read", "context_get", "fields_get", "name_search"}


class OdooError(Exception):
    def __init__(self, name: str, message: str, status: int) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.status = status


def access_error(message: str) -> OdooError:
    return OdooError("odoo.exceptions.AccessError", message, 403)


def user_error(message: str) -> OdooError:
    return OdooError("odoo.exceptions.UserError", message, 422)


def _like(pattern: str, value: str, *, exact: bool, case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    if not exact:
        regex = f".*{regex}.*"
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE | re.DOTALL) is not None


class FakeOdoo(FakeServer):
    database = "teashop"

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in DEFAULTS}
        self.next_id: dict[str, int] = dict.fromkeys(DEFAULTS, 1)
        # uid → (login, password, api key, may write)
        self.users: dict[int, tuple[str, str, str, bool]] = {}
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.calls: list[tuple[str, str]] = []  # (model, method) of every ORM call
        self.version = "17.0"

    # --- data -------------------------------------------------------------------------------

    def now(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def create(self, model: str, /, **values: Any) -> int:
        with self.lock:
            unknown = set(values) - set(DEFAULTS[model]) - {"write_date", "create_date"}
            assert not unknown, f"{model} has no fields {unknown}"
            rid = self.next_id[model]
            self.next_id[model] += 1
            stamp = self.now()
            self.tables[model][rid] = {
                **DEFAULTS[model],
                **values,
                "id": rid,
                "write_date": stamp,
                "create_date": stamp,
            }
            return rid

    def touch(self, model: str, rid: int, **values: Any) -> None:
        """Someone else edits the record in Odoo (its write_date moves)."""
        with self.lock:
            self.tables[model][rid].update(values, write_date=self.now())

    def find(self, model: str, **values: Any) -> int:
        return next(rid for rid, row in self.tables[model].items() if all(row.get(k) == v for k, v in values.items()))

    def add_user(self, login: str, password: str, api_key: str, *, can_write: bool = True) -> int:
        uid = self.create("res.users", name=login, login=login)
        self.users[uid] = (login, password, api_key, can_write)
        return uid

    def display_name(self, model: str, rid: int) -> str:
        row = self.tables[model].get(rid)
        if row is None:
            return ""
        if model == "product.product" and row.get("default_code"):
            return f"[{row['default_code']}] {row['name']}"
        return str(row.get("name") or "")

    # --- reading ----------------------------------------------------------------------------

    def _raw(self, model: str, row: dict[str, Any], path: str) -> Any:
        """The value at a (dotted) path: many2one as an id, for domain evaluation."""
        head, _, rest = path.partition(".")
        if head == "id":
            return row["id"]
        if head not in row and head not in O2M.get(model, {}):
            raise OdooError("builtins.ValueError", f"Invalid field {head!r} in leaf on model {model!r}", 500)
        value = row.get(head, False)
        if not rest:
            return value
        target = M2O[model].get(head)
        if target is None or not value:
            return False
        return self._raw(target, self.tables[target][value], rest)

    def _match(self, model: str, row: dict[str, Any], leaf: list[Any]) -> bool:
        path, op, value = leaf
        raw = self._raw(model, row, path)
        head = path.split(".")[-1]
        is_m2o = M2O[model].get(path) is not None
        if is_m2o and op in ("ilike", "not ilike", "like", "=like", "=ilike") and raw:
            raw = self.display_name(M2O[model][path], raw)
        if op == "=":
            return raw == value or (value is False and raw in (False, None, 0) and head != "id")
        if op == "!=":
            return not (raw == value or (value is False and raw in (False, None)))
        if op in ("in", "not in"):
            inside = raw in value or (raw is False and False in value)
            return inside if op == "in" else not inside
        if op in (">", ">=", "<", "<="):
            if raw is False or raw is None:
                return False
            ops: dict[str, Callable[[Any, Any], bool]] = {
                ">": lambda a, b: a > b,
                ">=": lambda a, b: a >= b,
                "<": lambda a, b: a < b,
                "<=": lambda a, b: a <= b,
            }
            return ops[op](raw, value)
        text = "" if raw in (False, None) else str(raw)
        if op == "ilike":
            return str(value).casefold() in text.casefold()
        if op == "not ilike":
            return str(value).casefold() not in text.casefold()
        if op == "like":
            return str(value) in text
        if op == "=ilike":
            return _like(str(value), text, exact=True, case=False)
        if op == "=like":
            return _like(str(value), text, exact=True, case=True)
        raise OdooError("builtins.ValueError", f"Invalid leaf operator {op!r}", 500)

    def _eval(self, model: str, row: dict[str, Any], domain: list[Any]) -> bool:
        """Polish (prefix) notation; terms without an operator are ANDed."""
        stack: list[bool] = []
        for term in reversed(domain):
            if term == "&":
                stack.append(stack.pop() & stack.pop())
            elif term == "|":
                stack.append(stack.pop() | stack.pop())
            elif term == "!":
                stack.append(not stack.pop())
            elif isinstance(term, list | tuple) and len(term) == 3:
                stack.append(self._match(model, row, list(term)))
            elif term in (True, False) or term in ([1, "=", 1], [0, "=", 1]):
                stack.append(bool(term))
            else:
                raise OdooError("builtins.ValueError", f"Invalid domain term {term!r}", 500)
        return all(stack)

    def search(
        self, model: str, domain: list[Any] | None = None, offset: int = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        domain = list(domain or [])
        if model not in self.tables:
            raise OdooError("builtins.KeyError", f"Object {model} doesn't exist", 404)
        rows = list(self.tables[model].values())
        if "active" in DEFAULTS[model] and not any(isinstance(t, list | tuple) and t[0] == "active" for t in domain):
            rows = [r for r in rows if r.get("active")]
        rows = [r for r in rows if self._eval(model, r, domain)]
        for part in reversed([p.strip() for p in (order or "id").split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            desc = direction.strip().lower() == "desc"
            # PostgreSQL: NULLs sort last ascending, first descending.
            rows.sort(key=lambda r, n=name: (r.get(n) in (False, None), _sortable(r.get(n))), reverse=desc)
        rows = rows[int(offset or 0) :]
        if limit:
            rows = rows[: int(limit)]
        return [r["id"] for r in rows]

    def read(self, model: str, ids: list[int], fields: list[str] | None = None) -> list[dict[str, Any]]:
        result = []
        for rid in ids:
            row = self.tables[model].get(rid)
            if row is None:
                raise OdooError(
                    "odoo.exceptions.MissingError",
                    f"Record does not exist or has been deleted.\n(Record: {model}({rid},), User: 2)",
                    404,
                )
            wanted = fields or [k for k in row if k != "active"]
            out: dict[str, Any] = {"id": rid}
            for name in wanted:
                if name == "id":
                    continue
                if name in O2M.get(model, {}):
                    child, inverse = O2M[model][name]
                    out[name] = sorted(c["id"] for c in self.tables[child].values() if c[inverse] == rid)
                elif name not in row:
                    raise OdooError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}", 500)
                elif name in M2O[model] and row[name]:
                    out[name] = [row[name], self.display_name(M2O[model][name], row[name])]
                else:
                    out[name] = row[name]
            result.append(out)
        return result

    # --- business methods -------------------------------------------------------------------

    def _write(self, model: str, ids: list[int], values: dict[str, Any]) -> bool:
        for rid in ids:
            if rid not in self.tables[model]:
                raise OdooError("odoo.exceptions.MissingError", "Record does not exist or has been deleted.", 404)
            self.tables[model][rid].update(values, write_date=self.now())
        return True

    def call(self, uid: int, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if method.startswith("_"):
            raise access_error(f"Private methods (such as {model}.{method}) cannot be called remotely.")
        if model not in self.tables:
            raise OdooError("builtins.KeyError", f"Object {model} doesn't exist", 404)
        if method not in READ_ONLY_METHODS and not self.users[uid][3]:
            raise access_error(f"You are not allowed to modify '{model}' records.")
        kwargs = {k: v for k, v in kwargs.items() if k != "context"}
        with self.lock:
            self.calls.append((model, method))
            if method == "search":
                return self.search(model, *args, **kwargs)
            if method == "search_count":
                return len(self.search(model, *args, **kwargs))
            if method == "search_read":
                names = ["domain", "fields", "offset", "limit", "order"]
                named = dict(zip(names, args, strict=False)) | kwargs
                fields = named.pop("fields", None)
                return self.read(model, self.search(model, **named), fields)
            if method == "read":
                ids, *rest = args
                return self.read(model, ids, *rest, **kwargs)
            if method == "context_get":
                return {"lang": "zh_CN", "tz": "Asia/Shanghai", "uid": uid}
            if method == "write":
                ids, values = args[0], args[1] if len(args) > 1 else kwargs["vals"]
                return self._write(model, ids, values)
            if method == "create":
                values = args[0] if args else kwargs.get("vals_list") or kwargs.get("vals")
                many = values if isinstance(values, list) else [values]
                new = [self.create(model, **v) for v in many]
                return new if isinstance(values, list) else new[0]
            ids = list(args[0]) if args else list(kwargs.pop("ids", []))
            return self._business(model, method, ids, kwargs, uid)

    def _business(self, model: str, method: str, ids: list[int], kwargs: dict[str, Any], uid: int) -> Any:
        rows = []
        for rid in ids:
            if rid not in self.tables[model]:
                raise OdooError("odoo.exceptions.MissingError", "Record does not exist or has been deleted.", 404)
            rows.append(self.tables[model][rid])
        if method == "message_post":
            if len(rows) != 1:
                raise OdooError("builtins.ValueError", f"Expected singleton: {model}{tuple(ids)}", 500)
            return self.create(
                "mail.message",
                model=model,
                res_id=ids[0],
                body=kwargs.get("body", ""),
                message_type=kwargs.get("message_type", "notification"),
                subtype_xmlid=kwargs.get("subtype_xmlid", False),
                author=self.users[uid][0],
            )
        key = (model, method)
        if key == ("sale.order", "action_confirm"):
            for row in rows:
                if row["state"] not in ("draft", "sent"):
                    raise user_error(f"It is not allowed to confirm an order in the following states: {row['state']}")
            return self._write(model, ids, {"state": "sale"})
        if key == ("sale.order", "action_cancel"):
            for row in rows:
                if row["state"] == "done":
                    raise user_error("You cannot cancel a locked order. Please unlock it first.")
            return self._write(model, ids, {"state": "cancel"})
        if key == ("purchase.order", "button_confirm"):
            for row in rows:
                if row["state"] in ("draft", "sent"):
                    state = "to approve" if row["amount_total"] >= PO_DOUBLE_VALIDATION_AMOUNT else "purchase"
                    self._write(model, [row["id"]], {"state": state})
            return True
        if key == ("purchase.order", "button_approve"):
            for row in rows:
                if row["state"] not in ("to approve", "draft", "sent"):
                    raise user_error("Only orders waiting for approval can be approved.")
            return self._write(model, ids, {"state": "purchase"})
        if key == ("purchase.order", "button_cancel"):
            for row in rows:
                if row["state"] == "done":
                    raise user_error("Unable to cancel purchase order(s) that are locked.")
            return self._write(model, ids, {"state": "cancel"})
        raise OdooError("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'", 404)

    # --- authentication ---------------------------------------------------------------------

    def _login(self, db: str, login: str, secret: str) -> int | bool:
        if db != self.database:
            return False
        for uid, (user_login, password, api_key, _) in self.users.items():
            if user_login == login and secret in (password, api_key):
                return uid
        return False

    def _check(self, db: str, uid: Any, secret: str) -> int:
        if db != self.database or uid not in self.users or secret not in self.users[uid][1:3]:
            raise OdooError("odoo.exceptions.AccessDenied", "Access Denied", 401)
        return int(uid)

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "POST" and path == "/jsonrpc":
            return self._jsonrpc(body)
        match = re.fullmatch(r"/json/2/([a-z0-9_.]+)/([A-Za-z0-9_]+)", path.split("?")[0])
        if method == "POST" and match:
            return self._json2(match[1], match[2], headers, body)
        return Reply(404, {"name": "werkzeug.exceptions.NotFound", "message": "Not Found"})

    def _jsonrpc(self, body: bytes) -> Reply:
        request_id = None
        try:
            payload = json.loads(body)
            request_id = payload.get("id")
            params = payload["params"]
            service, method, args = params["service"], params["method"], list(params.get("args", []))
            result = self._dispatch_rpc(service, method, args)
        except OdooError as exc:
            error = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": exc.name,
                    "debug": "Traceback (most recent call last):\n  ...\n" + f"{exc.name}: {exc.message}",
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                },
            }
            return Reply(200, {"jsonrpc": "2.0", "id": request_id, "error": error})
        except (ValueError, KeyError, TypeError) as exc:
            error = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": f"builtins.{type(exc).__name__}",
                    "message": str(exc),
                    "debug": traceback.format_exc(),
                },
            }
            return Reply(200, {"jsonrpc": "2.0", "id": request_id, "error": error})
        return Reply(200, {"jsonrpc": "2.0", "id": request_id, "result": result})

    def _dispatch_rpc(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common":
            if method == "version":
                return {
                    "server_version": self.version,
                    "server_version_info": [17, 0, 0, "final", 0, ""],
                    "protocol_version": 1,
                }
            if method == "login":
                return self._login(*args[:3])
            if method == "authenticate":
                return self._login(*args[:3])
        if service == "db" and method == "list":
            return [self.database]
        if service == "object" and method in ("execute_kw", "execute"):
            db, uid, secret, model, model_method, *rest = args
            uid = self._check(db, uid, secret)
            if method == "execute_kw":
                call_args = list(rest[0]) if rest else []
                call_kwargs = dict(rest[1]) if len(rest) > 1 and rest[1] else {}
            else:
                call_args, call_kwargs = list(rest), {}
            return self.call(uid, model, model_method, call_args, call_kwargs)
        raise OdooError("builtins.NameError", f"Unknown method {service}.{method}", 404)

    def _json2(self, model: str, method: str, headers: dict[str, str], body: bytes) -> Reply:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        uid = next((u for u, (_, _, api_key, _) in self.users.items() if api_key and api_key == key.strip()), None)
        if scheme.lower() != "bearer" or uid is None:
            return Reply(
                401, {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey", "arguments": []}
            )
        if headers.get("x-odoo-database", self.database) != self.database:
            return Reply(404, {"name": "werkzeug.exceptions.NotFound", "message": "database not found"})
        try:
            named = json.loads(body or b"{}")
            if not isinstance(named, dict):
                raise OdooError("werkzeug.exceptions.BadRequest", "the body must be a JSON object", 400)
            ids = named.pop("ids", None)
            args: list[Any] = []
            if ids is not None:
                args = [ids]
            elif method in ("write",):
                raise OdooError("werkzeug.exceptions.UnprocessableEntity", "missing ids", 422)
            if method == "write":
                args.append(named.pop("vals"))
            result = self.call(uid, model, method, args, named)
        except OdooError as exc:
            return Reply(
                exc.status,
                {"name": exc.name, "message": exc.message, "arguments": [exc.message], "context": {}, "debug": ""},
            )
        except (ValueError, KeyError, TypeError) as exc:
            return Reply(
                500,
                {
                    "name": f"builtins.{type(exc).__name__}",
                    "message": str(exc),
                    "arguments": [],
                    "context": {},
                    "debug": "",
                },
            )
        return Reply(200, result)


def _sortable(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else 0
    if value in (False, None):
        return ""
    return value


# --- seeding ---------------------------------------------------------------------------------

LOGIN, PASSWORD, API_KEY = "admin", "admin-pw", "odoo-api-key-0123456789abcdef"
READONLY_LOGIN, READONLY_PASSWORD, READONLY_KEY = "viewer", "viewer-pw", "odoo-viewer-key-0123456789"


def _f(value: Decimal) -> float:
    return float(value)


def _dt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def seeded_odoo() -> FakeOdoo:
    """A fake Odoo holding the shared data set (tests/crm_bridge/fakes/dataset.py)."""
    odoo = FakeOdoo()
    odoo.add_user(LOGIN, PASSWORD, API_KEY)
    odoo.add_user(READONLY_LOGIN, READONLY_PASSWORD, READONLY_KEY, can_write=False)
    cny = odoo.create("res.currency", name=ds.CURRENCY)
    unit = odoo.create("uom.uom", name="件")
    salesman = odoo.create("res.users", name="李经理", login="li")
    pricelists = {
        name: odoo.create("product.pricelist", name=name, currency_id=cny) for name, _, _ in ds.CUSTOMER_PRICES
    }
    partners: dict[str, int] = {}
    for p in ds.CUSTOMERS:
        partners[p.code] = odoo.create(
            "res.partner",
            name=p.name,
            ref=p.code,
            email=p.email,
            customer_rank=1,
            user_id=salesman,
            property_product_pricelist=pricelists.get(p.price_list or "", False),
            comment="<p>内部：付款慢</p>",
        )
    for p in ds.SUPPLIERS:
        partners[p.code] = odoo.create("res.partner", name=p.name, ref=p.code, email=p.email, supplier_rank=1)
    # An archived customer: Odoo hides it unless the domain asks for ``active``.
    odoo.create("res.partner", name="西湖旧客户", ref="C9999", customer_rank=1, active=False)
    products: dict[str, int] = {}
    for prod in ds.PRODUCTS:
        tmpl = odoo.create("product.template", name=prod.name)
        products[prod.sku] = odoo.create(
            "product.product",
            name=prod.name,
            default_code=prod.sku,
            list_price=_f(prod.list_price),
            standard_price=_f(prod.cost),
            uom_id=unit,
            product_tmpl_id=tmpl,
        )
    warehouses: dict[str, int] = {}
    locations: dict[str, int] = {}
    for code, name in ds.WAREHOUSES:
        warehouses[code] = odoo.create("stock.warehouse", name=name, code=code)
        locations[code] = odoo.create(
            "stock.location", name=f"{code}/Stock", usage="internal", warehouse_id=warehouses[code]
        )
    transit = odoo.create("stock.location", name="Partners/Customers", usage="customer")
    for s in ds.STOCK:
        odoo.create(
            "stock.quant",
            product_id=products[s.sku],
            location_id=locations[s.warehouse],
            warehouse_id=warehouses[s.warehouse],
            quantity=_f(s.on_hand),
            reserved_quantity=_f(s.reserved),
        )
    # Goods already at the customer's: not stock (the adapter must only count internal locations).
    odoo.create("stock.quant", product_id=products["LJ-250"], location_id=transit, quantity=999.0)
    for sku, wh, qty in ds.REORDER_POINTS:
        odoo.create(
            "stock.warehouse.orderpoint", product_id=products[sku], warehouse_id=warehouses[wh], product_min_qty=_f(qty)
        )
    for list_name, sku, price in ds.CUSTOMER_PRICES:
        odoo.create(
            "product.pricelist.item",
            pricelist_id=pricelists[list_name],
            product_id=products[sku],
            compute_price="fixed",
            fixed_price=_f(price),
            min_quantity=0.0,
        )
    # Odoo-only extra (not in the contract data set): a quantity break at 10 units.
    odoo.create(
        "product.pricelist.item",
        pricelist_id=pricelists["VIP 客户价"],
        product_id=products["LJ-250"],
        compute_price="fixed",
        fixed_price=150.0,
        min_quantity=10.0,
    )
    sale_state = {"draft": "draft", "confirmed": "sale"}
    for o in ds.SALES_ORDERS:
        oid = odoo.create(
            "sale.order",
            name=o.number,
            partner_id=partners[o.party],
            state=sale_state[o.state],
            amount_total=_f(o.total),
            amount_untaxed=_f(o.total),
            currency_id=cny,
            date_order=_dt(o.ordered_at),
            user_id=salesman,
            warehouse_id=warehouses["WH-HZ"],
        )
        for line in o.lines:
            odoo.create(
                "sale.order.line",
                order_id=oid,
                product_id=products[line.sku],
                name=ds.product(line.sku).name,
                product_uom_qty=_f(line.quantity),
                price_unit=_f(line.unit_price),
                price_subtotal=_f(line.amount),
                currency_id=cny,
            )
    purchase_state = {"draft": "draft", "to_approve": "to approve", "approved": "purchase"}
    for o in ds.PURCHASE_ORDERS:
        oid = odoo.create(
            "purchase.order",
            name=o.number,
            partner_id=partners[o.party],
            state=purchase_state[o.state],
            amount_total=_f(o.total),
            amount_untaxed=_f(o.total),
            currency_id=cny,
            date_order=_dt(o.ordered_at),
        )
        for line in o.lines:
            odoo.create(
                "purchase.order.line",
                order_id=oid,
                product_id=products[line.sku],
                name=ds.product(line.sku).name,
                product_qty=_f(line.quantity),
                price_unit=_f(line.unit_price),
                price_subtotal=_f(line.amount),
                currency_id=cny,
            )
    for inv in ds.INVOICES:
        odoo.create(
            "account.move",
            name=inv.number,
            partner_id=partners[inv.party],
            state="posted",
            move_type="out_invoice",
            payment_state="paid" if inv.paid else ("partial" if inv.amount_due < inv.amount else "not_paid"),
            amount_total=_f(inv.amount),
            amount_residual=_f(inv.amount_due),
            currency_id=cny,
            invoice_date=inv.invoice_date.isoformat(),
            invoice_date_due=inv.due_date.isoformat(),
            invoice_user_id=salesman,
        )
    # A vendor bill: not a customer invoice, must not show up as one.
    odoo.create(
        "account.move", name="BILL/2026/0001", partner_id=partners["S0001"], state="posted", move_type="in_invoice"
    )
    return odoo
