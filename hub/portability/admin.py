from django.contrib import admin

from hub.portability.models import ExportJob, ImportRecord


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin[ExportJob]):
    list_display = ("id", "workspace", "status", "done", "total", "size", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin[ImportRecord]):
    list_display = ("workspace", "source_site", "source_workspace_id", "exported_at", "imported_at")
    readonly_fields = [f.name for f in ImportRecord._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
