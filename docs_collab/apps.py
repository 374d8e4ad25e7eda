from __future__ import annotations

from django.apps import AppConfig


class DocsCollabConfig(AppConfig):
    name = "docs_collab"
    verbose_name = "Collaborative documents"
    default_auto_field = "django.db.models.BigAutoField"
