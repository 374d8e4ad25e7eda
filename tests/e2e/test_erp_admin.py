"""The ERP admin screens in a real browser: the sources list with masked, write-only
credentials, test connection and sync now; a CSV import with its progress bar and per-row
error report; watch rules created, edited and deleted; bots and incoming webhooks with their
credentials shown once; workspace usage, retention and export; members get no admin screens."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, _server_env, sign_in

pytestmark = pytest.mark.browser

# A workspace of its own (no ERP state shared with other modules), owned by Alice, with Bob
# as a plain member, ERP-lite as its default source and a channel for alerts.
SEED = """
import json
from crm_bridge.sources.builtin import ensure_default_source
from hub import actions as hub_actions
from hub.models import Member, User
from messaging import actions

alice = User.objects.get(email="alice@e2e.test")
bob = User.objects.get(email="bob@e2e.test")
ws = hub_actions.do_create_workspace(alice, "管理测试")
owner = Member.objects.get(workspace=ws, user=alice)
Member.objects.create(workspace=ws, user=bob, role=Member.Role.MEMBER)
ensure_default_source(ws)
alerts = actions.check_create_conversation(owner, "public", "预警", [bob.pk])
print("ADMIN " + json.dumps({"workspace": ws.pk, "alerts": alerts.pk}))
"""

CUSTOMERS_CSV = "客户编码*,客户名称,电话\nK001,杭州龙井茶庄,0571-1234\n,缺编码的客户,\nK002,苏州碧螺春茶行,0512-5678\n"


@pytest.fixture(scope="module")
def admin_ws(server: Server) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("ADMIN "))
    return dict(json.loads(line[6:]))


def run_worker(server: Server) -> None:
    """The e2e server runs no task worker: run the queued jobs now, as the worker would."""
    done = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch"],
        cwd=ROOT,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def admin_page(new_context: Any, admin_ws: dict[str, int], **options: Any) -> Any:
    page = new_context(**options).new_page()
    sign_in(page, "alice@e2e.test", f"/app/w/{admin_ws['workspace']}/")
    page.get_by_test_id("admin-link").click()
    expect(page.get_by_role("heading", name="管理", exact=True)).to_be_visible()
    return page


def test_sources_masked_credentials_test_and_sync(new_context: Any, server: Server, admin_ws: dict[str, int]) -> None:
    page = admin_page(new_context, admin_ws)
    builtin = page.get_by_test_id("erp-source").filter(has_text="ERP-lite（内置）")
    expect(builtin).to_contain_text("默认")
    builtin.get_by_role("button", name="测试连接").click()
    expect(builtin.get_by_test_id("source-notice")).to_contain_text("连接成功")
    builtin.get_by_role("button", name="立即同步").click()
    expect(builtin.get_by_test_id("source-notice")).to_have_text("已开始同步。")
    expect(builtin.get_by_test_id("sync-lag")).to_contain_text("尚未同步")
    # Once the queued sync has run, the source reports how far behind it is.
    run_worker(server)
    page.reload()
    expect(builtin.get_by_test_id("sync-lag")).to_contain_text("落后")

    # A new Odoo source: its API key goes in once and comes back masked, never in clear.
    page.get_by_role("button", name="添加数据源").click()
    form = page.get_by_role("form", name="添加数据源")
    form.get_by_label("名称").fill("总部 Odoo")
    form.get_by_label("设置（JSON）").fill('{"url": "https://odoo.example.test", "database": "hq", "username": "bot"}')
    form.get_by_label("api_key").fill("sk-live-0123456789abcdef")
    form.get_by_role("button", name="创建").click()
    odoo = page.get_by_test_id("erp-source").filter(has_text="总部 Odoo")
    expect(odoo).to_contain_text("••••cdef")
    expect(page.locator("body")).not_to_contain_text("sk-live-0123456789abcdef")
    # Editing starts with an empty credential field showing the masked value as its hint.
    odoo.get_by_role("button", name="编辑").click()
    key_field = odoo.get_by_label("api_key")
    expect(key_field).to_have_value("")
    expect(key_field).to_have_attribute("placeholder", "••••cdef")


def test_csv_import_shows_progress_and_rejected_rows(
    new_context: Any, server: Server, admin_ws: dict[str, int], tmp_path: Path
) -> None:
    page = admin_page(new_context, admin_ws)
    page.get_by_test_id("admin-tab-import").click()
    page.get_by_label("文件内容").select_option("customers")
    csv = tmp_path / "客户.csv"
    csv.write_text(CUSTOMERS_CSV, encoding="utf-8")
    page.get_by_label("CSV 或 Excel 文件").set_input_files(str(csv))
    page.get_by_role("button", name="上传并导入").click()
    job = page.get_by_test_id("import-job")
    expect(job).to_have_attribute("data-state", "queued")
    expect(page.get_by_role("progressbar", name="导入进度")).to_be_visible()

    run_worker(server)
    expect(job).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.get_by_test_id("import-progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("import-status")).to_have_text("完成：新增 2，更新 0，拒绝 1。")
    errors = page.get_by_test_id("import-errors")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr td").first).to_have_text("3")


def test_watch_rules_create_edit_delete(new_context: Any, admin_ws: dict[str, int]) -> None:
    page = admin_page(new_context, admin_ws, viewport={"width": 360, "height": 740})
    page.get_by_test_id("admin-tab-rules").click()
    expect(page.get_by_text("还没有预警规则。")).to_be_visible()
    page.get_by_role("button", name="添加规则").click()
    form = page.get_by_role("form", name="添加规则")
    form.get_by_label("名称").fill("应收逾期")
    form.get_by_label("类型").select_option("invoice_overdue")
    form.get_by_label("逾期天数").fill("14")
    form.get_by_label("发到频道").select_option(str(admin_ws["alerts"]))
    submit = form.get_by_role("button", name="创建")
    box = submit.bounding_box()
    assert box is not None and box["height"] >= 40
    submit.click()
    rule = page.get_by_test_id("watch-rule").filter(has_text="应收逾期")
    expect(rule).to_contain_text("发票逾期超过 N 天")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    rule.get_by_role("button", name="编辑").click()
    edit = page.get_by_role("form", name="编辑 应收逾期")
    expect(edit.get_by_label("逾期天数")).to_have_value("14")
    edit.get_by_label("名称").fill("应收逾期两周")
    edit.get_by_role("button", name="保存").click()
    rule = page.get_by_test_id("watch-rule").filter(has_text="应收逾期两周")
    expect(rule).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    rule.get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("watch-rule")).to_have_count(0)
    expect(page.get_by_text("还没有预警规则。")).to_be_visible()


def test_workspace_usage_retention_and_export(new_context: Any, server: Server, admin_ws: dict[str, int]) -> None:
    page = admin_page(new_context, admin_ws)
    page.get_by_test_id("admin-tab-workspace").click()
    usage = page.get_by_test_id("usage")
    expect(usage).to_contain_text("存储空间")
    expect(usage).to_contain_text("已用 2（不限）")  # Alice and Bob, no member quota

    retention = page.get_by_role("form", name="消息保留")
    retention.get_by_label("消息保留天数").fill("0")
    retention.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("retention-notice")).to_have_text("请输入 1 到 36500 的整数天数，或留空。")
    retention.get_by_label("消息保留天数").fill("90")
    retention.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("retention-notice")).to_have_text("已保存。")
    page.reload()
    expect(page.get_by_label("消息保留天数")).to_have_value("90")

    page.get_by_role("button", name="导出整个工作区").click()
    job = page.get_by_test_id("export-job").first
    expect(job).to_have_attribute("data-state", "queued")
    expect(job.get_by_role("progressbar", name="导出进度")).to_be_visible()
    run_worker(server)
    expect(job).to_have_attribute("data-state", "done", timeout=30_000)
    expect(job).to_contain_text("已完成")
    with page.expect_download() as download:
        job.get_by_test_id("export-download").click()
    assert download.value.suggested_filename.endswith(".zip")


def test_bots_and_incoming_webhooks(new_context: Any, admin_ws: dict[str, int]) -> None:
    page = admin_page(new_context, admin_ws)
    page.get_by_test_id("admin-tab-integrations").click()

    # A bot's token is shown once, replaced by "new token", gone when deactivated.
    bots = page.get_by_role("article", name="机器人")
    bots.get_by_label("机器人名称").fill("部署机器人")
    bots.get_by_role("button", name="添加机器人").click()
    bot = bots.get_by_test_id("bot").filter(has_text="部署机器人")
    token = bot.get_by_test_id("bot-token")
    expect(token).not_to_have_value("")
    first = token.input_value()
    bot.get_by_role("button", name="重新生成令牌").click()
    expect(token).not_to_have_value(first)
    # Its events go to an app: the signing secret is shown once; the delivery log is empty;
    # disabled and enabled again. (An IP literal: the test box has no DNS for a public name.)
    subs = page.get_by_role("article", name="事件推送")
    subs.get_by_label("你的应用地址").fill("https://1.2.3.4/hub-events")
    subs.get_by_role("checkbox", name="提及机器人").check()
    subs.get_by_role("button", name="添加推送").click()
    sub = subs.get_by_test_id("subscription").filter(has_text="https://1.2.3.4/hub-events")
    expect(sub).to_contain_text("消息、提及机器人")
    expect(sub.get_by_test_id("subscription-secret")).not_to_have_value("")
    sub.get_by_text("推送记录").click()
    expect(sub).to_contain_text("还没有推送。")
    sub.get_by_role("button", name="停用").click()
    expect(sub).to_contain_text("已停用")
    sub.get_by_role("button", name="启用").click()
    expect(sub.get_by_role("button", name="停用")).to_be_visible()

    # An external slash command sent as the bot: token and signing secret shown once.
    commands = page.get_by_role("article", name="应用斜杠命令")
    commands.get_by_label("命令（不含 /）").fill("deploy")
    commands.get_by_label("你的应用地址").fill("https://1.2.3.4/commands/deploy")
    commands.get_by_label("说明").fill("部署到生产环境")
    commands.get_by_role("button", name="添加命令").click()
    expect(commands.get_by_test_id("app-command").filter(has_text="/deploy")).to_contain_text("部署到生产环境")
    expect(commands.get_by_test_id("command-token")).not_to_have_value("")
    expect(commands.get_by_test_id("command-secret")).not_to_have_value("")

    page.once("dialog", lambda dialog: dialog.accept())
    bot.get_by_role("button", name="停用").click()
    expect(bot).to_contain_text("已停用")
    expect(bot.get_by_test_id("bot-token")).to_have_count(0)

    # A DingTalk webhook in #预警: URL and signing secret shown once, listed, revoked.
    hooks = page.get_by_role("article", name="传入 Webhook")
    hooks.get_by_label("会话").select_option(str(admin_ws["alerts"]))
    expect(hooks).to_contain_text("这个会话还没有 Webhook。")
    hooks.get_by_label("格式").select_option("dingtalk")
    hooks.get_by_label("发送者名称").fill("监控")
    hooks.get_by_role("button", name="添加 Webhook").click()
    expect(hooks.get_by_test_id("webhook-url")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    expect(hooks.get_by_test_id("webhook-secret")).not_to_have_value("")
    hook = hooks.get_by_test_id("webhook").filter(has_text="监控")
    expect(hook).to_contain_text("从未使用")
    page.reload()
    expect(page.get_by_test_id("webhook-url")).to_have_count(0)  # never shown again
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("webhook").filter(has_text="监控").get_by_role("button", name="撤销").click()
    expect(page.get_by_test_id("webhook")).to_have_count(0)


def test_members_get_no_admin_screens(new_context: Any, admin_ws: dict[str, int]) -> None:
    page = new_context(locale="en-US").new_page()
    sign_in(page, "bob@e2e.test", f"/app/w/{admin_ws['workspace']}/")
    expect(page.get_by_test_id("records-link")).to_be_visible()
    expect(page.get_by_test_id("admin-link")).to_have_count(0)
    page.goto(f"/app/w/{admin_ws['workspace']}/admin/import/")
    expect(page.get_by_role("alert")).to_have_text("Only workspace owners and admins can open this.")
    expect(page.get_by_role("button", name="Upload and import")).to_have_count(0)
