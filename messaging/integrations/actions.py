"""Writes of the integrations: incoming webhooks (create, revoke, post), event subscriptions
and external slash commands (register, revoke). Every management action is audited.
Callers have checked permission through ``messaging.integrations.access``."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub.actions import audit
from hub.bots import BotSpec, ensure_bot
from hub.crypto import hash_secret, seal
from hub.errors import HubError, PermissionDenied
from hub.models import Member, User
from messaging import access as messaging_access
from messaging.actions import do_post_bot_message
from messaging.blocks import MAX_BLOCKS, validate_blocks
from messaging.commands import NAME_RE
from messaging.integrations import netguard
from messaging.integrations.kinds import IncomingMessage, Refusal, registry
from messaging.integrations.models import (
    SEALED_PURPOSE,
    AppCommand,
    EventSubscription,
    IncomingWebhook,
    new_key,
)
from messaging.mentions import BROADCAST_NAMES, MENTION_RE
from messaging.models import Conversation, Message, Participant

# --- incoming webhooks: management -----------------------------------------------------------


@dataclass(frozen=True)
class IssuedWebhook:
    webhook: IncomingWebhook
    url: str  # carries the key; shown once
    secret: str | None  # signing secret (DingTalk, Feishu); shown once


def webhook_url(kind: str, key: str) -> str:
    base = settings.SITE_URL.rstrip("/")
    return {
        "slack": f"{base}/hooks/slack/{key}",
        "mattermost": f"{base}/hooks/{key}",
        "dingtalk": f"{base}/robot/send?access_token={key}",
        "wecom": f"{base}/cgi-bin/webhook/send?key={key}",
        "feishu": f"{base}/open-apis/bot/v2/hook/{key}",
    }[kind]


def _signing_secret(kind: str) -> str:
    # dingtalkchatbot signs only secrets starting with "SEC", as DingTalk issues them.
    return "SEC" + secrets.token_hex(32) if kind == "dingtalk" else secrets.token_urlsafe(24)


@transaction.atomic
def do_create_webhook(
    actor: Member,
    conversation: Conversation,
    kind: str,
    name: str,
    *,
    signed: bool = True,
    keywords: list[str] | None = None,
) -> IssuedWebhook:
    name = " ".join(name.split())[:80]
    if not name:
        raise HubError("invalid_name", "a webhook needs a name (it is shown as the sender)")
    if kind not in registry():
        raise HubError("invalid_kind", f"unknown webhook kind {kind!r}")
    keywords = list(dict.fromkeys(k.strip()[:50] for k in keywords or [] if k.strip()))
    if keywords and not registry()[kind].has_keywords:
        raise HubError("keywords_not_supported", f"{kind} webhooks have no keyword security")
    key = new_key()
    secret = _signing_secret(kind) if signed and registry()[kind].signed else None
    # Each webhook speaks as its own bot: its name is the sender people see.
    bot = ensure_bot(conversation.workspace, BotSpec(f"webhook-{secrets.token_hex(6)}", name))
    webhook = IncomingWebhook.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        kind=kind,
        name=name,
        bot=bot,
        key_hash=hash_secret(key),
        secret_sealed=seal(secret, SEALED_PURPOSE) if secret else "",
        keywords=keywords,
        created_by=actor.user,
    )
    audit("webhook.create", actor=actor.user, workspace=conversation.workspace_id, target=webhook, kind=kind,
          conversation_id=conversation.pk, signed=bool(secret))  # fmt: skip
    return IssuedWebhook(webhook=webhook, url=webhook_url(kind, key), secret=secret)


@transaction.atomic
def do_revoke_webhook(actor: Member, webhook: IncomingWebhook) -> None:
    """Stops at once: the next request finds no webhook (lookups skip revoked rows)."""
    if webhook.revoked_at is not None:
        return
    webhook.revoked_at = timezone.now()
    webhook.save(update_fields=["revoked_at"])
    audit("webhook.revoke", actor=actor.user, workspace=webhook.workspace_id, target=webhook)


# --- incoming webhooks: posting ----------------------------------------------------------------

_MENTIONABLE = re.compile(r"[\w\u3400-\u9fff.\-]{1,40}")


def mention_token(user: User) -> str:
    """What to write after "@" so that messaging's mention finder picks this person."""
    if user.display_name and _MENTIONABLE.fullmatch(user.display_name):
        return user.display_name
    return user.email.split("@", 1)[0]


def _named_people(conversation: Conversation, incoming: IncomingMessage) -> list[tuple[str, User]]:
    """(how the payload named them, the person) for people of the conversation, by mobile or email."""
    mobiles = {m for m in incoming.mobiles if m.isdigit()}
    emails = {e.lower() for e in incoming.emails}
    if not mobiles and not emails:
        return []
    participants = Participant.objects.select_related("user").filter(
        conversation=conversation, active=True, user__is_active=True, user__is_bot=False
    )
    found: list[tuple[str, User]] = []
    for participant in participants.filter(user__mobile__in=mobiles):
        found.append((participant.user.mobile, participant.user))
    for participant in participants.filter(user__email__in=emails):
        found.append((participant.user.email, participant.user))
    return found


def _with_mentions(webhook: IncomingWebhook, incoming: IncomingMessage) -> str:
    text = incoming.text.replace("\x00", "")
    for named, user in _named_people(webhook.conversation, incoming):
        token = f"@{mention_token(user)}"
        text = text.replace(f"@{named}", token) if f"@{named}" in text else f"{text} {token}"
    try:
        messaging_access.check_can_broadcast(webhook.bot, webhook.conversation)
        may_broadcast = True
    except PermissionDenied:
        may_broadcast = False
    if not may_broadcast:
        # A robot may not wake a big channel: its @all stays visible but inert (full-width ＠).
        text = MENTION_RE.sub(
            lambda m: f"＠{m.group(1)}" if m.group(1).lower() in BROADCAST_NAMES else m.group(0), text
        )
    elif incoming.at_all and not any(m.group(1) in BROADCAST_NAMES for m in MENTION_RE.finditer(text)):
        text = f"{text} @所有人"
    return text.strip()[: settings.HUB_MESSAGE_MAX_CHARS]


def _safe_blocks(webhook: IncomingWebhook, incoming: IncomingMessage) -> list[dict[str, Any]]:
    """Each converted block on its own: one that does not validate (a javascript: image) is
    dropped, not the whole message. A payload's "username" becomes a context note — the
    sender stays the webhook's bot, so no payload can post as a person."""
    stored: list[dict[str, Any]] = []
    for block in incoming.blocks[: MAX_BLOCKS - 1]:
        try:
            stored.extend(validate_blocks([block]))
        except HubError:
            continue
    if incoming.display_as:
        stored.append({"type": "context", "text": f"{incoming.display_as} · 通过 Webhook「{webhook.name}」发送"[:500]})
    return stored


def _check_keywords(webhook: IncomingWebhook, incoming: IncomingMessage) -> None:
    """DingTalk's and Feishu's keyword security: the text or a block must contain a keyword."""
    if not webhook.keywords:
        return
    haystack = incoming.text + json.dumps(incoming.blocks, ensure_ascii=False)
    if not any(keyword in haystack for keyword in webhook.keywords):
        raise Refusal("keywords")


def do_post_incoming(webhook: IncomingWebhook, incoming: IncomingMessage) -> Message:
    conversation = webhook.conversation
    if conversation.archived_at is not None:
        raise Refusal("archived")
    _check_keywords(webhook, incoming)
    body = _with_mentions(webhook, incoming)
    blocks = _safe_blocks(webhook, incoming)
    if not body and not [b for b in blocks if b["type"] != "context"]:
        raise Refusal("empty")
    try:
        message = do_post_bot_message(webhook.bot, conversation, body, blocks=blocks, client_id=uuid.uuid4())
    except HubError as exc:
        raise Refusal("bad_payload", exc.message) from None
    IncomingWebhook.objects.filter(pk=webhook.pk).update(last_used_at=timezone.now())
    return message


# --- outgoing event subscriptions ------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSubscription:
    subscription: EventSubscription
    secret: str  # signs every delivery; shown once


@transaction.atomic
def do_create_subscription(admin: Member, bot: Member, url: str, events: list[str]) -> IssuedSubscription:
    url = netguard.check_url(url)
    allowed = set(EventSubscription.EventType.values)
    events = list(dict.fromkeys(events))
    if not events or not set(events) <= allowed:
        raise HubError("invalid_events", f"events must be a non-empty list of {', '.join(sorted(allowed))}")
    secret = secrets.token_urlsafe(32)
    subscription = EventSubscription.objects.create(
        workspace_id=admin.workspace_id,
        bot=bot,
        owner=admin.user,
        url=url,
        secret_sealed=seal(secret, SEALED_PURPOSE),
        events=events,
    )
    audit("subscription.create", actor=admin.user, workspace=admin.workspace_id, target=subscription,
          bot_id=bot.user_id, events=events, host=url.split("/")[2])  # fmt: skip
    return IssuedSubscription(subscription=subscription, secret=secret)


@transaction.atomic
def do_set_subscription_active(admin: Member, subscription: EventSubscription, active: bool) -> EventSubscription:
    subscription.active = active
    if active:
        subscription.failure_streak = 0
        subscription.disabled_at = None
        subscription.disabled_reason = ""
    else:
        subscription.disabled_at = timezone.now()
        subscription.disabled_reason = "disabled by an admin"
    subscription.save(update_fields=["active", "failure_streak", "disabled_at", "disabled_reason"])
    audit("subscription.enable" if active else "subscription.disable", actor=admin.user,
          workspace=subscription.workspace_id, target=subscription)  # fmt: skip
    return subscription


@transaction.atomic
def do_delete_subscription(admin: Member, subscription: EventSubscription) -> None:
    audit("subscription.delete", actor=admin.user, workspace=subscription.workspace_id, target=subscription)
    subscription.delete()


# --- slash commands of external apps ---------------------------------------------------------


@dataclass(frozen=True)
class IssuedCommand:
    command: AppCommand
    token: str  # sent as the form field "token" (Slack's verification token)
    signing_secret: str  # signs each request (X-Hub-Signature)


@transaction.atomic
def do_register_command(
    admin: Member, bot: Member, name: str, url: str, usage: str = "", description: str = ""
) -> IssuedCommand:
    from messaging.commands import commands_for

    name = name.strip().lstrip("/").lower()
    if not NAME_RE.match(name):
        raise HubError(
            "invalid_name", "a command name is 1-32 lower-case letters, digits, - or _, starting with a letter"
        )
    if name in {c.name for c in commands_for(admin)}:
        raise HubError("duplicate", f"/{name} already exists in this workspace", status=409)
    url = netguard.check_url(url)
    token, signing_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    command = AppCommand.objects.create(
        workspace_id=admin.workspace_id,
        bot=bot,
        name=name,
        url=url,
        usage=(usage.strip() or f"/{name}")[:120],
        description=description.strip()[:200],
        secret_sealed=seal(json.dumps({"token": token, "signing_secret": signing_secret}), SEALED_PURPOSE),
        created_by=admin.user,
    )
    audit("app_command.register", actor=admin.user, workspace=admin.workspace_id, target=command, name=name,
          bot_id=bot.user_id, host=url.split("/")[2])  # fmt: skip
    return IssuedCommand(command=command, token=token, signing_secret=signing_secret)


@transaction.atomic
def do_revoke_command(admin: Member, command: AppCommand) -> None:
    command.revoked_at = timezone.now()
    command.save(update_fields=["revoked_at"])
    audit("app_command.revoke", actor=admin.user, workspace=command.workspace_id, target=command, name=command.name)
