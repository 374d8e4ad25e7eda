"""The search panel: operator help, filter chips that edit the query (added from the form,
removed with ×), newest / best-match order, highlighted snippets, paging with "more
results", and a jump from a thread reply to its thread."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, new_channel, open_conversation, post, signed_in

pytestmark = pytest.mark.browser


def run_search(page: Any, query: str, expect_at_least: int, timeout_s: int = 60) -> Any:
    """The embedded indexer picks new messages up within seconds: search until they show."""
    box = page.get_by_role("searchbox", name=re.compile("Search|搜索"))
    results = page.get_by_test_id("search-result")
    for _ in range(timeout_s * 2):
        box.fill(query)
        box.press("Enter")
        page.wait_for_function("() => window.__hub.state.search && window.__hub.state.search.status !== 'loading'")
        if results.count() >= expect_at_least:
            return results
        page.wait_for_timeout(500)
    raise AssertionError(f"{query!r}: fewer than {expect_at_least} results after {timeout_s} s")


def test_filters_order_paging_and_jump(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    channel = new_channel(alice, server, "搜索面板")
    for i in range(25):
        post(alice, channel, f"普洱茶饼 批次 {i}")
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    post(bob, channel, "普洱茶饼 的报价 Bob")
    open_conversation(alice, server, channel)

    results = run_search(alice, "普洱茶饼", 20)
    panel = alice.get_by_test_id("search-panel")
    expect(results).to_have_count(20)  # one page
    expect(results.first.locator("mark").first).to_contain_text("普洱")
    # Newest-first may estimate the total ("About N results"; docs/search.md, total_exact).
    expect(panel.get_by_test_id("result-count")).to_contain_text(re.compile(r"\d+ results"))
    panel.get_by_test_id("more-results").click()
    expect(results).to_have_count(26)
    expect(panel.get_by_test_id("more-results")).to_have_count(0)

    # Operator help.
    panel.get_by_role("button", name="How to search").click()
    expect(panel.get_by_test_id("search-help")).to_contain_text("from:@张三")

    # A "from" filter added from the form becomes a chip and narrows the results.
    panel.get_by_role("combobox", name="Filter").select_option("from")
    panel.get_by_role("textbox", name="Value").fill("Bob")
    panel.get_by_role("button", name="Add filter").click()
    chip = panel.get_by_test_id("search-chip")
    expect(chip).to_contain_text("From @Bob")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Bob Li")
    screenshot(alice, "desktop-en-search-panel")
    # Removing the chip brings everything back; the order toggle asks for best match.
    chip.get_by_role("button").click()
    expect(chip).to_have_count(0)
    expect(results).to_have_count(20)
    panel.get_by_test_id("order-relevance").click()
    expect(panel.get_by_test_id("order-relevance")).to_have_attribute("aria-pressed", "true")
    assert alice.evaluate("() => window.__hub.state.search.order") == "relevance"
    expect(results).to_have_count(20)

    # Jump to context.
    run_search(alice, "的报价 Bob", 1)
    results.first.click()
    target = alice.locator("[data-testid=message]", has_text="的报价 Bob")
    expect(target).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    expect(target).to_have_class(re.compile("highlight"))


def test_a_reply_found_by_search_opens_its_thread(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "搜索话题")
    root = post(alice, channel, "包装方案讨论")
    post(alice, channel, "建议用牛皮纸礼盒包装方案B", thread_root_id=root["id"])
    open_conversation(alice, server, channel)
    results = run_search(alice, "牛皮纸礼盒", 1)
    expect(results.first).to_contain_text("在话题中")
    results.first.click()
    panel = alice.get_by_test_id("thread-panel")
    expect(panel.locator("[data-testid=message]", has_text="牛皮纸礼盒")).to_be_visible(timeout=DELIVERY_TIMEOUT)
    expect(panel.locator("[data-testid=message]", has_text="包装方案讨论")).to_be_visible()
