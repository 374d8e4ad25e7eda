"""The virtualised timeline on a real 10,000-message channel (bulk-seeded into the live
server's database): it opens at the newest message with a few dozen rows in the DOM, a search
result jumps to message #37 (a window of history around it, not 200 pages of paging) and
highlights it, paging works both ways from there, new messages while scrolled up offer a
"new messages" button, and the jump back to the latest returns to the live end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, _server_env, screenshot
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, open_conversation, post, signed_in

pytestmark = pytest.mark.browser

_LONG: dict[str, int] = {}


def long_channel(server: Server) -> dict[str, int]:
    """Seed once per server: the 10,000 messages and their events, in one transaction."""
    if not _LONG:
        seeded = subprocess.run(
            [sys.executable, "manage.py", "shell"],
            cwd=ROOT,
            env=_server_env(server.data_dir),
            check=True,
            capture_output=True,
            text=True,
            stdin=(Path(__file__).parent / "seed_long.py").open(),
        )
        line = next(line for line in seeded.stdout.splitlines() if line.startswith("LONG "))
        _LONG.update(json.loads(line[5:]))
    return _LONG


def search_until_found(page: Any, query: str, timeout_s: int = 90) -> Any:
    """The embedded indexer catches up with the bulk-seeded log in the background."""
    box = page.get_by_role("searchbox", name=re.compile("Search|搜索"))
    results = page.get_by_test_id("search-result")
    for _ in range(timeout_s // 3):
        box.fill(query)
        box.press("Enter")
        page.wait_for_function("() => window.__hub.state.search && window.__hub.state.search.status !== 'loading'")
        if results.count():
            return results
        page.wait_for_timeout(3000)
    raise AssertionError(f"{query!r} not found by search within {timeout_s} s")


def test_ten_thousand_messages_jump_to_number_37_from_search(new_context: Any, server: Server) -> None:
    seeded = long_channel(server)
    channel = seeded["channel"]
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    open_conversation(bob, server, channel)
    last = seeded["first_seq"] + 9_999
    newest = bob.locator(f'[data-testid=timeline] [data-seq="{last}"]')
    expect(newest).to_be_in_viewport()
    assert bob.locator("[data-testid=message]").count() < 120  # virtualised, not 10,000 rows

    results = search_until_found(bob, "乌龙茶样品37号")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark", has_text="乌龙茶")).to_have_count(1)
    results.first.click()
    target = bob.locator("[data-testid=message]", has_text="乌龙茶样品37号")
    expect(target).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    expect(target).to_have_class(re.compile(r"highlight"))
    state = bob.evaluate(
        """id => { const c = window.__hub.state.convs[id];
                   return {n: c.messages.length, first: c.messages[0].seq, after: c.hasMoreAfter}; }""",
        channel,
    )
    # A window around #37, not everything between it and the newest.
    assert state["n"] <= 100 and state["after"] is True
    screenshot(bob, "desktop-en-jump-37")

    # Scrolling up reaches the start; scrolling down pages newer messages in.
    timeline = bob.get_by_test_id("timeline")
    for _ in range(10):
        timeline.evaluate("el => { el.scrollTop = 0; }")
        bob.wait_for_timeout(200)
    expect(bob.get_by_text("This is the start of the conversation.")).to_be_visible(timeout=DELIVERY_TIMEOUT)
    for _ in range(6):
        timeline.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        bob.wait_for_timeout(300)
    grown = bob.evaluate("id => window.__hub.state.convs[id].messages.length", channel)
    assert grown > state["n"]

    # A new message meanwhile does not move the window; "jump to latest" goes to the live end.
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    post(alice, channel, "最新的一条消息")
    jump = bob.get_by_test_id("jump-latest")
    expect(jump).to_be_visible(timeout=DELIVERY_TIMEOUT)
    jump.click()
    expect(bob.locator("[data-testid=message]", has_text="最新的一条消息")).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    assert bob.evaluate("id => window.__hub.state.convs[id].hasMoreAfter", channel) is False


def test_new_messages_button_when_scrolled_up_and_stick_to_bottom_otherwise(new_context: Any, server: Server) -> None:
    seeded = long_channel(server)
    channel = seeded["channel"]
    bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    open_conversation(bob, server, channel)
    # At the bottom: a new message scrolls into view by itself.
    post(alice, channel, "在底部时自动滚动")
    expect(bob.locator("[data-testid=message]", has_text="在底部时自动滚动")).to_be_in_viewport(
        timeout=DELIVERY_TIMEOUT
    )
    expect(bob.get_by_test_id("jump-latest")).to_have_count(0)
    # Scrolled up: the page stays put and offers the jump instead.
    bob.get_by_test_id("timeline").evaluate("el => { el.scrollTop = el.scrollTop - 2000; }")
    bob.wait_for_timeout(300)
    post(alice, channel, "向上滚动时的新消息")
    jump = bob.get_by_test_id("jump-latest")
    expect(jump).to_have_text(re.compile("新消息"), timeout=DELIVERY_TIMEOUT)
    expect(bob.locator("[data-testid=message]", has_text="向上滚动时的新消息")).not_to_be_in_viewport()
    jump.click()
    expect(bob.locator("[data-testid=message]", has_text="向上滚动时的新消息")).to_be_in_viewport()
    expect(jump).to_have_count(0)


def test_a_message_link_opens_the_conversation_at_the_message(new_context: Any, server: Server) -> None:
    seeded = long_channel(server)
    channel = seeded["channel"]
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    message = bob.request.get(
        f"/api/v1/conversations/{channel}/messages?after={seeded['first_seq'] + 4999}&limit=1"
    ).json()
    message_id = message["messages"][0]["id"]
    bob.goto(f"/app/w/{server.ids['workspace']}/c/{channel}/m/{message_id}/")
    target = bob.locator(f'[data-testid=message][data-seq="{seeded["first_seq"] + 5000}"]')
    expect(target).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    expect(target).to_have_class(re.compile(r"highlight"))
