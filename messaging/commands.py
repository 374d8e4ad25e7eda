"""Slash commands: ``/stock 龙井 杭州仓`` typed in the composer.

Apps register commands here at start-up (the ERP bridge: ``/stock``, ``/price``, …;
integrations: commands of external apps, per workspace, through a provider). Messaging owns
parsing, discovery (autocomplete), dispatch and delivery of the reply:

* an *ephemeral* reply goes only to the person who typed the command (in the HTTP
  response); nothing is stored in the conversation;
* an *in-channel* reply is posted to the conversation as a message from the workspace's
  assistant bot, with a context line saying who ran which command.

Handlers never raise for bad arguments: they answer with usage help, so people learn the
command from its replies. Unknown commands get the closest names.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils import translation

from hub.bots import ASSISTANT, ensure_bot
from hub.errors import HubError
from hub.models import Member
from messaging import access
from messaging.actions._common import check_send_rate
from messaging.blocks import validate_blocks
from messaging.models import Conversation, Message

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_COMMAND_RE = re.compile(r"^/([A-Za-z][\w-]{0,31})(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class CommandContext:
    member: Member
    conversation: Conversation
    name: str
    args: str  # everything after the command name, stripped
    language: str  # "zh-hans" | "en": the reply's language
    thread_root_id: int | None = None


@dataclass(frozen=True)
class CommandReply:
    text: str  # Markdown
    visibility: Literal["ephemeral", "in_channel"] = "ephemeral"
    blocks: list[dict[str, Any]] = field(default_factory=list)  # unvalidated; dispatch validates


@dataclass(frozen=True)
class Suggestion:
    value: str  # what completing inserts (the whole argument text)
    label: str
    detail: str = ""


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str  # "/stock <商品> [仓库]"
    summary: dict[str, str]  # language → one line
    handler: Callable[[CommandContext], CommandReply]
    # Argument autocomplete: (context with the partial args) → suggestions.
    suggest: Callable[[CommandContext], Sequence[Suggestion]] | None = None
    # Who may see and run it (e.g. staff only); guests are refused by default.
    available: Callable[[Member], bool] = lambda member: not member.is_guest


CommandProvider = Callable[[int], Sequence[SlashCommand]]  # workspace id → commands
_commands: dict[str, SlashCommand] = {}
_providers: list[CommandProvider] = []


def register_command(command: SlashCommand) -> None:
    if not NAME_RE.match(command.name):
        raise ValueError(f"bad command name {command.name!r}")
    _commands[command.name] = command


def register_provider(provider: CommandProvider) -> None:
    """Per-workspace commands from data (external apps' commands)."""
    _providers.append(provider)


def commands_for(member: Member) -> list[SlashCommand]:
    found = dict(_commands)
    for provider in _providers:
        for command in provider(member.workspace_id):
            found.setdefault(command.name, command)
    found["help"] = _HELP
    return sorted((c for c in found.values() if c.available(member)), key=lambda c: c.name)


def parse(text: str) -> tuple[str, str]:
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        raise HubError("invalid_command", "a command starts with / followed by its name, e.g. /help")
    return match.group(1).lower(), (match.group(2) or "").strip()


def _find(member: Member, name: str) -> SlashCommand:
    available = {c.name: c for c in commands_for(member)}
    if name in available:
        return available[name]
    close = difflib.get_close_matches(name, list(available), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join('/' + c for c in close)}?" if close else "; type /help for the list"
    raise HubError("unknown_command", f"unknown command /{name}{hint}", status=404)


def _context(member: Member, conversation: Conversation, text: str, thread_root_id: int | None) -> CommandContext:
    name, args = parse(text)
    language = "en" if (translation.get_language() or "").startswith("en") else "zh-hans"
    return CommandContext(member, conversation, name, args, language, thread_root_id)


def suggest(member: Member, conversation: Conversation, text: str) -> list[Suggestion]:
    """Autocomplete for what is typed so far: command names, then the command's arguments."""
    stripped = text.lstrip()
    if " " not in stripped:
        prefix = stripped.lstrip("/").lower()
        return [
            Suggestion(value=f"/{c.name} ", label=c.usage, detail=c.summary.get("zh-hans", ""))
            for c in commands_for(member)
            if c.name.startswith(prefix)
        ]
    context = _context(member, conversation, text, None)
    command = _find(member, context.name)
    return list(command.suggest(context))[:20] if command.suggest else []


@dataclass(frozen=True)
class CommandOutcome:
    name: str
    reply: CommandReply
    blocks: list[dict[str, Any]]
    message: Message | None  # the posted message for in-channel replies


def check_run_command(
    member: Member, conversation: Conversation, text: str, *, client_id: uuid.UUID, thread_root_id: int | None = None
) -> CommandOutcome:
    access.check_not_archived(conversation)
    if not access.can_read(member, conversation):
        raise HubError("not_found", "conversation not found", status=404)
    check_send_rate(member.user_id)
    context = _context(member, conversation, text, thread_root_id)
    command = _find(member, context.name)
    reply = command.handler(context)
    blocks = validate_blocks(reply.blocks)
    message = None
    if reply.visibility == "in_channel":
        access.check_can_post(member, conversation)
        message = _post_reply(member, conversation, context, reply, blocks, client_id)
    return CommandOutcome(name=command.name, reply=reply, blocks=blocks, message=message)


def _post_reply(
    member: Member,
    conversation: Conversation,
    context: CommandContext,
    reply: CommandReply,
    blocks: list[dict[str, Any]],
    client_id: uuid.UUID,
) -> Message:
    from messaging.actions.bots import do_post_bot_message  # the actions package imports this module

    bot = ensure_bot(conversation.workspace, ASSISTANT)
    credit = {"type": "context", "text": f"{member.user.name} · /{context.name} {context.args}".strip()}
    # The person's client_id keeps a retried command from posting twice.
    return do_post_bot_message(
        bot,
        conversation,
        reply.text,
        blocks=[*blocks, credit],
        client_id=uuid.uuid5(client_id, "command-reply"),
        thread_root_id=context.thread_root_id,
    )


def post_in_channel_reply(
    context: CommandContext, reply: CommandReply, blocks: list[dict[str, Any]], client_id: uuid.UUID
) -> Message:
    """An in-channel reply that arrives later (an external app answering through its response
    URL), posted exactly like an immediate one. ``blocks`` are validated."""
    return _post_reply(context.member, context.conversation, context, reply, blocks, client_id)


def _help(context: CommandContext) -> CommandReply:
    lines = [
        f"* `{c.usage}` — {c.summary.get(context.language) or c.summary.get('en', '')}"
        for c in commands_for(context.member)
    ]
    title = "Commands" if context.language == "en" else "可用命令"
    return CommandReply(text=f"**{title}**\n\n" + "\n".join(lines))


_HELP = SlashCommand(
    name="help",
    usage="/help",
    summary={"zh-hans": "列出可用命令", "en": "list the commands you can use"},
    handler=_help,
    available=lambda member: True,
)
