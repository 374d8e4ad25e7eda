from __future__ import annotations

from django.apps import AppConfig


class DocsCollabConfig(AppConfig):
    name = "docs_collab"
    verbose_name = "Collaborative documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for its side effect: the demo workspace gets a document.
        from docs_collab import demo  # noqa: F401
