"""The HTTP edge shared by the Odoo and REST adapters: explicit timeouts, one ``requests``
session per thread, and every transport failure turned into the interface's typed errors.

The one rule that matters most here: a *write* whose response never came (read timeout, a
gateway timeout, a dropped connection after the request was sent) may have happened. It raises
``OutcomeUnknown`` so that the caller reconciles by re-reading — never by sending it again.
A connect failure means nothing reached the server, so it is a plain ``SourceUnavailable``.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from crm_bridge.sources.base import (
    OutcomeUnknown,
    RateLimited,
    SourceError,
    SourcePermissionDenied,
    SourceUnavailable,
)

# Statuses that say the request was refused before any work was done: safe to call "unavailable"
# even for a write. Any other 5xx on a write leaves the outcome unknown.
_NOT_PROCESSED = {502, 503}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


class HttpTransport:
    """POST/GET JSON to one base URL. Thread-safe: each thread gets its own session (a
    ``requests.Session`` shares a connection pool and cookies that are not safe to mutate
    from several threads)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, timeout)
        self.headers = dict(headers or {})
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Accept": "application/json", "User-Agent": "XiaoweiHub-ERP-Bridge/1"})
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        write: bool = False,
    ) -> requests.Response:
        """Send one request; returns the response for statuses below 500 other than 401, 403
        and 429 (callers read their own error bodies for 4xx)."""
        url = self.base_url + path
        merged = {**self.headers, **(headers or {})}
        try:
            response = self._session().request(
                method, url, json=json, params=params, data=data, headers=merged, timeout=self.timeout
            )
        except requests.ConnectTimeout:
            raise SourceUnavailable(f"cannot connect to {self.base_url}: timed out") from None
        except requests.ReadTimeout:
            if write:
                raise OutcomeUnknown(
                    f"{self.base_url} did not answer in time: the change may or may not have been made"
                ) from None
            raise SourceUnavailable(f"{self.base_url} did not answer in time") from None
        except requests.ConnectionError as exc:
            # A refused connection never reached the server; a reset mid-response might have.
            if write and not _is_connect_failure(exc):
                raise OutcomeUnknown(f"connection to {self.base_url} dropped: the outcome is unknown") from None
            raise SourceUnavailable(f"cannot reach {self.base_url}") from None
        except requests.RequestException as exc:
            raise SourceError(f"bad request to {self.base_url}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"{self.base_url} is rate limiting us",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403) and not _has_json_body(response):
            raise SourcePermissionDenied(f"{self.base_url} refused the credentials (HTTP {status})")
        if status >= 500 and not _has_json_body(response):
            if write and status not in _NOT_PROCESSED:
                raise OutcomeUnknown(f"{self.base_url} failed (HTTP {status}) while changing a record")
            raise SourceUnavailable(f"{self.base_url} answered HTTP {status}")
        return response


def _has_json_body(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"


def _is_connect_failure(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolutionError"))


def check_public_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs a tenant admin must not point the server at (SSRF guard) unless private
    hosts are allowed (``HUB_ERP_ALLOW_PRIVATE_HOSTS``). Raises ValueError with the reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must start with http:// or https:// and name a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValueError(f"cannot resolve {parts.hostname}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise ValueError(f"{parts.hostname} is a private address, which this server does not call")
