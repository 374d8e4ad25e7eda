from django.apps import AppConfig


class ErpLiteConfig(AppConfig):
    name = "crm_bridge.erplite"
    label = "erplite"
    verbose_name = "ERP-lite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm_bridge.erplite import receivers  # noqa: F401  (connects the demo-data receiver)
