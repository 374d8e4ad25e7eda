"""Secrets at rest and on screen. Robot URLs, signing secrets, apprise URLs and push
endpoints are capabilities: whoever holds one can post to that person's phone. They are
sealed with a key derived from ``SECRET_KEY`` (Fernet: AES-128-CBC + HMAC), so a database dump
or backup alone does not reveal them, and shown back to their owner only masked.

``SECRET_KEY_FALLBACKS`` are tried too, so rotating the key the Django way keeps the stored
targets readable; a target sealed with a key no longer configured reads as ``SecretLost``
(the person re-enters it)."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretLost(Exception):
    """The sealed value cannot be opened with the configured keys."""


def _fernet_for(secret_key: str) -> Fernet:
    # A separate key for this purpose: the raw SECRET_KEY also signs sessions.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xiaowei-hub", info=b"messaging.delivery.sealed/v1")
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8"))))


def _box() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def seal(values: dict[str, str]) -> str:
    return _box().encrypt(json.dumps(values, ensure_ascii=False).encode("utf-8")).decode("ascii")


def unseal(token: str) -> dict[str, str]:
    try:
        data = json.loads(_box().decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError):
        raise SecretLost("sealed with a key that is no longer configured") from None
    return {str(k): str(v) for k, v in data.items()}


def mask_url(url: str) -> str:
    """``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1234…abcd`` → ``qyapi.weixin.qq.com…abcd``:
    enough to tell two targets apart, never enough to use one."""
    parts = urlsplit(url)
    tail = url[-4:] if len(url) > 16 else ""
    if parts.scheme in ("http", "https"):
        return f"{parts.hostname or '?'}…{tail}"
    # apprise: the part after the scheme is often the token itself (tgram://<bot-token>/…).
    return f"{parts.scheme}://…{tail}"


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def redact(text: str, secrets: list[str]) -> str:
    """Error texts from libraries and servers may quote the URL; cut every secret-looking
    piece of it (each run of 6+ characters between separators) out before storing or showing."""
    pieces: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        pieces.add(secret)
        current = ""
        for ch in secret + "/":
            if ch.isalnum() or ch in "-_":
                current += ch
                continue
            if len(current) >= 6:
                pieces.add(current)
            current = ""
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def secret_parts(url: str) -> list[str]:
    """The parts of a target URL that must never show up in an error text. The host of an
    http(s) URL stays readable ("cannot reach qyapi.weixin.qq.com" is useful); for apprise
    URLs everything after the scheme may be a token."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return [parts.path, parts.query, parts.username or "", parts.password or ""]
    return [url.split("://", 1)[-1]]
