"""The sanitiser alone, without the browser's CSP behind it: for every vector of the corpus,
what the server renders contains no executable construct.

The output is parsed (Python's HTML tokenizer) and every element and attribute is checked
against the allow-list of ``hub.rendering``; every URL attribute must resolve — the way a
browser reads it, after decoding entities and dropping the characters a URL parser ignores —
to an allowed scheme or a relative reference. Covered paths: Markdown messages (and edits,
webhook sections and slash replies, which all go through ``render_markdown``), raw HTML
(``sanitize_html``, as used for documents), plain text, search snippets, webhook blocks and
a hostile collaborative-document tree exported to HTML.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import content
from hub.errors import HubError
from hub.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    render_markdown,
    render_plain,
    sanitize_html,
)
from hub.search.highlight import snippet
from hub.search.query import TextTerm
from messaging.blocks import validate_blocks
from messaging.delivery.compose import Notice, first_line
from messaging.delivery.robots import request_for
from tests.security.xss_corpus import SHORT, VECTORS, Vector

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcdoc"}
# WHATWG URL parsing strips leading/trailing C0 controls and spaces and removes tab/newline
# anywhere, so "java\tscript:" is a javascript: URL to a browser.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in an attribute value (entities already decoded)."""
    cleaned = _URL_IGNORED.sub("", value).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f "
        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
    )
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def executable_constructs(html: str, *, tags: frozenset[str] = ALLOWED_TAGS) -> list[str]:
    """Everything in ``html`` that is outside the allow-list or could run script."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    problems: list[str] = []
    for tag, attrs in collector.elements:
        if tag not in tags:
            problems.append(f"element <{tag}>")
        allowed = set(ALLOWED_ATTRIBUTES.get(tag, []))
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                problems.append(f"<{tag} {name}>")
            elif name not in allowed:
                problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in ALLOWED_PROTOCOLS:
                    problems.append(f"<{tag} {name}={value!r}>")
    return problems


def _ids(vectors: list[Vector]) -> list[str]:
    return [v.label for v in vectors]


def test_the_checker_catches_what_it_must() -> None:
    """The checker itself, on raw unsanitised HTML: otherwise a broken checker passes all."""
    assert executable_constructs("<script>x</script>") == ["element <script>"]
    assert executable_constructs('<a href="java\tscript:x">a</a>') == ["<a href='java\\tscript:x'>"]
    assert executable_constructs('<a href=" &#14;javascript:x">a</a>')
    assert executable_constructs('<span onclick="x">a</span>')
    assert executable_constructs('<a href="https://ok.test/" style="x">a</a>') == ["<a style>"]
    assert executable_constructs('<a href="/relative">a</a><a href="mailto:a@b.test">m</a>') == []


@pytest.mark.parametrize("vector", VECTORS + SHORT, ids=_ids(VECTORS + SHORT))
def test_markdown_rendering_is_inert(vector: Vector) -> None:
    html = render_markdown(vector.payload).html
    assert executable_constructs(html) == [], html


@pytest.mark.parametrize("vector", VECTORS + SHORT, ids=_ids(VECTORS + SHORT))
def test_raw_html_sanitising_is_inert(vector: Vector) -> None:
    html = sanitize_html(vector.payload)
    assert executable_constructs(html) == [], html


@pytest.mark.parametrize("vector", VECTORS + SHORT, ids=_ids(VECTORS + SHORT))
def test_plain_text_and_snippets_carry_no_markup(vector: Vector) -> None:
    assert "<" not in render_plain(vector.payload)
    # A query for a word inside the payload: the snippet highlights it and escapes the rest.
    html = snippet(vector.payload, [TextTerm(w) for w in ("xss", "script", "img", "svg")])
    assert executable_constructs(html, tags=frozenset({"mark"})) == [], html
    assert re.sub(r"</?mark>", "", html).count("<") == 0, html


def test_links_stay_clickable_with_safe_attributes() -> None:
    """The allow-list is not so tight that nothing works: http links survive, hardened."""
    html = render_markdown("[报价单](https://erp.example.com/quote/7) and https://hub.test/a").html
    assert 'href="https://erp.example.com/quote/7"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert executable_constructs(html) == []


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_webhook_blocks_render_sections_safely_and_refuse_script_urls(vector: Vector) -> None:
    stored = validate_blocks(
        [
            {"type": "header", "text": vector.payload[:200]},
            {"type": "section", "text": vector.payload},
            {"type": "fields", "fields": [{"label": "客户", "value": vector.payload[:500]}]},
            {"type": "context", "text": vector.payload[:500]},
        ]
    )
    assert executable_constructs(stored[1]["html"]) == []
    # Everything but a section's html is text: the clients show it as text, never as markup.
    assert stored[0]["text"] == vector.payload[:200].strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:__xss(1)",
        " JavaScript:__xss(1)",
        "data:text/html,<script>__xss(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.test/x.png",
        "\x00javascript:__xss(1)",
        "java\tscript:__xss(1)",
        "/\\evil.test/x",
        "/\t/evil.test/x",
    ],
)
def test_block_urls_refuse_script_and_off_site_schemes(url: str) -> None:
    for block in (
        {"type": "image", "url": url, "alt": "x"},
        {"type": "actions", "actions": [{"label": "打开", "url": url}]},
    ):
        with pytest.raises(HubError) as caught:
            validate_blocks([block])
        assert caught.value.code == "invalid_blocks"


def _hostile_document(payload: str) -> Doc:
    """A CRDT tree any client could write: script/iframe nodes, handler attributes, link
    marks with script URLs, an image node with a javascript: src, a nonsense heading level."""
    doc: Doc = Doc()
    fragment = doc.get(content.FRAGMENT, type=XmlFragment)
    with doc.transaction():
        for tag, attrs in [
            ("script", {}),
            ("iframe", {"src": "javascript:__xss(1)"}),
            ("paragraph", {"onclick": "__xss(2)", "style": "x:expression(__xss(3))"}),
            ("heading", {"level": "<script>"}),
            ("orderedList", {"start": "x onload=__xss(4)"}),
            ("image", {"src": "javascript:__xss(5)", "alt": payload[:100]}),
            ("codeBlock", {"language": '"><script>__xss(6)</script>'}),
        ]:
            element = fragment.children.append(XmlElement(tag, attrs))
            text = element.children.append(XmlText())
            text.insert(0, payload)
        paragraph = fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText())
        text.insert(0, "link", {"link": {"href": "javascript:__xss(7)"}, "bold": True})
    return doc


@pytest.mark.parametrize("vector", VECTORS[::4], ids=_ids(VECTORS[::4]))
def test_a_hostile_document_tree_exports_inert_html_and_markdown(vector: Vector) -> None:
    doc = _hostile_document(vector.payload)
    html = content.to_html(doc)
    assert executable_constructs(html) == [], html
    # The Markdown export must render inert too (it is shown in previews and re-imported).
    assert executable_constructs(render_markdown(content.to_markdown(doc)).html) == []


def test_document_export_survives_nonsense_numeric_attributes() -> None:
    """A heading level or list start that is not a number is a client's garbage, not a 500."""
    doc = _hostile_document("text")
    html = content.to_html(doc)
    assert "<h1>" in html
    assert content.to_markdown(doc)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_notification_previews_travel_as_plain_text_only(kind: str) -> None:
    """Previews (the message's first line) go to phones and chat robots. They are never
    rendered as HTML or Markdown anywhere: the robots get their *text* message type, so
    ``[x](javascript:…)`` or ``<img onerror>`` arrives as the characters typed."""
    for vector in VECTORS:
        line = first_line(vector.payload)
        notice = Notice("王小明 在 #销售部 发了消息", line, "/app/w/1/c/2/", "conv-2", 1, "小微 Hub")
        _, body = request_for(kind, "https://robot.example/hook", "", notice, now=0)
        assert body.get("msgtype", body.get("msg_type")) == "text"
        sent = json.dumps(body, ensure_ascii=False)
        assert "markdown" not in sent and '"html"' not in sent
