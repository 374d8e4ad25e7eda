"""Security headers on every response: a Content-Security-Policy that lets only this site's
own scripts run, and a locked-down policy for user files.

The CSP is the second wall behind the bleach sanitiser: if some markup ever slipped through,
an injected ``<script>``, inline event handler or ``javascript:`` URL still would not run,
because scripts may only come from this origin's files (``script-src 'self'``, no
``'unsafe-inline'``). Styles allow inline (server-rendered pages carry a ``<style>`` block,
editors set style attributes); sanitised HTML never carries ``style`` attributes anyway.
Images may come from https (webhook/bot blocks show images by URL). Sockets go to this host.

Uploaded files (``/api/v1/attachments/…``) get ``default-src 'none'; sandbox``: even an HTML
or SVG file opened directly cannot run script or reach this origin's cookies.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

APP_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
FILE_PREFIX = "/api/v1/attachments/"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = FILE_POLICY if request.path.startswith(FILE_PREFIX) else APP_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
