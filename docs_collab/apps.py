from __future__ import annotations

from django.apps import AppConfig


class DocsCollabConfig(AppConfig):
    name = "docs_collab"
    verbose_name = "Collaborative documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: the demo workspace gets a document; documents
        # register their search source.
        from docs_collab import demo, search  # noqa: F401
        from docs_collab.queries import image_bytes
        from hub.policy.quotas import register_storage_usage

        register_storage_usage("docs_collab.images", image_bytes)
