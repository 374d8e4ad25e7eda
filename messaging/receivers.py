"""Reacting to ``hub`` signals: when someone's access is revoked, tell their open sockets,
which re-check access and close or unsubscribe."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from hub.signals import access_revoked
from messaging.events import LAYER_ACCESS, user_group
from messaging.publish import group_send_now


@receiver(access_revoked)
def _access_revoked(sender: Any, user_id: int, workspace_id: int | None, **kwargs: Any) -> None:
    group_send_now(user_group(user_id), {"type": LAYER_ACCESS, "workspace_id": workspace_id})
