"""Button clicks on message blocks, routed to the app that owns the button.

A button's id is ``"<namespace>:<rest>"`` (``crm:approve:17``, ``hook:ack:3``). Higher layers
register one handler per namespace at start-up — messaging never imports them. The click API
only accepts ids present (and enabled) in the message's stored blocks, so nobody can invoke an
action a card never offered; the handler then checks its own permissions and idempotency
(e.g. one approval per card, action and person, however often the button is clicked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hub.errors import HubError, NotFound
from hub.models import Member
from messaging import access
from messaging.blocks import action_ids
from messaging.models import Message


@dataclass(frozen=True)
class ActionRequest:
    member: Member
    message: Message
    action_id: str  # the full id, namespace included
    comment: str = ""


@dataclass(frozen=True)
class ActionResult:
    """What the clicking person sees at once (a toast). Changes everyone sees (an updated
    card) travel as events from the handler's actions."""

    status: Literal["done", "already_done", "conflict", "unknown", "failed"]
    message: str
    data: dict[str, Any] = field(default_factory=dict)


ActionHandler = Callable[[ActionRequest], ActionResult]
_handlers: dict[str, ActionHandler] = {}


def register_action_handler(namespace: str, handler: ActionHandler) -> None:
    _handlers[namespace] = handler


MAX_COMMENT = 1000


def check_run_action(member: Member, message: Message, action_id: str, comment: str = "") -> ActionResult:
    access.check_not_archived(message.conversation)
    if message.deleted_at is not None or action_id not in action_ids(message.blocks):
        raise NotFound("action")
    namespace = action_id.split(":", 1)[0]
    handler = _handlers.get(namespace)
    if handler is None:
        raise HubError("action_unavailable", "this button's app is not installed", status=409)
    if len(comment) > MAX_COMMENT:
        raise HubError("comment_too_long", f"a comment has at most {MAX_COMMENT} characters")
    return handler(ActionRequest(member=member, message=message, action_id=action_id, comment=comment.strip()))
