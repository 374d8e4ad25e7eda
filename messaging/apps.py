from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: receivers closes sockets when hub revokes access;
        # search registers the messages search source and the indexer wake-up.
        from messaging import receivers, search  # noqa: F401
