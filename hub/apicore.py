"""The HTTP API's shared machinery: the NinjaAPI instance, authentication (bearer token or
session + CSRF) and the error format ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from hub.errors import HubError
from hub.models import User
from hub.storage import is_disk_full
from hub.tokens import user_for_token

logger = logging.getLogger(__name__)


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer xwh_...`` — personal API tokens (mobile apps, bots, scripts)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class AppSessionTokenAuth(APIKeyHeader):
    """``X-Session-Token`` from allauth's headless *app* sign-in (mobile apps): the same token
    that authenticates ``/_allauth/app/v1/...`` works here, so an app signs in once and can then
    call the API (or mint a long-lived personal token with ``POST /api/v1/tokens``)."""

    param_name = "X-Session-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

        if not key:
            return None
        found = authenticate_by_x_session_token(key)
        user = found[0] if found else None
        if isinstance(user, User) and user.is_active:
            request.user = user
            return user
        return None


class SessionCookieAuth(APIKeyCookie):
    """The browser's session cookie; state-changing requests must carry the CSRF token."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and _csrf_fails(request):
            raise HubError("csrf_failed", "CSRF check failed: send the X-CSRFToken header", status=403)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


def _csrf_fails(request: HttpRequest) -> bool:
    """Django's CSRF check looks for a form token in ``request.POST`` first, which parses a
    multipart body there and then — before the upload view has checked access and installed
    its size limit (``SizeLimitHandler``; upload handlers cannot change once the body is
    parsed, so every browser upload failed with a 500). The API takes the token from the
    X-CSRFToken header only, so for multipart the check sees an empty form and the body stays
    unread until the view asks for it."""
    if request.content_type != "multipart/form-data" or hasattr(request, "_files"):
        return check_csrf(request) is not None
    request._post = QueryDict()  # type: ignore[attr-defined]
    try:
        return check_csrf(request) is not None
    finally:
        del request._post  # type: ignore[attr-defined]


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


api = NinjaAPI(
    title="Xiaowei Hub API",
    version="1",
    description='HTTP API of Xiaowei Hub. Errors are `{"error": {"code", "message"}}` with a 4xx status; '
    "objects of another workspace answer 404.",
    auth=[BearerTokenAuth(), AppSessionTokenAuth(), SessionCookieAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(HubError)
def _hub_error(request: HttpRequest, exc: HubError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "payload"))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    return error_response(request, 422, "invalid_request", message, details=exc.errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", "sign in or send a valid API token")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django would answer an HTML 400; clients need the JSON error and the honest status.
    return error_response(request, 413, "request_too_large", "the request body is too large")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The database cannot be reached (down, restarting, out of connections): a temporary
    # condition of the service, not a bug — 503 with a code clients can retry on, instead of
    # an HTML 500. Django's persistent connections re-check their health on the next request,
    # so service resumes by itself when the database is back.
    # The cause (refused, "too many clients", a restart in progress) is for the operator's log.
    logger.warning("database unavailable: %s", str(exc).strip()[:300])
    response = error_response(request, 503, "database_unavailable", "the database is unavailable; retry shortly")
    response["Retry-After"] = "5"
    return response


@api.exception_handler(OSError)
def _os_error(request: HttpRequest, exc: OSError) -> HttpResponse:
    if not is_disk_full(exc):
        raise exc
    # Nothing was stored (hub/storage.py removes the partial file); everything else still works.
    return error_response(request, 507, "storage_full", "the server has no space left for files")


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # SQLite refuses integers beyond 64 bits in a query ("Python int too large to convert to
    # SQLite INTEGER"); no row can have such an id, so answer as PostgreSQL's lookup does.
    if "SQLite INTEGER" not in str(exc):
        raise exc
    return error_response(request, 404, "not_found", "not found")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "not found")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def authed_user(request: HttpRequest) -> User:
    """The authenticated caller (ninja has already rejected anonymous requests)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def multipart_upload_body(extra: dict[str, Any] | None = None, required: tuple[str, ...] = ("file",)) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint taking a multipart upload: ``file`` plus ``extra``
    form fields. ninja reads these bodies by hand (to enforce the size limit first), so the
    OpenAPI document needs them spelled out."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}, **(extra or {})}
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
