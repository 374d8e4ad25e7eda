"""Secrets the server must be able to read back (signing secrets of incoming webhooks and
outgoing event subscriptions, tokens of external slash-command apps): sealed with Fernet
(AES-128-CBC + HMAC-SHA256) under a key derived from ``SECRET_KEY``, so that a database dump
or backup alone does not reveal them. Secrets that only need comparing are hashed instead
(``hash_secret``).

``SECRET_KEY_FALLBACKS`` are tried as well, so rotating the key the Django way keeps sealed
values readable; a value sealed under a key no longer configured raises ``SecretLost``."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretLost(Exception):
    """The sealed value cannot be opened with the configured keys."""


def _fernet_for(secret_key: str, purpose: str) -> Fernet:
    # One derived key per purpose: the raw SECRET_KEY also signs sessions, and a value sealed
    # for one purpose must not open under another.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xiaowei-hub", info=f"hub.crypto/{purpose}".encode())
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8"))))


def _box(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key, purpose) for key in keys])


def seal(value: str, purpose: str) -> str:
    return _box(purpose).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(token: str, purpose: str) -> str:
    try:
        return _box(purpose).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise SecretLost("sealed with a key that is no longer configured") from None


def hash_secret(raw: str) -> str:
    """SHA-256 hex: for random, high-entropy capability keys (no salt or stretching needed)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
