"""The notification settings screen in a real browser: add a WeCom robot target, press "send
test", see the result; a refused robot shows its reason; the URL's key is never on screen."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Server, screenshot, sign_in
from tests.messaging.notify_receivers import Receiver, receiver_fixture  # noqa: F401

pytestmark = pytest.mark.browser

KEY = "e2e-robot-key-0123456789"


def test_add_a_robot_and_send_a_test(new_context: Any, server: Server, receiver: Receiver) -> None:
    receiver.answer("/bad/", (200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    page = new_context().new_page()
    sign_in(page, "dave@e2e.test")
    page.get_by_test_id("notify-settings-open").click()
    settings = page.get_by_test_id("notify-settings")
    settings.get_by_role("heading", name="手机上的通知").wait_for()

    form = page.get_by_test_id("notify-add")
    form.locator("select[name=kind]").select_option("wecom")
    form.locator("input[name=label]").fill("我的企业微信")
    form.locator("input[name=url]").fill("not a url")
    form.get_by_role("button", name="添加").click()
    form.get_by_role("alert").filter(has_text="这看起来不是一个网址").wait_for()

    form.locator("input[name=url]").fill(receiver.url(f"/good/cgi-bin/webhook/send?key={KEY}"))
    form.get_by_role("button", name="添加").click()
    target = page.get_by_test_id("notify-target").filter(has_text="我的企业微信")
    target.wait_for()
    assert KEY not in page.content()  # masked: host and the last characters only
    target.get_by_test_id("notify-test").click()
    target.get_by_test_id("notify-test-result").filter(has_text="已发送").wait_for()
    [hit] = receiver.to("/good/cgi-bin/webhook/send")
    assert hit.query["key"] == [KEY]
    assert "小微 Hub 测试通知" in hit.json()["text"]["content"]

    # A robot that refuses: the reason is shown, in the person's language around it.
    form.locator("select[name=kind]").select_option("dingtalk")
    form.locator("input[name=label]").fill("钉钉")
    form.locator("input[name=url]").fill(receiver.url("/bad/robot/send?access_token=abcdef123456"))
    form.locator("input[name=secret]").fill("SECe2esecret")
    form.get_by_role("button", name="添加").click()
    bad = page.get_by_test_id("notify-target").filter(has_text="钉钉").filter(has_text="已加签")
    bad.wait_for()
    bad.get_by_test_id("notify-test").click()
    bad.get_by_test_id("notify-test-result").filter(has_text="93000 invalid webhook url").wait_for()
    assert "SECe2esecret" not in page.content()

    # The preview choice is saved on the server.
    page.get_by_test_id("notify-preview").get_by_label("显示谁、在哪里和第一行").check()
    page.wait_for_function(
        """async () => (await (await fetch('/api/v1/me/notifications')).json()).push_preview === 'first_line'"""
    )
    screenshot(page, "notify-settings")


def until(page: Any, probe: Callable[[], Any], attempts: int = 100) -> Any:
    """Poll ``probe`` (every 100 ms, 10 s at most) until it returns something truthy. Waiting
    through the page lets Playwright deliver DevTools events meanwhile (time.sleep would not)."""
    for _ in range(attempts):
        value = probe()
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError("gave up waiting")


def test_service_worker_shows_a_push_and_routes_its_click(new_context: Any, server: Server) -> None:
    """A push delivered to the real service worker (Chromium's DevTools protocol stands in for
    the push service) becomes a notification with its tag and path; the click handler's message
    routes the open app to the conversation."""
    context = new_context(service_workers="allow")
    context.grant_permissions(["notifications"], origin=server.url)
    page = context.new_page()
    sign_in(page, "bob@e2e.test")
    page.wait_for_function("async () => { const r = await navigator.serviceWorker.ready; return !!r.active; }")
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    scope = server.url + "/"
    ours = until(page, lambda: [r for r in registrations if r["scopeURL"] == scope and not r.get("isDeleted")])
    path = f"/app/w/{server.ids['workspace']}/c/{server.ids['chat']}/"
    payload = {"title": "王小明 在 #销售部 提到了你", "body": "@Bob 看一下报价", "path": path, "tag": "conv-1"}
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.url, "registrationId": ours[0]["registrationId"], "data": json.dumps(payload)},
    )
    shown = until(
        page,
        lambda: page.evaluate(
            """async () => {
                 const r = await navigator.serviceWorker.ready;
                 const list = await r.getNotifications();
                 return list.map((n) => ({title: n.title, body: n.body, tag: n.tag, path: n.data.path}));
               }"""
        ),
    )
    assert shown == [{"title": payload["title"], "body": payload["body"], "tag": "conv-1", "path": path}]
    # What notificationclick does with an open window: post {type: "hub.open", path} to it.
    worker = context.service_workers[0]
    worker.evaluate(
        """async (path) => {
             const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
             windows.forEach((w) => w.postMessage({type: "hub.open", path}));
           }""",
        path,
    )
    page.wait_for_url(f"**{path}")
    page.wait_for_function(f"() => window.__hub.state.activeId === {server.ids['chat']}")
