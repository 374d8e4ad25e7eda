"""What a push or forwarded notification says, decided at delivery time.

Every attempt starts from the pending rows' ids and re-checks, for each conversation, that the
person can still read it (``messaging.access.access_conversation``, the one permission rule),
is still in it, has not read the message meanwhile, has not muted it or lowered its level, and
that the message still exists. Then it shows only what the person's ``push_preview`` allows:
``none`` (a count), ``sender`` (who and where) or ``first_line`` (plus the first line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from hub.errors import NotFound
from hub.models import User
from messaging import access
from messaging.models import Conversation, NotificationPrefs, Participant, PendingNotification

FIRST_LINE_CHARS = 100

_TEXT = {
    "zh-hans": {
        "app": "小微 Hub",
        "dm": "私信",
        "group": "群聊",
        "mention": "{sender} 在 {where} 提到了你",
        "direct": "{sender} 给你发了私信",
        "in_group": "{sender} 在 {where} 发了消息",
        "thread": "{sender} 回复了 {where} 中你关注的话题",
        "count": "{n} 条新消息",
        "one_hidden": "你有 1 条新消息",
        "open": "打开小微 Hub 查看",
        "from": "来自 {names}",
        "more": "{names} 等 {n} 人",
        "sep": "、",
        "colon": "：",
        "test_title": "小微 Hub 测试通知",
        "test_body": "如果你在手机上看到这条，转发已设置好。",
    },
    "en": {
        "app": "Xiaowei Hub",
        "dm": "direct message",
        "group": "group",
        "mention": "{sender} mentioned you in {where}",
        "direct": "{sender} sent you a direct message",
        "in_group": "{sender} wrote in {where}",
        "thread": "{sender} replied to a thread you follow in {where}",
        "count": "{n} new notifications",
        "one_hidden": "You have 1 new notification",
        "open": "Open Xiaowei Hub to read them",
        "from": "from {names}",
        "more": "{names} and {n} more",
        "sep": ", ",
        "colon": ": ",
        "test_title": "Xiaowei Hub test notification",
        "test_body": "If you can read this on your phone, forwarding works.",
    },
}


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    path: str  # app path to open: /app/w/<ws>/c/<conv>/m/<message>/
    tag: str  # notifications with the same tag replace each other on the device
    count: int
    app_name: str

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}{self.path}"

    def as_text(self) -> str:
        """One plain-text message for robots and mail. It always contains the app's name, so a
        DingTalk robot secured by the keyword "小微" or "Hub" accepts it."""
        lines = [f"【{self.app_name}】{self.title}"]
        if self.body:
            lines.append(self.body)
        lines.append(self.url)
        return "\n".join(lines)

    def as_push(self) -> dict[str, Any]:
        """The Web Push payload the service worker reads (frontend/src/sw.template.js)."""
        return {"title": self.title, "body": self.body, "path": self.path, "tag": self.tag, "count": self.count}


def _lang(user: User) -> dict[str, str]:
    return _TEXT.get(user.language, _TEXT["zh-hans"])


def sample_notice(user: User) -> Notice:
    t = _lang(user)
    return Notice(t["test_title"], t["test_body"], "/", "hub-test", 0, t["app"])


def first_line(body: str) -> str:
    for line in body.splitlines():
        text = " ".join(line.split()).lstrip("#>*- ").strip()
        if text:
            return text if len(text) <= FIRST_LINE_CHARS else text[: FIRST_LINE_CHARS - 1] + "…"
    return ""


def _still_wanted(participant: Participant, row: PendingNotification) -> bool:
    """``messaging.notifications.recipients`` applied again with today's settings: the person
    may have muted the conversation or lowered its level since the row was queued."""
    level = participant.notification_level
    if level == Participant.Level.NOTHING:
        return False
    if row.reason == PendingNotification.Reason.MENTION and row.user_id in (row.message.mentions or []):
        return True  # a personal @mention gets through mute
    if participant.muted:
        return False
    if row.reason == PendingNotification.Reason.MENTION:
        return True  # @all
    return level == Participant.Level.ALL


def deliverable(user: User, rows: list[PendingNotification]) -> list[PendingNotification]:
    """The rows that may still be announced to ``user`` now, oldest first."""
    if not user.is_active:
        return []
    participants: dict[int, Participant | None] = {}
    for conversation_id in {row.conversation_id for row in rows}:
        try:
            access.access_conversation(user, conversation_id)
        except NotFound:
            participants[conversation_id] = None
            continue
        participants[conversation_id] = Participant.objects.filter(
            conversation_id=conversation_id, user=user, active=True
        ).first()
    kept = []
    for row in rows:
        participant = participants.get(row.conversation_id)
        if participant is None or row.message.deleted_at is not None:
            continue
        if participant.last_read_seq >= row.seq or not _still_wanted(participant, row):
            continue
        kept.append(row)
    return sorted(kept, key=lambda r: r.pk)


def _where(conversation: Conversation, t: dict[str, str]) -> str:
    if conversation.kind == Conversation.Kind.DM:
        return t["dm"]
    if conversation.is_channel:
        return f"#{conversation.name}"
    return conversation.name or t["group"]


def _headline(row: PendingNotification, t: dict[str, str]) -> str:
    sender = row.message.sender.name
    where = _where(row.conversation, t)
    if row.reason == PendingNotification.Reason.MENTION:
        return t["mention"].format(sender=sender, where=where)
    if row.reason == PendingNotification.Reason.THREAD:
        return t["thread"].format(sender=sender, where=where)
    if row.conversation.kind == Conversation.Kind.DM:
        return t["direct"].format(sender=sender)
    return t["in_group"].format(sender=sender, where=where)


def _path(row: PendingNotification) -> str:
    return f"/app/w/{row.conversation.workspace_id}/c/{row.conversation_id}/m/{row.message_id}/"


def _names(rows: list[PendingNotification], t: dict[str, str]) -> str:
    names: list[str] = []
    for row in rows:
        name = row.message.sender.name
        if name not in names:
            names.append(name)
    shown = t["sep"].join(names[:3])
    return t["more"].format(names=shown, n=len(names) - 3) if len(names) > 3 else shown


def compose(user: User, rows: list[PendingNotification]) -> Notice | None:
    """One notice for everything in ``rows`` that may still be said, or None."""
    kept = deliverable(user, rows)
    if not kept:
        return None
    prefs = NotificationPrefs.objects.filter(user=user).first() or NotificationPrefs(user=user)
    preview = prefs.push_preview
    t = _lang(user)
    conversations = {row.conversation_id for row in kept}
    # One conversation: open it at the oldest unread mention; several: the workspace of the newest.
    path = _path(kept[0]) if len(conversations) == 1 else f"/app/w/{kept[-1].conversation.workspace_id}/"
    tag = f"conv-{kept[0].conversation_id}" if len(conversations) == 1 else "hub-digest"
    if len(kept) == 1:
        row = kept[0]
        if preview == "none":
            return Notice(t["app"], t["one_hidden"], path, tag, 1, t["app"])
        body = first_line(row.message.body) if preview == "first_line" else ""
        return Notice(_headline(row, t), body, path, tag, 1, t["app"])
    title = t["count"].format(n=len(kept))
    if preview == "none":
        body = t["open"]
    elif preview == "sender":
        body = t["from"].format(names=_names(kept, t))
    else:
        latest = kept[-3:]
        body = "\n".join(f"{r.message.sender.name}{t['colon']}{first_line(r.message.body)}" for r in latest)
    return Notice(title, body, path, tag, len(kept), t["app"])
