"""Validation and helpers shared by messaging's actions."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from hub.errors import HubError, NotFound, RateLimited
from hub.models import Member
from messaging.events import LAYER_ACCESS, user_group
from messaging.publish import group_send_on_commit

logger = logging.getLogger(__name__)


def is_encodable(text: str) -> bool:
    """JSON may carry lone surrogates (``"\\ud800"``) that no database can store as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_body(body: str, *, allow_empty: bool = False) -> str:
    if "\x00" in body:
        raise HubError("invalid_body", "message contains a NUL character")
    if not is_encodable(body):
        raise HubError("invalid_body", "message is not valid Unicode text")
    if not body.strip() and not allow_empty:
        raise HubError("empty_body", "message is empty")
    if len(body) > settings.HUB_MESSAGE_MAX_CHARS:
        raise HubError(
            "body_too_long", f"message is longer than {settings.HUB_MESSAGE_MAX_CHARS} characters", status=413
        )
    return body


def validate_text(value: str, field: str, max_length: int) -> str:
    """Names, topics, purposes: one line of plain text (rendered escaped, never as HTML)."""
    if "\x00" in value or not is_encodable(value):
        raise HubError("invalid_text", f"{field} contains a NUL character or invalid Unicode")
    value = " ".join(value.split())
    if len(value) > max_length:
        raise HubError("text_too_long", f"{field} is longer than {max_length} characters")
    return value


def active_workspace_members(workspace_id: int, user_ids: list[int]) -> list[Member]:
    """Active members with these ids, or 404 if any is missing (never say which exist)."""
    members = list(
        Member.objects.select_related("user").filter(workspace_id=workspace_id, user_id__in=user_ids, is_active=True)
    )
    if len(members) != len(set(user_ids)):
        raise NotFound("user")
    return members


def check_send_rate(user_id: int) -> None:
    """Fixed one-minute window per person in the shared cache (Redis when scaled out), so
    the limit holds across processes and across HTTP and the socket."""
    limit = settings.HUB_SEND_RATE_PER_MINUTE
    if limit <= 0:
        return
    key = f"hub:send-rate:{user_id}:{int(time.time() // 60)}"
    try:
        # add() is a no-op when the key exists; incr() is atomic on Redis and locmem.
        cache.add(key, 0, timeout=70)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start the window again
            cache.set(key, 1, timeout=70)
            count = 1
    except Exception:
        # Fail open: the cache (Redis) being down must not turn every send into a 500. The
        # limit is abuse control, not a correctness rule; the socket's frame limiter still holds.
        logger.warning("send-rate check unavailable (cache error); allowing the send", exc_info=True)
        return
    if count > limit:
        raise RateLimited(f"more than {limit} messages a minute; wait a moment")


def publish_access_changed(user_ids: list[int], workspace_id: int, conversation_id: int) -> None:
    """After commit, tell these people's sockets to re-check what they may still read."""
    for user_id in user_ids:
        group_send_on_commit(
            user_group(user_id),
            {"type": LAYER_ACCESS, "workspace_id": workspace_id, "conversation_id": conversation_id},
        )
