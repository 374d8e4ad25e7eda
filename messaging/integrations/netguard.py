"""Server-side request forgery guard for the URLs apps register (event subscriptions, slash
commands): only public hosts, unless ``HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS`` is on (an
intranet app; the test suite). Checked when a URL is saved and again before every request —
the name may resolve differently by then — and redirects are never followed, so a public
URL cannot bounce a request into the intranet or to the cloud metadata service. Around the
request itself, ``connection_guard`` filters the addresses the name resolves to *at connection
time* (a name that turned private between the check and the connect — DNS rebinding — fails
like an unreachable host), using ``messaging.delivery``'s resolver guard."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

from django.conf import settings

from hub.errors import HubError


def private_allowed() -> bool:
    return bool(settings.HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> str:
    """A well-formed https URL to a public host (http too where private URLs are allowed)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  — raises ValueError for a bad port
    except ValueError:
        raise HubError("invalid_url", "this is not a valid URL") from None
    schemes = ("https", "http") if private_allowed() else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise HubError(
            "invalid_url", f"the URL must start with {' or '.join(s + '://' for s in schemes)} and name a host"
        )
    check_host(parts.hostname)
    return url


def check_host(host: str) -> None:
    if private_allowed():
        return
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise HubError("url_unreachable", f"{host} does not resolve") from None
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(is_public(a) for a in addresses):
        raise HubError("url_not_public", f"{host} is a loopback or private address; only public hosts are allowed")


def connection_guard() -> AbstractContextManager[None]:
    if private_allowed():
        return contextlib.nullcontext()
    from messaging.delivery.netguard import guarded

    return guarded()
