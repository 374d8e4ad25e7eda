"""Uploads from the composer: drag-and-drop and clipboard paste of images, the file picker,
a progress bar per file with cancel, the server's error for a refused file, thumbnails that
open the full image, file chips with Chinese names — all against the live server."""

from __future__ import annotations

import base64
import contextlib
import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, call, message_row, new_channel, open_conversation, signed_in

pytestmark = pytest.mark.browser

UPLOAD_URL = re.compile(r"/api/v1/conversations/\d+/attachments$")


def png(width: int = 640, height: int = 480, color: str = "#3c8f5a") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


DROP = """([b64, name, type]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, {type}));
    const target = document.querySelector('[data-testid=conversation]');
    for (const kind of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true, cancelable: true}));
}"""

PASTE = """([b64, type]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.png', {type}));
    const box = document.querySelector('[data-testid=composer] textarea');
    box.focus();
    box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
}"""


class Held:
    """Holds upload requests until released, so the progress bar can be seen on loopback."""

    def __init__(self, page: Any) -> None:
        self.routes: list[Any] = []
        page.route(UPLOAD_URL, lambda route: self.routes.append(route))

    def release(self) -> None:
        for route in self.routes:
            # The browser may have cancelled it meanwhile.
            with contextlib.suppress(Exception):
                route.continue_()
        self.routes.clear()


def test_drag_and_drop_an_image_shows_progress_then_a_thumbnail_for_both(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "图片上传")
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    open_conversation(alice, server, channel)
    open_conversation(bob, server, channel)
    held = Held(alice)

    alice.evaluate(DROP, [base64.b64encode(png()).decode(), "茶园照片.png", "image/png"])
    upload = alice.get_by_test_id("upload")
    expect(upload).to_contain_text("茶园照片.png")
    expect(upload.get_by_test_id("upload-progress")).to_be_visible()
    send = alice.locator("[data-testid=composer] button.send")
    expect(send).to_be_disabled()  # not before every file is in
    screenshot(alice, "desktop-zh-upload-progress")
    held.release()
    expect(upload.get_by_test_id("upload-progress")).to_have_count(0, timeout=DELIVERY_TIMEOUT)
    expect(send).to_be_enabled()
    box = alice.locator("[data-testid=composer] textarea")
    box.fill("今天的茶园")
    box.press("Enter")

    for page in (alice, bob):
        image = message_row(page, "今天的茶园").get_by_test_id("attachment-image")
        expect(image).to_have_count(1, timeout=DELIVERY_TIMEOUT)
        thumb = image.locator("img")
        expect(thumb).to_have_attribute("src", re.compile(r"/api/v1/attachments/\d+/thumbnail$"))
        expect(thumb).to_have_attribute("alt", "茶园照片.png")
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=thumb.element_handle())
        # The thumbnail is the server's (≤ 400 px), not the 640 px original.
        assert thumb.evaluate("el => el.naturalWidth") <= 400
    screenshot(bob, "desktop-en-upload-thumbnail")

    # A click opens the full image in a new tab.
    with bob.expect_popup() as popup:
        message_row(bob, "今天的茶园").get_by_test_id("attachment-image").click()
    assert re.search(r"/api/v1/attachments/\d+$", popup.value.url)
    messages = call(bob, "GET", f"/conversations/{channel}/messages?limit=5")["messages"]
    assert messages[-1]["attachments"][0]["name"] == "茶园照片.png"
    assert messages[-1]["attachments"][0]["width"] == 640


def test_a_pasted_screenshot_uploads_and_sends_without_text(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    channel = new_channel(alice, server, "粘贴截图")
    open_conversation(alice, server, channel)
    alice.evaluate(PASTE, [base64.b64encode(png(200, 100, "#aa3344")).decode(), "image/png"])
    upload = alice.get_by_test_id("upload")
    expect(upload).to_contain_text(re.compile(r"pasted-\d{8}-\d{6}\.png"))
    send = alice.locator("[data-testid=composer] button.send")
    expect(send).to_be_enabled(timeout=DELIVERY_TIMEOUT)
    send.click()
    expect(alice.get_by_test_id("timeline").get_by_test_id("attachment-image")).to_have_count(
        1, timeout=DELIVERY_TIMEOUT
    )
    expect(alice.get_by_test_id("upload")).to_have_count(0)


def test_file_chip_with_a_chinese_name_and_size(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "文件")
    bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")
    open_conversation(alice, server, channel)
    open_conversation(bob, server, channel)
    pdf = b"%PDF-1.4\n" + b"0" * 3000 + b"\n%%EOF\n"
    alice.get_by_test_id("file-input").set_input_files(
        files=[{"name": "2026年报价单（最终版）.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    expect(alice.get_by_test_id("upload")).to_contain_text("2026年报价单（最终版）.pdf")
    send = alice.locator("[data-testid=composer] button.send")
    expect(send).to_be_enabled(timeout=DELIVERY_TIMEOUT)
    box = alice.locator("[data-testid=composer] textarea")
    box.fill("报价单请查收")
    box.press("Enter")
    chip = message_row(bob, "报价单请查收").get_by_test_id("attachment-file")
    expect(chip).to_contain_text("2026年报价单（最终版）.pdf", timeout=DELIVERY_TIMEOUT)
    expect(chip).to_contain_text("2.9 KB")
    with bob.expect_download() as download:
        chip.click()
    assert download.value.suggested_filename == "2026年报价单（最终版）.pdf"


def test_cancel_an_upload_and_see_the_servers_refusal(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="en-US")
    channel = new_channel(alice, server, "拒绝的文件")
    open_conversation(alice, server, channel)
    held = Held(alice)
    picker = alice.get_by_test_id("file-input")

    picker.set_input_files(files=[{"name": "大图.png", "mimeType": "image/png", "buffer": png()}])
    upload = alice.get_by_test_id("upload")
    expect(upload.get_by_test_id("upload-progress")).to_be_visible()
    upload.get_by_role("button", name="Cancel uploading 大图.png").click()
    expect(upload).to_have_count(0)
    alice.unroute(UPLOAD_URL)
    held.release()

    # A disallowed type: the server says why (415 unsupported_type), shown on the file.
    picker.set_input_files(
        files=[{"name": "安装程序.exe", "mimeType": "application/octet-stream", "buffer": b"MZ" + b"\0" * 64}]
    )
    error = alice.get_by_test_id("upload-error")
    expect(error).to_be_visible(timeout=DELIVERY_TIMEOUT)
    expect(error).not_to_have_text("")
    assert "HTTP" not in error.inner_text()  # the server's own message, not a status code
    # An image that is not one: refused too, with its own message.
    picker.set_input_files(files=[{"name": "假图片.png", "mimeType": "image/png", "buffer": b"not really a png"}])
    expect(alice.get_by_test_id("upload-error")).to_have_count(2, timeout=DELIVERY_TIMEOUT)
    # Nothing to send: failed files are not attachments.
    expect(alice.locator("[data-testid=composer] button.send")).to_be_disabled()
    screenshot(alice, "desktop-en-upload-refused")
    for _ in range(2):
        alice.get_by_test_id("upload").first.get_by_role("button", name=re.compile("^Remove")).click()
    expect(alice.get_by_test_id("upload")).to_have_count(0)


def test_a_file_over_the_size_limit_is_refused_with_the_servers_message(new_context: Any, server: Server) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    channel = new_channel(alice, server, "超大文件")
    open_conversation(alice, server, channel)
    too_big = b"0" * (25 * 1024 * 1024 + 10)
    alice.get_by_test_id("file-input").set_input_files(
        files=[{"name": "备份.txt", "mimeType": "text/plain", "buffer": too_big}]
    )
    error = alice.get_by_test_id("upload-error")
    expect(error).to_be_visible(timeout=30_000)
    assert "HTTP" not in error.inner_text()
