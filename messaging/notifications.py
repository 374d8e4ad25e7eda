"""Notifications beyond the open app: mentions, DMs/groups and followed-thread replies are
queued as ``PendingNotification`` rows in the sending transaction; a django-tasks task emails
the ones still unread after the person's delay — one digest per burst — outside their
do-not-disturb hours, respecting mute and notification level.

In-app notifications need nothing from here: the socket already carries the event, and the
client decides from ``mentions``/``muted``/``notification_level``. Web Push and forwarding to
a phone start from the same rows (``messaging.delivery``)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task, task_backends

from hub.models import User
from messaging.mentions import Mentions
from messaging.models import Conversation, Message, NotificationPrefs, Participant, PendingNotification, ThreadFollow

logger = logging.getLogger(__name__)
DEFAULT_DELAY = timedelta(minutes=10)


def recipients(message: Message, mentions: Mentions) -> dict[int, str]:
    """user id → reason, for one new message. Rules (Slack-like):
    * a personal @mention reaches you unless your level is "nothing" (even when muted);
    * @all, DMs/groups and followed threads reach you unless muted or level "nothing";
      @all also needs level "all" or "mentions".
    """
    conversation = message.conversation
    followers: list[int] = []
    if message.thread_root_id is not None:
        followers = list(
            ThreadFollow.objects.filter(root_id=message.thread_root_id, following=True).values_list(
                "user_id", flat=True
            )
        )
    everyone = mentions.broadcast or conversation.kind in (Conversation.Kind.DM, Conversation.Kind.GROUP)
    wanted = set(mentions.user_ids) | set(followers)
    if not everyone and not wanted:
        return {}  # the common case in a big channel: no query, no rows
    rows = Participant.objects.filter(conversation=conversation, active=True).exclude(user_id=message.sender_id)
    if not everyone:
        rows = rows.filter(user_id__in=wanted)
    participants = {p.user_id: p for p in rows}
    reasons: dict[int, str] = {}

    def quiet(p: Participant) -> bool:
        return p.muted or p.notification_level == Participant.Level.NOTHING

    if followers:
        for user_id in followers:
            p = participants.get(user_id)
            if p is not None and not quiet(p) and p.notification_level == Participant.Level.ALL:
                reasons[user_id] = PendingNotification.Reason.THREAD
    if conversation.kind in (Conversation.Kind.DM, Conversation.Kind.GROUP):
        for user_id, p in participants.items():
            if not quiet(p) and p.notification_level == Participant.Level.ALL:
                reasons[user_id] = PendingNotification.Reason.DM
    if mentions.broadcast:
        for user_id, p in participants.items():
            if not quiet(p):
                reasons[user_id] = PendingNotification.Reason.MENTION
    for user_id in mentions.user_ids:
        p = participants.get(user_id)
        if p is not None and p.notification_level != Participant.Level.NOTHING:
            reasons[user_id] = PendingNotification.Reason.MENTION
    return reasons


def queue_for_message(message: Message, mentions: Mentions) -> None:
    """Caller holds the sending transaction; the digest is scheduled after commit."""
    reasons = recipients(message, mentions)
    if not reasons:
        return
    PendingNotification.objects.bulk_create(
        [
            PendingNotification(
                user_id=user_id,
                message=message,
                conversation_id=message.conversation_id,
                seq=message.seq,
                reason=reason,
                created_at=message.created_at,
            )
            for user_id, reason in reasons.items()
        ],
        ignore_conflicts=True,
    )

    def schedule_all() -> None:
        for user_id in reasons:
            schedule_digest(user_id)
        # Web Push and forwarding (messaging.delivery): sooner than the email, coalesced.
        from messaging.delivery.pipeline import schedule_for_users  # it imports this module

        schedule_for_users(reasons)

    transaction.on_commit(schedule_all)


def _prefs(user: User) -> NotificationPrefs:
    prefs = NotificationPrefs.objects.filter(user=user).first()
    return prefs if prefs is not None else NotificationPrefs(user=user)


def schedule_digest(user_id: int, at: datetime | None = None) -> None:
    """Deferred task when the backend can defer (the database backend + ``db_worker``);
    otherwise ``send_due_digests`` (a management command / cron) picks the rows up."""
    backend = task_backends["default"]
    if not backend.supports_defer:
        return
    if at is None:
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return
        at = timezone.now() + timedelta(minutes=_prefs(user).email_delay_minutes)
    try:
        send_digest.using(run_after=at).enqueue(user_id)
    except Exception:  # the periodic sweep still finds the rows
        logger.warning("could not schedule a digest for user %s", user_id, exc_info=True)


def in_quiet_hours(prefs: NotificationPrefs, tz_name: str, now: datetime) -> datetime | None:
    """When inside do-not-disturb hours (in the person's time zone), the moment they end."""
    if prefs.dnd_start is None or prefs.dnd_end is None or prefs.dnd_start == prefs.dnd_end:
        return None
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    local = now.astimezone(tz)
    t: time = local.time()
    start, end = prefs.dnd_start, prefs.dnd_end
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at


def deliver_digest(user_id: int, now: datetime | None = None) -> int:
    """Email this person's pending notifications if the oldest is due; returns how many
    went into the email (0 when none was sent)."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    pending = PendingNotification.objects.filter(user_id=user_id, emailed_at__isnull=True)
    if user is None:
        pending.update(emailed_at=now)
        return 0
    prefs = _prefs(user)
    rows = list(pending.select_related("message__sender", "conversation").order_by("created_at", "id"))
    if not rows:
        return 0
    if rows[0].created_at > now - timedelta(minutes=prefs.email_delay_minutes):
        return 0  # not due yet; the task scheduled for the newest row will come back
    # Only conversations the person is still in, in workspaces they still belong to: an
    # unshare or a removal after the mention must not leak the message by email.
    read_upto = dict(
        Participant.objects.filter(
            user_id=user_id,
            active=True,
            conversation_id__in={r.conversation_id for r in rows},
            conversation__workspace__members__user_id=user_id,
            conversation__workspace__members__is_active=True,
        ).values_list("conversation_id", "last_read_seq")
    )
    unread = [
        r
        for r in rows
        if r.conversation_id in read_upto and read_upto[r.conversation_id] < r.seq and r.message.deleted_at is None
    ]
    if not unread or not prefs.email_enabled:
        PendingNotification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=now)
        return 0
    quiet_until = in_quiet_hours(prefs, user.time_zone, now)
    if quiet_until is not None:
        schedule_digest(user_id, quiet_until)
        return 0
    send_mail(
        subject=f"[小微 Hub] {len(unread)} 条未读消息 / unread messages",
        message=_digest_text(unread),
        from_email=None,
        recipient_list=[user.email],
    )
    PendingNotification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=now)
    return len(unread)


def _digest_text(rows: list[PendingNotification]) -> str:
    labels = {"mention": "提到了你 mentioned you", "dm": "私信 direct message", "thread": "回复了话题 thread reply"}
    lines = []
    for row in rows:
        conv = row.conversation.name or "私信"
        snippet = " ".join(row.message.body.split())[:140]
        link = f"{settings.SITE_URL}/c/{row.conversation_id}?seq={row.seq}"
        lines.append(
            f"{row.message.sender.name} · {conv} · {labels.get(row.reason, row.reason)}\n  {snippet}\n  {link}\n"
        )
    return "\n".join(lines)


def send_due_digests(now: datetime | None = None) -> int:
    """The sweep: every person with a due pending notification. Returns emails sent."""
    now = now or timezone.now()
    user_ids = set(
        PendingNotification.objects.filter(emailed_at__isnull=True, created_at__lte=now).values_list(
            "user_id", flat=True
        )
    )
    return sum(1 for user_id in sorted(user_ids) if deliver_digest(user_id, now))


@task()
def send_digest(user_id: int) -> int:
    return deliver_digest(user_id)
