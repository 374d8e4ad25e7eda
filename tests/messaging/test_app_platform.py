"""The app platform inside messaging: message blocks, slash commands, button actions, bot
posts and the event_logged signal that higher layers (ERP bridge, integrations) build on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hub.bots import ASSISTANT, ensure_bot
from hub.errors import HubError
from messaging import commands, interactions
from messaging.actions import do_post_bot_message, do_update_message_blocks
from messaging.blocks import validate_blocks
from messaging.models import Conversation, Message
from messaging.signals import event_logged
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, events


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])


# --- blocks ---------------------------------------------------------------------------------------


def test_blocks_are_validated_and_sections_sanitised() -> None:
    stored = validate_blocks(
        [
            {"type": "header", "text": "订单 SO-1001"},
            {"type": "section", "text": "**待审批** <img src=x onerror=alert(1)>", "html": "<script>x</script>"},
            {"type": "fields", "fields": [{"label": "金额", "value": "¥12,000.00"}]},
            {"type": "actions", "actions": [{"id": "crm:approve:1", "label": "批准", "style": "primary"}]},
        ]
    )
    section = stored[1]
    assert "<strong>待审批</strong>" in section["html"]
    assert "<img" not in section["html"] and "<script>" not in section["html"]  # escaped; client html replaced
    assert stored[3]["actions"][0]["id"] == "crm:approve:1"


@pytest.mark.parametrize(
    "bad",
    [
        [{"type": "image", "url": "javascript:alert(1)"}],
        [{"type": "image", "url": "data:text/html,x"}],
        [{"type": "actions", "actions": [{"label": "x", "url": "//evil.test/"}]}],
        [{"type": "script", "text": "x"}],
        [{"type": "header", "text": "x", "onclick": "y"}],
        [{"type": "actions", "actions": [{"id": "no namespace", "label": "x"}]}],
        "not a list",
        [{"type": "divider"}] * 31,
    ],
)
def test_bad_blocks_are_refused_with_a_clear_error(bad: Any) -> None:
    with pytest.raises(HubError) as caught:
        validate_blocks(bad)
    assert caught.value.code == "invalid_blocks"


# --- bots -------------------------------------------------------------------------------------------


def test_bot_posts_idempotently_with_blocks(world: World, conv: int) -> None:
    bot = ensure_bot(world.workspace, ASSISTANT)
    assert ensure_bot(world.workspace, ASSISTANT).pk == bot.pk
    assert bot.user.is_bot and not bot.user.has_usable_password()
    conversation = Conversation.objects.get(pk=conv)
    key = uuid.uuid5(uuid.NAMESPACE_URL, "alert-1")
    first = do_post_bot_message(bot, conversation, "", blocks=[{"type": "header", "text": "库存预警"}], client_id=key)
    again = do_post_bot_message(bot, conversation, "", blocks=[{"type": "header", "text": "库存预警"}], client_id=key)
    assert first.pk == again.pk
    messages = world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").json()["messages"]
    posted = [m for m in messages if m["id"] == first.pk]
    assert posted and posted[0]["sender_is_bot"] is True
    assert posted[0]["blocks"] == [{"type": "header", "text": "库存预警"}]


def test_a_person_is_not_a_bot(world: World, conv: int) -> None:
    from hub.models import Member

    person = Member.objects.get(workspace=world.workspace, user=world.member.user)
    with pytest.raises(HubError):
        do_post_bot_message(person, Conversation.objects.get(pk=conv), "hi")


def test_updating_blocks_sends_message_updated(world: World, conv: int) -> None:
    bot = ensure_bot(world.workspace, ASSISTANT)
    message = do_post_bot_message(bot, Conversation.objects.get(pk=conv), "", blocks=[{"type": "header", "text": "a"}])
    do_update_message_blocks(message, [{"type": "header", "text": "b"}])
    updated = [e for e in events(world, world.member, conv) if e["type"] == "message.updated"]
    assert [e["message"]["blocks"] for e in updated] == [[{"type": "header", "text": "b"}]]
    assert Message.objects.get(pk=message.pk).edited_at is None  # a card changing is not an edit


# --- slash commands -----------------------------------------------------------------------------------


@pytest.fixture
def echo_command(monkeypatch: pytest.MonkeyPatch) -> list[commands.CommandContext]:
    seen: list[commands.CommandContext] = []

    def handler(ctx: commands.CommandContext) -> commands.CommandReply:
        seen.append(ctx)
        if not ctx.args:
            return commands.CommandReply(text="用法：/echo <文字> [--public]")
        public = ctx.args.endswith("--public")
        return commands.CommandReply(
            text=ctx.args.removesuffix("--public").strip(),
            visibility="in_channel" if public else "ephemeral",
            blocks=[{"type": "fields", "fields": [{"label": "长度", "value": str(len(ctx.args))}]}],
        )

    def suggest(ctx: commands.CommandContext) -> list[commands.Suggestion]:
        return [commands.Suggestion(value=w, label=w) for w in ("龙井", "碧螺春") if w.startswith(ctx.args)]

    command = commands.SlashCommand(
        name="echo", usage="/echo <文字>", summary={"zh-hans": "回声", "en": "echo"}, handler=handler, suggest=suggest
    )
    monkeypatch.setitem(commands._commands, "echo", command)
    return seen


def test_ephemeral_reply_is_not_stored(world: World, conv: int, echo_command: list[Any]) -> None:
    before = Conversation.objects.get(pk=conv).last_seq
    res = world.api(world.member).post(
        f"/api/v1/conversations/{conv}/commands", {"text": "/echo 你好", "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["visibility"] == "ephemeral" and body["text"] == "你好" and body["message"] is None
    assert body["blocks"][0]["fields"][0]["value"] == "2"
    assert Conversation.objects.get(pk=conv).last_seq == before
    assert echo_command[0].member.user == world.member.user and echo_command[0].args == "你好"


def test_in_channel_reply_is_posted_once_by_the_assistant(world: World, conv: int, echo_command: list[Any]) -> None:
    client_id = str(uuid.uuid4())
    first = world.api(world.member).post(
        f"/api/v1/conversations/{conv}/commands", {"text": "/echo 大家好 --public", "client_id": client_id}
    )
    again = world.api(world.member).post(
        f"/api/v1/conversations/{conv}/commands", {"text": "/echo 大家好 --public", "client_id": client_id}
    )
    posted = first.json()["message"]
    assert posted["sender_is_bot"] and posted["body"] == "大家好"
    assert again.json()["message"]["id"] == posted["id"]
    assert posted["blocks"][-1] == {"type": "context", "text": "张三 · /echo 大家好 --public"}


def test_bad_arguments_get_usage_and_unknown_commands_get_suggestions(
    world: World, conv: int, echo_command: list[Any]
) -> None:
    api = world.api(world.member)
    usage = api.post(f"/api/v1/conversations/{conv}/commands", {"text": "/echo", "client_id": str(uuid.uuid4())})
    assert usage.json()["text"].startswith("用法")
    unknown = api.post(f"/api/v1/conversations/{conv}/commands", {"text": "/ecko hi", "client_id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and error_code(unknown) == "unknown_command"
    assert "/echo" in unknown.json()["error"]["message"]
    garbage = api.post(f"/api/v1/conversations/{conv}/commands", {"text": "echo", "client_id": str(uuid.uuid4())})
    assert error_code(garbage) == "invalid_command"


def test_autocomplete_and_listing(world: World, conv: int, echo_command: list[Any]) -> None:
    api = world.api(world.member)
    names = api.get(f"/api/v1/conversations/{conv}/commands/suggest", text="/ec").json()["suggestions"]
    assert [s["value"] for s in names] == ["/echo "]
    args = api.get(f"/api/v1/conversations/{conv}/commands/suggest", text="/echo 龙").json()["suggestions"]
    assert [s["value"] for s in args] == ["龙井"]
    listed = api.get(f"/api/v1/workspaces/{world.workspace.pk}/commands").json()["commands"]
    assert {"echo", "help"} <= {c["name"] for c in listed}


def test_guests_do_not_get_staff_commands(world: World, echo_command: list[Any]) -> None:
    listed = world.api(world.guest).get(f"/api/v1/workspaces/{world.workspace.pk}/commands").json()["commands"]
    assert [c["name"] for c in listed] == ["help"]


def test_outsider_cannot_run_commands_in_another_workspace(world: World, conv: int, echo_command: list[Any]) -> None:
    res = world.api(world.outsider).post(
        f"/api/v1/conversations/{conv}/commands", {"text": "/echo x", "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 404 and not echo_command


# --- button actions -------------------------------------------------------------------------------------


@pytest.fixture
def card(world: World, conv: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Message, list[interactions.ActionRequest]]:
    clicks: list[interactions.ActionRequest] = []

    def handler(request: interactions.ActionRequest) -> interactions.ActionResult:
        clicks.append(request)
        return interactions.ActionResult(status="done", message="已批准")

    monkeypatch.setitem(interactions._handlers, "test", handler)
    bot = ensure_bot(world.workspace, ASSISTANT)
    blocks = [
        {
            "type": "actions",
            "actions": [
                {"id": "test:approve:1", "label": "批准"},
                {"id": "test:gone:1", "label": "过期", "disabled": True},
                {"id": "nobody:x", "label": "无主"},
            ],
        }
    ]
    return do_post_bot_message(bot, Conversation.objects.get(pk=conv), "", blocks=blocks), clicks


def test_click_reaches_the_namespace_handler(world: World, card: Any) -> None:
    message, clicks = card
    res = world.api(world.member).post(
        f"/api/v1/messages/{message.pk}/actions", {"action_id": "test:approve:1", "comment": " 同意 "}
    )
    assert res.status_code == 200 and res.json() == {"status": "done", "message": "已批准", "data": {}}
    assert clicks[0].member.user == world.member.user and clicks[0].comment == "同意"


@pytest.mark.parametrize(("action_id", "code"), [("test:forged:9", "not_found"), ("test:gone:1", "not_found")])
def test_only_offered_enabled_buttons_can_be_clicked(world: World, card: Any, action_id: str, code: str) -> None:
    message, clicks = card
    res = world.api(world.member).post(f"/api/v1/messages/{message.pk}/actions", {"action_id": action_id})
    assert error_code(res) == code and not clicks


def test_button_of_a_missing_app_says_so(world: World, card: Any) -> None:
    message, _ = card
    res = world.api(world.member).post(f"/api/v1/messages/{message.pk}/actions", {"action_id": "nobody:x"})
    assert res.status_code == 409 and error_code(res) == "action_unavailable"


def test_outsiders_cannot_click(world: World, card: Any) -> None:
    message, clicks = card
    res = world.api(world.outsider).post(f"/api/v1/messages/{message.pk}/actions", {"action_id": "test:approve:1"})
    assert res.status_code == 404 and not clicks


# --- event_logged ------------------------------------------------------------------------------------------


def test_event_logged_fires_after_commit_and_a_failing_receiver_breaks_nothing(
    world: World, conv: int, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[tuple[int, str, int]] = []

    def receiver(sender: Any, conversation_id: int, event_type: str, frame: dict[str, Any], **kw: Any) -> None:
        seen.append((conversation_id, event_type, frame["seq"]))

    def broken(**kw: Any) -> None:
        raise RuntimeError("boom")

    event_logged.connect(receiver)
    event_logged.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            res = world.api(world.member).post(
                f"/api/v1/conversations/{conv}/messages", {"body": "有新订单", "client_id": str(uuid.uuid4())}
            )
        assert res.status_code == 201
    finally:
        event_logged.disconnect(receiver)
        event_logged.disconnect(broken)
    assert seen == [(conv, "message.new", res.json()["seq"])]
