"""Request ids for structured logs (deactivated users' sessions already resolve to anonymous:
Django's ModelBackend refuses inactive users)."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


# Pages an owner/admin who still lacks 2FA may use: setting it up, signing out, assets, probes.
# The API answers 403 ``mfa_required`` through ``hub.access`` instead of redirecting.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/_allauth/", "/static/", "/api/", "/ws/", "/healthz", "/readyz", "/invite/")


class RequireMfaMiddleware:
    """Sends owners/admins of workspaces with ``require_2fa_for_admins`` to the TOTP set-up page
    until they have an authenticator (HTML pages only)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(_MFA_EXEMPT_PREFIXES) and request.user.is_authenticated:
            from django.contrib import messages
            from django.shortcuts import redirect

            from hub.access import user_must_set_up_mfa
            from hub.models import User

            if isinstance(request.user, User) and user_must_set_up_mfa(request.user):
                messages.warning(request, "Your workspace requires two-factor authentication: set it up to continue.")
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class UserLanguageMiddleware:
    """Server-rendered pages speak the language chosen in the person's profile (``PATCH /me``),
    falling back to the browser's Accept-Language (LocaleMiddleware) for visitors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
