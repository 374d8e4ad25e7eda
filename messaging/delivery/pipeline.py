"""From pending rows to phones: coalesce, hold back (do-not-disturb, hourly limit), deliver,
retry with back-off. Runs in the django-tasks worker (``tasks``); ``run_due`` is the sweep for
backends that cannot defer and for catching up after downtime (``manage.py deliver_notifications``).

Like ``messaging.notifications`` this module writes its own bookkeeping rows (cursor,
deliveries, a channel's last success or error): they are the worker's state, not user actions."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task_backends

from hub.actions import audit
from hub.models import User
from messaging.delivery import compose, forward, webpush
from messaging.delivery.crypto import SecretLost, unseal
from messaging.delivery.models import ForwardTarget, NotifyCursor, NotifyDelivery, PushSubscription
from messaging.delivery.outcome import Outcome
from messaging.models import NotificationPrefs, PendingNotification
from messaging.notifications import in_quiet_hours

logger = logging.getLogger(__name__)

# Back-off between attempts at one channel: 30 s, 2 min, 8 min, 32 min.
BACKOFF = [timedelta(seconds=30 * 4**n) for n in range(4)]
# Older rows are not pushed at all (the email digest has them): a phone buzzing about
# yesterday after an outage helps nobody.
MAX_AGE = timedelta(hours=12)
# A claimed delivery whose worker died is taken up again after this lease.
LEASE = timedelta(minutes=5)
# Consecutive failed deliveries after which a forwarding target switches itself off.
DISABLE_AFTER = 10
# People with channels in one message up to which the sender's request schedules their
# collects itself; beyond (an @all in a big channel) one worker task does it.
INLINE_SCHEDULES = 10


# --- scheduling --------------------------------------------------------------------------------


def _defer(kind: str, arg: int, at: datetime | None) -> None:
    """Enqueue a task now (``at`` None) or at ``at`` when the backend can defer; otherwise the
    sweep finds the work. Imported here: ``tasks`` imports this module."""
    from messaging.delivery import tasks

    job = tasks.collect_notifications if kind == "collect" else tasks.send_notification
    backend = task_backends["default"]
    try:
        if at is None:
            job.enqueue(arg)
        elif backend.supports_defer and _first_for(kind, arg, at):
            job.using(run_after=at).enqueue(arg)
    except Exception:  # the sweep still finds the rows
        logger.warning("could not enqueue %s for %s", kind, arg, exc_info=True)


def _first_for(kind: str, arg: int, at: datetime) -> bool:
    """Whether no task of this kind is deferred to this minute for ``arg`` yet: every mention
    during a night of do-not-disturb would otherwise leave one more collect for the morning."""
    seconds = int((at - timezone.now()).total_seconds())
    if seconds <= 0:
        return True
    try:
        return bool(cache.add(f"hub:notify:{kind}:{arg}:{at:%Y%m%d%H%M}", 1, timeout=seconds + 60))
    except Exception:
        logger.warning("notification task dedupe unavailable (cache error)", exc_info=True)
        return True


def users_with_channels(user_ids: Iterable[int]) -> set[int]:
    ids = list(user_ids)
    pushed = PushSubscription.objects.filter(user_id__in=ids).values_list("user_id", flat=True)
    forwarded = ForwardTarget.objects.filter(user_id__in=ids, enabled=True).values_list("user_id", flat=True)
    return set(pushed) | set(forwarded)


def schedule_for_users(user_ids: Iterable[int]) -> None:
    """After the commit that queued pending rows: one collect per person, a coalescing window
    later. For an @all in a big channel the per-person scheduling moves into the worker (one
    task), so the sender's request does not insert hundreds of task rows."""
    if not task_backends["default"].supports_defer:
        return
    ids = sorted(users_with_channels(user_ids))
    if len(ids) <= INLINE_SCHEDULES:
        schedule_collects(ids)
        return
    from messaging.delivery import tasks  # it imports this module

    try:
        tasks.schedule_collects.enqueue(ids)
    except Exception:  # the sweep still finds the rows
        logger.warning("could not enqueue the scheduling of %s collects", len(ids), exc_info=True)


def schedule_collects(user_ids: list[int]) -> None:
    """The cache key makes the 2nd…20th mention of a burst join the collect already on its way
    instead of scheduling their own (a duplicate would find nothing left: harmless)."""
    window = settings.HUB_NOTIFY_COALESCE_SECONDS
    at = timezone.now() + timedelta(seconds=window)
    for user_id in user_ids:
        try:
            fresh = cache.add(f"hub:notify:collect:{user_id}", 1, timeout=max(window, 1))
        except Exception:
            logger.warning("notification coalescing unavailable (cache error)", exc_info=True)
            fresh = True
        if fresh:
            _defer("collect", user_id, at)


# --- collecting --------------------------------------------------------------------------------


def start_cursor(user: User) -> None:
    """When a person adds their first channel: nothing queued before that is pushed."""
    latest = PendingNotification.objects.filter(user=user).order_by("-pk").values_list("pk", flat=True).first()
    NotifyCursor.objects.get_or_create(user=user, defaults={"last_pending_id": latest or 0})


def _rows(user_id: int, **filters: object) -> list[PendingNotification]:
    return list(
        PendingNotification.objects.filter(user_id=user_id, **filters)
        .select_related("message__sender", "conversation")
        .order_by("pk")
    )


def collect(user_id: int, now: datetime | None = None) -> list[int]:
    """Turn this person's new pending rows into one delivery per channel; returns their ids.
    Holds the person's cursor row locked, so concurrent collects never batch a row twice."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return []
    with transaction.atomic():
        NotifyCursor.objects.get_or_create(user=user)
        cursor = NotifyCursor.objects.select_for_update().get(user=user)
        rows = _rows(user_id, pk__gt=cursor.last_pending_id, created_at__gte=now - MAX_AGE)
        if not rows:
            return []
        due = rows[0].created_at + timedelta(seconds=settings.HUB_NOTIFY_COALESCE_SECONDS)
        if due > now:  # early (a sweep, a clock step): come back when the window closes
            _defer("collect", user_id, due)
            return []
        if not compose.deliverable(user, rows):  # all read, muted or out of reach already
            cursor.last_pending_id = rows[-1].pk
            cursor.save(update_fields=["last_pending_id"])
            return []
        prefs = NotificationPrefs.objects.filter(user=user).first() or NotificationPrefs(user=user)
        quiet_until = in_quiet_hours(prefs, user.time_zone, now)
        if quiet_until is not None:
            _defer("collect", user_id, quiet_until)
            return []
        hour_ago = now - timedelta(hours=1)
        recent = sorted(t for t in cursor.recent_batches if datetime.fromisoformat(t) > hour_ago)
        if len(recent) >= settings.HUB_NOTIFY_MAX_PER_HOUR > 0:
            # Over the limit: the rows wait and go out together once the oldest batch ages out.
            cursor.recent_batches = recent
            cursor.save(update_fields=["recent_batches"])
            _defer("collect", user_id, datetime.fromisoformat(recent[0]) + timedelta(hours=1))
            return []
        # Due at ``now`` (the sweep's clock), not at the wall clock of this line.
        batch = {
            "first_pending_id": rows[0].pk,
            "last_pending_id": rows[-1].pk,
            "next_attempt_at": now,
            "created_at": now,
        }
        channels: list[NotifyDelivery] = [
            NotifyDelivery(user=user, subscription=sub, **batch) for sub in PushSubscription.objects.filter(user=user)
        ] + [
            NotifyDelivery(user=user, target=target, **batch)
            for target in ForwardTarget.objects.filter(user=user, enabled=True)
        ]
        created = NotifyDelivery.objects.bulk_create(channels)
        cursor.last_pending_id = rows[-1].pk
        cursor.recent_batches = [*recent, now.isoformat()]
        cursor.save(update_fields=["last_pending_id", "recent_batches"])
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: _send_soon(ids))
    return ids


def _send_soon(delivery_ids: list[int]) -> None:
    for pk in delivery_ids:
        _defer("send", pk, None)


# --- sending -----------------------------------------------------------------------------------


def attempt(delivery_channel: PushSubscription | ForwardTarget, notice: compose.Notice) -> Outcome:
    """One try at one channel, no bookkeeping (the "send test" buttons use it too)."""
    try:
        values = unseal(delivery_channel.sealed)
    except SecretLost:
        return Outcome.permanent("this target was saved with another server key; enter its URL again")
    if isinstance(delivery_channel, PushSubscription):
        return webpush.send(values, notice)
    return forward.send(delivery_channel.kind, values, notice)


def note_outcome(channel: PushSubscription | ForwardTarget, outcome: Outcome, now: datetime) -> None:
    """The channel's visible health: last success, last error, failure streak."""
    if outcome.gone and isinstance(channel, PushSubscription):
        channel.delete()
        return
    if outcome.ok:
        channel.last_success_at = now
        channel.last_error = ""
        if isinstance(channel, ForwardTarget):
            channel.failure_count = 0
    else:
        channel.last_error = outcome.detail
        if isinstance(channel, ForwardTarget):
            channel.failure_count += 1
    channel.save()


def send(delivery_id: int, now: datetime | None = None) -> str:
    """Attempt one delivery; returns its status afterwards ("skipped" when not ours to do)."""
    now = now or timezone.now()
    # Claim by conditional update: of two workers given the same id, one wins. A claim is a
    # lease (next_attempt_at in the future): if this worker dies, the sweep retries it later.
    claimed = NotifyDelivery.objects.filter(
        Q(status=NotifyDelivery.Status.PENDING) | Q(status=NotifyDelivery.Status.SENDING),
        pk=delivery_id,
        next_attempt_at__lte=now,
    ).update(status=NotifyDelivery.Status.SENDING, next_attempt_at=now + LEASE)
    if not claimed:
        return "skipped"
    delivery = NotifyDelivery.objects.select_related("user", "subscription", "target").get(pk=delivery_id)
    channel: PushSubscription | ForwardTarget | None = delivery.subscription or delivery.target
    assert channel is not None  # the check constraint: exactly one of them
    # Since the batch was made, the browser may have been taken over by someone else signing in
    # on it (the subscription moved to them), or the target switched off: not theirs to see.
    if channel.user_id != delivery.user_id or (isinstance(channel, ForwardTarget) and not channel.enabled):
        return _finish(delivery, NotifyDelivery.Status.DROPPED, now)
    rows = _rows(delivery.user_id, pk__gte=delivery.first_pending_id, pk__lte=delivery.last_pending_id)
    notice = compose.compose(delivery.user, rows)
    if notice is None:
        return _finish(delivery, NotifyDelivery.Status.DROPPED, now)
    outcome = attempt(channel, notice)
    note_outcome(channel, outcome, now)
    if outcome.gone:
        return "gone"  # the subscription and its deliveries are deleted
    delivery.attempts += 1
    if outcome.ok:
        return _finish(delivery, NotifyDelivery.Status.SENT, now)
    delivery.last_error = outcome.detail
    if outcome.retry and delivery.attempts < settings.HUB_NOTIFY_MAX_ATTEMPTS:
        delivery.status = NotifyDelivery.Status.PENDING
        delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        _defer("send", delivery.pk, delivery.next_attempt_at)
        return delivery.status
    if isinstance(channel, ForwardTarget) and channel.enabled and channel.failure_count >= DISABLE_AFTER:
        channel.enabled = False
        channel.save(update_fields=["enabled"])
        audit(
            "notify.target_disabled", target=channel, owner=channel.user_id, kind=channel.kind, failures=DISABLE_AFTER
        )
    return _finish(delivery, NotifyDelivery.Status.FAILED, now)


def _finish(delivery: NotifyDelivery, status: str, now: datetime) -> str:
    delivery.status = status
    delivery.finished_at = now
    delivery.save(update_fields=["status", "finished_at", "attempts", "last_error"])
    return status


# --- the sweep -----------------------------------------------------------------------------------


def run_due(now: datetime | None = None) -> int:
    """Collect for everyone whose window has closed, then attempt every due delivery.
    Returns how many deliveries were sent."""
    now = now or timezone.now()
    waiting = PendingNotification.objects.filter(created_at__gte=now - MAX_AGE, created_at__lte=now)
    for user_id in sorted(users_with_channels(waiting.values_list("user_id", flat=True).distinct())):
        collect(user_id, now)
    due = NotifyDelivery.objects.filter(
        status__in=[NotifyDelivery.Status.PENDING, NotifyDelivery.Status.SENDING], next_attempt_at__lte=now
    ).order_by("pk")
    return sum(1 for pk in list(due.values_list("pk", flat=True)) if send(pk, now) == NotifyDelivery.Status.SENT)
