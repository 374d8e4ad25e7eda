"""The server's Web Push identity (VAPID, RFC 8292): one P-256 key pair per installation.

Generated on first use into ``$HUB_DATA_DIR/vapid_private.pem`` (0600, created exclusively so
that two processes starting together agree on one key), like ``SECRET_KEY``; or given as
``HUB_VAPID_PRIVATE_KEY`` / ``HUB_VAPID_PRIVATE_KEY_FILE`` (PEM) for a scaled-out deployment
whose processes do not share a data dir. Browsers bind each subscription to the public key:
changing the key silently invalidates every subscription, so keep the file with the backups."""

from __future__ import annotations

import base64
import functools
import os
from email.utils import parseaddr
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid

KEY_FILE_NAME = "vapid_private.pem"


def _load_or_create(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return pem


@functools.cache
def _key(configured: str, data_dir: str) -> ec.EllipticCurvePrivateKey:
    pem = configured.encode("ascii") if configured else _load_or_create(Path(data_dir) / KEY_FILE_NAME)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the VAPID key must be a P-256 (prime256v1) EC private key in PEM")
    return key


def private_key() -> ec.EllipticCurvePrivateKey:
    return _key(settings.HUB_VAPID_PRIVATE_KEY.strip(), str(settings.DATA_DIR))


def signer() -> Vapid:
    return Vapid(private_key())


def public_key() -> str:
    """The ``applicationServerKey`` for ``PushManager.subscribe()``: the uncompressed point,
    base64url without padding."""
    raw = (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def subject() -> str:
    """Who push services contact about this sender (``sub`` claim): a mailto: or https: URL."""
    configured = settings.HUB_VAPID_SUBJECT.strip()
    if configured:
        return configured
    if settings.SITE_URL.startswith("https://"):
        return settings.SITE_URL
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "hub@localhost"
    return f"mailto:{address}"
