"""ERP records in the conversation, in a real browser: a typed order number becomes a live
card, /stock autocompletes from the ERP and answers only to the asker, and an approval card
decided in one browser updates in another at once."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, _server_env, screenshot
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, message_row, open_conversation, signed_in

pytestmark = pytest.mark.browser

# ERP-lite's demo data in the e2e workspace (王小明 = alice is the owner and the approver of
# PO-2001), with approval cards going to a channel both alice and bob are in.
SEED = """
import json
from crm_bridge.erplite.demo import add_demo_data
from crm_bridge.models import ErpSource
from crm_bridge.sources.builtin import DEFAULT_NAME
from hub.demo import DemoData
from hub.models import Member, PartnerOrg, User, Workspace
from messaging import actions

ws = Workspace.objects.get(pk={workspace})
alice = User.objects.get(email="alice@e2e.test")
bob = User.objects.get(email="bob@e2e.test")
owner = Member.objects.get(workspace=ws, user=alice)
approvals = actions.check_create_conversation(owner, "public", "审批", [bob.pk])
erp = actions.check_create_conversation(owner, "public", "订单讨论", [bob.pk])
# Earlier tests may already have made the built-in default source (ERP-lite is created on first
# need): configure it rather than create a second one.
source, _ = ErpSource.objects.get_or_create(
    workspace=ws, name=DEFAULT_NAME, defaults={{"kind": "builtin", "is_default": True}}
)
source.config = {{**source.config, "approval_channel_id": approvals.pk}}
source.save(update_fields=["config"])
users = {{"sales": alice, "purchasing": bob, "finance": bob, "owner": alice, "warehouse": bob}}
partners = {{"customer": PartnerOrg.objects.get(workspace=ws, name="西湖茶馆")}}
add_demo_data(DemoData(workspace=ws, created=True, users=users, partners=partners))
print("ERP " + json.dumps({{"approvals": approvals.pk, "erp": erp.pk}}))
"""


@pytest.fixture(scope="module")
def erp(server: Server) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED.format(workspace=server.ids["workspace"])],
        cwd=ROOT,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("ERP "))
    return dict(json.loads(line[4:]))


def composer(page: Any) -> Any:
    return page.get_by_test_id("composer").locator("textarea")


def test_typing_an_order_number_shows_its_card(new_context: Any, server: Server, erp: dict[str, int]) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    bob = signed_in(new_context, "bob@e2e.test", locale="en-US")
    open_conversation(alice, server, erp["erp"])
    open_conversation(bob, server, erp["erp"])
    composer(alice).fill("SO-1001 今天能发货吗？")
    composer(alice).press("Enter")
    card = message_row(alice, "今天能发货吗").get_by_test_id("record-card")
    expect(card).to_contain_text("SO-1001", timeout=DELIVERY_TIMEOUT)
    expect(card).to_contain_text("上海悦茗")
    expect(card).to_contain_text("¥80,400.00")
    expect(card.get_by_test_id("record-as-of")).to_contain_text("截至")
    # The other person sees the card too, in their language.
    other = message_row(bob, "今天能发货吗").get_by_test_id("record-card")
    expect(other).to_contain_text("Sales order", timeout=DELIVERY_TIMEOUT)
    expect(other.get_by_test_id("record-as-of")).to_contain_text("as of")
    screenshot(alice, "erp-reference-card")


def test_stock_autocomplete_and_an_ephemeral_reply(new_context: Any, server: Server, erp: dict[str, int]) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    open_conversation(alice, server, erp["erp"])
    box = composer(alice)
    box.fill("/sto")
    suggestions = alice.get_by_test_id("slash-suggestions")
    expect(suggestions).to_contain_text("/stock")
    box.press("Enter")
    expect(box).to_have_value("/stock ")
    box.press_sequentially("TEA-5")
    expect(suggestions).to_contain_text("TEA-500G", timeout=DELIVERY_TIMEOUT)
    box.press("Tab")
    expect(box).to_have_value("/stock TEA-500G ")
    box.press("Enter")
    reply = alice.get_by_test_id("ephemeral-reply")
    expect(reply).to_contain_text("仅你可见")
    expect(reply).to_contain_text("杭州总仓", timeout=DELIVERY_TIMEOUT)
    expect(reply).to_contain_text("低于补货点")
    # Nothing was posted: the reply is only in this page.
    expect(alice.get_by_test_id("timeline")).not_to_contain_text("/stock TEA-500G")
    screenshot(alice, "erp-stock-command")


def test_approve_in_one_browser_updates_the_other(new_context: Any, server: Server, erp: dict[str, int]) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    bob = signed_in(new_context, "bob@e2e.test", locale="zh-CN")
    open_conversation(alice, server, erp["approvals"])
    open_conversation(bob, server, erp["approvals"])
    card_alice = message_row(alice, "PO-2001")
    card_bob = message_row(bob, "PO-2001")
    expect(card_alice.get_by_test_id("record-card")).to_contain_text("待审批", timeout=DELIVERY_TIMEOUT)
    expect(card_bob.locator(".block-context")).to_contain_text("待审批")
    alice.once("dialog", lambda dialog: dialog.accept())
    card_alice.get_by_role("button", name="批准").click()
    expect(card_alice.get_by_test_id("action-result")).to_contain_text("已批准 PO-2001", timeout=DELIVERY_TIMEOUT)
    # Bob's open page follows live: decision line, disabled buttons, the record's new status.
    expect(card_bob.locator(".block-context")).to_contain_text("已批准 · 王小明", timeout=DELIVERY_TIMEOUT)
    expect(card_bob.get_by_role("button", name="批准")).to_be_disabled()
    expect(card_bob.get_by_test_id("record-status")).to_contain_text("已批准", timeout=DELIVERY_TIMEOUT)
    screenshot(bob, "erp-approval-live")


def test_a_guest_sees_only_own_company_cards(new_context: Any, server: Server, erp: dict[str, int]) -> None:
    alice = signed_in(new_context, "alice@e2e.test", locale="zh-CN")
    carol = signed_in(new_context, "carol@customer.test", locale="zh-CN")
    open_conversation(alice, server, server.ids["shared"])
    open_conversation(carol, server, server.ids["shared"])
    composer(alice).fill("对比 SO-1001 和 SO-1002 的交期")
    composer(alice).press("Enter")
    staff_cards = message_row(alice, "的交期").get_by_test_id("record-card")
    expect(staff_cards).to_have_count(2, timeout=DELIVERY_TIMEOUT)
    expect(staff_cards.first).to_contain_text("毛利（内部）")
    guest_row = message_row(carol, "的交期")
    expect(guest_row.get_by_test_id("record-card")).to_have_count(1, timeout=DELIVERY_TIMEOUT)
    expect(guest_row.get_by_test_id("record-card")).to_contain_text("SO-1001")
    expect(guest_row).not_to_contain_text("毛利")
    expect(guest_row).not_to_contain_text("湖畔茶馆")
    screenshot(carol, "erp-guest-cards")
