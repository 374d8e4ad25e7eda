"""``/ws/docs/<id>/``: the y-websocket protocol. Thin: authenticate, check access, hand frames
to the room (``room.py``).

Close codes (docs/documents.md): 4401 not signed in, 4404 no such document (or not readable:
never confirms an id), 4400 malformed frame or Yjs update, 4413 frame too large, 4429 too many
frames, 4403 access ended while connected, 4409 the document was restored or the client's
``?epoch=`` is stale — reload.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from docs_collab import protocol, room
from docs_collab.access import DocumentGrant, access_document
from hub.errors import HubError
from hub.models import User
from messaging.consumers.state import credentials_valid
from messaging.events import user_group

logger = logging.getLogger(__name__)

CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429


class FrameBudget:
    """Token bucket per socket: a person typing sends tens of frames a second; a client that
    floods hundreds per second for long is broken or hostile and is closed."""

    def __init__(self, per_second: float, burst: float) -> None:
        self.per_second = per_second
        self.burst = burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _query_epoch(scope: dict[str, Any]) -> int | None:
    raw = scope.get("query_string", b"")
    try:
        values = parse_qs(raw.decode("ascii") if isinstance(raw, bytes) else str(raw)).get("epoch")
        return int(values[0]) if values else None
    except (UnicodeDecodeError, ValueError):
        return None


def _role_now(user_id: int, auth: dict[str, Any], document_id: int) -> str | None:
    """The socket's role now: its credentials still valid (account active, token unrevoked or
    session alive), then the document's access rules with the fresh user row."""
    if not credentials_valid(user_id, auth):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    try:
        return access_document(user, document_id).role
    except HubError:
        return None


class DocumentConsumer(AsyncWebsocketConsumer):
    user_id: int
    document_id: int
    auth: dict[str, Any]
    wants_edit: bool
    room: room.Room | None = None
    budget: FrameBudget

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        document_id = int(self.scope["url_route"]["kwargs"]["document_id"])
        try:
            grant: DocumentGrant = await database_sync_to_async(access_document)(user, document_id)
        except HubError:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        epoch = _query_epoch(self.scope)
        if epoch is not None and epoch != grant.document.epoch:
            await self.send_frame(
                protocol.encode_permission_denied(f"reload: the document is at epoch {grant.document.epoch}")
            )
            await self.close(code=room.CLOSE_RELOAD)
            return
        self.user_id = user.pk
        self.document_id = document_id
        self.wants_edit = grant.can_edit
        rate = settings.HUB_DOCS_FRAMES_PER_SECOND
        self.budget = FrameBudget(rate, rate * 4)
        self.auth = dict(self.scope.get("hub_auth") or {})
        self.room, _ = await room.join(document_id, self)
        if self.channel_layer is not None:
            # messaging tells ``user.<id>`` when this person's access changes anywhere
            # (deactivated, token revoked, removed from a conversation): re-check then.
            await self.channel_layer.group_add(user_group(user.pk), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None:
            return
        if bytes_data is None:
            await self._leave()
            await self.close(code=CLOSE_BAD_FRAME)  # the Yjs protocol is binary only
            return
        if len(bytes_data) > settings.HUB_DOCS_MAX_FRAME_BYTES:
            await self._leave()
            await self.close(code=CLOSE_TOO_LARGE)
            return
        if not self.budget.take():
            await self._leave()
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        try:
            await self.room.receive(self, bytes_data)
        except protocol.ProtocolError as exc:
            logger.info("document %s: closing a socket: %s", self.room.document_id, exc)
            await self._leave()
            await self.close(code=CLOSE_BAD_FRAME)

    async def _leave(self) -> None:
        if self.room is not None:
            current, self.room = self.room, None
            await room.leave(current, self)

    async def disconnect(self, code: int) -> None:
        await self._leave()
        if self.channel_layer is not None and getattr(self, "user_id", None) is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The user group carries frames meant for /ws/ sockets too; only ours are handled here.
        if not message["type"].startswith("websocket.") and not hasattr(self, get_handler_name(message)):
            return
        await super().dispatch(message)

    async def access_changed(self, message: dict[str, Any]) -> None:
        """messaging's ``access.changed`` on ``user.<id>``."""
        if self.room is None:
            return
        role = await self.current_role()
        if role is None:
            await self._leave()
            await self.close(code=room.CLOSE_ACCESS_ENDED)
            return
        await self.room.set_role(self, role)

    # --- room.Peer ---------------------------------------------------------------------------

    async def send_frame(self, data: bytes) -> None:
        await self.send(bytes_data=data)

    async def current_role(self) -> str | None:
        return await database_sync_to_async(_role_now)(self.user_id, self.auth, self.document_id)

    async def close_for(self, code: int) -> None:
        # Called from the room's own task: leaving here would make the room cancel the task
        # running this; the server's disconnect event calls `disconnect` → leave.
        await self.close(code=code)
