"""Web Push (RFC 8030 + 8291 aes128gcm + 8292 VAPID) through pywebpush. The push service only
ever sees ciphertext; the browser's service worker decrypts and shows it."""

from __future__ import annotations

import json

import requests
from django.conf import settings
from pywebpush import WebPushException, webpush

from messaging.delivery import netguard, vapid
from messaging.delivery.compose import Notice
from messaging.delivery.crypto import redact, secret_parts
from messaging.delivery.outcome import Outcome

# Push services keep an undeliverable message this long (seconds) while the phone is offline.
TTL = 24 * 3600


def send(info: dict[str, str], notice: Notice) -> Outcome:
    """``info`` is the unsealed subscription: endpoint, p256dh, auth."""
    subscription = {"endpoint": info["endpoint"], "keys": {"p256dh": info["p256dh"], "auth": info["auth"]}}
    data = json.dumps(notice.as_push(), ensure_ascii=False)
    hide = secret_parts(info["endpoint"])
    try:
        with netguard.guarded():
            webpush(
                subscription,
                data,
                vapid_private_key=vapid.signer(),
                vapid_claims={"sub": vapid.subject()},  # a fresh dict: pywebpush adds aud and exp to it
                ttl=TTL,
                timeout=settings.HUB_NOTIFY_TIMEOUT_SECONDS,
                content_encoding="aes128gcm",
                headers={"Urgency": "high"},
            )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (404, 410):
            return Outcome(False, f"the push service no longer knows this browser (HTTP {status})", gone=True)
        if status == 429 or status >= 500:
            return Outcome.transient(f"the push service answered HTTP {status}")
        if status:
            return Outcome.permanent(f"the push service refused the message (HTTP {status})")
        return Outcome.permanent(redact(f"could not prepare the push message: {exc}", hide))
    except requests.RequestException as exc:
        if netguard.was_blocked(exc):
            return Outcome.permanent("the push endpoint is not a public address")
        return Outcome.transient(f"could not reach the push service: {type(exc).__name__}")
    return Outcome.success()
