"""Odoo's two external APIs behind one call: ``call(model, method, ids=..., **named_args)``.

* **JSON-RPC** (Odoo ≤ 18; still served by 19): ``POST /jsonrpc`` with
  ``{"service": "object", "method": "execute_kw", "args": [db, uid, password, model, method,
  args, kwargs]}``. The uid comes from ``common.authenticate``. Errors arrive with HTTP 200
  as ``{"error": {"code": 200, "message": "Odoo Server Error", "data": {"name":
  "odoo.exceptions.AccessError", "message": ...}}}``.
* **JSON-2** (Odoo ≥ 19): ``POST /json/2/<model>/<method>`` with the named arguments as the
  JSON body (``ids``, ``domain``, ``fields``, ``context``…), ``Authorization: bearer <API
  key>`` and ``X-Odoo-Database``. Errors are an HTTP status with ``{"name", "message"}``.

Both are reached with named arguments only (``execute_kw`` accepts them as kwargs), so the
adapter above is protocol-agnostic. Exceptions are mapped to the interface's typed errors by
the Odoo exception name first, then by HTTP status.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Protocol

from crm_bridge.sources.base import (
    InvalidTransition,
    RecordNotFound,
    SourceError,
    SourcePermissionDenied,
    SourceUnavailable,
)
from crm_bridge.sources.http import HttpTransport

_ERROR_BY_NAME: dict[str, type[SourceError]] = {
    "odoo.exceptions.AccessDenied": SourcePermissionDenied,
    "odoo.exceptions.AccessError": SourcePermissionDenied,
    "odoo.http.SessionExpiredException": SourcePermissionDenied,
    "werkzeug.exceptions.Unauthorized": SourcePermissionDenied,
    "werkzeug.exceptions.Forbidden": SourcePermissionDenied,
    "odoo.exceptions.MissingError": RecordNotFound,
    "werkzeug.exceptions.NotFound": RecordNotFound,
    # A business rule refused the call ("only orders to approve can be approved", a constraint).
    "odoo.exceptions.UserError": InvalidTransition,
    "odoo.exceptions.ValidationError": InvalidTransition,
}
_ERROR_BY_STATUS: dict[int, type[SourceError]] = {
    401: SourcePermissionDenied,
    403: SourcePermissionDenied,
    404: RecordNotFound,
    422: InvalidTransition,
}


def odoo_error(name: str, message: str, status: int | None = None) -> SourceError:
    cls = _ERROR_BY_NAME.get(name) or (_ERROR_BY_STATUS.get(status) if status else None) or SourceError
    short = name.rsplit(".", 1)[-1] if name else "error"
    return cls(f"Odoo {short}: {message}" if message else f"Odoo {short}")


class OdooClient(Protocol):
    def call(self, model: str, method: str, *, ids: list[int] | None = None, write: bool = False, **kwargs: Any) -> Any:
        """Run ``model.method`` on ``ids`` (record methods) or on the model, with named
        arguments. ``write=True`` marks calls that change data (never retried; a timeout is
        OutcomeUnknown)."""

    def server_version(self) -> str: ...


class JsonRpcClient:
    def __init__(self, transport: HttpTransport, database: str, login: str, password: str) -> None:
        self.transport = transport
        self.database = database
        self.login = login
        self._password = password
        self._uid: int | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _rpc(self, service: str, method: str, args: list[Any], *, write: bool = False) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        response = self.transport.request("POST", "/jsonrpc", json=payload, write=write)
        try:
            body = response.json()
        except ValueError:
            raise SourceUnavailable(f"Odoo answered HTTP {response.status_code} without JSON") from None
        if not isinstance(body, dict):
            raise SourceError("Odoo answered with something that is not a JSON-RPC response")
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            raise odoo_error(str(data.get("name", "")), str(data.get("message") or error.get("message", "")))
        return body.get("result")

    def uid(self) -> int:
        with self._lock:
            if self._uid is None:
                uid = self._rpc("common", "authenticate", [self.database, self.login, self._password, {}])
                if not uid:
                    raise SourcePermissionDenied("Odoo refused the login (wrong database, user or password/API key)")
                self._uid = int(uid)
            return self._uid

    def call(self, model: str, method: str, *, ids: list[int] | None = None, write: bool = False, **kwargs: Any) -> Any:
        args: list[Any] = [ids] if ids is not None else []
        return self._rpc(
            "object",
            "execute_kw",
            [self.database, self.uid(), self._password, model, method, args, kwargs],
            write=write,
        )

    def server_version(self) -> str:
        info = self._rpc("common", "version", [])
        self.uid()  # proves the credentials too
        return str((info or {}).get("server_version", "?"))


class Json2Client:
    def __init__(self, transport: HttpTransport, database: str, api_key: str) -> None:
        self.transport = transport
        self.database = database
        self._headers = {"Authorization": f"bearer {api_key}", "X-Odoo-Database": database}

    def call(self, model: str, method: str, *, ids: list[int] | None = None, write: bool = False, **kwargs: Any) -> Any:
        body = dict(kwargs)
        if ids is not None:
            body["ids"] = ids
        response = self.transport.request(
            "POST", f"/json/2/{model}/{method}", json=body, headers=self._headers, write=write
        )
        try:
            payload = response.json()
        except ValueError:
            raise SourceUnavailable(f"Odoo answered HTTP {response.status_code} without JSON") from None
        if response.status_code == 200:
            return payload
        if not isinstance(payload, dict):
            payload = {}
        raise odoo_error(str(payload.get("name", "")), str(payload.get("message", "")), response.status_code)

    def server_version(self) -> str:
        context = self.call("res.users", "context_get")
        return f"JSON-2 (lang {context.get('lang', '?') if isinstance(context, dict) else '?'})"
