"""The socket's synchronous database work (run through ``database_sync_to_async``).

Each function is one short unit: the consumer never holds a database connection across
awaits. Permission rules stay in ``messaging.access`` / ``hub.access``; this module only
asks them and shapes the answers for the consumer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.module_loading import import_string

from hub.errors import NotFound
from hub.models import ApiToken, Member, User
from messaging import access, actions
from messaging.events import MessagePayload
from messaging.models import Conversation, Participant
from messaging.queries import events_after
from messaging.serializers import message_payload


@dataclass(frozen=True)
class SocketAccess:
    """What a socket may stream right now."""

    # workspace id → is the person a guest there (guests never get workspace-wide presence)
    workspaces: dict[int, bool]
    conversations: set[int] = field(default_factory=set)


def _streamed(member: Member) -> set[int]:
    """Conversations streamed without asking: those the person takes part in, and for guests
    every channel shared with their organisation. Public channels one has not joined are
    readable but streamed only on ``subscribe``."""
    readable = access.readable_conversations(member)
    if member.is_guest:
        return set(readable.values_list("pk", flat=True))
    mine = Participant.objects.filter(user_id=member.user_id, active=True).values("conversation_id")
    return set(readable.filter(pk__in=mine).values_list("pk", flat=True))


def active_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def socket_access(user_id: int) -> SocketAccess:
    members = access.reading_memberships(user_id)
    result = SocketAccess(workspaces={m.workspace_id: m.is_guest for m in members})
    for member in members:
        result.conversations.update(_streamed(member))
    return result


@dataclass(frozen=True)
class SocketStart:
    """Everything a connecting socket reads, in one trip to the sync DB thread."""

    access: SocketAccess
    last_seqs: dict[int, int]
    # staff workspace id → its active members (for the presence snapshot)
    members: dict[int, list[int]]


def socket_start(user_id: int) -> SocketStart:
    granted = socket_access(user_id)
    staff = sorted(ws for ws, is_guest in granted.workspaces.items() if not is_guest)
    members: dict[int, list[int]] = {ws: [] for ws in staff}
    if staff:
        rows = Member.objects.filter(workspace_id__in=staff, is_active=True).values_list("workspace_id", "user_id")
        for workspace_id, member_id in rows:
            members[workspace_id].append(member_id)
    return SocketStart(granted, last_seqs(sorted(granted.conversations)), members)


def last_seqs(conversation_ids: list[int]) -> dict[int, int]:
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_seq"))


def readable_last_seq(user_id: int, conversation_id: int) -> int | None:
    """The conversation's last seq if this person may read it now, else None."""
    user = active_user(user_id)
    if user is None:
        return None
    try:
        _, conversation = access.access_conversation(user, conversation_id)
    except NotFound:
        return None
    return conversation.last_seq


def readable_last_seqs(user_id: int, conversation_ids: list[int]) -> dict[int, int]:
    """Of these ids, those readable now → last seq (unreadable and nonexistent alike absent)."""
    user = active_user(user_id)
    if user is None:
        return {}
    readable: dict[int, int] = {}
    members = {m.workspace_id: m for m in access.reading_memberships(user.pk)}
    for conversation in Conversation.objects.filter(pk__in=conversation_ids, workspace_id__in=list(members)):
        if access.can_read(members[conversation.workspace_id], conversation):
            readable[conversation.pk] = conversation.last_seq
    return readable


def events_page(conversation_id: int, after_seq: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    return events_after(conversation_id, after_seq, limit)


def credentials_valid(user_id: int, auth: dict[str, Any]) -> bool:
    """Is the socket's identity still good: account active and the token unrevoked, or the
    session still present (deactivation deletes sessions; logout flushes them)."""
    if active_user(user_id) is None:
        return False
    method = auth.get("method")
    if method == "token":
        return ApiToken.objects.filter(
            key_hash=auth.get("token_hash", ""), user_id=user_id, revoked_at__isnull=True
        ).exists()
    if method == "session":
        store: SessionBase = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
        key = auth.get("session_key")
        return isinstance(key, str) and bool(key) and store.exists(key)
    return False


def send_message(
    user_id: int, conversation_id: int, body: str, client_id: uuid.UUID, thread_root_id: int | None
) -> tuple[MessagePayload, bool]:
    """The same path as ``POST /conversations/{id}/messages``: access, then one action."""
    user = active_user(user_id)
    if user is None:
        raise NotFound("conversation")
    member, conversation = access.access_conversation(user, conversation_id)
    message, created = actions.check_send_message(member, conversation, body, client_id, thread_root_id)
    return message_payload(message), created


def mark_read(user_id: int, conversation_id: int, seq: int) -> int:
    user = active_user(user_id)
    if user is None:
        raise NotFound("conversation")
    member, conversation = access.access_conversation(user, conversation_id)
    return int(actions.check_mark_read(member, conversation, seq))


def member_ids(workspace_id: int) -> list[int]:
    return list(Member.objects.filter(workspace_id=workspace_id, is_active=True).values_list("user_id", flat=True))
