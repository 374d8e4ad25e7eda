from django.contrib import admin

from hub.policy import quotas
from hub.policy.models import WorkspacePolicy


@admin.register(WorkspacePolicy)
class WorkspacePolicyAdmin(admin.ModelAdmin[WorkspacePolicy]):
    """Where the operator sets a workspace's quotas (empty = the deployment default)."""

    list_display = ("workspace", "retention_days", "storage_quota_bytes", "storage_used", "member_quota", "members")
    search_fields = ("workspace__name",)
    readonly_fields = ("last_retention_at", "updated_at")
    autocomplete_fields = ("workspace",)

    @admin.display(description="storage used (bytes)")
    def storage_used(self, obj: WorkspacePolicy) -> int:
        return quotas.storage_used(obj.workspace_id)

    @admin.display(description="active members")
    def members(self, obj: WorkspacePolicy) -> int:
        return quotas.member_count(obj.workspace_id)
