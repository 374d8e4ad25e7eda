"""DingTalk custom robot (钉钉自定义机器人), at DingTalk's own shape
``/robot/send?access_token=<key>``: ``msgtype`` text / markdown / link / actionCard /
feedCard, ``at.atMobiles`` / ``at.isAtAll``, and 加签 (``timestamp`` in ms + ``sign`` in the
query, HMAC-SHA256, one-hour window). Every answer is HTTP 200 with
``{"errcode", "errmsg"}``, as DingTalk's clients expect (dingtalkchatbot reads the JSON)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from messaging.integrations import signing
from messaging.integrations.kinds import (
    IncomingMessage,
    Refusal,
    button_block,
    link_block_url,
    list_of_str,
    obj,
    read_json,
    text_of,
    unwrap_app_links,
)

_ERRORS: dict[str, tuple[int, str]] = {
    "unknown": (300005, "token is not exist"),
    "bad_json": (40035, "缺少参数 json"),
    "bad_payload": (40035, "缺少参数 json"),
    "empty": (40035, "缺少参数 json"),
    "bad_sign": (310000, "sign not match"),
    "too_large": (460101, "message too long"),
    "rate_limited": (130101, "send too fast, exceed 20 times per minute"),
    "archived": (400102, "机器人已停用"),
    "keywords": (310000, "keywords not in content"),
}


def _text(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    msgtype = payload.get("msgtype")
    if msgtype == "text":
        return text_of(obj(payload.get("text")).get("content")), []
    if msgtype == "markdown":
        return text_of(obj(payload.get("markdown")).get("text")), []
    if msgtype == "link":
        link = obj(payload.get("link"))
        title, url = text_of(link.get("title"), 200).strip(), link_block_url(text_of(link.get("messageUrl")))
        head = f"**[{title}]({url})**" if title and url else f"**{title}**" if title else ""
        blocks = []
        picture = link_block_url(text_of(link.get("picUrl")))
        if picture:
            blocks.append({"type": "image", "url": picture, "alt": title})
        return f"{head}\n\n{text_of(link.get('text'))}".strip(), blocks
    if msgtype == "actionCard":
        card = obj(payload.get("actionCard"))
        if card.get("singleURL"):
            buttons = [(text_of(card.get("singleTitle"), 60) or "阅读全文", text_of(card.get("singleURL")))]
        else:
            buttons = [
                (text_of(b.get("title"), 60), text_of(b.get("actionURL"))) for b in map(obj, card.get("btns") or [])
            ]
        found = button_block(buttons)
        return text_of(card.get("text")), [found] if found else []
    if msgtype == "feedCard":
        lines = []
        for link in map(obj, obj(payload.get("feedCard")).get("links") or []):
            title, url = text_of(link.get("title"), 200).strip(), link_block_url(text_of(link.get("messageURL")))
            if title:
                lines.append(f"* [{title}]({url})" if url else f"* {title}")
        return "\n".join(lines[:20]), []
    raise Refusal("bad_payload", f"不支持的消息类型 msgtype={str(msgtype)[:40]!r}")


class DingTalkKind:
    name = "dingtalk"
    signed = True
    has_keywords = True

    def key(self, request: HttpRequest, url_key: str | None) -> str | None:
        return request.GET.get("access_token")

    def read(self, request: HttpRequest) -> dict[str, Any]:
        return read_json(request)

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None:
        timestamp, sign = request.GET.get("timestamp", ""), request.GET.get("sign", "")
        if not timestamp.isdigit() or not sign:
            raise Refusal("bad_sign", "sign not match: timestamp and sign are required")
        if not signing.within(int(timestamp) / 1000, signing.ROBOT_WINDOW_SECONDS):
            raise Refusal("bad_sign", "invalid timestamp: more than one hour from the server's clock")
        if not signing.constant_time_equal(signing.dingtalk_sign(secret, timestamp), sign):
            raise Refusal("bad_sign", "sign not match")

    def parse(self, payload: dict[str, Any]) -> IncomingMessage:
        text, blocks = _text(payload)
        text = unwrap_app_links(text)
        if not text.strip() and not blocks:
            raise Refusal("empty", "消息内容为空")
        at = obj(payload.get("at"))
        return IncomingMessage(
            text=text, blocks=blocks, mobiles=list_of_str(at.get("atMobiles")), at_all=at.get("isAtAll") is True
        )

    def ok(self) -> HttpResponse:
        return _answer(0, "ok")

    def refuse(self, refusal: Refusal) -> HttpResponse:
        code, message = _ERRORS[refusal.reason]
        return _answer(
            code, f"{message}: {refusal.detail}" if refusal.detail and refusal.detail != message else message
        )


def _answer(code: int, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"errcode": code, "errmsg": message}, ensure_ascii=False), content_type="application/json"
    )


KIND = DingTalkKind()
