"""Feishu / Lark custom bot (飞书自定义机器人), at Feishu's shape
``/open-apis/bot/v2/hook/<key>``: ``msg_type`` text, post (rich text) and interactive (a
message card: header, div / markdown / fields, note, hr, link buttons); signature check with
``timestamp`` (seconds) + ``sign`` in the body, one-hour window. Answers are HTTP 200 with
``{"code", "msg"}`` (plus the older ``StatusCode`` / ``StatusMessage`` pair on success)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from messaging.integrations import signing
from messaging.integrations.kinds import (
    IncomingMessage,
    Refusal,
    button_block,
    link_block_url,
    obj,
    read_json,
    text_of,
)

_ERRORS: dict[str, tuple[int, str]] = {
    "unknown": (19001, "param invalid: incoming webhook access token invalid"),
    "bad_json": (9499, "Bad Request"),
    "bad_payload": (19002, "params error, msg_type need"),
    "empty": (9499, "Bad Request"),
    "bad_sign": (19021, "sign match fail or timestamp is not within one hour from current time"),
    "too_large": (9499, "request body too large"),
    "rate_limited": (11232, "frequency limited"),
    "archived": (19001, "param invalid: incoming webhook access token invalid"),
    "keywords": (19024, "Key Words Not Found"),
}
_AT_TAG = re.compile(r'<at\s+user_id="([^"]{0,100})"\s*>([^<]{0,80})</at>')


class _Collect:
    """People named by <at> tags / at elements: emails are the hub's people; "all" is everyone."""

    def __init__(self) -> None:
        self.emails: list[str] = []
        self.mobiles: list[str] = []
        self.at_all = False

    def at(self, user_id: str, name: str) -> str:
        if user_id == "all":
            self.at_all = True
            return "@所有人"
        if "@" in user_id:
            self.emails.append(user_id)
            return ""  # the resolved mention is added by the shared code
        if user_id.isdigit():
            self.mobiles.append(user_id)
            return ""
        return f"@{name}" if name else ""

    def text(self, raw: str) -> str:
        return _AT_TAG.sub(lambda m: self.at(m.group(1), m.group(2)), raw)


def _post(content: dict[str, Any], people: _Collect) -> str:
    post = obj(content.get("post"))
    # Any language: zh_cn first, then whatever is there.
    body = obj(post.get("zh_cn")) or next((obj(v) for v in post.values() if isinstance(v, dict)), {})
    lines = [f"**{text_of(body.get('title'), 200)}**"] if body.get("title") else []
    for paragraph in body.get("content") or []:
        parts = []
        for element in map(obj, paragraph if isinstance(paragraph, list) else []):
            tag = element.get("tag")
            if tag == "text":
                parts.append(text_of(element.get("text")))
            elif tag == "a":
                url = link_block_url(text_of(element.get("href")))
                label = text_of(element.get("text"), 200)
                parts.append(f"[{label}]({url})" if url else label)
            elif tag == "at":
                parts.append(people.at(text_of(element.get("user_id"), 100), text_of(element.get("user_name"), 80)))
        lines.append("".join(parts))
    return "\n".join(lines)


def _card(card: dict[str, Any], people: _Collect) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    title = text_of(obj(obj(card.get("header")).get("title")).get("content"), 200).strip()
    if title:
        blocks.append({"type": "header", "text": title})
    elements = card.get("elements") or obj(card.get("body")).get("elements") or []
    for element in map(obj, elements[:30] if isinstance(elements, list) else []):
        tag = element.get("tag")
        if tag in ("div", "markdown"):
            text = text_of(obj(element.get("text")).get("content") if tag == "div" else element.get("content"), 3000)
            if text.strip():
                blocks.append({"type": "section", "text": people.text(text)})
            fields = [text_of(obj(obj(f).get("text")).get("content"), 600) for f in element.get("fields") or []]
            pairs = [f.partition("\n") for f in fields if f.strip()]
            if pairs:
                blocks.append(
                    {
                        "type": "fields",
                        "fields": [{"label": a.strip(" *:")[:100] or "·", "value": c[:500]} for a, _, c in pairs][:20],
                    }
                )
        elif tag == "hr":
            blocks.append({"type": "divider"})
        elif tag == "note":
            texts = [text_of(obj(e).get("content"), 200) for e in element.get("elements") or []]
            if any(texts):
                blocks.append({"type": "context", "text": " · ".join(t for t in texts if t)[:500]})
        elif tag == "action":
            buttons = [
                (text_of(obj(a.get("text")).get("content"), 60), text_of(a.get("url")))
                for a in map(obj, element.get("actions") or [])
            ]
            found = button_block(buttons)
            if found:
                blocks.append(found)
    return blocks


class FeishuKind:
    name = "feishu"
    signed = True
    has_keywords = True

    def key(self, request: HttpRequest, url_key: str | None) -> str | None:
        return url_key

    def read(self, request: HttpRequest) -> dict[str, Any]:
        return read_json(request)

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None:
        timestamp, sign = str(payload.get("timestamp", "")), payload.get("sign")
        if not timestamp.isdigit() or not isinstance(sign, str):
            raise Refusal("bad_sign")
        if not signing.within(int(timestamp), signing.ROBOT_WINDOW_SECONDS):
            raise Refusal("bad_sign")
        if not signing.constant_time_equal(signing.feishu_sign(secret, timestamp), sign):
            raise Refusal("bad_sign")

    def parse(self, payload: dict[str, Any]) -> IncomingMessage:
        people = _Collect()
        msg_type = payload.get("msg_type")
        content = obj(payload.get("content"))
        blocks: list[dict[str, Any]] = []
        if msg_type == "text":
            text = people.text(text_of(content.get("text")))
        elif msg_type == "post":
            text = _post(content, people)
        elif msg_type == "interactive":
            text = ""
            blocks = _card(obj(payload.get("card")) or content, people)
        else:
            raise Refusal("bad_payload", f"msg_type={str(msg_type)[:40]!r}")
        if not text.strip() and not blocks:
            raise Refusal("empty")
        return IncomingMessage(
            text=text, blocks=blocks, emails=people.emails, mobiles=people.mobiles, at_all=people.at_all
        )

    def ok(self) -> HttpResponse:
        body = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
        return HttpResponse(json.dumps(body), content_type="application/json")

    def refuse(self, refusal: Refusal) -> HttpResponse:
        code, message = _ERRORS[refusal.reason]
        body = {"code": code, "msg": message, "data": {}}
        return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")


KIND = FeishuKind()
