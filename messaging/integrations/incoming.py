"""Receiving a webhook request, whatever its platform: size limit → lookup by key → rate
limit → read → signature → parse → post. Each step refuses with a ``Refusal`` that the kind
spells in its platform's words; nothing here answers 500 for anything a client sent."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from hub.crypto import SecretLost, hash_secret, unseal
from messaging.integrations.actions import do_post_incoming
from messaging.integrations.kinds import Kind, Refusal
from messaging.integrations.models import SEALED_PURPOSE, IncomingWebhook

logger = logging.getLogger(__name__)


def receive(kind: Kind, request: HttpRequest, url_key: str | None = None) -> HttpResponse:
    try:
        _check_size(request)
        webhook = _lookup(kind, kind.key(request, url_key))
        _check_rate(webhook)
        payload = kind.read(request)
        if webhook.secret_sealed:
            kind.verify(request, payload, _secret(webhook))
        do_post_incoming(webhook, kind.parse(payload))
    except Refusal as refusal:
        return kind.refuse(refusal)
    return kind.ok()


def _check_size(request: HttpRequest) -> None:
    limit = settings.HUB_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refuse on the declared length before reading; chunked bodies are measured once read.
    try:
        too_large = declared > limit or len(request.body) > limit
    except RequestDataTooBig:
        too_large = True
    if too_large:
        raise Refusal("too_large", f"the body is larger than {limit} bytes")


def _lookup(kind: Kind, key: str | None) -> IncomingWebhook:
    if not key or len(key) > 200:
        raise Refusal("unknown")
    webhook = (
        IncomingWebhook.objects.select_related("conversation__workspace", "bot__user", "bot__workspace")
        .filter(key_hash=hash_secret(key), kind=kind.name, revoked_at__isnull=True)
        .first()
    )
    if webhook is None:
        raise Refusal("unknown")
    return webhook


def _check_rate(webhook: IncomingWebhook) -> None:
    """Fixed one-minute window per webhook in the shared cache (holds across processes)."""
    limit = settings.HUB_WEBHOOK_PER_MINUTE
    if limit <= 0:
        return
    key = f"hub:webhook-rate:{webhook.pk}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=70)
        count = cache.incr(key)
    except Exception:  # the cache being down must not stop alerts; the limit is abuse control
        logger.warning("webhook rate check unavailable; allowing the request", exc_info=True)
        return
    if count > limit:
        raise Refusal("rate_limited", f"more than {limit} requests per minute")


def _secret(webhook: IncomingWebhook) -> str:
    try:
        return unseal(webhook.secret_sealed, SEALED_PURPOSE)
    except SecretLost:
        logger.error("webhook %s: signing secret sealed under a retired SECRET_KEY; re-create it", webhook.pk)
        raise Refusal("bad_sign", "the signing secret must be re-issued") from None
