"""The XSS corpus (tests/security/xss_corpus.py) rendered by the real app in Chromium: as
messages and message edits, a display name, a channel name, topic and purpose, file names, an
incoming webhook's text and attachment fields, search snippets, and the content of a
collaborative document written by a raw Yjs client (a hostile tree an editor would never make).

Every payload would call ``window.__xss(n)`` if it ran. The page installs that sentinel before
any app code, plus a ``securitypolicyviolation`` listener: a hit means script ran; a CSP block
means the sanitiser let something through that only the CSP stopped. Both must stay empty —
the sanitiser alone is expected to be enough, the CSP is the second wall.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import content, protocol
from tests.e2e.conftest import Server, screenshot, sign_in
from tests.e2e.conv_helpers import call, new_channel
from tests.security.xss_corpus import SENTINEL_JS, SHORT, VECTORS

pytestmark = pytest.mark.browser

SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# The sentinel's report, plus every link and element that could still carry script.
REPORT_JS = """() => ({
    hits: window.__xss_hits,
    csp: window.__csp_blocks,
    badLinks: [...document.querySelectorAll('a[href]')]
        .map((a) => a.href).filter((h) => !/^(https?:|mailto:|tel:|blob:)/i.test(h) && !h.startsWith(location.origin)),
    scripts: [...document.querySelectorAll('main script, [data-testid=timeline] script, .ProseMirror script')].length,
    handlers: [...document.querySelectorAll('[data-testid=timeline] *, .ProseMirror *')]
        .flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
})"""


def _fetch(page: Any, method: str, path: str, **kwargs: Any) -> Any:
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    headers = {"X-CSRFToken": token, **kwargs.pop("headers", {})}
    return page.request.fetch(path, method=method, headers=headers, **kwargs)


def _api(page: Any, method: str, path: str, body: Any) -> Any:
    """Like conv_helpers.call, but a refusal (a 4xx for a NUL byte, a too-long name) is an
    answer, not a failure: the payload that was refused cannot be rendered."""
    response = _fetch(
        page, method, "/api/v1" + path, data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status < 500, f"{method} {path} → {response.status}: {response.text()}"
    return response.json() if response.ok else None


def _armed_page(new_context: Any, email: str, path: str, **options: Any) -> Any:
    context = new_context(**options)
    context.add_init_script(SENTINEL_JS)
    page = context.new_page()
    sign_in(page, email, path)
    return page


def _assert_inert(page: Any, where: str) -> None:
    report = page.evaluate(REPORT_JS)
    assert report["hits"] == [], f"{where}: script ran for vectors {report['hits']}"
    assert report["csp"] == [], f"{where}: only the CSP stopped {report['csp']}"
    assert report["badLinks"] == [], f"{where}: links with script URLs {report['badLinks']}"
    assert report["scripts"] == 0 and report["handlers"] == [], f"{where}: {report}"


@pytest.fixture
def hostile_channel(new_context: Any, server: Server) -> Iterator[tuple[int, list[str]]]:
    """A channel named, described and filled with the corpus, by Alice and by Bob under a
    hostile display name; Bob's name is restored afterwards (the server is shared)."""
    alice = new_context().new_page()
    sign_in(alice, "alice@e2e.test")
    bob = new_context().new_page()
    sign_in(bob, "bob@e2e.test")
    bob_name = call(bob, "GET", "/me")["display_name"]
    name = "xss " + SHORT[0].payload[:40] + uuid.uuid4().hex[:6]
    channel = new_channel(alice, server, name)
    expected: list[str] = []
    try:
        _api(alice, "PATCH", f"/conversations/{channel}", {"topic": SHORT[1].payload, "purpose": SHORT[2].payload})
        _api(bob, "PATCH", "/me", {"display_name": SHORT[4].payload[:80]})
        sent: list[int] = []
        for vector in VECTORS:
            author = bob if vector.n % 3 == 0 else alice
            message = _api(
                author,
                "POST",
                f"/conversations/{channel}/messages",
                {"body": vector.payload, "client_id": str(uuid.uuid4())},
            )
            if message is not None:
                sent.append(int(message["id"]))
        # Edits: the first messages become other payloads (rendered again, by the edit path).
        for message_id, vector in zip(sent[:12], reversed(VECTORS), strict=False):
            _api(alice, "PATCH", f"/messages/{message_id}", {"body": vector.payload})
        # File names: the uploads carry hostile names (kept for display, sanitised of paths).
        attachment_ids = []
        for vector in SHORT[:6]:
            response = _fetch(
                alice,
                "POST",
                f"/api/v1/conversations/{channel}/attachments",
                multipart={"file": {"name": vector.payload + ".txt", "mimeType": "text/plain", "buffer": b"hi"}},
            )
            assert response.status < 500, response.text()
            if response.ok:
                attachment_ids.append(response.json()["id"])
        assert attachment_ids, "no hostile file name was accepted: the test would prove nothing"
        _api(
            alice,
            "POST",
            f"/conversations/{channel}/messages",
            {"body": "附件 files", "client_id": str(uuid.uuid4()), "attachment_ids": attachment_ids},
        )
        # An incoming webhook (Slack/Mattermost shape) with hostile text, sender and fields.
        hook = _api(alice, "POST", f"/conversations/{channel}/webhooks", {"kind": "mattermost", "name": "ERP 推送"})
        assert hook is not None
        for vector in VECTORS[::7]:
            payload = {
                "text": vector.payload,
                "username": SHORT[vector.n % len(SHORT)].payload,
                "attachments": [
                    {
                        "title": vector.payload[:200],
                        "text": vector.payload,
                        "pretext": vector.payload[:200],
                        "fields": [{"title": "客户", "value": vector.payload[:500], "short": True}],
                    }
                ],
            }
            # The URL names the configured public host; post to its path on this test server.
            response = alice.request.post(urlsplit(hook["url"]).path, data=json.dumps(payload))
            assert response.status < 500, response.text()
        expected = [str(m) for m in sent]
        yield channel, expected
    finally:
        call(bob, "PATCH", "/me", {"display_name": bob_name})


def _render_whole_timeline(page: Any, channel: int) -> None:
    """The timeline is paged and virtual: scroll to the top until the oldest page is loaded,
    then down step by step, so every message has been in the DOM (where its handlers would
    have fired)."""
    expect(page.get_by_test_id("timeline")).to_be_visible()
    for _ in range(40):
        page.evaluate("() => { document.querySelector('[data-testid=timeline]').scrollTop = 0; }")
        page.wait_for_timeout(200)
        if not page.evaluate("id => window.__hub.state.convs[id].hasMoreBefore", channel):
            break
    for _ in range(60):
        done = page.evaluate(
            """() => { const t = document.querySelector('[data-testid=timeline]');
                       t.scrollTop += t.clientHeight * 0.8;
                       return t.scrollTop + t.clientHeight >= t.scrollHeight - 2; }"""
        )
        page.wait_for_timeout(100)
        if done:
            break


def test_the_corpus_never_runs_in_messages_names_topics_files_and_webhooks(
    new_context: Any, server: Server, hostile_channel: tuple[int, list[str]]
) -> None:
    channel, _ = hostile_channel
    path = f"/app/w/{server.ids['workspace']}/c/{channel}/"
    for email, locale in (("alice@e2e.test", "zh-CN"), ("bob@e2e.test", "en-US")):
        page = _armed_page(new_context, email, path, locale=locale, viewport={"width": 1280, "height": 4000})
        expect(page.get_by_test_id("timeline").locator("[data-testid=message]").first).to_be_visible()
        # The channel's name and topic show as text, the hostile markup visible, not parsed.
        expect(page.locator("body")).to_contain_text("<svg/onload=__xss(")
        _render_whole_timeline(page, channel)
        for row in page.get_by_test_id("timeline").locator("[data-testid=message]").all()[:40]:
            row.hover()  # mouse-over handlers, had any survived
        _assert_inert(page, f"timeline as {email}")
        screenshot(page, f"xss-timeline-{locale}")


def test_the_corpus_never_runs_in_search_snippets(
    new_context: Any, server: Server, hostile_channel: tuple[int, list[str]]
) -> None:
    page = _armed_page(new_context, "alice@e2e.test", "/")
    box = page.get_by_role("searchbox", name=re.compile("Search|搜索"))
    results = page.get_by_test_id("search-result")
    for _ in range(120):  # the embedded indexer picks the messages up within seconds
        box.fill("onerror")
        box.press("Enter")
        page.wait_for_function("() => window.__hub.state.search && window.__hub.state.search.status !== 'loading'")
        if results.count() >= 5:
            break
        page.wait_for_timeout(500)
    assert results.count() >= 5
    expect(results.first).to_contain_text("onerror")
    _assert_inert(page, "search snippets")
    screenshot(page, "xss-search")


def _hostile_update() -> bytes:
    """What a raw client can write into the CRDT: every corpus payload as text, link marks with
    script URLs, image nodes with javascript: sources, script/iframe nodes, handler attributes."""
    doc: Doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    fragment = doc.get(content.FRAGMENT, type=XmlFragment)
    with doc.transaction():
        for vector in VECTORS:
            paragraph = fragment.children.append(XmlElement("paragraph", {"onclick": f"__xss({vector.n})"}))
            text = paragraph.children.append(XmlText())
            text.insert(0, vector.payload.replace("\x00", ""))
        paragraph = fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText())
        text.insert(0, "危险链接", {"link": {"href": "javascript:__xss(9001)"}})
        fragment.children.append(
            XmlElement("image", {"src": "javascript:__xss(9002)", "alt": "<img src=x onerror=__xss(9003)>"})
        )
        fragment.children.append(XmlElement("script", {}, [XmlText("__xss(9004)")]))
        fragment.children.append(XmlElement("iframe", {"src": "javascript:__xss(9005)"}))
        fragment.children.append(XmlElement("heading", {"level": "<script>"}, [XmlText("标题")]))
    (update,) = updates  # one transaction, one update
    return protocol.encode_sync_update(update)


def test_the_corpus_never_runs_in_a_collaborative_document(new_context: Any, server: Server) -> None:
    from websockets.sync.client import connect

    page = _armed_page(new_context, "alice@e2e.test", "/")
    created = _api(page, "POST", "/documents", {"workspace_id": server.ids["workspace"], "title": "XSS 文档"})
    document_id = int(created["id"])
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    ws_url = server.url.replace("http://", "ws://") + f"/ws/docs/{document_id}/"
    with connect(ws_url, additional_headers={"Cookie": cookies, "Origin": server.url}, open_timeout=10) as ws:
        ws.send(protocol.encode_sync_step1(b"\x00"))
        ws.send(_hostile_update())
        ws.send(protocol.encode_sync_step1(b"\x00"))  # a round trip: the update was processed
        for _ in range(10):
            if isinstance(ws.recv(timeout=10), bytes):
                break
    page.goto(f"/app/w/{server.ids['workspace']}/d/{document_id}/")
    editor = page.locator("[data-testid=doc-editor]")
    expect(editor).to_contain_text("危险链接", timeout=15_000)
    expect(editor).to_contain_text("<script>__xss(1)</script>")  # shown as text
    _assert_inert(page, "document editor")
    screenshot(page, "xss-document")
