"""Reads of the integrations, shaped for the API (never a secret: those are shown once)."""

from __future__ import annotations

from typing import Any

from hub.models import Member
from messaging.integrations.models import AppCommand, Delivery, EventSubscription, IncomingWebhook
from messaging.models import Conversation


def webhook_row(webhook: IncomingWebhook) -> dict[str, Any]:
    return {
        "id": webhook.pk,
        "kind": webhook.kind,
        "name": webhook.name,
        "conversation_id": webhook.conversation_id,
        "bot_user_id": webhook.bot.user_id,
        "signed": bool(webhook.secret_sealed),
        "keywords": list(webhook.keywords),
        "created_at": webhook.created_at,
        "last_used_at": webhook.last_used_at,
    }


def conversation_webhooks(conversation: Conversation) -> list[dict[str, Any]]:
    found = IncomingWebhook.objects.filter(conversation=conversation, revoked_at__isnull=True).select_related("bot")
    return [webhook_row(w) for w in found.order_by("id")]


def bot_row(bot: Member) -> dict[str, Any]:
    return {"id": bot.user_id, "name": bot.user.name, "active": bot.is_active}


def subscription_row(subscription: EventSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "bot_user_id": subscription.bot.user_id,
        "url": subscription.url,
        "events": list(subscription.events),
        "active": subscription.active,
        "failure_streak": subscription.failure_streak,
        "disabled_at": subscription.disabled_at,
        "disabled_reason": subscription.disabled_reason,
        "created_at": subscription.created_at,
    }


def workspace_subscriptions(workspace_id: int) -> list[dict[str, Any]]:
    found = EventSubscription.objects.filter(workspace_id=workspace_id).select_related("bot").order_by("id")
    return [subscription_row(s) for s in found]


def deliveries(subscription: EventSubscription, limit: int, status: str | None) -> list[dict[str, Any]]:
    found = Delivery.objects.filter(subscription=subscription)
    if status:
        found = found.filter(status=status)
    return [
        {
            "id": d.pk,
            "event_id": str(d.event_id),
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "last_status_code": d.last_status_code,
            "last_error": d.last_error,
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at,
            "delivered_at": d.delivered_at,
        }
        for d in found.order_by("-created_at", "-id")[:limit]
    ]


def command_row(command: AppCommand) -> dict[str, Any]:
    return {
        "id": command.pk,
        "bot_user_id": command.bot.user_id,
        "name": command.name,
        "url": command.url,
        "usage": command.usage,
        "description": command.description,
        "created_at": command.created_at,
    }


def workspace_commands(workspace_id: int) -> list[dict[str, Any]]:
    found = AppCommand.objects.filter(workspace_id=workspace_id, revoked_at__isnull=True).select_related("bot")
    return [command_row(c) for c in found.order_by("name")]
