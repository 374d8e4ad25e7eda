"""Log formats: one JSON object per line (the default, for log shippers) or plain text
(``HUB_LOG_FORMAT=text``, for a developer's terminal). Both carry the request id of the HTTP
request or WebSocket connection being served (``hub.middleware.request_id_var``).

A JSON line has ``ts``, ``level``, ``logger``, ``msg``, ``request_id``, ``pid`` and any
``extra={...}`` fields the caller passed (e.g. ``route``, ``status``, ``duration_ms`` on
``hub.access`` lines); ``exc`` holds a traceback. docs/operations.md "Logs" lists them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _current_request_id() -> str:
    from hub.middleware import request_id_var

    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Puts ``record.request_id`` on every record (the text format prints it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id()
        return True


# Capability URLs (webhook keys, response URLs, invitation tokens, ``?access_token=`` / ``?key=``):
# whoever reads a log line must not be able to use one. Django's own error lines quote the path.
_CAPABILITY = re.compile(
    r"(/hooks/(?:slack/|commands/)?|/open-apis/bot/v2/hook/|/invite/|[?&](?:access_token|key|token)=)[\w\-]{8,}"
)


def redact_capabilities(text: str) -> str:
    return _CAPABILITY.sub(r"\1***", text)


class CapabilityFilter(logging.Filter):
    """Cuts capability keys out of the message (both formats) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_capabilities(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current_request_id(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # Extras such as django.request's ``request`` repr quote the path too.
        return redact_capabilities(json.dumps(entry, ensure_ascii=False, default=str))


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def logging_config(fmt: str, level: str) -> dict[str, object]:
    """The ``LOGGING`` dict for ``settings``: ``fmt`` is ``json`` or ``text``."""
    if fmt not in ("json", "text"):
        raise ValueError(f"HUB_LOG_FORMAT must be 'json' or 'text', got {fmt!r}")
    formatter: dict[str, object] = {"()": "hub.logging.JsonFormatter"} if fmt == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "hub.logging.RequestIdFilter"},
            "capabilities": {"()": "hub.logging.CapabilityFilter"},
        },
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id", "capabilities"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
