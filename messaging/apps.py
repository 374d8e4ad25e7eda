from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messaging import receivers  # noqa: F401  (closes sockets when hub revokes access)
        from messaging import search  # noqa: F401  (registers the messages search source + indexer wake-up)
