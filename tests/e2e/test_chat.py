"""Real-browser tests of the core chat flow: two people in two browser contexts, a socket cut
off mid-conversation, the sender offline, long history, and the phone layout.

Each test works in its own seeded conversation (see seed.py) on one shared server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, screenshot, sign_in

pytestmark = pytest.mark.browser

# Loopback delivery takes milliseconds; the margin is for a loaded 2-core CI machine (SQLite
# writes queue behind the search indexer's).
DELIVERY_TIMEOUT = 10_000


def conv_path(server: Server, key: str) -> str:
    return f"/app/w/{server.ids['workspace']}/c/{server.ids[key]}/"


def open_as(new_context: Any, server: Server, email: str, key: str | None, **options: Any) -> Any:
    context = new_context(**options)
    page = context.new_page()
    sign_in(page, email, conv_path(server, key) if key else "/")
    if key:
        expect(page.locator("[data-testid=timeline]")).to_be_visible()
        page.wait_for_function(
            "id => window.__hub.state.convs[id] && window.__hub.state.convs[id].historyLoaded", arg=server.ids[key]
        )
    return page


def send(page: Any, text: str) -> None:
    box = page.locator("form.composer textarea")
    box.fill(text)
    box.press("Enter")


def bodies(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("[data-testid=message] .body").all_inner_texts()]


def state_of(page: Any, conversation_id: int) -> dict[str, Any]:
    return page.evaluate(
        """id => {
            const c = window.__hub.state.convs[id];
            return {applied: c.appliedSeq, ids: c.messages.map(m => m.id), seqs: c.messages.map(m => m.seq),
                    pending: c.pending.map(p => p.state)};
        }""",
        conversation_id,
    )


def test_two_people_chat_in_real_time(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "chat", locale="zh-CN")
    bob = open_as(new_context, server, "bob@e2e.test", "chat", locale="en-US")

    hello = "你好 Bob，今天的龙井到货了吗？"
    send(alice, hello)
    # The sender's local echo is replaced by the stored message (ack), never shown twice.
    expect(alice.locator("[data-testid=message]", has_text=hello)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(alice.locator("[data-testid=pending-message]")).to_have_count(0)
    expect(bob.locator("[data-testid=message]", has_text=hello)).to_have_count(1, timeout=DELIVERY_TIMEOUT)

    reply = "Yes — 30 boxes arrived this morning."
    send(bob, reply)
    expect(alice.locator("[data-testid=message]", has_text=reply)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(bob.locator("[data-testid=message]", has_text=reply)).to_have_count(1)
    assert bodies(alice) == bodies(bob) == [hello, reply]

    # Typing shows on the other side (in its language) and goes away when the message lands.
    # (Typing is relayed at most every 3 s per person; the fill() above already counted.)
    alice.wait_for_timeout(3200)
    alice.locator("form.composer textarea").press_sequentially("马上")
    expect(bob.get_by_test_id("typing")).to_have_text("王小明 is typing…", timeout=DELIVERY_TIMEOUT)
    expect(alice.get_by_test_id("typing")).to_have_text("")
    alice.locator("form.composer textarea").press("Enter")
    expect(bob.locator("[data-testid=message]", has_text="马上")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(bob.get_by_test_id("typing")).to_have_text("")
    # (Alice's own copy arrives by her ack or her message.new, maybe after Bob's.)
    expect(alice.locator("[data-testid=message]", has_text="马上")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    # Both clients agree with the log: one copy each, in seq order, cursor at the end.
    a, b = state_of(alice, server.ids["chat"]), state_of(bob, server.ids["chat"])
    assert a["ids"] == b["ids"] and len(set(a["ids"])) == 3
    assert a["seqs"] == sorted(a["seqs"]) and a["applied"] == b["applied"] == a["seqs"][-1]

    # The interface follows the browser language.
    expect(alice.get_by_role("link", name="退出登录")).to_be_visible()
    expect(bob.get_by_role("link", name="Sign out")).to_be_visible()
    screenshot(alice, "desktop-zh-conversation")
    screenshot(bob, "desktop-en-conversation")


def test_message_sent_while_receiver_is_cut_off_arrives_once_after_reconnect(new_context: Any, server: Server) -> None:
    conversation = server.ids["offline"]
    alice = open_as(new_context, server, "alice@e2e.test", "offline")
    bob = open_as(new_context, server, "bob@e2e.test", "offline", locale="en-US")
    send(alice, "断线前的消息")
    expect(bob.locator("[data-testid=message]", has_text="断线前的消息")).to_have_count(1, timeout=DELIVERY_TIMEOUT)

    # Bob's phone walks out of Wi-Fi: no network, and the open socket dies with it.
    bob.context.set_offline(True)
    bob.evaluate("window.__hub.socket.drop()")
    expect(bob.get_by_test_id("offline-banner")).to_be_visible()
    missed = [f"离线时发送的第 {n} 条" for n in (1, 2, 3)]
    for text in missed:
        send(alice, text)
        expect(alice.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    bob.wait_for_timeout(1500)  # long enough for any leak through the "cut" socket to show
    assert not any(text in body for body in bodies(bob) for text in missed), "the socket was not really cut"
    assert bob.evaluate("window.__hub.state.socket") != "open"

    bob.context.set_offline(False)
    for text in missed:
        expect(bob.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(bob.get_by_test_id("offline-banner")).to_be_hidden()
    assert bodies(bob) == bodies(alice) == ["断线前的消息", *missed]
    state = state_of(bob, conversation)
    assert len(state["ids"]) == len(set(state["ids"])) == 4
    assert state["seqs"] == sorted(state["seqs"]) and state["applied"] == state["seqs"][-1]

    # The socket is live again: the next message streams in, still exactly once.
    send(alice, "恢复后的消息")
    expect(bob.locator("[data-testid=message]", has_text="恢复后的消息")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    bob.wait_for_timeout(500)
    assert bodies(bob).count("恢复后的消息") == 1 and len(bodies(bob)) == 5


def test_a_frame_lost_on_the_way_is_refetched_from_the_log(new_context: Any, server: Server) -> None:
    """The socket itself loses one message.new (a proxy in between drops it): the next event
    shows the gap, and the client fills it from /events — both messages, once, in order."""
    dropped: list[str] = []

    def lossy(ws: Any) -> None:
        upstream = ws.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            if isinstance(frame, str) and '"message.new"' in frame and "会丢失的消息" in frame and not dropped:
                dropped.append(frame)
                return
            ws.send(frame)

        upstream.on_message(from_server)
        ws.on_message(lambda frame: upstream.send(frame))

    bob = new_context(locale="en-US").new_page()
    bob.route_web_socket(re.compile(r"/ws/$"), lossy)
    sign_in(bob, "bob@e2e.test", conv_path(server, "gap"))
    bob.wait_for_function("id => window.__hub.state.convs[id]?.historyLoaded", arg=server.ids["gap"])
    alice = open_as(new_context, server, "alice@e2e.test", "gap")

    send(alice, "会丢失的消息")
    expect(alice.locator("[data-testid=message]", has_text="会丢失的消息")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    bob.wait_for_timeout(1000)
    assert dropped and "会丢失的消息" not in bodies(bob)
    send(alice, "下一条消息")
    expect(bob.locator("[data-testid=message]", has_text="下一条消息")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(bob.locator("[data-testid=message]", has_text="会丢失的消息")).to_have_count(1)
    assert bodies(bob) == ["会丢失的消息", "下一条消息"]
    state = state_of(bob, server.ids["gap"])
    assert len(set(state["ids"])) == 2 and state["applied"] == state["seqs"][-1]


def test_message_written_offline_is_sent_once_when_back(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "sender_offline")
    bob = open_as(new_context, server, "bob@e2e.test", "sender_offline", locale="en-US")
    alice.context.set_offline(True)
    alice.evaluate("window.__hub.socket.drop()")
    expect(alice.get_by_test_id("offline-banner")).to_contain_text("网络已断开")
    text = "在电梯里写的消息"
    send(alice, text)
    pending = alice.locator("[data-testid=pending-message]", has_text=text)
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("发送中")
    screenshot(alice, "desktop-zh-offline-pending")
    bob.wait_for_timeout(1000)
    assert text not in bodies(bob)

    alice.context.set_offline(False)
    expect(alice.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(alice.locator("[data-testid=pending-message]")).to_have_count(0)
    expect(bob.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    # A retried send reuses the client_id, so even a second transmission stores one message.
    client_id = alice.locator("[data-testid=message]", has_text=text).get_attribute("data-client-id")
    alice.evaluate(
        """([cid, conv, body]) =>
            window.__hub.socket.send({type: "message.send", conversation_id: conv, client_id: cid, body})""",
        [client_id, server.ids["sender_offline"], text],
    )
    bob.wait_for_timeout(1000)
    assert bodies(bob).count(text) == 1 and bodies(alice).count(text) == 1


def test_a_refused_send_shows_failed_with_retry_and_discard(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "sender_offline", locale="en-US")
    too_long = "长" * 10_001  # over HUB_MESSAGE_MAX_CHARS: the server answers with an error frame
    send(alice, too_long)
    failed = alice.locator("[data-testid=pending-message].failed")
    expect(failed).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(failed).to_contain_text("Not sent.")
    failed.get_by_role("button", name="Retry").click()
    expect(alice.locator("[data-testid=pending-message].failed")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    alice.locator("[data-testid=pending-message]").get_by_role("button", name="Discard").click()
    expect(alice.locator("[data-testid=pending-message]")).to_have_count(0)


def test_unread_badge_then_mark_read(new_context: Any, server: Server) -> None:
    bob = open_as(new_context, server, "bob@e2e.test", "chat", locale="en-US")
    alice = open_as(new_context, server, "alice@e2e.test", "unread")
    badge = bob.locator(f"[data-conversation-id='{server.ids['unread']}'] [data-testid=unread-badge]")
    expect(badge).to_have_count(0)
    send(alice, "有空看一下这个")
    send(alice, "还有这个")
    expect(badge).to_have_text("2", timeout=DELIVERY_TIMEOUT)
    bob.locator(f"[data-conversation-id='{server.ids['unread']}']").click()
    expect(bob.locator("[data-testid=message]", has_text="还有这个")).to_have_count(1)
    expect(badge).to_have_count(0)
    # Read state is stored on the server: a fresh load shows no badge either.
    bob.wait_for_timeout(800)
    bob.goto(conv_path(server, "chat"))
    bob.wait_for_function("() => window.__hub && window.__hub.state.listStatus === 'ready'")
    expect(bob.locator(f"[data-conversation-id='{server.ids['unread']}']")).to_be_visible()
    expect(badge).to_have_count(0)


# What the virtualised timeline has in the DOM right now: message texts by seq, day separators,
# and the seqs of rows that start a group.
VISIBLE_ROWS = """() => {
    const rows = [...document.querySelectorAll('[data-testid=timeline] li')];
    return {
        bodies: rows.filter((r) => r.dataset.seq)
            .map((r) => [Number(r.dataset.seq), r.querySelector('.body')?.innerText.trim() ?? '']),
        days: rows.filter((r) => r.classList.contains('day')).map((r) => r.innerText.trim()),
        firsts: rows.filter((r) => r.dataset.seq && r.classList.contains('first')).map((r) => Number(r.dataset.seq)),
    };
}"""


def test_history_scrolls_back_with_day_separators_and_groups(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "bob@e2e.test", "history", locale="en-US")
    timeline = page.get_by_test_id("timeline")
    # The newest message is in view (scrolled to the bottom); the timeline is virtualised, so
    # only the rows near the viewport are in the DOM.
    expect(page.locator("[data-testid=message]", has_text="history message 150").last).to_be_in_viewport()
    assert page.locator("[data-testid=message]").count() < 50
    bodies: dict[int, str] = {}
    days: list[str] = []
    firsts: set[int] = set()
    for _ in range(80):
        seen = page.evaluate(VISIBLE_ROWS)
        bodies.update({seq: text for seq, text in seen["bodies"]})
        days.extend(d for d in seen["days"] if d not in days)
        firsts.update(seen["firsts"])
        if page.get_by_text("This is the start of the conversation.").count() and any(
            text.startswith("历史消息 1 —") for text in bodies.values()
        ):
            break
        timeline.evaluate("el => { el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight * 0.7); }")
        page.wait_for_timeout(120)
    expect(page.get_by_text("This is the start of the conversation.")).to_be_visible()
    assert len(state_of(page, server.ids["history"])["ids"]) == 150
    # Scrolling back through every page showed every message once, in order (by seq).
    texts = [bodies[seq] for seq in sorted(bodies)]
    assert texts == [f"历史消息 {i} — history message {i}" + (" 碧螺春样品" if i == 7 else "") for i in range(1, 151)]
    # About 58 hours of history: three or four calendar days in Asia/Shanghai, ending today
    # (seen newest first while scrolling up).
    assert 3 <= len(days) <= 4 and days[0] == "Today" and "Yesterday" in days
    # Runs of three by one sender a minute apart share one header; 50 runs → 50 headers
    # (a run crossing midnight would add one).
    assert 50 <= len(firsts) <= 53
    screenshot(page, "desktop-en-history")


def test_consecutive_messages_are_grouped(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "alice@e2e.test", "grouping")
    for text in ("第一条", "第二条", "第三条"):
        send(page, text)
        expect(page.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    rows = page.locator("li.msg")
    firsts = ["first" in (rows.nth(i).get_attribute("class") or "") for i in range(rows.count())]
    assert firsts == [True, False, False]  # one header (avatar, name, time) for the run
    expect(page.locator("li.msg.first .sender", has_text="王小明")).to_have_count(1)


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_phone_layout_at_360px(new_context: Any, server: Server, lang: str) -> None:
    page = open_as(
        new_context,
        server,
        "bob@e2e.test",
        None,
        locale=lang,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    suffix = "zh" if lang == "zh-CN" else "en"
    sidebar = page.locator("nav.sidebar")
    expect(sidebar).to_be_visible()
    expect(page.locator("main.main")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = sidebar.bounding_box()
    assert box is not None and box["width"] == pytest.approx(360, abs=1)
    screenshot(page, f"phone-{suffix}-list")

    page.locator(f"[data-conversation-id='{server.ids['phone']}']").tap()
    conversation = page.locator("section.conversation")
    expect(conversation).to_be_visible()
    expect(sidebar).to_be_hidden()
    back = page.locator("button.back")
    expect(back).to_be_visible()
    back_box = back.bounding_box()
    assert back_box is not None and back_box["width"] >= 44 and back_box["height"] >= 44  # touch target
    text = "手机上发的消息" if suffix == "zh" else "sent from a phone"
    send(page, text)
    expect(page.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    send_box = page.locator("form.composer button[type=submit]").bounding_box()
    assert send_box is not None and send_box["x"] + send_box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, f"phone-{suffix}-conversation")

    back.tap()
    expect(sidebar).to_be_visible()
    expect(conversation).to_be_hidden()


def test_workspace_switcher(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "alice@e2e.test", "chat")
    switcher = page.get_by_label("切换工作区")
    expect(switcher.locator("option")).to_have_text(["杭州西湖茶业", "上海分公司"])
    expect(page.locator("nav.sidebar")).to_contain_text("销售部")
    switcher.select_option(label="上海分公司")
    expect(page).to_have_url(re.compile(rf"/app/w/{server.ids['branch']}/$"))
    expect(page.locator("nav.sidebar")).to_contain_text("上海总群")
    expect(page.locator("nav.sidebar")).not_to_contain_text("销售部")
    page.locator(f"[data-conversation-id='{server.ids['branch_channel']}']").click()
    send(page, "分公司的消息")
    expect(page.locator("[data-testid=message]", has_text="分公司的消息")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    # The last workspace is remembered for the next visit to /.
    page.goto("/")
    expect(page).to_have_url(re.compile(rf"/app/w/{server.ids['branch']}/$"))
    expect(page.locator("nav.sidebar")).to_contain_text("上海总群")
    # Back and forth keeps each workspace's conversations (browser history works too).
    page.go_back()
    expect(page.locator("[data-testid=message]", has_text="分公司的消息")).to_have_count(1)


def test_browse_join_and_create_channels(new_context: Any, server: Server) -> None:
    bob = open_as(new_context, server, "bob@e2e.test", None, locale="en-US")
    browse = server.ids["browse"]
    bob.get_by_text("Other channels (1)").click()
    other = bob.locator(f"li.other[data-conversation-id='{browse}']")
    expect(other).to_contain_text("茶话会")
    other.get_by_role("button", name="Join").click()
    expect(bob).to_have_url(re.compile(rf"/c/{browse}/$"))
    expect(bob.locator("section.conversation h1")).to_have_text("# 茶话会")
    expect(bob.locator(f"a[data-conversation-id='{browse}']")).to_be_visible()
    alice = open_as(new_context, server, "alice@e2e.test", "browse")
    send(alice, "欢迎加入茶话会")
    expect(bob.locator("[data-testid=message]", has_text="欢迎加入茶话会")).to_have_count(1, timeout=DELIVERY_TIMEOUT)

    bob.get_by_role("button", name="New channel").click()
    bob.get_by_label("Channel name").fill("新品讨论")
    bob.get_by_role("button", name="Create").click()
    expect(bob.locator("section.conversation h1")).to_have_text("# 新品讨论")
    send(bob, "first message in a new channel")
    expect(bob.locator("[data-testid=message]", has_text="first message in a new channel")).to_have_count(
        1, timeout=DELIVERY_TIMEOUT
    )


NOTIFICATION_SPY = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({title, body: options && options.body}); }
  close() {}
};
"""


def test_mentions_and_direct_messages_badge_and_notify(new_context: Any, server: Server) -> None:
    context = new_context(locale="en-US")
    context.add_init_script(NOTIFICATION_SPY)
    bob = context.new_page()
    sign_in(bob, "bob@e2e.test", conv_path(server, "chat"))
    bob.wait_for_function("() => window.__hub.state.listStatus === 'ready'")
    dm = bob.locator(f"a[data-conversation-id='{server.ids['dm']}']")
    expect(dm).to_contain_text("王小明")  # an unnamed DM is labelled with the other person
    alice = open_as(new_context, server, "alice@e2e.test", "mention")

    send(alice, "@bob 请确认一下报价单")
    mention = bob.locator(f"a[data-conversation-id='{server.ids['mention']}'] .badge.mention")
    expect(mention).to_have_text("@1", timeout=DELIVERY_TIMEOUT)
    send(alice, "没有提及的消息")
    expect(bob.locator(f"a[data-conversation-id='{server.ids['mention']}'] [data-testid=unread-badge]")).to_have_text(
        "2", timeout=DELIVERY_TIMEOUT
    )
    alice.goto(conv_path(server, "dm"))
    alice.wait_for_function("() => window.__hub.state.socket === 'open'")
    send(alice, "私信：明天见")
    expect(dm.locator("[data-testid=unread-badge]")).to_have_text("1", timeout=DELIVERY_TIMEOUT)
    notes = bob.evaluate("window.__notifications")
    assert [n["body"] for n in notes] == ["@bob 请确认一下报价单", "私信：明天见"]
    assert notes[0]["title"] == "王小明 · 提及" and notes[1]["title"] == "王小明"
    # Opening the conversation clears both badges.
    bob.locator(f"a[data-conversation-id='{server.ids['mention']}']").click()
    expect(mention).to_have_count(0)


def test_guest_sees_only_the_shared_channel(new_context: Any, server: Server) -> None:
    carol = open_as(new_context, server, "carol@customer.test", None)
    items = carol.locator("nav.sidebar a.conv")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("客户对接")
    expect(items.first.locator(".tag")).to_have_text("外部")
    expect(carol.get_by_role("button", name="新建频道")).to_have_count(0)
    expect(carol.locator(".other-channels")).to_have_count(0)
    items.first.click()
    alice = open_as(new_context, server, "alice@e2e.test", "shared")
    send(carol, "您好，我们想订 50 盒龙井")
    expect(alice.locator("[data-testid=message]", has_text="50 盒龙井")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    # A conversation of the workspace she may not read: the app stays on the list, the API says 404.
    carol.goto(conv_path(server, "chat"))
    carol.wait_for_function("() => window.__hub.state.listStatus === 'ready'")
    expect(carol.locator("section.conversation")).to_have_count(0)
    status = carol.evaluate(f"fetch('/api/v1/conversations/{server.ids['chat']}/messages').then(r => r.status)")
    assert status == 404
    screenshot(carol, "desktop-zh-guest")


def test_enter_during_chinese_ime_composition_does_not_send(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "alice@e2e.test", "grouping")
    before = len(bodies(page))
    box = page.locator("form.composer textarea")
    box.focus()
    cdp = page.context.new_cdp_session(page)
    # Pinyin being composed: Enter picks the candidate, it must not send the message.
    cdp.send("Input.imeSetComposition", {"text": "zhong'wen", "selectionStart": 9, "selectionEnd": 9})
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert len(bodies(page)) == before and page.locator("[data-testid=pending-message]").count() == 0
    cdp.send("Input.insertText", {"text": "中文输入法"})  # the composition is committed
    # (The emulated Enter may leave a line break that a real IME would have swallowed.)
    expect(box).to_have_value(re.compile(r"^中文输入法\s*$"))
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=message]", has_text="中文输入法")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(box).to_have_value("")


def search_until_found(page: Any, query: str) -> Any:
    """Submit the search box until the result shows (the index catches up right after commit)."""
    box = page.get_by_role("searchbox")
    for _ in range(20):
        box.fill(query)
        box.press("Enter")
        results = page.get_by_test_id("search-result")
        page.wait_for_function("() => window.__hub.state.search && window.__hub.state.search.status !== 'loading'")
        if results.count():
            return results
        page.wait_for_timeout(500)
    raise AssertionError(f"no search result for {query!r}")


def test_chinese_message_from_the_composer_is_found_by_search(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "alice@e2e.test", "search")
    text = "今年的西湖龙井明前茶价格上涨了百分之十"
    send(page, text)
    expect(page.locator("[data-testid=message]", has_text=text)).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    results = search_until_found(page, "明前茶")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_contain_text("明前")
    expect(results.first).to_contain_text("# 搜索")
    screenshot(page, "desktop-zh-search")
    results.first.click()
    expect(page.locator("section.conversation h1")).to_have_text("# 搜索")
    expect(page.locator("[data-testid=message]", has_text=text)).to_be_in_viewport()


def test_jump_from_search_to_an_old_message(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "bob@e2e.test", "chat", locale="en-US")
    results = search_until_found(page, "碧螺春样品")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("历史记录")
    results.first.click()
    # Message 7 of 150 is three pages back: the app pages back until it is loaded.
    target = page.locator("[data-testid=message]", has_text="碧螺春样品")
    expect(target).to_be_in_viewport(timeout=DELIVERY_TIMEOUT)
    expect(target).to_have_class(re.compile(r"highlight"))
    # Three pages back is paged to (not a detached window): the timeline stays one piece.
    state = state_of(page, server.ids["history"])
    assert len(state["ids"]) >= 144 and state["seqs"] == sorted(state["seqs"])


def test_react_edit_and_delete_show_up_everywhere(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "actions")
    bob = open_as(new_context, server, "bob@e2e.test", "actions", locale="en-US")
    send(alice, "原始消息：报价 120 元")
    on_bob = bob.locator("[data-testid=message]", has_text="报价")
    expect(on_bob).to_have_count(1, timeout=DELIVERY_TIMEOUT)

    on_bob.hover()
    on_bob.get_by_role("button", name="Message actions").click()
    expect(on_bob.get_by_role("menuitem", name="Edit")).to_have_count(0)  # not his message
    on_bob.get_by_role("menuitem", name="React with 👍").click()
    on_alice = alice.locator("[data-testid=message]", has_text="报价")
    expect(on_alice.locator(".reaction")).to_have_text("👍 1", timeout=DELIVERY_TIMEOUT)
    on_alice.locator(".reaction").click()  # Alice adds hers by clicking the chip
    expect(on_bob.locator(".reaction")).to_have_text("👍 2", timeout=DELIVERY_TIMEOUT)
    expect(on_bob.locator(".reaction.mine")).to_have_count(1)

    on_alice.hover()
    on_alice.get_by_role("button", name="消息操作").click()
    on_alice.get_by_role("menuitem", name="编辑").click()
    alice.get_by_label("编辑").fill("修改后：报价 110 元")
    alice.get_by_label("编辑").press("Enter")
    expect(on_bob.locator(".body")).to_have_text("修改后：报价 110 元", timeout=DELIVERY_TIMEOUT)
    expect(on_bob.locator(".edited")).to_have_text("(edited)")
    expect(on_bob.locator(".reaction")).to_have_text("👍 2")  # the edit keeps the reactions

    alice.once("dialog", lambda dialog: dialog.accept())
    on_alice.hover()
    on_alice.get_by_role("button", name="消息操作").click()
    on_alice.get_by_role("menuitem", name="删除").click()
    deleted = bob.locator("[data-testid=message] .body.deleted")
    expect(deleted).to_have_text("This message was deleted.", timeout=DELIVERY_TIMEOUT)
    assert len(bodies(bob)) == 1 and len(bodies(alice)) == 1


def test_start_a_group_and_reopen_a_direct_message(new_context: Any, server: Server) -> None:
    bob = open_as(new_context, server, "bob@e2e.test", None, locale="en-US")
    bob.get_by_role("button", name="New direct message or group").click()
    dialog = bob.get_by_role("form", name="New direct message or group")
    dialog.get_by_label("Find people").fill("陈")
    expect(dialog.locator(".people li")).to_have_count(1)
    dialog.get_by_label("陈大伟").check()
    dialog.get_by_label("Find people").fill("")
    dialog.get_by_label("王小明").check()
    dialog.get_by_label("Group name (optional)").fill("三人小组")
    dialog.get_by_role("button", name="Start").click()
    expect(bob.locator("section.conversation h1")).to_have_text("三人小组")
    send(bob, "新建的群聊")
    expect(bob.locator("[data-testid=message]", has_text="新建的群聊")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    # (What the other members see live: test_a_new_group_appears_live_for_its_members.)

    # One person: the existing direct message opens instead of a new one.
    bob.get_by_role("button", name="New direct message or group").click()
    bob.get_by_role("form", name="New direct message or group").get_by_label("王小明").check()
    bob.get_by_role("button", name="Start").click()
    expect(bob).to_have_url(re.compile(rf"/c/{server.ids['dm']}/$"))


def test_a_new_group_appears_live_for_its_members(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "chat")
    bob = open_as(new_context, server, "bob@e2e.test", None, locale="en-US")
    bob.get_by_role("button", name="New direct message or group").click()
    dialog = bob.get_by_role("form", name="New direct message or group")
    dialog.get_by_label("陈大伟").check()
    dialog.get_by_label("王小明").check()
    dialog.get_by_label("Group name (optional)").fill("实时小组")
    dialog.get_by_role("button", name="Start").click()
    expect(bob.locator("section.conversation h1")).to_have_text("实时小组")
    send(bob, "群里第一条")
    group = alice.locator("nav.sidebar a.conv", has_text="实时小组")
    expect(group).to_be_visible(timeout=DELIVERY_TIMEOUT)
    expect(group.locator("[data-testid=unread-badge]")).to_have_text("1", timeout=DELIVERY_TIMEOUT)


def test_read_by_n_of_m_updates_live(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "receipts", locale="en-US")
    send(alice, "请大家确认收到")
    receipt = alice.get_by_test_id("receipt")
    expect(receipt).to_have_text("Read by 0 of 2", timeout=DELIVERY_TIMEOUT)
    bob = open_as(new_context, server, "bob@e2e.test", "receipts", locale="en-US")
    expect(bob.locator("[data-testid=message]", has_text="请大家确认收到")).to_have_count(1)
    # Bob's client marks it read; Alice's line follows through the read.updated frame.
    expect(receipt).to_have_text("Read by 1 of 2", timeout=DELIVERY_TIMEOUT)
    receipt.get_by_role("button").click()
    expect(alice.get_by_test_id("read-list")).to_have_text("Bob Li")
    expect(alice.get_by_test_id("unread-list")).to_have_text("陈大伟")
    expect(bob.get_by_test_id("receipt")).to_have_count(0)  # receipts show under your own messages


def test_presence_dot_on_a_direct_message(new_context: Any, server: Server) -> None:
    bob = open_as(new_context, server, "bob@e2e.test", None, locale="en-US")
    dot = bob.locator(f"a[data-conversation-id='{server.ids['dm']}'] [data-testid=presence]")
    expect(dot).to_be_visible()
    alice_context = new_context()
    alice = alice_context.new_page()
    sign_in(alice, "alice@e2e.test", "/")
    try:
        expect(dot).to_have_attribute("data-status", "online", timeout=DELIVERY_TIMEOUT)
    except AssertionError:
        state = bob.evaluate(
            "([a, dm]) => ({presence: window.__hub.state.presence[a], ids: window.__hub.state.peopleIds[dm]})",
            [server.ids["alice"], server.ids["dm"]],
        )
        raise AssertionError(f"Alice not shown online: {state}") from None
    expect(dot).to_have_attribute("aria-label", "Online")
    alice_context.close()  # her only device goes away
    try:
        expect(dot).to_have_attribute("data-status", "offline", timeout=20_000)
    except AssertionError:
        seen = bob.evaluate("id => window.__hub.state.presence[id]", server.ids["alice"])
        raise AssertionError(f"Alice still shown as {seen!r} 20 s after her only device closed") from None


def test_mention_autocomplete_in_the_composer(new_context: Any, server: Server) -> None:
    alice = open_as(new_context, server, "alice@e2e.test", "receipts")
    box = alice.locator("form.composer textarea")
    box.press_sequentially("请 @陈")
    options = alice.locator("form.composer").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("陈大伟")
    box.press("Enter")  # picks the person, does not send
    expect(box).to_have_value("请 @陈大伟 ")
    box.press_sequentially("和 @bo")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Bob Li")
    box.press("Tab")
    expect(box).to_have_value("请 @陈大伟 和 @bob ")
    box.press_sequentially("看一下")
    box.press("Enter")
    sent = alice.locator("[data-testid=message]", has_text="看一下")
    try:
        expect(sent).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    except AssertionError:
        state = alice.evaluate(
            "id => ({pending: window.__hub.state.convs[id].pending, socket: window.__hub.state.socket,"
            " value: document.querySelector('form.composer textarea').value})",
            server.ids["receipts"],
        )
        raise AssertionError(f"not stored: {state}; shown: {bodies(alice)[-2:]}") from None
    mentions = alice.evaluate("id => window.__hub.state.convs[id].messages.at(-1).mentions", server.ids["receipts"])
    assert sorted(mentions) == sorted([server.ids["bob"], server.ids["dave"]])


def test_language_switch_is_remembered(new_context: Any, server: Server) -> None:
    page = open_as(new_context, server, "alice@e2e.test", "chat", locale="zh-CN")
    expect(page.locator("form.composer textarea")).to_have_attribute("placeholder", "发消息给 # 销售部")
    page.get_by_label("语言").select_option("en")
    expect(page.locator("form.composer textarea")).to_have_attribute("placeholder", "Message # 销售部")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    page.wait_for_function("() => window.__hub && window.__hub.state.listStatus === 'ready'")
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    page.get_by_label("Language").select_option("zh-CN")
    expect(page.get_by_role("link", name="退出登录")).to_be_visible()


def test_shell_starts_offline_from_the_service_worker(new_context: Any, server: Server) -> None:
    context = new_context(service_workers="allow")
    page = context.new_page()
    sign_in(page, "alice@e2e.test", conv_path(server, "chat"))
    page.wait_for_function("async () => { const r = await navigator.serviceWorker.ready; return !!r.active; }")
    # One more online load so the page is controlled and its shell cached.
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("() => window.__hub && window.__hub.state.socket === 'open'")
    context.set_offline(True)
    page.reload()
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    screenshot(page, "desktop-zh-offline-start")
    context.set_offline(False)
    page.wait_for_function("() => window.__hub.state.socket === 'open'", timeout=20_000)
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()
