"""WebSocket routes of ``messaging`` (collected by hub.asgi)."""

from __future__ import annotations

from django.urls import path

from messaging.consumers import HubSocketConsumer

websocket_urlpatterns = [
    path("ws/", HubSocketConsumer.as_asgi()),
]
