"""The records area in a real browser: search customers in Chinese, open one, see its card and
the timeline of conversations about it, log a message to the ERP, open its room; a product's
stock and prices; a partner company's guest sees only its own company and no staff actions;
everything usable at 360 px."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, _server_env, sign_in
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, post

pytestmark = pytest.mark.browser

# ERP-lite's demo data in Alice's second workspace (上海分公司), so that this module shares no
# ERP state with test_erp_cards.py. The demo's customer C001 (上海悦茗) belongs to a partner
# company whose contact Erin is a guest; C002 is another company's.
SEED = """
import json
from crm_bridge.erplite.demo import add_demo_data
from hub import actions as hub_actions
from hub.demo import DemoData
from hub.models import Member, User, Workspace
from tests.e2e.conftest import PASSWORD

ws = Workspace.objects.get(pk={workspace})
alice = User.objects.get(email="alice@e2e.test")
bob = User.objects.get(email="bob@e2e.test")
owner = Member.objects.get(workspace=ws, user=alice)
Member.objects.get_or_create(workspace=ws, user=bob, defaults={{"role": Member.Role.MEMBER}})
partner = hub_actions.do_create_partner(owner, "上海悦茗", "customer")
erin = User.objects.create_user(email="erin@yueming.test", password=PASSWORD, display_name="孙悦")
Member.objects.create(workspace=ws, user=erin, role=Member.Role.GUEST, partner=partner)
users = {{"sales": alice, "purchasing": bob, "finance": bob, "owner": alice, "warehouse": bob}}
add_demo_data(DemoData(workspace=ws, created=True, users=users, partners={{"customer": partner}}))
print("RECORDS " + json.dumps({{"workspace": ws.pk}}))
"""


@pytest.fixture(scope="module")
def branch(server: Server) -> int:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED.format(workspace=server.ids["branch"])],
        cwd=ROOT,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RECORDS "))
    return int(json.loads(line[8:])["workspace"])


def records_page(new_context: Any, email: str, workspace: int, **options: Any) -> Any:
    page = new_context(**options).new_page()
    sign_in(page, email, f"/app/w/{workspace}/")
    page.get_by_test_id("records-link").click()
    expect(page.get_by_role("heading", name="业务记录")).to_be_visible()
    return page


def test_search_a_customer_open_its_room_and_log_the_talk(new_context: Any, branch: int) -> None:
    page = records_page(new_context, "alice@e2e.test", branch)
    results = page.get_by_test_id("record-results")
    page.get_by_role("searchbox", name="搜索记录").fill("悦茗")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(results.get_by_role("link")).to_have_count(1)
    results.get_by_role("link", name="上海悦茗").click()
    expect(page.get_by_test_id("record-card")).to_contain_text("C001")
    expect(page.get_by_test_id("record-timeline")).to_contain_text("还没有关于这条记录的会话")

    # "Open a room" creates the customer's room and goes there; talk in it.
    page.get_by_role("button", name="为这条记录建群").click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    room = page.evaluate("() => window.__hub.state.activeId")
    post(page, room, "悦茗下周要 200 盒龙井")

    # Back on the record, the message is in its timeline; choose it and log it to the ERP.
    page.go_back()
    entry = page.get_by_test_id("timeline-entry").filter(has_text="200 盒龙井")
    expect(entry).to_be_visible(timeout=DELIVERY_TIMEOUT)
    expect(entry).to_contain_text("在专属群里")
    log = page.get_by_test_id("log-to-erp")
    expect(log).to_be_disabled()
    entry.get_by_role("checkbox", name="选择这条消息记入 ERP").check()
    expect(log).to_have_text("将 1 条记入 ERP")
    log.click()
    expect(page.get_by_role("status").filter(has_text="已将 1 条消息记入 ERP")).to_be_visible()
    expect(log).to_be_disabled()


def test_product_shows_stock_and_prices_in_english(new_context: Any, branch: int) -> None:
    page = new_context(locale="en-US").new_page()
    sign_in(page, "alice@e2e.test", f"/app/w/{branch}/r/product/")
    expect(page.get_by_role("link", name="Product")).to_have_attribute("aria-current", "page")
    page.get_by_test_id("record-results").get_by_role("link").filter(has_text="TEA-500G").click()
    expect(page.get_by_test_id("record-card")).to_contain_text("Product")
    details = page.get_by_test_id("record-details")
    expect(details).to_be_visible()
    # Products have no conversation timeline; the room button is there for staff.
    expect(page.get_by_test_id("record-timeline")).to_have_count(0)
    expect(page.get_by_role("button", name="Open a room for this record")).to_be_visible()


def test_guest_sees_only_their_company_and_no_staff_actions(new_context: Any, branch: int) -> None:
    page = records_page(new_context, "erin@yueming.test", branch, viewport={"width": 360, "height": 740})
    results = page.get_by_test_id("record-results")
    expect(results.get_by_role("link").first).to_be_visible()
    expect(results).to_contain_text("上海悦茗")
    expect(results).not_to_contain_text("杭州湖畔茶馆")

    # Touch targets at 360 px: type tabs, the search button, result rows.
    for target in (
        page.get_by_test_id("record-type-invoice"),
        page.get_by_role("button", name="搜索", exact=True),
        results.get_by_role("link").first,
    ):
        box = target.bounding_box()
        assert box is not None and box["height"] >= 40, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    results.get_by_role("link").first.click()
    expect(page.get_by_test_id("record-card")).to_contain_text("C001")
    expect(page.get_by_test_id("record-timeline")).to_be_visible()
    expect(page.get_by_role("button", name="为这条记录建群")).to_have_count(0)
    expect(page.get_by_test_id("log-to-erp")).to_have_count(0)

    # Keyboard: from the type tabs to invoices with Tab and Enter.
    page.goto(f"/app/w/{branch}/r/")
    page.get_by_test_id("record-type-supplier").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("record-type-product")).to_have_attribute("aria-current", "page")
