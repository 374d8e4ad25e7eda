"""ASGI entry point: HTTP → Django; WebSocket → origin check → auth (session or API token) →
the apps' socket routes.

Each installed app may provide ``<app>.routing.websocket_urlpatterns``; they are collected here
so that ``hub`` does not import the apps above it by name (``/ws/`` comes from ``messaging``,
``/ws/docs/<id>/`` from ``docs_collab``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# Must run before anything imports models (it sets Django up).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.apps import apps  # noqa: E402

from hub.metrics import SocketMetricsMiddleware  # noqa: E402
from hub.ws_auth import HubAuthMiddlewareStack, HubOriginValidator  # noqa: E402


def collect_websocket_urlpatterns() -> list[Any]:
    patterns: list[Any] = []
    for config in apps.get_app_configs():
        try:
            routing = importlib.import_module(f"{config.name}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.routing":
                raise  # a real import error inside an existing routing module
            continue
        patterns.extend(getattr(routing, "websocket_urlpatterns", []))
    return patterns


websocket_urlpatterns = collect_websocket_urlpatterns()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Outermost: counts every accepted socket and sets its request id for the logs.
        "websocket": SocketMetricsMiddleware(
            HubOriginValidator(HubAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
