from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Xiaowei Hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub import receivers  # noqa: F401  (connects allauth login signals to the audit log)
