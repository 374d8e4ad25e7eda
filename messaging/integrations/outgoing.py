"""Outgoing events: what happens in the conversations an app's bot is in, POSTed as signed
JSON to the app's subscription URL.

* ``event_logged`` (after commit) → one ``Delivery`` row per matching subscription, then a
  django-tasks job per row. The receiver only writes rows and enqueues; HTTP happens in the
  worker.
* An attempt that fails (network error, timeout, non-2xx, a URL that now resolves to a
  private address) is retried with doubling back-off (``HUB_OUTGOING_RETRY_SECONDS`` × 2ⁿ)
  up to ``HUB_OUTGOING_MAX_ATTEMPTS``; each row is the delivery log entry the API shows.
* ``HUB_OUTGOING_DISABLE_AFTER`` failed attempts in a row switch the subscription off, and
  its owner gets a direct message from the workspace assistant.

Body: ``{"id", "type", "created_at", "workspace_id", "conversation_id", "bot_user_id",
"event"}`` where ``event`` is exactly the frame clients receive on ``/ws/``. Headers:
``X-Hub-Signature: t=<ts>,v1=<hex>`` (``signing.hub_signature``), ``X-Hub-Event``,
``X-Hub-Delivery`` (the id; the same on every retry, so receivers can de-duplicate)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task, task_backends

from hub.crypto import SecretLost, unseal
from hub.errors import HubError
from messaging.integrations import netguard, signing
from messaging.integrations.models import SEALED_PURPOSE, Delivery, EventSubscription
from messaging.signals import event_logged

logger = logging.getLogger(__name__)
USER_AGENT = "XiaoweiHub-Webhooks/1"


def connect() -> None:
    event_logged.connect(on_event_logged, dispatch_uid="integrations.outgoing")


# --- from a conversation event to delivery rows -----------------------------------------------


def _event_types(event_type: str, frame: dict[str, Any], bot_user_id: int) -> list[str]:
    """The subscription event types one conversation event means for one bot."""
    if event_type == "message.new":
        message = frame.get("message") or {}
        if message.get("sender_id") == bot_user_id:
            return []  # a bot hearing its own posts would loop
        mentioned = bot_user_id in (message.get("mentions") or [])
        return ["message", "app_mention"] if mentioned else ["message"]
    if event_type == "reaction.changed":
        return [] if frame.get("user_id") == bot_user_id else ["reaction"]
    if event_type == "member.joined":
        return ["member_joined"]
    return []


def on_event_logged(sender: Any, conversation_id: int, event_type: str, frame: dict[str, Any], **kwargs: Any) -> None:
    if event_type not in ("message.new", "reaction.changed", "member.joined"):
        return
    subscriptions = EventSubscription.objects.filter(
        active=True,
        bot__is_active=True,
        bot__user__participations__conversation_id=conversation_id,
        bot__user__participations__active=True,
    ).select_related("bot")
    rows = []
    now = timezone.now()
    for subscription in subscriptions:
        for kind in _event_types(event_type, frame, subscription.bot.user_id):
            if kind not in subscription.events:
                continue
            event_id = uuid.uuid4()
            payload = {
                "id": str(event_id),
                "type": kind,
                "created_at": now.isoformat(),
                "workspace_id": subscription.workspace_id,
                "conversation_id": conversation_id,
                "bot_user_id": subscription.bot.user_id,
                "event": frame,
            }
            rows.append(
                Delivery(
                    subscription=subscription, event_id=event_id, event_type=kind, payload=payload, next_attempt_at=now
                )
            )
    if not rows:
        return
    Delivery.objects.bulk_create(rows)
    # In creation order, so that an app hears "message" before the "app_mention" of the same post.
    ids = list(
        Delivery.objects.filter(event_id__in=[r.event_id for r in rows]).order_by("pk").values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _schedule_all(ids))


def _schedule_all(delivery_ids: list[int]) -> None:
    for pk in delivery_ids:
        _schedule(pk, None)


def _schedule(delivery_id: int, at: datetime | None) -> None:
    """A job now, or at ``at`` where the backend can defer (the database backend). Elsewhere a
    deferred retry waits for ``deliver_due`` (the bench and tests call it)."""
    try:
        if at is None:
            deliver_event.enqueue(delivery_id)
        elif task_backends["default"].supports_defer:
            deliver_event.using(run_after=at).enqueue(delivery_id)
    except Exception:  # the row stays pending; deliver_due picks it up
        logger.warning("could not enqueue delivery %s", delivery_id, exc_info=True)


# --- one attempt --------------------------------------------------------------------------------


@task()
def deliver_event(delivery_id: int) -> str:
    return attempt(delivery_id)


def attempt(delivery_id: int) -> str:
    """One delivery attempt; returns the row's status afterwards."""
    delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return delivery.status if delivery else "missing"
    subscription = delivery.subscription
    if not subscription.active:
        _finish(delivery, Delivery.Status.FAILED, None, "the subscription is disabled", attempted=False)
        return Delivery.Status.FAILED
    status_code, error = _post(subscription, delivery)
    if error is None:
        _finish(delivery, Delivery.Status.SUCCEEDED, status_code, "")
        EventSubscription.objects.filter(pk=subscription.pk).update(failure_streak=0)
        return Delivery.Status.SUCCEEDED
    return _failed(delivery, status_code, error)


def _post(subscription: EventSubscription, delivery: Delivery) -> tuple[int | None, str | None]:
    try:
        secret = unseal(subscription.secret_sealed, SEALED_PURPOSE)
    except SecretLost:
        return None, "the signing secret was sealed under a retired SECRET_KEY; re-create the subscription"
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Hub-Signature": signing.hub_signature(secret, body),
        "X-Hub-Event": delivery.event_type,
        "X-Hub-Delivery": str(delivery.event_id),
    }
    try:
        netguard.check_host(urlsplit(subscription.url).hostname or "")
        with netguard.connection_guard():
            response = requests.post(
                subscription.url,
                data=body,
                headers=headers,
                timeout=settings.HUB_OUTGOING_TIMEOUT_SECONDS,
                allow_redirects=False,  # a redirect could lead into the intranet
            )
    except HubError as exc:
        return None, exc.message
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: could not reach {urlsplit(subscription.url).hostname}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _finish(delivery: Delivery, status: str, status_code: int | None, error: str, *, attempted: bool = True) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=status,
        attempts=F("attempts") + int(attempted),
        last_status_code=status_code,
        last_error=error[:300],
        next_attempt_at=None,
        delivered_at=timezone.now() if status == Delivery.Status.SUCCEEDED else None,
    )


def retry_delay(attempts_made: int) -> timedelta:
    """After the 1st failed attempt: base; after the 2nd: 2 × base; … (doubling)."""
    return timedelta(seconds=settings.HUB_OUTGOING_RETRY_SECONDS * 2 ** (attempts_made - 1))


def _failed(delivery: Delivery, status_code: int | None, error: str) -> str:
    attempts = delivery.attempts + 1
    give_up = attempts >= settings.HUB_OUTGOING_MAX_ATTEMPTS
    next_at = None if give_up else timezone.now() + retry_delay(attempts)
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED if give_up else Delivery.Status.PENDING,
        attempts=attempts,
        last_status_code=status_code,
        last_error=error[:300],
        next_attempt_at=next_at,
    )
    EventSubscription.objects.filter(pk=delivery.subscription_id).update(failure_streak=F("failure_streak") + 1)
    _maybe_disable(delivery.subscription_id)
    if next_at is not None:
        _schedule(delivery.pk, next_at)
    return Delivery.Status.FAILED if give_up else Delivery.Status.PENDING


def _maybe_disable(subscription_id: int) -> None:
    threshold = settings.HUB_OUTGOING_DISABLE_AFTER
    # One UPDATE decides: of two workers failing at once, exactly one switches it off and
    # sends the notice.
    switched = EventSubscription.objects.filter(pk=subscription_id, active=True, failure_streak__gte=threshold).update(
        active=False, disabled_at=timezone.now(), disabled_reason=f"{threshold} failed deliveries in a row"
    )
    if not switched:
        return
    from hub.actions import audit
    from messaging.integrations.notices import notify_disabled

    subscription = EventSubscription.objects.select_related("bot__user", "owner").get(pk=subscription_id)
    Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error="the subscription was disabled", next_attempt_at=None
    )
    audit("subscription.auto_disable", workspace=subscription.workspace_id, target=subscription, failures=threshold)
    notify_disabled(subscription)


def deliver_due(now: datetime | None = None, limit: int = 500) -> int:
    """Attempt every pending delivery whose time has come (retries where the task backend
    cannot defer; recovery after a worker crash). Returns how many were attempted."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        attempt(pk)
    return len(due)


@task()
def sweep_due_deliveries() -> int:
    """Every minute (``hub.periodic``): deliveries overdue by more than a minute — a retry the
    task backend could not defer, or one a crashed worker left pending. The grace minute lets
    the deferred job, which normally runs on time, go first."""
    return deliver_due(timezone.now() - timedelta(minutes=1))
