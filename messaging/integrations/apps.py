from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "messaging.integrations"
    label = "integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from hub.periodic import register_periodic
        from messaging import commands
        from messaging.integrations import outgoing, slash

        outgoing.connect()
        commands.register_provider(slash.commands_for_workspace)
        register_periodic(outgoing.sweep_due_deliveries, timedelta(minutes=1))
