"""The ERP slash commands through the command API: replies, usage on bad arguments,
autocomplete from the source, Chinese and English, staff only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm_bridge.commands.queries import STOCK
from hub.models import Member
from messaging.commands import CommandContext
from messaging.models import Conversation
from tests.conftest import Persona, World
from tests.crm_bridge.chat_fixtures import Erp
from tests.messaging.helpers_http import error_code, send

pytestmark = pytest.mark.django_db


def run(world: World, persona: Persona, conv: int, text: str) -> Any:
    res = world.api(persona).post(
        f"/api/v1/conversations/{conv}/commands", {"text": text, "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 200, res.content
    return res.json()


def suggest(world: World, persona: Persona, conv: int, text: str) -> list[dict[str, str]]:
    res = world.api(persona).get(f"/api/v1/conversations/{conv}/commands/suggest", text=text)
    assert res.status_code == 200, res.content
    return list(res.json()["suggestions"])


def fields(reply: dict[str, Any]) -> dict[str, str]:
    block = next(b for b in reply["blocks"] if b["type"] == "fields")
    return {f["label"]: f["value"] for f in block["fields"]}


def test_stock(world: World, erp: Erp, channel: int) -> None:
    reply = run(world, world.member, channel, "/stock TEA-500G")
    assert reply["visibility"] == "ephemeral" and reply["message"] is None
    assert fields(reply) == {
        "TEA-500G · 杭州仓": "可用 12（在库 40，预留 28） ⚠️ 低于补货点",
        "TEA-500G · 上海仓": "可用 100（在库 100，预留 0）",
    }
    one = run(world, world.member, channel, "/stock 龙井 上海")
    assert list(fields(one)) == ["TEA-500G · 上海仓"]
    assert run(world, world.member, channel, "/stock")["text"].startswith("用法：`/stock <商品> [仓库]`")
    assert "没有找到" in run(world, world.member, channel, "/stock 普洱")["text"]


def test_stock_autocomplete_from_the_source_and_the_cache(world: World, erp: Erp, channel: int) -> None:
    names = suggest(world, world.member, channel, "/st")
    assert [s["value"] for s in names] == ["/stock "]
    found = suggest(world, world.member, channel, "/stock 龙井")
    assert [(s["value"], s["label"]) for s in found] == [
        ("TEA-500G", "TEA-500G · 西湖龙井 500g"),
        ("TEA-250G", "TEA-250G · 西湖龙井 250g"),
    ]
    assert suggest(world, world.member, channel, "/stock TEA-500G 杭") == []  # past the product
    run(world, world.member, channel, "/order SO-1001")  # caches SO-1001
    erp.fake.down = True
    cached = suggest(world, world.member, channel, "/order SO")
    assert [s["value"] for s in cached] == ["SO-1001"]


def test_price_autocompletes_product_then_customer(world: World, erp: Erp, channel: int) -> None:
    products = suggest(world, world.member, channel, "/price TEA-5")
    assert [s["value"] for s in products] == ["TEA-500G"]
    customers = suggest(world, world.member, channel, "/price TEA-500G 西湖")
    assert [(s["value"], s["label"]) for s in customers] == [("TEA-500G 西湖茶馆", "C-001 · 西湖茶馆")]
    assert suggest(world, world.member, channel, "/price TEA-500G 西湖茶馆 2") == []


def test_price(world: World, erp: Erp, channel: int) -> None:
    plain = fields(run(world, world.member, channel, "/price TEA-500G"))
    assert plain["单价"] == "CNY 680.00" and plain["价格表"] == "标准价" and plain["合计"] == "CNY 680.00"
    vip = fields(run(world, world.member, channel, "/price TEA-500G 西湖茶馆 20"))
    assert vip["客户"] == "西湖茶馆" and vip["单价"] == "CNY 581.40" and vip["数量"] == "20"
    assert vip["合计"] == "CNY 11,628.00" and vip["价格表"] == "VIP 客户价"
    assert "数量必须" in run(world, world.member, channel, "/price TEA-500G 西湖茶馆 -3")["text"]
    assert "没有找到" in run(world, world.member, channel, "/price 普洱")["text"]
    assert run(world, world.member, channel, "/price")["text"].startswith("用法")


def test_order(world: World, erp: Erp, channel: int) -> None:
    reply = run(world, world.member, channel, "/order so-1001")
    assert reply["blocks"] == [
        {"type": "record", "source_id": erp.source.pk, "record_type": "sales_order", "key": "11"}
    ]
    assert "没有找到" in run(world, world.member, channel, "/order SO-9999")["text"]
    assert "没有找到" in run(world, world.member, channel, "/order TEA-500G")["text"]  # a product, not an order
    assert run(world, world.member, channel, "/order a b")["text"].startswith("用法")


def test_customer(world: World, erp: Erp, channel: int, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send(world, world.member, channel, "#客户:西湖茶馆 下周来访")
    reply = run(world, world.member, channel, "/customer 西湖茶馆")
    blocks = reply["blocks"]
    assert blocks[0] == {"type": "record", "source_id": erp.source.pk, "record_type": "customer", "key": "1"}
    sections = [b["text"] for b in blocks if b["type"] == "section"]
    assert "SO-1001 · 已确认 · CNY 13,600.00" in sections[0] and "SO-1002" not in sections[0]
    assert "INV-3001 · 待付 CNY 5,000.00 · 到期 2026-11-21" in sections[1]
    assert f"[销售](/app/w/{world.workspace.pk}/c/{channel}/)" in sections[2]
    assert "没有找到客户" in run(world, world.member, channel, "/customer 不存在的茶庄")["text"]


def test_sales_today_has_a_chart_in_the_workspace_time_zone(world: World, erp: Erp, channel: int) -> None:
    erp.source.config = {**erp.source.config, "time_zone": "Asia/Urumqi"}
    erp.source.save()
    reply = run(world, world.member, channel, "/sales-today")
    chart = next(b for b in reply["blocks"] if b["type"] == "chart")
    assert chart["labels"][0] == "9:00" and chart["labels"][-1] == "14:00" and chart["values"][0] == 12000.0
    assert fields(reply) == {"订单数": "3", "销售额": "CNY 36,800.00"}
    assert reply["blocks"][-1]["text"].endswith("Asia/Urumqi")


def test_english_replies(world: World, erp: Erp, channel: int) -> None:
    member = Member.objects.get(user=world.member.user, workspace=world.workspace)
    context = CommandContext(member, Conversation.objects.get(pk=channel), "stock", "", "en")
    assert STOCK.handler(context).text.startswith("Usage：`/stock")
    context = CommandContext(member, Conversation.objects.get(pk=channel), "stock", "TEA-500G", "en")
    reply = STOCK.handler(context)
    assert reply.blocks[0]["text"] == "Stock · TEA-500G" and "free" in reply.blocks[1]["fields"][0]["value"]


def test_source_down_is_said_plainly(world: World, erp: Erp, channel: int) -> None:
    erp.fake.down = True
    assert "暂时无法访问" in run(world, world.member, channel, "/stock 龙井")["text"]
    assert "暂时无法访问" in run(world, world.member, channel, "/sales-today")["text"]


def test_no_source_yet(world: World, erp: Erp, channel: int) -> None:
    erp.source.enabled = False
    erp.source.save()
    assert "还没有连接 ERP" in run(world, world.member, channel, "/stock 龙井")["text"]


def test_guests_get_no_erp_commands(world: World, erp: Erp, shared: int) -> None:
    res = world.api(world.guest).post(
        f"/api/v1/conversations/{shared}/commands", {"text": "/stock 龙井", "client_id": str(uuid.uuid4())}
    )
    assert res.status_code == 404 and error_code(res) == "unknown_command"
    listed = world.api(world.guest).get(f"/api/v1/workspaces/{world.workspace.pk}/commands").json()["commands"]
    assert not {"stock", "price", "customer", "order", "sales-today", "approve"} & {c["name"] for c in listed}
    staff = world.api(world.member).get(f"/api/v1/workspaces/{world.workspace.pk}/commands").json()["commands"]
    assert {"stock", "price", "customer", "order", "sales-today", "approve"} <= {c["name"] for c in staff}
