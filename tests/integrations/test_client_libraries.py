"""Compatibility proven with the platforms' own client libraries from PyPI, against a live
server on loopback: slack-sdk's WebhookClient, dingtalkchatbot with 加签 on, and apprise's
Mattermost target (mmost://host:port/<key> posts to /hooks/<key>)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.models import User
from messaging.models import Message
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)
Hook = Callable[..., dict[str, Any]]


@pytest.fixture
def live_hook(make_hook: Hook, live_server: Any) -> Callable[..., dict[str, Any]]:
    def make(kind: str, name: str = "Grafana", **extra: Any) -> dict[str, Any]:
        created = make_hook(kind, name, **extra)
        created["url"] = created["url"].replace("http://testserver", live_server.url)
        return created

    return make


def latest(conv: int) -> Message:
    return Message.objects.filter(conversation_id=conv).select_related("sender").latest("id")


def test_slack_sdk_webhook_client(conv: int, live_hook: Hook) -> None:
    from slack_sdk.webhook import WebhookClient

    client = WebhookClient(live_hook("slack", "CI")["url"])
    response = client.send(
        text="*构建成功* <https://ci.example.com/1|#1>",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "发布"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "分支 `main` 已部署"}},
        ],
    )
    assert (response.status_code, response.body) == (200, "ok")
    message = latest(conv)
    assert message.sender.is_bot and message.sender.display_name == "CI"
    assert "<strong>构建成功</strong>" in message.html
    assert [b["type"] for b in message.blocks] == ["header", "section"]
    bad = client.send(text="")
    assert (bad.status_code, bad.body) == (400, "no_text")


def test_dingtalkchatbot_with_signing(world: World, conv: int, live_hook: Hook) -> None:
    from dingtalkchatbot.chatbot import ActionCard, CardItem, DingtalkChatbot

    User.objects.filter(pk=world.member.user.pk).update(mobile="13800138000")
    hook = live_hook("dingtalk", "库存预警")
    bot = DingtalkChatbot(hook["url"], secret=hook["secret"])
    assert bot.send_text(msg="龙井库存低于安全线", at_mobiles=["13800138000"]) == {"errcode": 0, "errmsg": "ok"}
    text = latest(conv)
    assert text.mentions == [world.member.user.pk] and "@张三" in text.body
    result = bot.send_markdown(
        title="日报", text="#### 今日销售\n* 龙井 **12** 件\n[明细](https://erp.example.com/r/1)"
    )
    assert result["errcode"] == 0
    assert 'href="https://erp.example.com/r/1"' in latest(conv).html  # dingtalk:// wrapper unwrapped
    card = ActionCard(
        title="采购审批",
        text="### 采购单 PO-7\n金额 ¥3,200",
        btns=[
            CardItem(title="同意", url="https://erp.example.com/po/7/ok"),
            CardItem(title="查看", url="https://erp.example.com/po/7"),
        ],
    )
    assert bot.send_action_card(card)["errcode"] == 0
    actions = latest(conv).blocks[0]["actions"]
    assert [(a["label"], a["url"]) for a in actions] == [
        ("同意", "https://erp.example.com/po/7/ok"),
        ("查看", "https://erp.example.com/po/7"),
    ]
    # The same library with the wrong secret is refused in DingTalk's words.
    wrong = DingtalkChatbot(hook["url"], secret="SEC" + "0" * 64)
    assert wrong.send_text(msg="x")["errcode"] == 310000


def test_apprise_mattermost_target(conv: int, live_hook: Hook, live_server: Any) -> None:
    import apprise

    hook = live_hook("mattermost", "Zabbix")
    key = hook["url"].rsplit("/", 1)[1]
    port = live_server.url.rsplit(":", 1)[1]
    notifier = apprise.Apprise()
    assert notifier.add(f"mmost://127.0.0.1:{port}/{key}")
    assert bool(notifier.notify(title="磁盘告警", body="db-1 磁盘使用率 **95%**")) is True
    message = latest(conv)
    assert "磁盘告警" in message.body and "<strong>95%</strong>" in message.html
    assert message.sender.display_name == "Zabbix"
    broken = apprise.Apprise()
    assert broken.add(f"mmost://127.0.0.1:{port}/wrong-key")
    assert bool(broken.notify(body="x")) is False
