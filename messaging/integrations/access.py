"""Who may manage which integration. One condition per line; objects of another workspace,
or that the caller may not manage, are 404 (an id's existence is never confirmed)."""

from __future__ import annotations

from hub.access import access_workspace_admin
from hub.errors import NotFound
from hub.models import Member, User
from messaging import access as messaging_access
from messaging.integrations.models import AppCommand, EventSubscription, IncomingWebhook
from messaging.models import Conversation


def access_conversation_for_webhooks(user: User, conversation_id: int) -> tuple[Member, Conversation]:
    """Incoming webhooks of a conversation are managed by whoever manages the conversation
    (admins, channel managers; in ad-hoc groups every staff participant). Guests never."""
    member, conversation = messaging_access.access_conversation(user, conversation_id)
    messaging_access.check_can_manage(member, conversation)
    return member, conversation


def access_webhook(user: User, webhook_id: int) -> tuple[Member, IncomingWebhook]:
    webhook = IncomingWebhook.objects.select_related("conversation", "bot__user").filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound("webhook")
    try:
        member, _ = access_conversation_for_webhooks(user, webhook.conversation_id)
    except NotFound:
        raise NotFound("webhook") from None
    return member, webhook


def access_app_bot(admin: Member, bot_user_id: int) -> Member:
    """An admin-created bot of the admin's workspace (built-in and webhook bots are not apps)."""
    bot = (
        Member.objects.select_related("user", "workspace")
        .filter(workspace_id=admin.workspace_id, user_id=bot_user_id, user__is_bot=True, is_active=True)
        .first()
    )
    if bot is None:
        raise NotFound("bot")
    if not bot.user.email.startswith("app-"):
        raise NotFound("bot")
    return bot


def access_subscription(user: User, subscription_id: int) -> tuple[Member, EventSubscription]:
    subscription = EventSubscription.objects.select_related("bot__user").filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("subscription")
    try:
        admin = access_workspace_admin(user, subscription.workspace_id)
    except NotFound:
        raise NotFound("subscription") from None
    return admin, subscription


def access_app_command(user: User, command_id: int) -> tuple[Member, AppCommand]:
    command = AppCommand.objects.filter(pk=command_id, revoked_at__isnull=True).first()
    if command is None:
        raise NotFound("command")
    try:
        admin = access_workspace_admin(user, command.workspace_id)
    except NotFound:
        raise NotFound("command") from None
    return admin, command
