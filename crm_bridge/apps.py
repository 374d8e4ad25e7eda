from django.apps import AppConfig


class CrmBridgeConfig(AppConfig):
    name = "crm_bridge"
    label = "crm_bridge"
    verbose_name = "ERP/CRM bridge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Adapters register their kind on import (crm_bridge.sources.registry).
        # Decrypted ERP credentials are scrubbed from every log line (crm_bridge.credentials).
        from crm_bridge.credentials import install_log_filter
        from crm_bridge.sources import (
            builtin,  # noqa: F401
            odoo,  # noqa: F401
            rest,  # noqa: F401
        )

        install_log_filter()

        # The periodic ERP sync re-arms itself after every migrate (crm_bridge.sync_tasks).
        from django.db.models.signals import post_migrate

        from crm_bridge.sync_tasks import schedule_after_migrate

        post_migrate.connect(schedule_after_migrate, sender=self, dispatch_uid="crm_bridge.schedule_sync")

        # References, live cards, approvals and slash commands (crm_bridge.wiring).
        from crm_bridge import wiring

        wiring.connect()

        # Record cards in the search index, has:record on messages, records in /api/v1/search.
        from crm_bridge import search  # noqa: F401
