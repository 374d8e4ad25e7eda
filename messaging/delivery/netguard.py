"""Server-side request forgery guard: URLs that people configure (robots, apprise targets,
push endpoints) may only reach public hosts, unless ``HUB_NOTIFY_ALLOW_PRIVATE_TARGETS`` is on
(an intranet deployment whose robot relay lives on a private address; the test suite).

Two layers:

* ``check_url`` when a target is saved: a clear 400 for a loopback / private / link-local
  host or a scheme that makes no sense.
* ``guarded()`` around every send: the addresses a hostname resolves to *at connection time*
  are filtered, so DNS rebinding, redirects, and apprise's hundred plugins (each building its
  own URLs) cannot reach the metadata service or the intranet either. It wraps
  ``socket.getaddrinfo``, the one call through which requests/urllib3, smtplib and the rest
  resolve names; the wrapper changes nothing outside a ``guarded()`` block (a context
  variable, which apprise copies into its worker threads)."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from hub.errors import HubError

_blocking: ContextVar[bool] = ContextVar("hub_notify_block_private", default=False)
_original_getaddrinfo = socket.getaddrinfo
_install_lock = threading.Lock()
_installed = False


class BlockedAddress(socket.gaierror):
    """A name resolved only to non-public addresses inside ``guarded()``. A ``gaierror`` so that
    HTTP libraries report it as a failed connection, like any unresolvable host."""


def private_allowed() -> bool:
    return bool(getattr(settings, "HUB_NOTIFY_ALLOW_PRIVATE_TARGETS", False))


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    results = _original_getaddrinfo(host, port, *args, **kwargs)
    if not _blocking.get():
        return results
    public = [r for r in results if is_public_address(str(r[4][0]))]
    if not public:
        raise BlockedAddress(socket.EAI_NONAME, f"{host} is not a public address")
    return public


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            socket.getaddrinfo = _guarded_getaddrinfo
            _installed = True


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Inside: connections to non-public addresses fail (unless private targets are allowed)."""
    if private_allowed():
        yield
        return
    _install()
    token = _blocking.set(True)
    try:
        yield
    finally:
        _blocking.reset(token)


def was_blocked(exc: BaseException) -> bool:
    """Whether ``exc`` (often wrapped twice by urllib3 and requests) came from the guard."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BlockedAddress) or "is not a public address" in str(current):
            return True
        stack.extend(
            [current.__cause__, current.__context__, *[a for a in current.args if isinstance(a, BaseException)]]
        )
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False


def check_host(host: str) -> None:
    """Refuse a host that is, or resolves only to, a non-public address. A name that does not
    resolve now is let through: ``guarded()`` checks again at every connection."""
    if private_allowed():
        return
    if not host:
        raise HubError("invalid_url", "the URL has no host")
    try:
        infos = _original_getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return
    addresses = {str(info[4][0]) for info in infos}
    if addresses and not any(is_public_address(a) for a in addresses):
        raise HubError(
            "target_not_public",
            f"{host} is a loopback or private address; only public hosts can be notification targets",
        )


def check_url(url: str, *, schemes: tuple[str, ...] = ("https",)) -> str:
    """A well-formed http(s) URL to a public host; returns it stripped. Plain http is accepted
    only where private targets are allowed (an intranet relay): robot URLs carry their key."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise HubError("invalid_url", "this is not a valid URL") from None
    allowed = schemes + (("http",) if private_allowed() and "https" in schemes else ())
    if parts.scheme not in allowed:
        raise HubError("invalid_url", f"the URL must start with {' or '.join(s + '://' for s in allowed)}")
    if not parts.hostname:
        raise HubError("invalid_url", "the URL has no host")
    if port == 0:
        raise HubError("invalid_url", "the URL has an invalid port")
    check_host(parts.hostname)
    return url
