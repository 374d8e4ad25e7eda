from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """Workspace export (zip of JSON + files) and import on another deployment."""

    name = "hub.portability"
    label = "portability"
    verbose_name = "Workspace export and import"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Apps above hub contribute their data from a module named ``portability``
        # (messaging/portability.py, docs_collab/portability.py, …); hub never imports them.
        from django.utils.module_loading import autodiscover_modules

        from hub.portability import people  # noqa: F401  (registers hub's own contributor)

        autodiscover_modules("portability")
