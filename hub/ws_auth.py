"""WebSocket authentication and origin checking.

Two ways in:

* **API token** — ``Authorization: Bearer xwh_…`` (mobile apps, bots) or ``?token=xwh_…`` for
  clients that cannot set headers on a WebSocket handshake (browsers' ``new WebSocket``).
  A token that is present but invalid rejects the socket even if a session cookie is valid:
  the client asked for that identity explicitly.
* **Session cookie** — the browser. Honoured only when the handshake carries an ``Origin``
  header that matches ``ALLOWED_HOSTS``: browsers always send Origin on WebSocket handshakes,
  so a cookie-authenticated socket without one is not a browser we served, and a foreign
  Origin is cross-site WebSocket hijacking.

``HubOriginValidator`` differs from channels' ``AllowedHostsOriginValidator`` in one rule:
a *missing* Origin is let through (native clients send none), but such a socket can then only
authenticate by token. A *wrong* Origin is always refused at the handshake.

The consumer needs to re-validate credentials later (when access changes), so the scope gets
``hub_auth``: ``{"method": "token", "token_hash": …}`` or ``{"method": "session",
"session_key": …}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser

from hub.models import ApiToken
from hub.tokens import bearer_key, user_for_token

Scope = dict[str, Any]
ASGIApp = Any


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return bytes(value).decode("latin1")
            except (UnicodeDecodeError, TypeError):
                return None
    return None


def _query_token(scope: Scope) -> str | None:
    raw = scope.get("query_string", b"")
    try:
        query = parse_qs(raw.decode("ascii", "strict") if isinstance(raw, bytes) else str(raw))
    except UnicodeDecodeError:
        return None
    values = query.get("token")
    return values[0].strip() if values and values[0].strip() else None


class HubOriginValidator(OriginValidator):
    """Refuse a foreign ``Origin``; let a missing one through (token-only, see module doc)."""

    def __init__(self, application: ASGIApp) -> None:
        # Same allow-list as channels' AllowedHostsOriginValidator (ALLOWED_HOSTS, or "*" in DEBUG).
        allowed = AllowedHostsOriginValidator(application).allowed_origins
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


class HubAuthMiddleware:
    """Sets ``scope["user"]`` (AnonymousUser when nothing valid) and ``scope["hub_auth"]``."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        scope = dict(scope)
        scope["user"] = AnonymousUser()
        scope["hub_auth"] = {"method": "none"}
        key = bearer_key(_header(scope, b"authorization")) or _query_token(scope)
        if key is not None:
            user = await database_sync_to_async(user_for_token)(key)
            if user is not None:
                scope["user"] = user
                scope["hub_auth"] = {"method": "token", "token_hash": ApiToken.hash_key(key)}
        elif _header(scope, b"origin") is not None and scope.get("session") is not None:
            # Origin was already checked against ALLOWED_HOSTS by HubOriginValidator.
            user = await get_user(scope)
            if user.is_authenticated and user.is_active:
                scope["user"] = user
                scope["hub_auth"] = {"method": "session", "session_key": scope["session"].session_key}
        return await self.inner(scope, receive, send)


def HubAuthMiddlewareStack(inner: ASGIApp) -> ASGIApp:
    return CookieMiddleware(SessionMiddleware(HubAuthMiddleware(inner)))
