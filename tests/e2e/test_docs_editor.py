"""Real-browser tests of collaborative documents: two people editing one document live (text and
cursors), edits made offline syncing on reconnect, an @mention reaching the person in chat,
search finding a document's Chinese text, and the card in a conversation opening the document.

The browser runs the real Tiptap + Yjs + y-websocket + y-indexeddb stack against the server's
/ws/docs/<id>/ (docs/documents.md).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot, sign_in

pytestmark = pytest.mark.browser

LIVE_TIMEOUT = 10_000
# The search index is fed after the document is quiet for 5 s and the indexer polls every 5 s.
INDEX_TIMEOUT_S = 40


def api(page: Any, method: str, path: str, body: Any = None) -> Any:
    """A call to /api/v1 from inside the signed-in page (session cookie + CSRF header)."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
            const r = await fetch("/api/v1" + path, {method, credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: body === null ? undefined : JSON.stringify(body)});
            return {status: r.status, body: await r.json().catch(() => null)};
        }""",
        [method, path, body],
    )


def doc_path(server: Server, document_id: int) -> str:
    return f"/app/w/{server.ids['workspace']}/d/{document_id}/"


def open_doc(new_context: Any, server: Server, email: str, document_id: int) -> tuple[Any, Any]:
    context = new_context()
    page = context.new_page()
    sign_in(page, email, doc_path(server, document_id))
    expect(page.locator("[data-testid=doc-editor]")).to_be_visible()
    expect(page.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)
    return context, page


def create_doc(page: Any, server: Server, title: str, conversation: str | None = None) -> int:
    body: dict[str, Any] = {"workspace_id": server.ids["workspace"], "title": title}
    if conversation is not None:
        body["conversation_id"] = server.ids[conversation]
    created = api(page, "POST", "/documents", body)
    assert created["status"] == 201, created
    return int(created["body"]["id"])


def editor(page: Any) -> Any:
    return page.locator("[data-testid=doc-editor]")


def type_at_end(page: Any, text: str) -> None:
    box = editor(page)
    box.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_documents_list_creates_and_opens_a_document(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, "alice@e2e.test", f"/app/w/{server.ids['workspace']}/d/")
    page.get_by_placeholder("文档标题").fill("新品发布会筹备")
    page.get_by_role("button", name="新建文档").click()
    page.wait_for_url(re.compile(r"/d/\d+/$"))
    expect(editor(page)).to_be_visible()
    expect(page.get_by_label("重命名")).to_have_value("新品发布会筹备")
    page.get_by_text("全部文档").click()
    expect(page.locator("[data-testid=doc-item]").filter(has_text="新品发布会筹备")).to_be_visible()


def test_two_people_see_each_others_text_and_cursors_live(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "联合编辑测试")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)

    type_at_end(alice, "你好，小微的同事们")
    expect(editor(bob)).to_contain_text("你好，小微的同事们", timeout=LIVE_TIMEOUT)
    type_at_end(bob, " — Bob 也在")
    expect(editor(alice)).to_contain_text("Bob 也在", timeout=LIVE_TIMEOUT)

    # Each sees the other's caret labelled with their name, and both avatars.
    expect(alice.locator(".collaboration-carets__label", has_text="Bob Li")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(bob.locator(".collaboration-carets__label", has_text="王小明")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(alice.locator("[data-testid=doc-people] li")).to_have_count(2, timeout=LIVE_TIMEOUT)
    screenshot(alice, "docs-two-editors")

    # Formatting from the toolbar reaches the other side as structure, not just text.
    alice.keyboard.press("Enter")
    alice.get_by_role("button", name="任务清单").click()
    alice.keyboard.type("确认报价")
    expect(bob.locator("[data-testid=doc-editor] ul[data-type=taskList]")).to_contain_text(
        "确认报价", timeout=LIVE_TIMEOUT
    )

    # A rename reaches the other open editor at once.
    alice.get_by_label("重命名").fill("联合编辑测试（定稿）")
    alice.get_by_label("重命名").press("Enter")
    expect(bob.get_by_label("重命名")).to_have_value("联合编辑测试（定稿）", timeout=LIVE_TIMEOUT)


def test_edits_made_offline_sync_when_back_online(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "离线编辑测试")
    alice_context, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    type_at_end(alice, "在线写的。")
    expect(editor(bob)).to_contain_text("在线写的。", timeout=LIVE_TIMEOUT)

    alice_context.set_offline(True)
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "offline")
    type_at_end(alice, "地铁里离线写的。")
    # Kept locally (IndexedDB) while the socket is down; Bob has not got it.
    expect(editor(alice)).to_contain_text("地铁里离线写的。")
    type_at_end(bob, "Bob 同时写的。")
    alice.wait_for_timeout(500)
    assert "地铁里离线写的" not in editor(bob).inner_text()

    alice_context.set_offline(False)
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)
    expect(editor(bob)).to_contain_text("地铁里离线写的。", timeout=LIVE_TIMEOUT)
    expect(editor(alice)).to_contain_text("Bob 同时写的。", timeout=LIVE_TIMEOUT)

    # And it is persisted: a fresh visitor loads both edits from the server.
    _, dave = open_doc(new_context, server, "dave@e2e.test", document_id)
    expect(editor(dave)).to_contain_text("地铁里离线写的。", timeout=LIVE_TIMEOUT)
    expect(editor(dave)).to_contain_text("Bob 同时写的。", timeout=LIVE_TIMEOUT)


def test_a_mention_in_a_document_notifies_the_person(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "提及测试文档")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    bob = new_context().new_page()
    sign_in(bob, "bob@e2e.test")

    type_at_end(alice, "请 ")
    alice.keyboard.type("@Bob")
    popup = alice.locator("[data-testid=mention-popup]")
    expect(popup.get_by_role("option", name="Bob Li")).to_be_visible()
    alice.keyboard.press("Enter")
    alice.keyboard.type(" 确认价格")
    expect(editor(alice).locator(".mention")).to_have_text("@Bob Li")

    # Bob is told in chat: a direct message from Alice linking the document.
    link = f"/d/{document_id}/"
    deadline = time.monotonic() + 20
    found = None
    while time.monotonic() < deadline and found is None:
        conversations = api(bob, "GET", f"/conversations?workspace={server.ids['workspace']}")["body"]
        for conversation in conversations:
            if conversation["kind"] != "dm":
                continue
            messages = api(bob, "GET", f"/conversations/{conversation['id']}/messages?limit=20")["body"]["messages"]
            found = next((m for m in messages if link in m["body"]), None) or found
        if found is None:
            bob.wait_for_timeout(500)
    assert found is not None, "Bob got no message about the mention"
    assert found["sender_id"] == server.ids["alice"] and "提及测试文档" in found["body"]
    assert server.ids["bob"] in (found.get("mentions") or [])


def test_search_finds_chinese_text_of_a_document(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "季度计划")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    type_at_end(alice, "今年龙井茶的采购数量需要再确认一次")
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)

    query = f"/documents/search?workspace={server.ids['workspace']}&q=" + "采购数量"
    deadline = time.monotonic() + INDEX_TIMEOUT_S
    hits: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not any(h["id"] == document_id for h in hits):
        alice.wait_for_timeout(1000)
        hits = api(alice, "GET", query)["body"]
    assert any(h["id"] == document_id for h in hits), hits

    # In the app: the header search shows the document above the messages, and opens it.
    page = new_context().new_page()
    sign_in(page, "bob@e2e.test")
    page.get_by_role("search").locator("input").fill("采购数量")
    page.get_by_role("search").locator("input").press("Enter")
    hit = page.locator("[data-testid=doc-search-hits] a", has_text="季度计划")
    expect(hit).to_be_visible()
    expect(page.locator("[data-testid=doc-search-hits] mark").first).to_have_text("采购数量")
    hit.click()
    page.wait_for_url(re.compile(rf"/d/{document_id}/$"))
    expect(editor(page)).to_contain_text("龙井茶的采购数量")


def test_the_card_in_a_conversation_is_live_and_opens_the_document(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, "alice@e2e.test")
    document_id = create_doc(page, server, "会议纪要", conversation="actions")
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    type_at_end(bob, "Bob 记录的要点")
    page.goto(f"/app/w/{server.ids['workspace']}/c/{server.ids['actions']}/")
    card = page.locator("[data-testid=doc-card]", has_text="会议纪要")
    expect(card).to_be_visible(timeout=LIVE_TIMEOUT)
    # Who has it open now, and who edited it last.
    expect(card.locator("[data-testid=doc-card-here]")).to_contain_text("Bob Li")
    expect(card).to_contain_text("1 人正在编辑")
    screenshot(page, "docs-card-in-conversation")
    card.click()
    page.wait_for_url(re.compile(rf"/d/{document_id}/$"))
    expect(editor(page)).to_contain_text("Bob 记录的要点")
    expect(page.get_by_label("重命名")).to_have_value("会议纪要")


def test_version_history_previews_and_restores(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "版本测试")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    type_at_end(alice, "第一版的内容")
    expect(editor(bob)).to_contain_text("第一版的内容", timeout=LIVE_TIMEOUT)
    alice.wait_for_timeout(500)  # the room's flush (200 ms) puts it in the log the version reads

    alice.get_by_role("button", name="版本历史").click()
    panel = alice.locator("[data-testid=doc-versions]")
    panel.get_by_label("版本名称").fill("初稿")
    panel.get_by_role("button", name="保存版本").click()
    expect(panel.get_by_role("button", name=re.compile("初稿"))).to_be_visible()

    type_at_end(alice, "，后来又改了")
    expect(editor(bob)).to_contain_text("后来又改了", timeout=LIVE_TIMEOUT)
    panel.get_by_role("button", name=re.compile("初稿")).click()
    preview = panel.locator(".doc-version-preview")
    expect(preview).to_contain_text("第一版的内容")
    expect(preview).not_to_contain_text("后来又改了")

    alice.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="恢复此版本").click()
    # Every open editor is told to reload (4409) and comes back with the restored text.
    for page in (alice, bob):
        expect(editor(page)).to_contain_text("第一版的内容", timeout=LIVE_TIMEOUT)
        expect(editor(page)).not_to_contain_text("后来又改了", timeout=LIVE_TIMEOUT)


def test_a_document_opened_offline_keeps_its_edits_and_syncs_them(new_context: Any, server: Server) -> None:
    """The phone on the train: the app shell comes from the service worker, the document's
    content from IndexedDB (y-indexeddb), and what is typed offline reaches the others later."""
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "路上编辑")
    context = new_context(service_workers="allow")
    alice = context.new_page()
    sign_in(alice, "alice@e2e.test", doc_path(server, document_id))
    alice.wait_for_function("async () => { const r = await navigator.serviceWorker.ready; return !!r.active; }")
    alice.reload()  # now controlled by the service worker, the shell cached
    alice.wait_for_function("() => navigator.serviceWorker.controller !== null")
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)
    type_at_end(alice, "出发前写的。")
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)

    context.set_offline(True)
    alice.reload()
    expect(editor(alice)).to_contain_text("出发前写的。", timeout=LIVE_TIMEOUT)  # from IndexedDB
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "offline")
    type_at_end(alice, "火车上写的。")
    alice.wait_for_timeout(300)  # y-indexeddb stores each update as it happens
    alice.reload()  # even a reload while offline keeps it
    expect(editor(alice)).to_contain_text("火车上写的。", timeout=LIVE_TIMEOUT)

    context.set_offline(False)
    expect(alice.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=20_000)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    expect(editor(bob)).to_contain_text("出发前写的。火车上写的。", timeout=LIVE_TIMEOUT)


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (240, 160), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_an_image_uploaded_into_a_document_shows_for_everyone(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "产品图片")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    type_at_end(alice, "新茶罐的样子：")
    alice.locator("[data-testid=doc-image-input]").set_input_files(
        files=[{"name": "茶罐.png", "mimeType": "image/png", "buffer": _png_bytes()}]
    )
    image = bob.locator(f"[data-testid=doc-editor] img[src^='/api/v1/documents/{document_id}/images/']")
    expect(image).to_be_visible(timeout=LIVE_TIMEOUT)
    bob.wait_for_function("img => img.complete && img.naturalWidth === 240", arg=image.element_handle())


def test_the_owner_lowers_access_and_an_open_editor_becomes_a_viewer(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "权限测试")
    _, alice = open_doc(new_context, server, "alice@e2e.test", document_id)
    _, bob = open_doc(new_context, server, "bob@e2e.test", document_id)
    type_at_end(bob, "Bob 先写一句。")
    expect(editor(alice)).to_contain_text("Bob 先写一句。", timeout=LIVE_TIMEOUT)

    alice.get_by_role("button", name="共享").click()
    share = alice.locator("[data-testid=doc-share]")
    share.get_by_role("combobox").first.select_option("view")
    # Bob's open editor is told at once and stops accepting edits.
    expect(bob.get_by_text("你可以查看此文档。")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(editor(bob)).to_have_attribute("contenteditable", "false")
    # Raised again: Bob's editor reconnects (close 4100) and is editable without a reload.
    share.get_by_role("combobox").first.select_option("edit")
    expect(bob.get_by_text("你可以查看此文档。")).to_be_hidden(timeout=LIVE_TIMEOUT)
    expect(editor(bob)).to_have_attribute("contenteditable", "true")
    type_at_end(bob, "Bob 又能写了。")
    expect(editor(alice)).to_contain_text("Bob 又能写了。", timeout=LIVE_TIMEOUT)
    share.get_by_role("combobox").first.select_option("view")
    expect(bob.get_by_text("你可以查看此文档。")).to_be_visible(timeout=LIVE_TIMEOUT)
    # Dave gets an explicit "can edit" grant and keeps editing.
    share.get_by_label("添加成员…").select_option(label="陈大伟")
    share.get_by_role("button", name="添加").click()
    expect(share.get_by_label("陈大伟")).to_have_value("edit")
    _, dave = open_doc(new_context, server, "dave@e2e.test", document_id)
    type_at_end(dave, "Dave 还能编辑。")
    expect(editor(alice)).to_contain_text("Dave 还能编辑。", timeout=LIVE_TIMEOUT)
    # Export is a plain download link of the server's sanitised rendering.
    href = alice.get_by_role("link", name="Markdown").get_attribute("href")
    deadline = time.monotonic() + 10  # the room persists within its 200 ms flush interval
    exported = ""
    while time.monotonic() < deadline and "Dave 还能编辑。" not in exported:
        exported = alice.evaluate("url => fetch(url).then(r => r.text())", href)
    assert "Bob 先写一句。" in exported and "Dave 还能编辑。" in exported


def test_a_document_on_a_phone_fits_the_screen(new_context: Any, server: Server) -> None:
    setup = new_context().new_page()
    sign_in(setup, "alice@e2e.test")
    document_id = create_doc(setup, server, "手机上的文档标题比较长一些")
    context = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, "bob@e2e.test", doc_path(server, document_id))
    expect(editor(page)).to_be_visible()
    type_at_end(page, "在手机上写的一段比较长的文字，看看会不会超出屏幕的宽度。")
    expect(page.locator("[data-testid=doc-status]")).to_have_attribute("data-status", "saved", timeout=LIVE_TIMEOUT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "docs-phone-zh")
