from django.apps import AppConfig


class PolicyConfig(AppConfig):
    """Per-workspace policies of the hosted model: message retention and quotas."""

    name = "hub.policy"
    label = "policy"
    verbose_name = "Workspace policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Apps above hub register their storage usage and retention jobs in a module named
        # ``retention`` (e.g. messaging/retention.py); hub finds them without importing them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("retention")
