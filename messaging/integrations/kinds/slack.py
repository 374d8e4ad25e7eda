"""Slack incoming webhooks (``POST /hooks/slack/<key>``): ``text`` in mrkdwn, ``attachments``,
a useful subset of Block Kit ``blocks`` (header, section with fields, context, image,
divider, link buttons), ``username`` / ``icon_url``. Answers as Slack does: ``200 ok`` as
text/plain, errors as a short text code with a 4xx status (``invalid_payload``, ``no_text``,
``no_service``, ``channel_is_archived``, ``rate_limited``)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from messaging.integrations.kinds import (
    IncomingMessage,
    Refusal,
    button_block,
    link_block_url,
    obj,
    text_of,
)

_ANGLE = re.compile(r"<([^<>\n]{1,2000})>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")


def mrkdwn_to_markdown(text: str, people: list[str] | None = None) -> str:
    """Slack's mrkdwn → CommonMark: ``<url|label>`` links, ``*bold*``, ``~strike~``, and the
    special ``<@…>`` / ``<!channel>`` tokens. ``people`` collects the emails named by ``<@…>``."""

    def angle(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            who = target[1:]
            if people is not None and "@" in who:
                people.append(who)
            return f"@{label or who}"
        if target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            return "@所有人" if name in ("channel", "here", "everyone") else label or name
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.lower().startswith(("http://", "https://", "mailto:")):
            return f"[{label}]({target})" if label else target
        return label or target  # anything else (javascript:…) becomes inert text

    text = _ANGLE.sub(angle, text)
    text = _BOLD.sub(r"**\1**", text)
    text = _STRIKE.sub(r"~~\1~~", text)
    return html.unescape(text)  # Slack escapes &, <, > in text as entities


def _convert(text: str, markdown: bool, people: list[str]) -> str:
    return text if markdown else mrkdwn_to_markdown(text, people)


def _text_obj(value: Any, markdown: bool, people: list[str]) -> str:
    """Block Kit text object ``{"type": "mrkdwn"|"plain_text", "text": …}``."""
    value = obj(value)
    text = text_of(value.get("text"), 3000)
    return _convert(text, markdown, people) if value.get("type") == "mrkdwn" else text


def blocks_from_slack(raw: Any, markdown: bool, people: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in raw[:50] if isinstance(raw, list) else []:
        block = obj(block)
        kind = block.get("type")
        if kind == "header":
            blocks.append({"type": "header", "text": _text_obj(block.get("text"), markdown, people)[:200]})
        elif kind == "section":
            text = _text_obj(block.get("text"), markdown, people)
            if text.strip():
                blocks.append({"type": "section", "text": text[:3000]})
            fields = []
            for item in block.get("fields") or []:
                label, _, value = _text_obj(item, markdown, people).partition("\n")
                if label.strip():
                    fields.append({"label": label.strip(" *:")[:100] or "·", "value": value.strip()[:500]})
            if fields:
                blocks.append({"type": "fields", "fields": fields[:20]})
        elif kind == "context":
            texts = [_text_obj(e, markdown, people) for e in block.get("elements") or [] if obj(e).get("text")]
            if texts:
                blocks.append({"type": "context", "text": " · ".join(texts)[:500]})
        elif kind == "image":
            url = link_block_url(text_of(block.get("image_url")))
            if url:
                blocks.append({"type": "image", "url": url, "alt": text_of(block.get("alt_text"), 200)})
        elif kind == "divider":
            blocks.append({"type": "divider"})
        elif kind == "actions":
            buttons = [
                (_text_obj(e.get("text"), True, people), text_of(e.get("url")))
                for e in (obj(x) for x in block.get("elements") or [])
                if e.get("type") == "button"
            ]
            found = button_block(buttons)
            if found:
                blocks.append(found)
    return blocks


def blocks_from_attachments(raw: Any, markdown: bool, people: list[str]) -> list[dict[str, Any]]:
    """Legacy attachments (what Grafana, Alertmanager and Jenkins still send)."""
    blocks: list[dict[str, Any]] = []
    for attachment in raw[:20] if isinstance(raw, list) else []:
        att = obj(attachment)
        if att.get("pretext"):
            blocks.append({"type": "section", "text": _convert(text_of(att["pretext"], 3000), markdown, people)})
        title = text_of(att.get("title"), 200).strip()
        link = link_block_url(text_of(att.get("title_link")))
        if title:
            blocks.append({"type": "section", "text": f"**[{title}]({link})**" if link else f"**{title}**"})
        text = text_of(att.get("text"), 3000) or ("" if title else text_of(att.get("fallback"), 3000))
        if text.strip():
            blocks.append({"type": "section", "text": _convert(text, markdown, people)})
        fields = [
            {"label": text_of(f.get("title"), 100).strip() or "·", "value": text_of(f.get("value"), 500)}
            for f in (obj(x) for x in att.get("fields") or [])
            if f.get("title") or f.get("value")
        ]
        if fields:
            blocks.append({"type": "fields", "fields": fields[:20]})
        image = link_block_url(text_of(att.get("image_url")))
        if image:
            blocks.append({"type": "image", "url": image, "alt": title})
        if isinstance(att.get("blocks"), list):
            blocks.extend(blocks_from_slack(att["blocks"], markdown, people))
        footer = text_of(att.get("footer"), 500).strip()
        if footer:
            blocks.append({"type": "context", "text": footer})
    return blocks


def parse_slack_shaped(payload: dict[str, Any], *, markdown: bool) -> IncomingMessage:
    """Shared by Slack (mrkdwn) and Mattermost (Markdown) payloads."""
    people: list[str] = []
    text = text_of(payload.get("text"))
    # "mrkdwn": false asks for the text verbatim (no formatting, no link syntax).
    text = html.unescape(text) if payload.get("mrkdwn") is False else _convert(text, markdown, people)
    blocks = blocks_from_slack(payload.get("blocks"), markdown, people)
    blocks += blocks_from_attachments(payload.get("attachments"), markdown, people)
    if not text.strip() and not blocks:
        raise Refusal("empty", "no_text")
    display_as = text_of(payload.get("username"), 80).strip()
    return IncomingMessage(text=text, blocks=blocks, emails=people, display_as=display_as)


def read_payload(request: HttpRequest) -> dict[str, Any]:
    """JSON body, or the form field ``payload=<json>`` (Slack's older form posts)."""
    raw: Any
    try:
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raw = json.loads(request.POST.get("payload", ""))
        else:
            raw = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal("bad_json") from None
    if not isinstance(raw, dict):
        raise Refusal("bad_json")
    return raw


class SlackKind:
    name = "slack"
    signed = False
    has_keywords = False

    def key(self, request: HttpRequest, url_key: str | None) -> str | None:
        return url_key

    def read(self, request: HttpRequest) -> dict[str, Any]:
        return read_payload(request)

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None:
        return None  # the URL is the credential, as on Slack

    def parse(self, payload: dict[str, Any]) -> IncomingMessage:
        return parse_slack_shaped(payload, markdown=False)

    def ok(self) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain")

    def refuse(self, refusal: Refusal) -> HttpResponse:
        status, body = {
            "unknown": (404, "no_service"),
            "bad_json": (400, "invalid_payload"),
            "bad_payload": (400, "invalid_payload"),
            "empty": (400, "no_text"),
            "bad_sign": (403, "invalid_token"),
            "too_large": (413, "payload_too_large"),
            "rate_limited": (429, "rate_limited"),
            "archived": (410, "channel_is_archived"),
            "keywords": (400, "invalid_payload"),
        }[refusal.reason]
        return HttpResponse(body, status=status, content_type="text/plain")


KIND = SlackKind()
