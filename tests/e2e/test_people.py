"""External (guest) people and shared channels: the header names the partner companies in a
shared channel, a guest's messages, the member list and the @ list carry an "External"
badge, and the member panel shows presence dots for staff."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, call, message_row, new_channel, open_conversation, post, signed_in

pytestmark = pytest.mark.browser


@contextmanager
def shared_channel(page: Any, server: Server, name: str) -> Iterator[int]:
    """A new channel shared with the seeded customer (西湖茶馆), whose guest is Carol —
    unshared afterwards, so that other tests still see Carol with only her seeded channel."""
    partner = call(page, "GET", f"/conversations/{server.ids['shared']}")["partners"][0]
    channel = new_channel(page, server, name)
    call(page, "POST", f"/conversations/{channel}/share", {"partner_id": partner["id"]})
    try:
        yield channel
    finally:
        call(page, "DELETE", f"/conversations/{channel}/share/{partner['id']}")


def test_guest_badges_on_a_shared_channel(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    with shared_channel(alice, server, "客户群") as channel:
        carol = signed_in(new_context, "carol@customer.test", locale="zh-CN")
        post(carol, channel, "请问样品什么时候寄出？")
        bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")  # online: a green dot for him
        open_conversation(bob, server, channel)
        open_conversation(alice, server, channel)

        expect(alice.get_by_test_id("shared-with")).to_contain_text("已与 西湖茶馆 共享")
        row = message_row(alice, "样品什么时候寄出")
        expect(row.get_by_test_id("guest-badge")).to_have_text("外部")
        expect(row.locator(".sender")).to_have_text("赵顾客")
        post(alice, channel, "明天寄出")
        expect(message_row(alice, "明天寄出").get_by_test_id("guest-badge")).to_have_count(0, timeout=DELIVERY_TIMEOUT)

        # Member list: guests badged with their company; staff with presence dots.
        alice.get_by_test_id("members-button").click()
        panel = alice.get_by_test_id("members-panel")
        carol_row = panel.get_by_test_id("member").filter(has_text="赵顾客")
        expect(carol_row.get_by_test_id("guest-badge")).to_have_text("外部 · 西湖茶馆")
        expect(carol_row.locator(".presence-dot")).to_have_count(0)  # guests get no presence
        bob_row = panel.get_by_test_id("member").filter(has_text="Bob Li")
        expect(bob_row.locator(".presence-dot.online")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
        expect(bob_row.get_by_test_id("guest-badge")).to_have_count(0)
        screenshot(alice, "desktop-zh-members")

        # @ autocomplete marks the guest too.
        box = alice.locator("[data-testid=composer] textarea")
        box.press_sequentially("@赵")
        option = alice.get_by_role("option", name="赵顾客")
        expect(option.get_by_test_id("guest-badge")).to_be_visible()


def test_member_panel_on_a_phone_is_full_screen(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US", viewport={"width": 360, "height": 740})
    with shared_channel(alice, server, "phone members") as channel:
        open_conversation(alice, server, channel)
        button = alice.get_by_test_id("members-button")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 40 and box["width"] >= 40
        button.click()
        panel = alice.get_by_test_id("members-panel")
        expect(panel.get_by_test_id("member")).to_have_count(3)  # Alice, Bob, Carol (the guest)
        assert (panel.bounding_box() or {}).get("width") == 360
        screenshot(alice, "phone-en-members")
        panel.get_by_role("button", name="Back").click()
        expect(panel).to_have_count(0)
