"""The one error type actions raise; the API and the socket turn it into
``{"error": {"code", "message"}}`` / ``{"type": "error", "code", "message"}``."""

from __future__ import annotations


class HubError(Exception):
    """A request that cannot be honoured, with a stable machine code and a human message."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class NotFound(HubError):
    """Also used for objects that exist but belong to another workspace or are not readable:
    answering 404 rather than 403 never confirms that an id exists."""

    status = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"{what} not found")


class PermissionDenied(HubError):
    status = 403

    def __init__(self, message: str = "you are not allowed to do this", code: str = "forbidden") -> None:
        super().__init__(code, message)


class RateLimited(HubError):
    status = 429

    def __init__(self, message: str = "too many requests, slow down") -> None:
        super().__init__("rate_limited", message)
