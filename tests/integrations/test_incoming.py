"""Incoming webhooks of every kind, through the Django test client: each platform's payloads,
its answers (status and body), signatures with the clock window, and what arrives."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import pytest

from hub.models import User
from tests.conftest import World
from tests.integrations.conftest import post_json

Hook = Callable[..., dict[str, Any]]


def last_message(world: World, conv: int) -> dict[str, Any]:
    messages = world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").json()["messages"]
    return dict(messages[-1])


def message_count(world: World, conv: int) -> int:
    return len(world.api(world.member).get(f"/api/v1/conversations/{conv}/messages").json()["messages"])


def dingtalk_signed(url: str, secret: str, at_ms: int | None = None) -> str:
    timestamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return f"{url}&timestamp={timestamp}&sign={quote_plus(base64.b64encode(digest))}"


def feishu_signed(body: dict[str, Any], secret: str, at_s: int | None = None) -> dict[str, Any]:
    timestamp = str(at_s if at_s is not None else int(time.time()))
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return {**body, "timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


# --- Slack and Mattermost -------------------------------------------------------------------------


def test_slack_text_mrkdwn_attachments_and_blocks(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("slack")
    res = post_json(
        hook["url"],
        {
            "text": "*CPU 告警* on <https://grafana.example.com/d/1|dashboard> ~resolved~",
            "username": "Grafana 生产",
            "attachments": [
                {
                    "color": "danger",
                    "title": "web-1 CPU > 90%",
                    "title_link": "https://grafana.example.com/alert/1",
                    "text": "持续 5 分钟",
                    "fields": [{"title": "主机", "value": "web-1", "short": True}],
                    "footer": "Grafana v11",
                }
            ],
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "生产环境"}},
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*状态:*\n触发"}]},
                {"type": "divider"},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "查看"},
                            "url": "https://grafana.example.com/",
                        }
                    ],
                },
            ],
        },
    )
    assert res.status_code == 200 and res.content == b"ok"
    message = last_message(world, conv)
    assert message["sender_is_bot"] is True and message["sender_name"] == "Grafana"
    assert "<strong>CPU 告警</strong>" in message["html"]
    assert 'href="https://grafana.example.com/d/1"' in message["html"] and "<s>resolved</s>" in message["html"]
    types = [b["type"] for b in message["blocks"]]
    assert types[:4] == ["header", "fields", "divider", "actions"]
    assert {"label": "状态", "value": "触发"} in message["blocks"][1]["fields"]
    assert any(
        b["type"] == "fields" and b["fields"][0] == {"label": "主机", "value": "web-1"} for b in message["blocks"]
    )
    # "username" is a note on the message, never its sender.
    assert message["blocks"][-1] == {"type": "context", "text": "Grafana 生产 · 通过 Webhook「Grafana」发送"}


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ("not json", 400, b"invalid_payload"),
        ("[1, 2]", 400, b"invalid_payload"),
        ({"text": ""}, 400, b"no_text"),
        ({"icon_emoji": ":ghost:"}, 400, b"no_text"),
    ],
)
def test_slack_bad_payloads_get_slack_errors(
    world: World, conv: int, make_hook: Hook, body: Any, status: int, answer: bytes
) -> None:
    hook = make_hook("slack")
    res = post_json(hook["url"], body)
    assert (res.status_code, res.content) == (status, answer)
    assert message_count(world, conv) == 0


def test_slack_form_encoded_payload(world: World, conv: int, make_hook: Hook) -> None:
    from django.test import Client

    from tests.integrations.conftest import path_of

    hook = make_hook("slack")
    res = Client().post(path_of(hook["url"]), {"payload": json.dumps({"text": "表单方式"})})
    assert res.status_code == 200
    assert last_message(world, conv)["body"] == "表单方式"


def test_mattermost_shape_and_errors(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("mattermost", "Jenkins")
    assert "/hooks/" in hook["url"] and "/hooks/slack/" not in hook["url"]
    res = post_json(hook["url"], {"text": "构建 **#42** 成功 [详情](https://ci.example.com/42)"})
    assert res.status_code == 200
    assert "<strong>#42</strong>" in last_message(world, conv)["html"]
    bad = post_json(hook["url"], "{")
    assert bad.status_code == 400 and bad.json()["id"] == "web.incoming_webhook.parse.app_error"


# --- DingTalk ---------------------------------------------------------------------------------------


def test_dingtalk_signed_text_mentions_by_mobile(world: World, conv: int, make_hook: Hook) -> None:
    User.objects.filter(pk=world.member.user.pk).update(mobile="13800138000")
    hook = make_hook("dingtalk", "库存机器人")
    assert hook["secret"].startswith("SEC")
    body = {"msgtype": "text", "text": {"content": "龙井库存不足 @13800138000"}, "at": {"atMobiles": ["13800138000"]}}
    res = post_json(dingtalk_signed(hook["url"], hook["secret"]), body)
    assert res.status_code == 200 and res.json() == {"errcode": 0, "errmsg": "ok"}
    message = last_message(world, conv)
    assert message["body"] == "龙井库存不足 @张三"
    assert message["mentions"] == [world.member.user.pk]


def test_dingtalk_link_action_card_and_wrapped_links(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("dingtalk", signed=False)
    assert hook["secret"] is None
    wrapped = (
        "dingtalk://dingtalkclient/page/link?url=" + quote_plus("https://erp.example.com/so/1") + "&pc_slide=false"
    )
    card = {
        "msgtype": "actionCard",
        "actionCard": {
            "title": "订单",
            "text": f"### 新订单\n[打开]({wrapped})",
            "btns": [{"title": "审批", "actionURL": wrapped}, {"title": "坏", "actionURL": "javascript:alert(1)"}],
        },
    }
    assert post_json(hook["url"], card).json()["errcode"] == 0
    message = last_message(world, conv)
    assert 'href="https://erp.example.com/so/1"' in message["html"]
    (actions,) = message["blocks"]  # the javascript: button was dropped
    assert [(a["label"], a["url"]) for a in actions["actions"]] == [("审批", "https://erp.example.com/so/1")]
    link = {
        "msgtype": "link",
        "link": {
            "title": "周报",
            "text": "本周销售",
            "messageUrl": "https://r.example.com/w",
            "picUrl": "https://r.example.com/p.png",
        },
    }
    assert post_json(hook["url"], link).json()["errcode"] == 0
    assert last_message(world, conv)["blocks"][0]["type"] == "image"


@pytest.mark.parametrize("skew_s", [-3700, 3700])
def test_dingtalk_refuses_bad_signature_and_clock_skew(world: World, conv: int, make_hook: Hook, skew_s: int) -> None:
    hook = make_hook("dingtalk")
    body = {"msgtype": "text", "text": {"content": "x"}}
    assert post_json(hook["url"], body).json()["errcode"] == 310000  # unsigned
    assert post_json(dingtalk_signed(hook["url"], "SECwrong"), body).json()["errcode"] == 310000
    skewed = dingtalk_signed(hook["url"], hook["secret"], int((time.time() + skew_s) * 1000))
    assert post_json(skewed, body).json()["errcode"] == 310000
    # Within the hour is fine (clients' clocks drift).
    assert (
        post_json(dingtalk_signed(hook["url"], hook["secret"], int((time.time() - 3000) * 1000)), body).json()[
            "errcode"
        ]
        == 0
    )
    assert message_count(world, conv) == 1


def test_dingtalk_unknown_msgtype_and_bad_token(world: World, make_hook: Hook) -> None:
    hook = make_hook("dingtalk", signed=False)
    res = post_json(hook["url"], {"msgtype": "voice", "voice": {}})
    assert res.status_code == 200 and res.json()["errcode"] == 40035
    assert post_json("/robot/send?access_token=nope", {"msgtype": "text"}).json()["errcode"] == 300005
    assert post_json("/robot/send", {"msgtype": "text"}).json()["errcode"] == 300005


# --- WeCom ----------------------------------------------------------------------------------------------


def test_wecom_text_markdown_and_mentions(world: World, conv: int, make_hook: Hook) -> None:
    User.objects.filter(pk=world.member2.user.pk).update(mobile="13900139000")
    hook = make_hook("wecom", "企业微信告警")
    assert hook["secret"] is None and "/cgi-bin/webhook/send?key=" in hook["url"]
    body = {
        "msgtype": "text",
        "text": {"content": "请处理", "mentioned_list": ["member@tea.test"], "mentioned_mobile_list": ["13900139000"]},
    }
    assert post_json(hook["url"], body).json() == {"errcode": 0, "errmsg": "ok"}
    message = last_message(world, conv)
    assert sorted(message["mentions"]) == sorted([world.member.user.pk, world.member2.user.pk])
    md = {
        "msgtype": "markdown",
        "markdown": {"content": '实时新增 <font color="warning">132例</font>\n> 类型: **用户反馈**'},
    }
    assert post_json(hook["url"], md).json()["errcode"] == 0
    html = last_message(world, conv)["html"]
    assert "132例" in html and "font" not in html and "<strong>用户反馈</strong>" in html
    assert post_json(hook["url"], {"msgtype": "file", "file": {"media_id": "x"}}).json()["errcode"] == 40008
    assert post_json("/cgi-bin/webhook/send?key=bad", {"msgtype": "text"}).json()["errcode"] == 93000


# --- Feishu -----------------------------------------------------------------------------------------------


def test_feishu_signed_text_post_and_card(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("feishu", "飞书机器人")
    secret = hook["secret"]
    text = feishu_signed({"msg_type": "text", "content": {"text": '发布完成 <at user_id="all">所有人</at>'}}, secret)
    res = post_json(hook["url"], text)
    assert res.json()["code"] == 0 and res.json()["msg"] == "success"
    assert last_message(world, conv)["body"] == "发布完成 @所有人"
    post = feishu_signed(
        {
            "msg_type": "post",
            "content": {
                "post": {
                    "zh_cn": {
                        "title": "项目更新",
                        "content": [
                            [
                                {"tag": "text", "text": "详情 "},
                                {"tag": "a", "text": "链接", "href": "https://f.example.com/"},
                                {"tag": "at", "user_id": "member@tea.test"},
                            ]
                        ],
                    }
                }
            },
        },
        secret,
    )
    assert post_json(hook["url"], post).json()["code"] == 0
    message = last_message(world, conv)
    assert "<strong>项目更新</strong>" in message["html"] and message["mentions"] == [world.member.user.pk]
    card = feishu_signed(
        {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": "审批提醒"}},
                "elements": [
                    {"tag": "div", "text": {"tag": "lark_md", "content": "**金额** ¥12,000"}},
                    {"tag": "hr"},
                    {
                        "tag": "action",
                        "actions": [
                            {
                                "tag": "button",
                                "text": {"tag": "plain_text", "content": "去处理"},
                                "url": "https://f.example.com/a",
                            }
                        ],
                    },
                    {"tag": "note", "elements": [{"tag": "plain_text", "content": "来自 OA"}]},
                ],
            },
        },
        secret,
    )
    assert post_json(hook["url"], card).json()["code"] == 0
    assert [b["type"] for b in last_message(world, conv)["blocks"]] == [
        "header",
        "section",
        "divider",
        "actions",
        "context",
    ]


def test_feishu_signature_failures(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("feishu")
    body = {"msg_type": "text", "content": {"text": "x"}}
    expected = {
        "code": 19021,
        "msg": "sign match fail or timestamp is not within one hour from current time",
        "data": {},
    }
    assert post_json(hook["url"], body).json() == expected
    assert post_json(hook["url"], feishu_signed(body, "wrong")).json() == expected
    assert post_json(hook["url"], feishu_signed(body, hook["secret"], int(time.time()) - 7200)).json() == expected
    assert post_json(hook["url"], feishu_signed({"msg_type": "audio"}, hook["secret"])).json()["code"] == 19002
    assert message_count(world, conv) == 0


def test_webhook_messages_are_searchable(
    world: World, conv: int, make_hook: Hook, settings: Any, tmp_path: Any
) -> None:
    from hub.search import indexer

    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    hook = make_hook("wecom", "巡检机器人")
    post_json(hook["url"], {"msgtype": "text", "text": {"content": "杭州仓温度过高，请检查冷柜"}})
    indexer.index_pending()
    res = world.api(world.member).get("/api/v1/search", workspace=world.workspace.pk, q="冷柜")
    assert [r["sender_name"] for r in res.json()["results"]] == ["巡检机器人"]


def test_slack_mentions_by_email_only_for_people_in_the_conversation(world: World, conv: int, make_hook: Hook) -> None:
    hook = make_hook("slack")
    text = "请 <@member@tea.test> 和 <@guest@customer.test> 处理 <!channel>"
    assert post_json(hook["url"], {"text": text}).status_code == 200
    message = last_message(world, conv)
    # 张三 is in the channel; the guest is not, so naming them pings nobody.
    assert message["mentions"] == [world.member.user.pk]
    assert message["body"].startswith("请 @张三 和 @guest@customer.test 处理 @所有人")


def test_keyword_security_of_dingtalk_and_feishu(world: World, conv: int, make_hook: Hook) -> None:
    ding = make_hook("dingtalk", signed=False, keywords=["告警", "库存"])
    assert ding["keywords"] == ["告警", "库存"]
    refused = post_json(ding["url"], {"msgtype": "text", "text": {"content": "今天天气不错"}})
    assert refused.json() == {"errcode": 310000, "errmsg": "keywords not in content"}
    assert post_json(ding["url"], {"msgtype": "text", "text": {"content": "库存告警：龙井"}}).json()["errcode"] == 0
    feishu = make_hook("feishu", signed=False, keywords=["发布"])
    refused = post_json(feishu["url"], {"msg_type": "text", "content": {"text": "午饭吃什么"}})
    assert refused.json()["code"] == 19024
    assert message_count(world, conv) == 1
    res = world.api(world.owner).post(
        f"/api/v1/conversations/{conv}/webhooks", {"kind": "slack", "name": "x", "keywords": ["a"]}
    )
    assert res.status_code == 400 and res.json()["error"]["code"] == "keywords_not_supported"
