"""The read-only ERP commands: ``/stock``, ``/price``, ``/order``, ``/customer``,
``/sales-today``. Staff only (they query every customer's prices and all stock); replies are
ephemeral — only the person who asked sees them — in Chinese or English."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm_bridge import access
from crm_bridge.cache import read_through
from crm_bridge.cards import record_block
from crm_bridge.commands.common import (
    no_source,
    parse_quantity,
    source_for,
    split_args,
    suggester,
    t,
    unavailable,
    usage,
    workspace_time_zone,
)
from crm_bridge.models import RecordLink, RecordSnapshot
from crm_bridge.sources.base import RecordNotFound, RecordType, SourceError, Status
from messaging.access import readable_conversations
from messaging.commands import CommandContext, CommandReply, SlashCommand

T = RecordType
_OPEN_ORDER = {Status.DRAFT, Status.TO_APPROVE, Status.APPROVED, Status.CONFIRMED}


def _fmt(amount: Decimal | str, currency: str = "") -> str:
    text = f"{Decimal(amount):,.2f}"
    return f"{currency} {text}".strip()


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


# --- /stock ------------------------------------------------------------------------------------


def stock(ctx: CommandContext) -> CommandReply:
    words = split_args(ctx.args)
    if not words:
        return usage(ctx, STOCK, "例如：`/stock 龙井` 或 `/stock TEA-500G 杭州仓`", "e.g. `/stock TEA-500G Hangzhou`")
    found = source_for(ctx)
    if found is None:
        return no_source(ctx)
    source_row, source = found
    product, warehouse = words[0], (" ".join(words[1:]) or None)
    try:
        levels = list(source.stock(product, warehouse))
    except SourceError as exc:
        return unavailable(ctx, source_row, exc)
    if not levels:
        return usage(
            ctx, STOCK, f"没有找到与“{product}”匹配的商品库存。", f"No stock found for products matching “{product}”."
        )
    fields = []
    for level in levels[:20]:
        flag = t(ctx, " ⚠️ 低于补货点", " ⚠️ below reorder point") if level.below_reorder_point else ""
        fields.append(
            {
                "label": f"{level.sku} · {level.warehouse}"[:100],
                "value": t(
                    ctx,
                    f"可用 {_qty(level.available)}（在库 {_qty(level.on_hand)}，预留 {_qty(level.reserved)}）",
                    f"{_qty(level.available)} free ({_qty(level.on_hand)} on hand, {_qty(level.reserved)} reserved)",
                )
                + flag,
            }
        )
    title = t(ctx, f"库存 · {product}", f"Stock · {product}")
    return CommandReply(
        text=f"**{title}**",
        blocks=[
            {"type": "header", "text": title},
            {"type": "fields", "fields": fields},
            {"type": "context", "text": _as_of(ctx, source_row.name)},
        ],
    )


def _as_of(ctx: CommandContext, label: str) -> str:
    now = timezone.localtime().strftime("%H:%M")
    return t(ctx, f"截至 {now} · 来自 {label}", f"as of {now} from {label}")


# --- /price ------------------------------------------------------------------------------------


def price(ctx: CommandContext) -> CommandReply:
    words = split_args(ctx.args)
    if not words:
        return usage(
            ctx,
            PRICE,
            "例如：`/price TEA-500G 西湖茶馆 20`（客户和数量可省略）",
            'e.g. `/price TEA-500G "West Lake" 20`',
        )
    quantity = Decimal(1)
    if len(words) > 1 and parse_quantity(words[-1]) is not None:
        quantity = parse_quantity(words.pop()) or Decimal(1)
    elif len(words) > 1 and words[-1].replace(".", "", 1).lstrip("-").isdigit():
        return usage(ctx, PRICE, "数量必须是大于 0 的数字。", "The quantity must be a number above 0.")
    product, customer = words[0], (" ".join(words[1:]) or None)
    found = source_for(ctx)
    if found is None:
        return no_source(ctx)
    source_row, source = found
    try:
        quote = source.price(product, customer, quantity)
    except RecordNotFound:
        return usage(ctx, PRICE, f"没有找到商品或客户“{ctx.args}”。", f"No product or customer matches “{ctx.args}”.")
    except SourceError as exc:
        return unavailable(ctx, source_row, exc)
    total = quote.unit_price.amount * quote.quantity
    fields = [
        {"label": t(ctx, "商品", "Product"), "value": f"{quote.sku} · {quote.name}"},
        {"label": t(ctx, "单价", "Unit price"), "value": _fmt(quote.unit_price.amount, quote.unit_price.currency)},
        {"label": t(ctx, "数量", "Quantity"), "value": _qty(quote.quantity)},
        {"label": t(ctx, "合计", "Total"), "value": _fmt(total, quote.unit_price.currency)},
        {"label": t(ctx, "价格表", "Price list"), "value": quote.price_list},
    ]
    if customer:
        fields.insert(1, {"label": t(ctx, "客户", "Customer"), "value": customer})
    title = t(ctx, f"报价 · {quote.name}", f"Price · {quote.name}")
    return CommandReply(
        text=f"**{title}**",
        blocks=[
            {"type": "header", "text": title[:200]},
            {"type": "fields", "fields": fields},
            {"type": "context", "text": _as_of(ctx, source_row.name)},
        ],
    )


# --- /order ------------------------------------------------------------------------------------


def order(ctx: CommandContext) -> CommandReply:
    words = split_args(ctx.args)
    if len(words) != 1:
        return usage(ctx, ORDER, "例如：`/order SO-1001`", "e.g. `/order SO-1001`")
    found = source_for(ctx)
    if found is None:
        return no_source(ctx)
    source_row, source = found
    try:
        ref = source.resolve(words[0])
        if ref is None or ref.type not in (T.SALES_ORDER, T.PURCHASE_ORDER, T.INVOICE):
            return usage(ctx, ORDER, f"没有找到单据“{words[0]}”。", f"No order or invoice “{words[0]}”.")
        snapshot = read_through(source_row, source, ref)
    except SourceError as exc:
        return unavailable(ctx, source_row, exc)
    return CommandReply(text=f"**{snapshot.title}**", blocks=[record_block(snapshot)])


# --- /customer ---------------------------------------------------------------------------------


def customer(ctx: CommandContext) -> CommandReply:
    name = ctx.args.strip().strip('"')
    if not name:
        return usage(ctx, CUSTOMER, "例如：`/customer 西湖茶馆`", "e.g. `/customer West Lake Teahouse`")
    found = source_for(ctx)
    if found is None:
        return no_source(ctx)
    source_row, source = found
    try:
        matches = list(source.search(T.CUSTOMER, name, limit=5))
        if not matches:
            return usage(ctx, CUSTOMER, f"没有找到客户“{name}”。", f"No customer matches “{name}”.")
        exact = [m for m in matches if m.title == name or m.number == name]
        chosen = (exact or matches)[0]
        snapshot = read_through(source_row, source, chosen.ref)
        related = [r for r in source.search(T.SALES_ORDER, chosen.title, limit=50) if r.party == chosen.ref]
        related += [r for r in source.search(T.INVOICE, chosen.title, limit=50) if r.party == chosen.ref]
    except SourceError as exc:
        return unavailable(ctx, source_row, exc)
    open_orders = [r for r in related if r.ref.type == T.SALES_ORDER and r.status in _OPEN_ORDER]
    unpaid = [r for r in related if r.ref.type == T.INVOICE and r.status == Status.OPEN]
    blocks: list[dict[str, Any]] = [record_block(snapshot)]
    blocks.append(_list_section(ctx, t(ctx, "未完成订单", "Open orders"), [_order_line(r) for r in open_orders]))
    blocks.append(_list_section(ctx, t(ctx, "未付发票", "Unpaid invoices"), [_invoice_line(ctx, r) for r in unpaid]))
    blocks.append(
        _list_section(ctx, t(ctx, "最近的对话", "Recent conversations"), _recent_conversations(ctx, snapshot))
    )
    if len(matches) > 1 and not exact:
        others = "、".join(m.title for m in matches[1:])
        blocks.append({"type": "context", "text": t(ctx, f"其他匹配：{others}", f"Other matches: {others}")[:500]})
    return CommandReply(text=f"**{snapshot.title}**", blocks=blocks)


def _order_line(record: Any) -> str:
    amount = f" · {_fmt(record.amount.amount, record.amount.currency)}" if record.amount else ""
    return f"{record.number} · {record.status_label or record.status}{amount}"


def _invoice_line(ctx: CommandContext, record: Any) -> str:
    due = record.amount_due or record.amount
    amount = f" · {t(ctx, '待付', 'due')} {_fmt(due.amount, due.currency)}" if due else ""
    date = f" · {t(ctx, '到期', 'due on')} {record.due_date.isoformat()}" if record.due_date else ""
    return f"{record.number}{amount}{date}"


def _recent_conversations(ctx: CommandContext, snapshot: RecordSnapshot) -> list[str]:
    """Conversations the asker can read that reference this customer or its records."""
    party = RecordSnapshot.objects.filter(
        source_id=snapshot.source_id, party_type=snapshot.record_type, party_key=snapshot.key
    )
    links = (
        RecordLink.objects.filter(snapshot__in=party, conversation__in=readable_conversations(ctx.member))
        .select_related("conversation")
        .order_by("-created_at")[:50]
    )
    seen: dict[int, str] = {}
    for link in links:
        conversation = link.conversation
        name = conversation.name or t(ctx, "私聊", "direct message")
        seen.setdefault(conversation.pk, f"[{name}](/app/w/{conversation.workspace_id}/c/{conversation.pk}/)")
    return list(seen.values())[:5]


def _list_section(ctx: CommandContext, title: str, lines: list[str]) -> dict[str, Any]:
    body = "\n".join(f"* {line}" for line in lines[:10]) if lines else t(ctx, "（无）", "(none)")
    return {"type": "section", "text": f"**{title}**\n\n{body}"[:3000]}


# --- /sales-today ------------------------------------------------------------------------------


def sales_today(ctx: CommandContext) -> CommandReply:
    found = source_for(ctx)
    if found is None:
        return no_source(ctx)
    source_row, source = found
    tz = workspace_time_zone(source_row)
    today = timezone.now().astimezone(tz).date()
    try:
        summary = source.sales_summary(today, tz)
    except SourceError as exc:
        return unavailable(ctx, source_row, exc)
    title = t(ctx, f"今日销售 · {today.isoformat()}", f"Sales today · {today.isoformat()}")
    by_hour = dict(summary.by_hour)
    hours = [h for h in range(24) if by_hour.get(h)] or [timezone.now().astimezone(tz).hour]
    first, last = min(hours), max(hours)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": title},
        {
            "type": "fields",
            "fields": [
                {"label": t(ctx, "订单数", "Orders"), "value": str(summary.order_count)},
                {"label": t(ctx, "销售额", "Revenue"), "value": _fmt(summary.total.amount, summary.total.currency)},
            ],
        },
        {
            "type": "chart",
            "title": t(ctx, "按小时", "By hour"),
            "labels": [f"{h}:00" for h in range(first, last + 1)],
            "values": [float(by_hour.get(h, 0)) for h in range(first, last + 1)],
            "unit": summary.total.currency,
        },
    ]
    if summary.top_products:
        lines = [f"{name} · {_fmt(amount)}" for name, amount in summary.top_products[:5]]
        blocks.append(_list_section(ctx, t(ctx, "畅销商品", "Top products"), lines))
    blocks.append({"type": "context", "text": f"{_as_of(ctx, source_row.name)} · {tz.key}"})
    return CommandReply(text=f"**{title}**", blocks=blocks)


def _staff(member: Any) -> bool:
    return access.can_use_erp_commands(member)


STOCK = SlashCommand(
    name="stock",
    usage="/stock <商品> [仓库]",
    summary={"zh-hans": "查询商品库存（按仓库）", "en": "stock of a product, per warehouse"},
    handler=stock,
    suggest=suggester([T.PRODUCT]),
    available=_staff,
)
PRICE = SlashCommand(
    name="price",
    usage="/price <商品> [客户] [数量]",
    summary={"zh-hans": "查询价格（可按客户和数量）", "en": "price of a product for a customer and quantity"},
    handler=price,
    suggest=suggester([T.PRODUCT], then=[T.CUSTOMER], then_value=lambda type, number, title: title),
    available=_staff,
)
ORDER = SlashCommand(
    name="order",
    usage="/order <单号>",
    summary={"zh-hans": "查看订单或发票卡片", "en": "show an order or invoice card"},
    handler=order,
    suggest=suggester([T.SALES_ORDER, T.PURCHASE_ORDER, T.INVOICE]),
    available=_staff,
)
CUSTOMER = SlashCommand(
    name="customer",
    usage="/customer <客户名>",
    summary={
        "zh-hans": "客户卡片、未完成订单、未付发票和最近对话",
        "en": "customer card, open orders, unpaid invoices, conversations",
    },
    handler=customer,
    suggest=suggester([T.CUSTOMER], value=lambda type, number, title: title),
    available=_staff,
)
SALES_TODAY = SlashCommand(
    name="sales-today",
    usage="/sales-today",
    summary={"zh-hans": "今日销售额与按小时图表", "en": "today's sales with an hourly chart"},
    handler=sales_today,
    available=_staff,
)
