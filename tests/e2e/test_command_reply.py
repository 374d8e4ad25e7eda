"""Late replies of external slash commands: a `command.reply` frame on /ws/ shows in the
conversation it names as "only visible to you" (the same box as the ERP commands' ephemeral
replies), and nowhere else. The frame is injected into the page's real socket (Playwright's
WebSocket routing forwards everything else to the server): making one needs an external app
answering through its response_url, which the loopback-only test server cannot host."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, sign_in
from tests.e2e.conv_helpers import new_channel, open_conversation

pytestmark = pytest.mark.browser


def test_late_command_reply_shows_only_in_its_conversation(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sockets: list[Any] = []

    def forward(ws: Any) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/$"), forward)
    sign_in(page, "alice@e2e.test", "/")
    here = new_channel(page, server, "部署通知")
    elsewhere = new_channel(page, server, "别处")
    open_conversation(page, server, here)

    def reply(conversation_id: int, text: str) -> None:
        frame = {
            "type": "command.reply",
            "conversation_id": conversation_id,
            "command": "deploy",
            "text": text,
            "html": f"<p><strong>{text}</strong></p>",
            "blocks": [],
        }
        sockets[-1].send(json.dumps(frame, ensure_ascii=False))

    reply(here, "部署完成")
    box = page.get_by_test_id("ephemeral-reply")
    expect(box).to_have_count(1)
    expect(box).to_contain_text("仅你可见")
    expect(box).to_contain_text("/deploy")
    expect(box.locator("strong")).to_have_text("部署完成")

    # A reply for another conversation does not show here; it waits for that conversation.
    reply(elsewhere, "回滚完成")
    expect(page.get_by_test_id("ephemeral-reply")).to_have_count(1)
    open_conversation(page, server, elsewhere)
    expect(page.get_by_test_id("ephemeral-reply")).to_contain_text("回滚完成")

    # Dismissed with its × like any ephemeral reply.
    page.get_by_test_id("ephemeral-reply").get_by_role("button").click()
    expect(page.get_by_test_id("ephemeral-reply")).to_have_count(0)
