"""Signals messaging sends for the layers above it (the ERP bridge, integrations, documents),
which must react to conversations without messaging importing them.

``event_logged`` is sent after commit for every event appended to a conversation's log
(``message.new``, ``reaction.changed``, ``member.joined``, …) with ``frame`` — exactly what
clients receive. Receivers run in the committing thread, inside the request: they must be
quick (enqueue a django-tasks task for anything slow or remote) and their exceptions are
logged, never propagated (the write has already happened).
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# kwargs: conversation_id (int), event_type (str), frame (dict)
event_logged = Signal()


def send_event_logged(conversation_id: int, event_type: str, frame: dict[str, Any]) -> None:
    for receiver, result in event_logged.send_robust(
        sender=None, conversation_id=conversation_id, event_type=event_type, frame=frame
    ):
        if isinstance(result, Exception):
            logger.error("event_logged receiver %r failed", receiver, exc_info=result)
