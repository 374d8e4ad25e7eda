"""Helpers for the conversation-experience browser tests: each test makes its own channel
through the public API (as the signed-in person, with their session cookie and CSRF token),
so the tests share no state with each other or with test_chat.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, sign_in

DELIVERY_TIMEOUT = 10_000


def call(page: Any, method: str, path: str, data: Any = None) -> Any:
    """An API call from the page's browser context (its session); fails loudly on an error."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    response = page.request.fetch(
        "/api/v1" + path,
        method=method,
        data=json.dumps(data) if data is not None else None,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert response.ok, f"{method} {path} → {response.status}: {response.text()}"
    return response.json()


def new_channel(
    page: Any, server: Server, name: str, member_keys: tuple[str, ...] = ("bob",), kind: str = "public"
) -> int:
    created = call(
        page,
        "POST",
        "/conversations",
        {
            "workspace_id": server.ids["workspace"],
            "kind": kind,
            "name": name,
            "member_ids": [server.ids[k] for k in member_keys],
        },
    )
    return int(created["id"])


def post(page: Any, conversation_id: int, body: str, thread_root_id: int | None = None) -> dict[str, Any]:
    payload = {"body": body, "client_id": str(uuid.uuid4()), "thread_root_id": thread_root_id}
    return call(page, "POST", f"/conversations/{conversation_id}/messages", payload)


def open_conversation(page: Any, server: Server, conversation_id: int) -> None:
    """Navigate the app (no reload) to a conversation and wait for its history."""
    page.wait_for_function("id => window.__hub && window.__hub.state.socket === 'open'", arg=conversation_id)
    page.evaluate("() => window.__hub.loadConversations()")
    page.evaluate(
        "([ws, id]) => window.__hub.navigate({workspaceId: ws, conversationId: id})",
        [server.ids["workspace"], conversation_id],
    )
    page.wait_for_function(
        "id => window.__hub.state.convs[id] && window.__hub.state.convs[id].historyLoaded", arg=conversation_id
    )
    expect(page.get_by_test_id("timeline")).to_be_visible()


def signed_in(new_context: Any, email: str, **options: Any) -> Any:
    page = new_context(**options).new_page()
    sign_in(page, email, "/")
    return page


def message_row(page: Any, text: str) -> Any:
    return page.get_by_test_id("timeline").locator("[data-testid=message]", has_text=text)


def open_menu(page: Any, row: Any) -> Any:
    row.hover()
    row.get_by_role("button", name=_actions_label(page)).click()
    return row.get_by_role("menu")


def _actions_label(page: Any) -> str:
    return "消息操作" if page.evaluate("() => window.__hub.state.lang") == "zh-CN" else "Message actions"
