from django.apps import AppConfig


class ErpLiteConfig(AppConfig):
    name = "crm_bridge.erplite"
    label = "erplite"
    verbose_name = "ERP-lite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import crm_bridge.erplite.receivers  # noqa: F401  (connects the cache feed and the demo data)
