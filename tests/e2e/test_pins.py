"""Pins, saved messages and forwarding from the message menu: the pinned list in the header
follows pins live and jumps to the message (paging back through history), the saved list,
and forwarding a message into another conversation through the picker dialog."""

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


def test_pin_from_the_menu_list_it_and_jump_to_it(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "置顶")
    target = post(alice, channel, "发货规范：每周一、三、五下午四点前")
    for i in range(120):  # enough to push it two pages back
        post(alice, channel, f"日常消息 {i}")
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    open_conversation(bob, server, channel)
    bob.get_by_test_id("pins-button").click()
    pins = bob.get_by_test_id("pins-panel")
    expect(pins).to_contain_text("Nothing is pinned here yet.")

    # Alice pins it (the API, as another client would); Bob's open list follows live.
    call(alice, "POST", f"/messages/{target['id']}/pin")
    card = pins.get_by_test_id("panel-message")
    expect(card).to_contain_text("发货规范", timeout=DELIVERY_TIMEOUT)
    card.click()
    row = message_row(bob, "发货规范")
    expect(row).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    expect(row).to_have_class(re.compile(r"highlight"))
    expect(row.locator(".pinned-mark")).to_have_count(1)
    screenshot(bob, "desktop-en-pins")

    # Unpin from the message menu.
    open_menu(bob, row).get_by_role("menuitem", name="Unpin").click()
    expect(pins).to_contain_text("Nothing is pinned here yet.", timeout=DELIVERY_TIMEOUT)
    assert call(bob, "GET", f"/conversations/{channel}/pins")["pins"] == []

    # And pin again from the menu.
    open_menu(bob, message_row(bob, "日常消息 0")).get_by_role("menuitem", name="Pin to conversation").click()
    expect(pins.get_by_test_id("panel-message")).to_contain_text("日常消息 0", timeout=DELIVERY_TIMEOUT)


def test_save_a_message_and_find_it_in_the_saved_list(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "收藏")
    post(alice, channel, "供应商联系方式：0571-8888 6666")
    open_conversation(alice, server, channel)
    open_menu(alice, message_row(alice, "供应商联系方式")).get_by_role("menuitem", name="收藏").click()
    alice.get_by_test_id("saved-button").click()
    saved = alice.get_by_test_id("saved-panel")
    expect(saved.get_by_test_id("panel-message").filter(has_text="供应商联系方式")).to_have_count(1)
    # The menu now offers the opposite.
    menu = open_menu(alice, message_row(alice, "供应商联系方式"))
    expect(menu.get_by_role("menuitem", name="取消收藏")).to_be_visible()
    menu.get_by_role("menuitem", name="取消收藏").click()
    expect(saved.get_by_test_id("panel-message").filter(has_text="供应商联系方式")).to_have_count(0)


def test_forward_a_message_to_another_conversation(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    source = new_channel(alice, server, "转发来源")
    target = new_channel(alice, server, "转发目标")
    post(alice, source, "样品明天到杭州仓库")
    bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")
    open_conversation(alice, server, source)
    open_conversation(bob, server, target)

    open_menu(alice, message_row(alice, "样品明天到")).get_by_role("menuitem", name="Forward").click()
    dialog = alice.get_by_test_id("forward-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("searchbox").fill("转发目标")
    dialog.get_by_role("radio").first.check()
    dialog.get_by_role("textbox", name="Add a comment (optional)").fill("请仓库注意签收")
    screenshot(alice, "desktop-en-forward")
    dialog.get_by_role("button", name="Forward").click()
    expect(dialog.get_by_role("status")).to_contain_text("转发目标")

    # Bob, in the target channel, sees the quote with the comment, marked as forwarded.
    row = message_row(bob, "样品明天到杭州仓库")
    expect(row).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(row).to_contain_text("请仓库注意签收")
    expect(row.locator(".forwarded")).to_have_text("转发的消息")
    dialog.get_by_role("button", name="Open conversation").click()
    expect(alice.locator("section.conversation h1")).to_have_text("# 转发目标")
