"""crm_bridge's part of a workspace archive (hub/portability): the ERP/CRM sources (without
their credentials — they are encrypted with this deployment's key; re-enter them after an
import), cached record cards, their links to conversations and messages, sync cursors and
approvals with their cards and actions."""

from __future__ import annotations

from crm_bridge.approval_models import Approval, ApprovalAction, ApprovalCard
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot, SyncState
from hub.portability.registry import register_contributor
from hub.portability.rows import ModelRowsContributor

register_contributor(
    ModelRowsContributor(
        name="crm_bridge",
        order=30,  # after messaging (links and approval cards point at messages)
        models=[
            (ErpSource, "workspace"),
            (RecordSnapshot, "source__workspace"),
            (RecordLink, "snapshot__source__workspace"),
            (SyncState, "source__workspace"),
            (Approval, "snapshot__source__workspace"),
            (ApprovalCard, "approval__snapshot__source__workspace"),
            (ApprovalAction, "approval__snapshot__source__workspace"),
        ],
        exclude={"crm_bridge.erpsource": {"credentials_encrypted"}},
    )
)
