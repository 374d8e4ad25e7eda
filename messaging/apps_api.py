"""HTTP API for what apps add to conversations: slash commands (run, autocomplete, list) and
button clicks on message blocks. Thin: authenticate, check access, call one action."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from hub.access import access_member
from hub.apicore import authed_user
from hub.rendering import render_markdown
from messaging import access, commands, interactions
from messaging.blocks import Block
from messaging.schemas import MessageOut
from messaging.serializers import message_payload

router = Router(tags=["apps"])


class CommandIn(Schema):
    text: str = Field(max_length=4000, description='The whole command line, e.g. "/stock 龙井 杭州仓".')
    client_id: uuid.UUID
    thread_root_id: int | None = None


class CommandOut(Schema):
    command: str
    visibility: Literal["ephemeral", "in_channel"]
    text: str
    html: str
    blocks: list[Block]
    message: MessageOut | None = None


class SuggestionOut(Schema):
    value: str
    label: str
    detail: str = ""


class SuggestionsOut(Schema):
    suggestions: list[SuggestionOut]


class CommandInfoOut(Schema):
    name: str
    usage: str
    summary: str


class CommandListOut(Schema):
    commands: list[CommandInfoOut]


class ActionIn(Schema):
    action_id: str = Field(max_length=200)
    comment: str = Field(default="", max_length=interactions.MAX_COMMENT)


class ActionOut(Schema):
    status: Literal["done", "already_done", "conflict", "unknown", "failed"]
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


@router.post("/conversations/{conversation_id}/commands", response=CommandOut)
def run_command(request: HttpRequest, conversation_id: int, payload: CommandIn) -> dict[str, object]:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    outcome = commands.check_run_command(
        member, conversation, payload.text, client_id=payload.client_id, thread_root_id=payload.thread_root_id
    )
    return {
        "command": outcome.name,
        "visibility": outcome.reply.visibility,
        "text": outcome.reply.text,
        "html": render_markdown(outcome.reply.text).html,
        "blocks": outcome.blocks,
        "message": message_payload(outcome.message) if outcome.message else None,
    }


class SuggestParams(Schema):
    text: str = Field(max_length=4000)


@router.get("/conversations/{conversation_id}/commands/suggest", response=SuggestionsOut)
def suggest_command(request: HttpRequest, conversation_id: int, params: Query[SuggestParams]) -> dict[str, object]:
    member, conversation = access.access_conversation(authed_user(request), conversation_id)
    return {"suggestions": commands.suggest(member, conversation, params.text)}


@router.get("/workspaces/{workspace_id}/commands", response=CommandListOut)
def list_commands(request: HttpRequest, workspace_id: int) -> dict[str, object]:
    member = access_member(authed_user(request), workspace_id)
    language = "en" if authed_user(request).language == "en" else "zh-hans"
    return {
        "commands": [
            {"name": c.name, "usage": c.usage, "summary": c.summary.get(language) or c.summary.get("en", "")}
            for c in commands.commands_for(member)
        ]
    }


@router.post("/messages/{message_id}/actions", response=ActionOut)
def run_action(request: HttpRequest, message_id: int, payload: ActionIn) -> interactions.ActionResult:
    member, message = access.access_message(authed_user(request), message_id)
    return interactions.check_run_action(member, message, payload.action_id, payload.comment)
