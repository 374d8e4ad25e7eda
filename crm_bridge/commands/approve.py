"""``/approve``: what awaits my approval, each with its card (the buttons are on the approval
card the assistant sent; an ephemeral reply has no message to click on)."""

from __future__ import annotations

from typing import Any

from crm_bridge import access
from crm_bridge.approval_models import ApprovalCard
from crm_bridge.approvals import awaiting
from crm_bridge.cards import record_block
from crm_bridge.commands.common import t
from messaging.commands import CommandContext, CommandReply, SlashCommand


def approve_list(ctx: CommandContext) -> CommandReply:
    approvals = awaiting(ctx.member)
    if not approvals:
        return CommandReply(text=t(ctx, "没有等待你审批的单据。", "Nothing awaits your approval."))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": t(ctx, f"待我审批（{len(approvals)}）", f"Awaiting my approval ({len(approvals)})")}
    ]
    for approval in approvals[:9]:
        blocks.append(record_block(approval.snapshot))
        card = (
            ApprovalCard.objects.filter(approval=approval, recipient=ctx.member.user).first() or approval.cards.first()
        )
        if card is not None:
            # The web app's link to one message (frontend/src/client.ts, routePath).
            link = f"/app/w/{ctx.member.workspace_id}/c/{card.message.conversation_id}/m/{card.message_id}/"
            blocks.append({"type": "actions", "actions": [{"label": t(ctx, "去审批", "Open to decide"), "url": link}]})
    return CommandReply(
        text=t(ctx, f"待我审批：{len(approvals)} 项", f"{len(approvals)} awaiting my approval"), blocks=blocks
    )


APPROVE = SlashCommand(
    name="approve",
    usage="/approve",
    summary={"zh-hans": "列出等待我审批的单据", "en": "list what awaits my approval"},
    handler=approve_list,
    available=access.can_use_erp_commands,
)
