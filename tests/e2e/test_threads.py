"""The thread side panel: open from a message, replies live for the other person, the reply
count on the root, follow/unfollow, and the full-screen pane with "back" on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot
from tests.e2e.conv_helpers import (
    DELIVERY_TIMEOUT,
    call,
    message_row,
    new_channel,
    open_conversation,
    open_menu,
    post,
    signed_in,
)

pytestmark = pytest.mark.browser


def test_a_reply_in_a_thread_reaches_the_other_person_live(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    channel = new_channel(alice, server, "话题讨论")
    root = post(alice, channel, "下周的茶叶订单怎么安排？")
    bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")
    open_conversation(alice, server, channel)
    open_conversation(bob, server, channel)

    # Bob opens the thread from the message menu before anyone replied.
    open_menu(bob, message_row(bob, "茶叶订单")).get_by_role("menuitem", name="回复话题").click()
    bob_panel = bob.get_by_test_id("thread-panel")
    expect(bob_panel.locator("[data-testid=message]", has_text="茶叶订单")).to_have_count(1)

    # Alice replies from her thread panel; the optimistic echo turns into the stored reply.
    open_menu(alice, message_row(alice, "茶叶订单")).get_by_role("menuitem", name="Reply in thread").click()
    panel = alice.get_by_test_id("thread-panel")
    box = panel.locator("textarea")
    box.fill("周一先发龙井，周三发碧螺春")
    box.press("Enter")
    expect(panel.locator("[data-testid=message]", has_text="周一先发龙井")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(panel.locator("[data-testid=pending-message]")).to_have_count(0)

    # Bob sees it live in his open panel, and the root in his timeline shows the count.
    expect(bob_panel.locator("[data-testid=message]", has_text="周一先发龙井")).to_have_count(
        1, timeout=DELIVERY_TIMEOUT
    )
    summary = message_row(bob, "茶叶订单").get_by_test_id("thread-summary")
    expect(summary).to_contain_text("1 条回复", timeout=DELIVERY_TIMEOUT)
    expect(summary).to_contain_text("最后回复")
    # The reply stays out of the main timeline.
    expect(message_row(bob, "周一先发龙井")).to_have_count(0)

    # Bob answers in the thread; Alice sees it and the count moves to 2.
    bob_box = bob_panel.locator("textarea")
    bob_box.fill("好的 👍")
    bob_box.press("Enter")
    expect(panel.locator("[data-testid=message]", has_text="好的")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(message_row(alice, "茶叶订单").get_by_test_id("thread-summary")).to_contain_text("2 replies")
    replies = call(alice, "GET", f"/messages/{root['id']}/thread")["replies"]
    assert [r["body"] for r in replies] == ["周一先发龙井，周三发碧螺春", "好的 👍"]
    screenshot(alice, "desktop-en-thread")


def test_follow_and_unfollow_a_thread(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    channel = new_channel(alice, server, "关注话题")
    root = post(alice, channel, "请大家关注这个话题")
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    open_conversation(bob, server, channel)
    message_row(bob, "请大家关注").hover()
    open_menu(bob, message_row(bob, "请大家关注")).get_by_role("menuitem", name="Reply in thread").click()
    follow = bob.get_by_test_id("follow-thread")
    expect(follow).to_have_text("Follow")
    follow.click()
    expect(follow).to_have_text("Unfollow")
    assert call(bob, "GET", f"/messages/{root['id']}/thread")["following"] is True
    follow.click()
    expect(follow).to_have_text("Follow")
    assert call(bob, "GET", f"/messages/{root['id']}/thread")["following"] is False


def test_thread_is_a_full_screen_pane_with_back_on_a_phone(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN", viewport={"width": 360, "height": 740})
    channel = new_channel(alice, server, "手机话题")
    root = post(alice, channel, "手机上打开话题")
    post(alice, channel, "第一条回复", thread_root_id=root["id"])
    open_conversation(alice, server, channel)
    summary = message_row(alice, "手机上打开话题").get_by_test_id("thread-summary")
    expect(summary).to_contain_text("1 条回复")
    summary.click()
    panel = alice.get_by_test_id("thread-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["width"] == 360 and box["x"] == 0
    expect(panel.locator("[data-testid=message]", has_text="第一条回复")).to_be_visible()
    back = panel.get_by_role("button", name="返回")
    assert (back.bounding_box() or {}).get("height", 0) >= 40
    screenshot(alice, "phone-zh-thread")
    back.click()
    expect(panel).to_have_count(0)
    expect(message_row(alice, "手机上打开话题")).to_be_visible()
    assert re.search(r"/c/\d+/$", alice.url)
