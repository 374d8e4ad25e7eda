"""WeCom group robot (企业微信群机器人), at WeCom's shape ``/cgi-bin/webhook/send?key=<key>``:
``msgtype`` text (``mentioned_list`` / ``mentioned_mobile_list``), markdown, markdown_v2 and
news. Answers are HTTP 200 with ``{"errcode", "errmsg"}``."""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from messaging.integrations.kinds import (
    IncomingMessage,
    Refusal,
    link_block_url,
    list_of_str,
    obj,
    read_json,
    text_of,
)

_ERRORS: dict[str, tuple[int, str]] = {
    "unknown": (93000, "invalid webhook url"),
    "bad_json": (40058, "invalid json"),
    "bad_payload": (40008, "invalid message type"),
    "empty": (44004, "empty content"),
    "bad_sign": (93000, "invalid webhook url"),
    "too_large": (45002, "content size out of limit"),
    "rate_limited": (45009, "api freq out of limit"),
    "archived": (93000, "invalid webhook url"),
    "keywords": (40008, "invalid message type"),
}
# WeCom markdown colours text with <font color="info">…</font> and mentions with <@userid>.
_FONT = re.compile(r"</?font[^>]*>", re.IGNORECASE)
_AT = re.compile(r"<@([^<>\s]{1,100})>")


def _everyone(names: list[str]) -> bool:
    return any(n in ("@all", "all") for n in names)


class WeComKind:
    name = "wecom"
    signed = False
    has_keywords = False

    def key(self, request: HttpRequest, url_key: str | None) -> str | None:
        return request.GET.get("key")

    def read(self, request: HttpRequest) -> dict[str, Any]:
        return read_json(request)

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None:
        return None

    def parse(self, payload: dict[str, Any]) -> IncomingMessage:
        msgtype = payload.get("msgtype")
        names: list[str] = []
        mobiles: list[str] = []
        if msgtype == "text":
            body = obj(payload.get("text"))
            text = text_of(body.get("content"))
            names = list_of_str(body.get("mentioned_list"))
            mobiles = list_of_str(body.get("mentioned_mobile_list"))
        elif msgtype in ("markdown", "markdown_v2"):
            text = _FONT.sub("", text_of(obj(payload.get(msgtype)).get("content")))
            names = _AT.findall(text)
            text = _AT.sub(lambda m: f"@{m.group(1).split('@', 1)[0]}", text)
        elif msgtype == "news":
            lines = []
            for article in map(obj, obj(payload.get("news")).get("articles") or []):
                title, url = text_of(article.get("title"), 200).strip(), link_block_url(text_of(article.get("url")))
                description = text_of(article.get("description"), 500).strip()
                if title:
                    lines.append(
                        (f"**[{title}]({url})**" if url else f"**{title}**")
                        + (f"\n{description}" if description else "")
                    )
            text = "\n\n".join(lines[:8])
        else:
            raise Refusal("bad_payload", f"msgtype={str(msgtype)[:40]!r}")
        if not text.strip():
            raise Refusal("empty")
        return IncomingMessage(
            text=text,
            # WeCom user ids are the hub's people only when they are email addresses.
            emails=[n for n in names if "@" in n and not n.startswith("@")],
            mobiles=[m for m in mobiles if not m.startswith("@")],
            at_all=_everyone(names) or _everyone(mobiles),
        )

    def ok(self) -> HttpResponse:
        return _answer(0, "ok")

    def refuse(self, refusal: Refusal) -> HttpResponse:
        code, message = _ERRORS[refusal.reason]
        return _answer(code, f"{message}, {refusal.detail}" if refusal.detail else message)


def _answer(code: int, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"errcode": code, "errmsg": message}, ensure_ascii=False), content_type="application/json"
    )


KIND = WeComKind()
