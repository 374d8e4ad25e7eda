"""Zulip's ``verify_action`` idea over the socket: a client that fetched the messages once and
then applied every event it received must hold exactly what a fresh fetch returns. This keeps
event payloads complete (a field changed by an action but missing from its event fails here)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from messaging import actions, queries
from messaging.models import Conversation, Message
from tests.conftest import World
from tests.messaging.socket_client import (
    connect,
    create_conversation,
    member_of,
    send_http,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


@database_sync_to_async
def _fetch(conv: int) -> tuple[list[dict[str, Any]], int]:
    conversation = Conversation.objects.get(pk=conv)
    messages, has_more = queries.message_page(conversation, before=None, after=None, limit=200)
    assert not has_more
    return messages, conversation.last_seq


def _apply(state: dict[int, dict[str, Any]], event: dict[str, Any]) -> None:
    """A minimal client: how each logged event changes the message list."""
    kind = event["type"]
    if kind in ("message.new", "message.edited", "message.deleted"):
        state[event["message"]["id"]] = event["message"]
    elif kind == "reaction.changed":
        state[event["message_id"]]["reactions"] = event["reactions"]
    elif kind == "pin.changed":
        state[event["message_id"]]["pinned"] = event["pinned"]
    elif kind == "thread.updated":
        state[event["root_id"]]["reply_count"] = event["reply_count"]
        state[event["root_id"]]["last_reply_at"] = event["last_reply_at"]


async def test_initial_state_plus_socket_events_equals_a_fresh_fetch(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "核对", (world.member, world.member2))
    first = await send_http(world.owner, conv, "第一条")
    initial, last_seq = await _fetch(conv)
    state = {m["id"]: m for m in initial}
    sock = await connect(world.member, sync=False)
    await sock.send({"type": "sync", "cursors": {str(conv): last_seq}})
    await sock.expect("sync.done")

    def changes() -> None:
        owner = member_of(world.owner, world.workspace.pk)
        member2 = member_of(world.member2, world.workspace.pk)
        conversation = Conversation.objects.get(pk=conv)
        second, _ = actions.check_send_message(owner, conversation, "第二条 @张三", uuid.uuid4())
        actions.check_send_message(member2, conversation, "回复", uuid.uuid4(), thread_root_id=first["id"])
        actions.check_edit_message(owner, Message.objects.get(pk=first["id"]), "第一条（改）")
        actions.check_toggle_reaction(member2, Message.objects.get(pk=first["id"]), "👍")
        actions.check_toggle_reaction(owner, Message.objects.get(pk=first["id"]), "👍")
        actions.check_set_pin(owner, Message.objects.get(pk=first["id"]), True)
        actions.check_delete_message(owner, Message.objects.get(pk=second.pk))

    await database_sync_to_async(changes)()
    expected, final_seq = await _fetch(conv)
    frames = await sock.until(lambda f: f.get("seq") == final_seq)
    seqs = [f["seq"] for f in frames if "seq" in f]
    assert seqs == list(range(last_seq + 1, final_seq + 1))
    for frame in frames:
        _apply(state, frame)
    assert sorted(state.values(), key=lambda m: m["seq"]) == expected
    await sock.close()
