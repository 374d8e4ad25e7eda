"""Incoming webhook kinds: each reads its platform's documented payload into one
``IncomingMessage`` and answers in the status codes and bodies its clients expect.

A kind is four things: where the capability key sits in the URL, how a signature is checked
(if the platform signs), how a payload becomes Markdown + blocks + the people it names, and
how success and each refusal are spelled. Everything else — lookup, size and rate limits,
mention resolution, posting — is shared (``messaging.integrations.incoming``), so a new
platform is one small module."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from django.http import HttpRequest, HttpResponse

Reason = Literal[
    "unknown",  # no such webhook, or revoked
    "bad_json",  # not JSON / not an object
    "bad_payload",  # JSON, but not this platform's shape (unknown msgtype, missing fields)
    "empty",  # nothing to show
    "bad_sign",  # signature missing, wrong, or timestamp outside the window
    "too_large",
    "rate_limited",
    "archived",
    "keywords",  # none of the webhook's keywords in the message (DingTalk / Feishu security)
]


class Refusal(Exception):
    """A request the webhook will not turn into a message; the kind spells the answer."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason: Reason = reason
        self.detail = detail


@dataclass
class IncomingMessage:
    """What a payload says, platform-neutral. ``text`` is Markdown for the hub's pipeline."""

    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # People the payload names: resolved against the workspace by mobile number / email, and
    # mentioned only if they take part in the conversation.
    mobiles: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    at_all: bool = False
    # Slack/Mattermost "username": shown as a note on the message, never as its sender.
    display_as: str = ""


class Kind(Protocol):
    name: str
    signed: bool  # whether webhooks of this kind get a signing secret
    has_keywords: bool  # whether webhooks of this kind may require keywords

    def key(self, request: HttpRequest, url_key: str | None) -> str | None: ...

    def read(self, request: HttpRequest) -> dict[str, Any]: ...

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None: ...

    def parse(self, payload: dict[str, Any]) -> IncomingMessage: ...

    def ok(self) -> HttpResponse: ...

    def refuse(self, refusal: Refusal) -> HttpResponse: ...


# --- helpers shared by the kinds ------------------------------------------------------------


def read_json(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal("bad_json") from None
    if not isinstance(raw, dict):
        raise Refusal("bad_json")
    return raw


def text_of(value: Any, limit: int = 20000) -> str:
    """A string field of an untrusted payload ("" for anything else), bounded."""
    return value[:limit] if isinstance(value, str) else ""


def list_of_str(value: Any, limit: int = 100) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v).strip() for v in value[:limit] if isinstance(v, str | int) and str(v).strip()]


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_DINGTALK_LINK = re.compile(r"dingtalk://dingtalkclient/page/link\?[^\s)\"']*")


def unwrap_app_links(text: str) -> str:
    """DingTalk clients wrap links as ``dingtalk://dingtalkclient/page/link?url=<quoted>``
    (dingtalkchatbot does it for every link); the hub shows the real http(s) URL."""

    def inner(match: re.Match[str]) -> str:
        query = parse_qs(urlsplit(match.group(0)).query)
        url = unquote(query.get("url", [""])[0]) if query.get("url") else ""
        return url or match.group(0)

    return _DINGTALK_LINK.sub(inner, text)


def link_block_url(url: str) -> str | None:
    """An http(s) URL for a button or image, or None (anything else is dropped, not refused:
    a ``javascript:`` link in a payload just does not become a button)."""
    url = unwrap_app_links(url.strip())
    return url if url.lower().startswith(("https://", "http://")) and len(url) <= 2000 else None


def button_block(buttons: list[tuple[str, str]]) -> dict[str, Any] | None:
    actions = []
    for label, raw_url in buttons[:10]:
        url = link_block_url(raw_url)
        if url and label.strip():
            actions.append({"label": label.strip()[:60], "url": url})
    return {"type": "actions", "actions": actions} if actions else None


def registry() -> dict[str, Kind]:
    from messaging.integrations.kinds import dingtalk, feishu, mattermost, slack, wecom

    return {k.name: k for k in (slack.KIND, mattermost.KIND, dingtalk.KIND, wecom.KIND, feishu.KIND)}
