"""WebSocket consumers of ``messaging`` (``/ws/``). See docs/protocol.md."""

from messaging.consumers.socket import HubSocketConsumer

__all__ = ["HubSocketConsumer"]
