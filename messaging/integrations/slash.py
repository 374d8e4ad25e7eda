"""Slash commands served by external apps, Slack-style.

Typing ``/deploy prod`` POSTs a form to the app's URL — ``token``, ``team_id`` (workspace),
``channel_id``, ``channel_name``, ``user_id``, ``user_name``, ``command``, ``text``,
``response_url``, ``trigger_id`` — signed with ``X-Hub-Signature`` like outgoing events.

* The app must answer within ``HUB_APP_COMMAND_TIMEOUT_MS`` (Slack's 3 seconds). Its answer
  is empty (just "got it"), text, or JSON ``{"response_type": "ephemeral"|"in_channel",
  "text", "blocks"}`` in Slack's mrkdwn / Block Kit.
* A slower app's user is told "the app did not answer in time"; the app can still reply for
  30 minutes by POSTing the same JSON to ``response_url`` (at most 5 times, as on Slack).

Ephemeral replies reach only the person (the HTTP response, or a ``command.reply`` frame on
their sockets for delayed ones); in-channel replies are posted by the workspace assistant
with a line crediting who ran the command, the rule for every slash command."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from hub.crypto import SecretLost, hash_secret, unseal
from hub.errors import HubError
from hub.rendering import render_markdown
from messaging.commands import CommandContext, CommandReply, SlashCommand, post_in_channel_reply
from messaging.events import LAYER_EPHEMERAL, user_group
from messaging.integrations import netguard, signing
from messaging.integrations.kinds import obj, text_of
from messaging.integrations.kinds.slack import blocks_from_slack, mrkdwn_to_markdown
from messaging.integrations.models import SEALED_PURPOSE, AppCommand, CommandInvocation, new_key
from messaging.protocol import CommandReplyFrame
from messaging.publish import group_send_on_commit

logger = logging.getLogger(__name__)
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
MAX_RESPONSES = 5


def commands_for_workspace(workspace_id: int) -> list[SlashCommand]:
    """The provider ``messaging.commands`` asks for a workspace's external commands."""
    return [
        SlashCommand(
            name=command.name,
            usage=command.usage,
            summary={
                "zh-hans": command.description or f"由应用「{command.bot.user.name}」提供",
                "en": command.description or f"provided by the app {command.bot.user.name}",
            },
            handler=partial(run, command.pk),
        )
        for command in AppCommand.objects.filter(workspace_id=workspace_id, revoked_at__isnull=True).select_related(
            "bot__user"
        )
    ]


def _lang(context: CommandContext, zh: str, en: str) -> str:
    return en if context.language == "en" else zh


def run(command_id: int, context: CommandContext) -> CommandReply:
    command = AppCommand.objects.select_related("bot__user").get(pk=command_id)
    app = command.bot.user.name
    key = new_key()
    invocation = CommandInvocation.objects.create(
        command=command,
        member=context.member,
        conversation=context.conversation,
        thread_root_id=context.thread_root_id,
        text=context.args[:4000],
        key_hash=hash_secret(key),
        expires_at=timezone.now() + RESPONSE_URL_LIFETIME,
    )
    try:
        response = _post_form(command, context, invocation, key)
    except requests.Timeout:
        return CommandReply(
            _lang(
                context,
                f"应用「{app}」没有及时响应，稍后它仍可能回复。",
                f"The app {app} did not answer in time; it may still reply later.",
            )
        )
    except (requests.RequestException, HubError, SecretLost):
        logger.info("app command /%s: %s unreachable", command.name, urlsplit(command.url).hostname, exc_info=True)
        return CommandReply(_lang(context, f"无法连接应用「{app}」。", f"Could not reach the app {app}."))
    if not 200 <= response.status_code < 300:
        return CommandReply(
            _lang(
                context,
                f"应用「{app}」出错了（HTTP {response.status_code}）。",
                f"The app {app} failed (HTTP {response.status_code}).",
            )
        )
    reply = _reply_from(response.content, response.headers.get("Content-Type", ""))
    if reply is None:
        return CommandReply(_lang(context, f"已交给应用「{app}」处理。", f"Sent to the app {app}."))
    return reply


def _post_form(
    command: AppCommand, context: CommandContext, invocation: CommandInvocation, key: str
) -> requests.Response:
    secrets_ = json.loads(unseal(command.secret_sealed, SEALED_PURPOSE))
    form = {
        "token": secrets_["token"],
        "team_id": str(context.conversation.workspace_id),
        "team_domain": context.conversation.workspace.name,
        "channel_id": str(context.conversation.pk),
        "channel_name": context.conversation.name,
        "user_id": str(context.member.user_id),
        "user_name": context.member.user.name,
        "command": f"/{command.name}",
        "text": context.args,
        "response_url": f"{settings.SITE_URL.rstrip('/')}/hooks/commands/{key}",
        "trigger_id": str(invocation.pk),
        "api_app_id": str(command.bot.user_id),
    }
    body = urlencode(form).encode("ascii")
    netguard.check_host(urlsplit(command.url).hostname or "")
    with netguard.connection_guard():
        return requests.post(
            command.url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "XiaoweiHub-Commands/1",
                "X-Hub-Signature": signing.hub_signature(secrets_["signing_secret"], body),
            },
            timeout=settings.HUB_APP_COMMAND_TIMEOUT_MS / 1000,
            allow_redirects=False,
        )


def _reply_from(content: bytes, content_type: str) -> CommandReply | None:
    """An app's answer: nothing, plain text, or Slack's JSON message."""
    if not content.strip():
        return None
    if "json" not in content_type:
        text = content.decode("utf-8", "replace")[:4000]
        return CommandReply(mrkdwn_to_markdown(text))
    try:
        data = obj(json.loads(content))
    except ValueError:
        return None
    people: list[str] = []
    text = mrkdwn_to_markdown(text_of(data.get("text"), 4000), people)
    blocks = blocks_from_slack(data.get("blocks"), False, people)
    if not text.strip() and not blocks:
        return None
    if data.get("response_type") == "in_channel":
        return CommandReply(text, visibility="in_channel", blocks=blocks)
    return CommandReply(text, visibility="ephemeral", blocks=blocks)


# --- response_url: delayed replies -----------------------------------------------------------


def respond(request: HttpRequest, key: str) -> HttpResponse:
    """``POST /hooks/commands/<key>`` with Slack's JSON message. Answers like Slack's
    response_url: ``200 ok``, ``404 used_url`` / ``expired_url``, ``400 invalid_payload``."""
    invocation = (
        CommandInvocation.objects.select_related("command", "member__user", "conversation__workspace")
        .filter(key_hash=hash_secret(key))
        .first()
    )
    if invocation is None or invocation.command.revoked_at is not None:
        return HttpResponse("no_service", status=404, content_type="text/plain")
    if invocation.expires_at <= timezone.now():
        return HttpResponse("expired_url", status=404, content_type="text/plain")
    if len(request.body) > settings.HUB_WEBHOOK_MAX_BYTES:
        return HttpResponse("payload_too_large", status=413, content_type="text/plain")
    reply = _reply_from(request.body, "application/json")
    if reply is None:
        return HttpResponse("invalid_payload", status=400, content_type="text/plain")
    claimed = CommandInvocation.objects.filter(pk=invocation.pk, responses__lt=MAX_RESPONSES).update(
        responses=F("responses") + 1
    )
    if not claimed:
        return HttpResponse("used_url", status=404, content_type="text/plain")
    try:
        deliver_reply(invocation, reply)
    except HubError as exc:
        return JsonResponse({"ok": False, "error": exc.code}, status=400)
    return HttpResponse("ok", content_type="text/plain")


@transaction.atomic
def deliver_reply(invocation: CommandInvocation, reply: CommandReply) -> None:
    from messaging import access
    from messaging.blocks import validate_blocks

    member, conversation = invocation.member, invocation.conversation
    if not member.is_active or not access.can_read(member, conversation):
        raise HubError("not_found", "the person can no longer read this conversation", status=404)
    blocks = validate_blocks(reply.blocks)
    if reply.visibility == "in_channel":
        access.check_can_post(member, conversation)
        context = CommandContext(
            member, conversation, invocation.command.name, invocation.text, "zh-hans", invocation.thread_root_id
        )
        # One message per response (the claim above numbered it), even if the app retries.
        client_id = uuid.uuid5(uuid.NAMESPACE_URL, f"hub-command-response:{invocation.pk}:{invocation.responses}")
        post_in_channel_reply(context, reply, blocks, client_id)
        return
    frame: CommandReplyFrame = {
        "type": "command.reply",
        "conversation_id": conversation.pk,
        "command": invocation.command.name,
        "text": reply.text,
        "html": render_markdown(reply.text).html,
        "blocks": blocks,
    }
    group_send_on_commit(user_group(member.user_id), {"type": LAYER_EPHEMERAL, "frame": frame})
