"""Source credentials at rest: encrypted, never shown back in full, never logged.

``ErpSource.credentials_encrypted`` holds a Fernet token (AES-128-CBC + HMAC-SHA256) of a JSON
object such as ``{"api_key": "...", "webhook_secret": "..."}``.

The key comes from ``HUB_ERP_CREDENTIALS_KEY`` when set (one or more Fernet keys, comma
separated, newest first — older keys still decrypt, so keys can be rotated with
``rotate_credentials``), else it is derived from ``SECRET_KEY`` with HKDF. Deriving keeps the
embedded mode zero-configuration; a dedicated key lets an operator rotate ``SECRET_KEY``
(sessions) without losing every ERP password.

Every secret that is decrypted is remembered (values only, in this process) so that
:class:`RedactSecretsFilter` can scrub it from any log line — an exception message that
quotes a request header, a debug print of a config — before it reaches a handler.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Values shorter than this are not scrubbed from logs (they would match ordinary words).
_MIN_REDACT_LENGTH = 6
_REDACTED = "[redacted]"


class CredentialsError(Exception):
    """The stored credentials cannot be decrypted (key changed or data damaged)."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xiaowei-hub", info=b"crm_bridge.credentials")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


def _fernet() -> MultiFernet:
    configured = [k.strip() for k in getattr(settings, "ERP_CREDENTIALS_KEY", "").split(",") if k.strip()]
    keys = [k.encode("ascii") for k in configured] if configured else [_derived_key(settings.SECRET_KEY)]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise CredentialsError(
            "HUB_ERP_CREDENTIALS_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma separated"
        ) from exc


def encrypt_credentials(values: Mapping[str, str]) -> str:
    """Encrypt a credentials mapping; empty mappings are stored as ''."""
    clean = {str(k): str(v) for k, v in values.items() if v not in (None, "")}
    if not clean:
        return ""
    remember_secrets(clean.values())
    return _fernet().encrypt(json.dumps(clean, ensure_ascii=False).encode("utf-8")).decode("ascii")


def decrypt_credentials(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        raw = _fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise CredentialsError(
            "stored ERP credentials cannot be decrypted: was SECRET_KEY or HUB_ERP_CREDENTIALS_KEY changed? "
            "Enter the credentials again."
        ) from None
    values = json.loads(raw.decode("utf-8"))
    if not isinstance(values, dict):
        raise CredentialsError("stored ERP credentials are not a JSON object")
    result = {str(k): str(v) for k, v in values.items()}
    remember_secrets(result.values())
    return result


def rotate_credentials(token: str) -> str:
    """Re-encrypt ``token`` under the newest configured key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii") if token else ""


def mask_secret(value: str) -> str:
    """What an API shows instead of a secret: enough to recognise a long key, nothing of a
    short password."""
    if not value:
        return ""
    if len(value) >= 16:
        return "••••" + value[-4:]
    return "••••"


def masked(values: Mapping[str, str]) -> dict[str, str]:
    return {k: mask_secret(v) for k, v in values.items()}


# --- keeping secrets out of logs -------------------------------------------------------------

_known_secrets: set[str] = set()
_known_lock = threading.Lock()
_MAX_KNOWN = 10_000  # bounded: one per credential field of every source this process touched


def remember_secrets(values: object) -> None:
    with _known_lock:
        for value in values:  # type: ignore[attr-defined]
            if isinstance(value, str) and len(value) >= _MIN_REDACT_LENGTH and len(_known_secrets) < _MAX_KNOWN:
                _known_secrets.add(value)


def redact(text: str) -> str:
    if not _known_secrets:
        return text
    with _known_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    return text


class RedactSecretsFilter(logging.Filter):
    """Scrubs every known credential value from a log record (message, arguments, traceback,
    ``extra`` fields). Installed on the root logger's handlers by ``CrmBridgeConfig.ready``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _known_secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # An exception message may quote a request (with its Authorization header): format
            # the traceback now, scrubbed, into the message, and drop exc_info so that no
            # handler formats the raw one again.
            traceback_text = redact(logging.Formatter().formatException(record.exc_info))
            record.msg, record.args = f"{redact(record.getMessage())}\n{traceback_text}", None
            record.exc_info, record.exc_text = None, None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and key not in ("msg", "exc_text"):
                setattr(record, key, redact(value))
        return True


def install_log_filter() -> None:
    """Attach the filter to every handler of the root logger (filters on a logger do not apply
    to records propagated from its children; filters on handlers see them all)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
            handler.addFilter(RedactSecretsFilter())
