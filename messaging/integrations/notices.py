"""Telling people about their integrations: a direct message from the workspace assistant."""

from __future__ import annotations

import logging

from hub.bots import ASSISTANT, ensure_bot
from hub.errors import HubError
from hub.models import Member
from messaging.actions import do_post_bot_message
from messaging.actions.conversations import do_create_conversation
from messaging.integrations.models import EventSubscription
from messaging.models import Conversation

logger = logging.getLogger(__name__)


def notify_disabled(subscription: EventSubscription) -> None:
    owner_id = subscription.owner_id
    if owner_id is None:
        return
    owner = (
        Member.objects.select_related("user", "workspace")
        .filter(workspace_id=subscription.workspace_id, user_id=owner_id, is_active=True)
        .first()
    )
    if owner is None:
        return  # the owner left; the admins see it in the subscription list and the audit log
    assistant = ensure_bot(owner.workspace, ASSISTANT)
    text = (
        f"**事件订阅已自动停用**\n\n机器人「{subscription.bot.user.name}」发往 `{subscription.url}` 的事件"
        f"连续投递失败（{subscription.disabled_reason}），订阅已停用。修复接收端后，请在管理页面或通过 "
        f"`POST /api/v1/subscriptions/{subscription.pk}/enable` 重新启用。"
    )
    try:
        dm = do_create_conversation(assistant, Conversation.Kind.DM, "", [owner])
        do_post_bot_message(assistant, dm, text)
    except HubError:
        logger.warning("could not tell user %s that subscription %s was disabled", owner.user_id, subscription.pk)
