"""Sending to the channel layer after commit. The layer is a fast path only: a lost send is
healed by replay from the event log, so failures here are logged, never raised."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_send_now(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # at-most-once layer anyway: clients converge by replay
        logger.warning("channel layer send to %s failed", group, exc_info=True)


def group_send_on_commit(group: str, message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: group_send_now(group, message))
