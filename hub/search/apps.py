from django.apps import AppConfig


class SearchConfig(AppConfig):
    """The search engine core (whoosh behind ``SearchBackend``); sources register themselves."""

    name = "hub.search"
    label = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"
