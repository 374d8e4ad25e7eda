"""Markdown → sanitised HTML. The only place user text becomes HTML (messages, topics, record
cards, documents), so swapping bleach for nh3 later is a one-module change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import bleach  # type: ignore[import-untyped]  # no stubs; bleach is frozen at 6.4.0
from bleach.css_sanitizer import CSSSanitizer  # type: ignore[import-untyped]
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "span",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel", "target"],
    "span": ["class", "data-user-id"],
    "code": ["class"],
    "th": ["align"],
    "td": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})

# "html": False — raw HTML in the source is escaped, not passed through; bleach then removes
# anything the renderer itself produced outside the allow-list (defence in depth).
_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table").enable("strikethrough")
)
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
    filters=[partial(bleach.linkifier.LinkifyFilter, callbacks=[lambda attrs, new=False: _safe_link(attrs)])],
)


def _safe_link(attrs: dict[Any, str]) -> dict[Any, str]:
    # Links open in a new tab without giving the target page a handle on ours.
    attrs[(None, "rel")] = "noopener noreferrer nofollow"
    attrs[(None, "target")] = "_blank"
    return attrs


_URL_RE = re.compile(r"https?://[^\s<>\"'）)]+", re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    html: str
    links: list[str] = field(default_factory=list)


def sanitize_html(html: str) -> str:
    """Clean HTML from any source to the allow-list (no script, handlers, javascript: URLs, style)."""
    return _cleaner.clean(html)


def render_markdown(source: str) -> Rendered:
    html = sanitize_html(_md.render(source))
    return Rendered(html=html.strip(), links=_URL_RE.findall(source))


def render_plain(text: str) -> str:
    """Escape plain text (names, topics) for HTML contexts."""
    return bleach.clean(text, tags=set(), strip=True)
