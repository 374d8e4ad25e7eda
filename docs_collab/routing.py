"""Socket routes of documents; ``hub/asgi.py`` collects ``websocket_urlpatterns`` of every app."""

from __future__ import annotations

from django.urls import path

from docs_collab.consumers import DocumentConsumer

websocket_urlpatterns = [
    path("ws/docs/<int:document_id>/", DocumentConsumer.as_asgi()),
]
