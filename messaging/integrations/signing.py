"""Signatures: the two robot schemes the hub verifies (DingTalk 加签, Feishu 签名校验) and the
one it uses for everything it sends (outgoing events, slash-command requests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

# Both robot platforms accept a timestamp up to one hour away from their clock.
ROBOT_WINDOW_SECONDS = 3600
# Receivers of the hub's signed requests should refuse timestamps further off than this.
REPLAY_WINDOW_SECONDS = 300


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")); DingTalk sends it URL-encoded
    in the query string, which Django has already decoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's scheme is the mirror image: the key is f"{timestamp}\\n{secret}", the message empty."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def within(timestamp_s: float, window: int, now: float | None = None) -> bool:
    return abs((now if now is not None else time.time()) - timestamp_s) <= window


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hub_signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """``X-Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_hub_signature(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """What a receiver does (docs/integrations.md shows the same code for apps)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if not within(ts, REPLAY_WINDOW_SECONDS, now):
        return False
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))
