"""Every write a person makes to their notification channels: push subscriptions,
forwarding targets, and the "send test" attempts. ``check_*`` validates, ``do_*`` writes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from hub.actions import audit
from hub.errors import HubError, RateLimited
from hub.models import User
from messaging.delivery import compose, crypto, forward, netguard, pipeline
from messaging.delivery.models import ForwardTarget, PushSubscription
from messaging.delivery.outcome import Outcome

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 20  # browsers per person
MAX_TARGETS = 10  # forwarding targets per person
TESTS_PER_MINUTE = 5  # "send test" presses per person: each one is an outgoing request
ROBOTS = (ForwardTarget.Kind.WECOM, ForwardTarget.Kind.DINGTALK, ForwardTarget.Kind.FEISHU)
SIGNED = (ForwardTarget.Kind.DINGTALK, ForwardTarget.Kind.FEISHU)


# --- Web Push subscriptions ------------------------------------------------------------------------


def _b64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError):
        return b""


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def check_subscribe_push(user: User, endpoint: str, p256dh: str, auth: str, user_agent: str) -> PushSubscription:
    endpoint = netguard.check_url(endpoint)
    key = _b64url(p256dh)
    if len(key) != 65 or key[0] != 4:
        raise HubError("invalid_subscription", "keys.p256dh must be an uncompressed P-256 public key (base64url)")
    if len(_b64url(auth)) != 16:
        raise HubError("invalid_subscription", "keys.auth must be 16 bytes (base64url)")
    known = PushSubscription.objects.filter(endpoint_hash=endpoint_hash(endpoint)).exists()
    if not known and PushSubscription.objects.filter(user=user).count() >= MAX_SUBSCRIPTIONS:
        raise HubError("too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} browsers per person; remove an old one")
    return do_subscribe_push(user, endpoint, p256dh.strip(), auth.strip(), user_agent.strip())


@transaction.atomic
def do_subscribe_push(user: User, endpoint: str, p256dh: str, auth: str, user_agent: str) -> PushSubscription:
    """Idempotent per browser. A browser that now belongs to someone else (another person
    signed in on a shared shop computer) moves to them: it must stop showing the first one's
    messages."""
    sealed = crypto.seal({"endpoint": endpoint, "p256dh": p256dh, "auth": auth})
    subscription, created = PushSubscription.objects.select_for_update().update_or_create(
        endpoint_hash=endpoint_hash(endpoint),
        defaults={
            "user": user,
            "sealed": sealed,
            "host": urlsplit(endpoint).hostname or "",
            "user_agent": user_agent[:200],
            "last_error": "",
        },
    )
    pipeline.start_cursor(user)
    if created:
        audit("notify.push_subscribed", actor=user, target=subscription, host=subscription.host)
    return subscription


def do_unsubscribe_push(user: User, endpoint: str) -> bool:
    subscription = PushSubscription.objects.filter(user=user, endpoint_hash=endpoint_hash(endpoint.strip())).first()
    if subscription is None:
        return False
    do_remove_subscription(user, subscription)
    return True


@transaction.atomic
def do_remove_subscription(user: User, subscription: PushSubscription) -> None:
    audit("notify.push_unsubscribed", actor=user, target=subscription, host=subscription.host)
    subscription.delete()


# --- forwarding targets -----------------------------------------------------------------------------


def _validated(kind: str, url: str, secret: str) -> dict[str, str]:
    """The target's sealed values after checking them; raises a 400 that says what is wrong."""
    url, secret = url.strip(), secret.strip()
    if secret and kind not in SIGNED:
        raise HubError("invalid_secret", "only DingTalk and Feishu robots take a signing secret")
    if kind in ROBOTS:
        return {"url": netguard.check_url(url), "secret": secret}
    if kind == ForwardTarget.Kind.EMAIL:
        try:
            validate_email(url)
        except ValidationError:
            raise HubError("invalid_email", "this is not a valid email address") from None
        return {"url": url}
    if kind == ForwardTarget.Kind.APPRISE:
        if forward.apprise_service(url) is None:
            raise HubError("invalid_url", "apprise does not understand this URL (see the apprise wiki for its formats)")
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        # Only names that look like hosts: in tgram://<bot-token>/… the "host" is a token.
        # guarded() checks every connection anyway.
        if "." in host or ":" in host or host == "localhost":
            netguard.check_host(host)
        return {"url": url}
    raise HubError("invalid_kind", f"unknown target kind {kind}")


def _masked(kind: str, url: str) -> str:
    return crypto.mask_email(url) if kind == ForwardTarget.Kind.EMAIL else crypto.mask_url(url)


def check_add_target(user: User, kind: str, label: str, url: str, secret: str) -> ForwardTarget:
    values = _validated(kind, url, secret)
    if ForwardTarget.objects.filter(user=user).count() >= MAX_TARGETS:
        raise HubError("too_many_targets", f"at most {MAX_TARGETS} forwarding targets per person")
    return do_add_target(user, kind, label.strip(), values)


@transaction.atomic
def do_add_target(user: User, kind: str, label: str, values: dict[str, str]) -> ForwardTarget:
    target = ForwardTarget.objects.create(
        user=user,
        kind=kind,
        label=label[:60],
        sealed=crypto.seal(values),
        masked=_masked(kind, values["url"]),
        has_secret=bool(values.get("secret")),
    )
    pipeline.start_cursor(user)
    # Forwarding sends company messages outside the hub: admins see it in the audit log.
    audit("notify.target_added", actor=user, target=target, kind=kind, masked=target.masked)
    return target


def check_update_target(
    user: User,
    target: ForwardTarget,
    *,
    label: str | None = None,
    enabled: bool | None = None,
    url: str | None = None,
    secret: str | None = None,
) -> ForwardTarget:
    """``url``/``secret`` None keep the stored ones (they are never shown back, so a client
    cannot resend them); ``secret: ""`` removes the signing secret."""
    values: dict[str, str] | None = None
    if url is not None or secret is not None:
        try:
            current = crypto.unseal(target.sealed)
        except crypto.SecretLost:
            if url is None:
                raise HubError("secret_lost", "enter the URL again: it was saved with another server key") from None
            current = {"url": url}
        values = _validated(
            target.kind,
            url if url is not None else current["url"],
            secret if secret is not None else current.get("secret", ""),
        )
    return do_update_target(user, target, label=label, enabled=enabled, values=values)


@transaction.atomic
def do_update_target(
    user: User, target: ForwardTarget, *, label: str | None, enabled: bool | None, values: dict[str, str] | None
) -> ForwardTarget:
    changed: list[str] = []
    if label is not None:
        target.label = label.strip()[:60]
        changed.append("label")
    if enabled is not None:
        target.enabled = enabled
        if enabled:
            target.failure_count = 0
        changed.append("enabled")
    if values is not None:
        target.sealed = crypto.seal(values)
        target.masked = _masked(target.kind, values["url"])
        target.has_secret = bool(values.get("secret"))
        target.last_error = ""
        changed.append("url")
    target.save()
    audit("notify.target_changed", actor=user, target=target, kind=target.kind, changed=changed)
    return target


@transaction.atomic
def do_remove_target(user: User, target: ForwardTarget) -> None:
    audit("notify.target_removed", actor=user, target=target, kind=target.kind, masked=target.masked)
    target.delete()


# --- "send test" -------------------------------------------------------------------------------------


def check_test_rate(user: User) -> None:
    """Fixed one-minute window in the shared cache, like the send rate."""
    key = f"hub:notify:test:{user.pk}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=70)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    except Exception:  # the cache (Redis) down: abuse control fails open, never a 500
        logger.warning("notify test-rate check unavailable (cache error)", exc_info=True)
        return
    if count > TESTS_PER_MINUTE:
        raise RateLimited(f"at most {TESTS_PER_MINUTE} test notifications a minute; wait a moment")


@dataclass(frozen=True)
class TrialResult:
    id: int
    ok: bool
    detail: str


def check_test_target(user: User, target: ForwardTarget) -> TrialResult:
    """One attempt, right now, no retries: the person is waiting for the answer. The result
    also becomes the target's visible health (last success / last error)."""
    check_test_rate(user)
    outcome: Outcome = pipeline.attempt(target, compose.sample_notice(user))
    pipeline.note_outcome(target, outcome, timezone.now())
    return TrialResult(target.pk, outcome.ok, outcome.detail)


def check_test_push(user: User) -> list[TrialResult]:
    check_test_rate(user)
    results = []
    for subscription in PushSubscription.objects.filter(user=user).order_by("pk"):
        outcome = pipeline.attempt(subscription, compose.sample_notice(user))
        results.append(TrialResult(subscription.pk, outcome.ok, outcome.detail))
        pipeline.note_outcome(subscription, outcome, timezone.now())
    return results
