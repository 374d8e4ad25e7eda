"""Per-process fan-out of conversation groups to the local ``/ws/`` sockets.

Without it every socket joined ``conv.<id>`` itself, so a message in a 1,000-member channel
cost, per socket: a layer message in the socket's own queue (msgpack-decoded per socket on
Redis, deep-copied per socket in memory), one channels dispatch, and a JSON encode of the
same frame. Here a process holds **one** layer subscription per conversation that at least
one of its sockets streams: a process channel joined to ``conv.<id>``. Each layer message is
received and decoded once, each frame encoded to JSON once, and handed to the local sockets'
delivery methods directly (``FanoutSocket``). The sockets keep their own cursors, held
events and gap replays (``messaging.consumers.socket``): the delivery guarantees do not
depend on this module, which like the layer itself may lose a message (healed by replay).

Subscriptions: the first local socket attaching to a conversation makes the process
``group_add`` its channel; the last one detaching (unsubscribe, access removed, disconnect)
makes it ``group_discard``. Joins and leaves of the layer are serialised by one lock, so an
UNSUBSCRIBE of a group never overtakes the SUBSCRIBE that follows it, and ``attach`` returns
only once the group is subscribed: an event published after that reaches the socket (the
socket reads the conversation's last seq after attaching, which is what closes the race).

One instance per event loop (daphne runs one; each test has its own).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer

from messaging.events import LAYER_EPHEMERAL, LAYER_EVENT, conversation_group

logger = logging.getLogger(__name__)

# The in-memory layer forgets a group member after ``group_expiry`` (a day by default); the
# process channel lives as long as the process, so it re-joins its groups well before that.
REFRESH_SECONDS = 3600.0


def encode_frame(frame: Any) -> str:
    """A frame as the socket's JSON text (compact, Chinese left as is)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class FanoutSocket(Protocol):
    """What the fan-out needs from a socket (``HubSocketConsumer``)."""

    channel_name: str

    async def live_event(self, event: dict[str, Any], text: str, appended_at: Any) -> None:
        """One logged event of a conversation the socket attached to, already encoded."""

    async def live_ephemeral(self, frame: dict[str, Any], text: str) -> None:
        """One ephemeral frame (typing, read.updated) of such a conversation, already encoded."""


class _Subscription:
    """The local sockets streaming one conversation, and whether its group is joined."""

    __slots__ = ("joined", "sockets")

    def __init__(self) -> None:
        # A dict, not a set: deliveries go out in attach order, the same on every run.
        self.sockets: dict[FanoutSocket, None] = {}
        self.joined = False


class ConversationFanout:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel = ""
        self.subscriptions: dict[int, _Subscription] = {}
        self.lock = asyncio.Lock()  # layer joins and leaves, in order
        self.receiver: asyncio.Task[None] | None = None
        self.refresher: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Future[None]] = set()  # the loop keeps only weak references

    # --- subscriptions -----------------------------------------------------------------------

    async def attach(self, conversation_id: int, socket: FanoutSocket) -> None:
        """Stream the conversation to this socket; returns once the layer group is joined.
        Raises if the layer cannot join it (the socket then is not attached)."""
        sub = self.subscriptions.get(conversation_id)
        if sub is None:
            sub = self.subscriptions[conversation_id] = _Subscription()
        sub.sockets[socket] = None
        if sub.joined:
            return  # the common case in a connect storm: no layer round trip at all
        async with self.lock:
            if sub.joined:
                return  # another socket's attach joined it while we waited
            try:
                await self._ensure_channel()
                await self._group_add(conversation_id)
            except BaseException:
                self._forget(conversation_id, socket, sub)
                raise
            sub.joined = True
            if self.subscriptions.get(conversation_id) is not sub:
                # Every socket left while we were joining: undo.
                await self._group_discard(conversation_id)

    async def detach(self, conversation_id: int, socket: FanoutSocket) -> None:
        """Stop streaming the conversation to this socket; the last one out leaves the group."""
        sub = self.subscriptions.get(conversation_id)
        if sub is None or socket not in sub.sockets:
            return
        self._forget(conversation_id, socket, sub)
        if sub.joined and self.subscriptions.get(conversation_id) is not sub:
            async with self.lock:
                # Unless a new socket attached meanwhile and joined a fresh subscription
                # (it waited for this lock, so its SUBSCRIBE comes after our UNSUBSCRIBE).
                await self._group_discard(conversation_id)

    def _forget(self, conversation_id: int, socket: FanoutSocket, sub: _Subscription) -> None:
        sub.sockets.pop(socket, None)
        if not sub.sockets and self.subscriptions.get(conversation_id) is sub:
            # Dropped at once: a socket attaching from now on starts a new subscription
            # (and waits for the lock, i.e. for our group_discard, before joining).
            del self.subscriptions[conversation_id]

    def streaming(self, conversation_id: int) -> list[FanoutSocket]:
        sub = self.subscriptions.get(conversation_id)
        return list(sub.sockets) if sub is not None else []

    async def _ensure_channel(self) -> None:
        if self.channel:
            return
        try:
            self.channel = await self.layer.new_channel()
        except Exception:
            # On Redis, new_channel SUBSCRIBEs; the first SUBSCRIBE after the layer's
            # connection dropped fails and re-makes the connection: one retry heals it.
            logger.warning("fan-out new_channel failed; retrying once", exc_info=True)
            self.channel = await self.layer.new_channel()
        self.receiver = asyncio.ensure_future(self._receive_loop())
        self.refresher = asyncio.get_running_loop().call_later(REFRESH_SECONDS, self._refresh)

    async def _group_add(self, conversation_id: int) -> None:
        group = conversation_group(conversation_id)
        try:
            await self.layer.group_add(group, self.channel)
        except Exception:
            # Same first-SUBSCRIBE-after-a-drop failure as above. Anything the group sent
            # meanwhile is healed by the sockets' replay (gap or tail check).
            logger.warning("fan-out group_add %s failed; retrying once", group, exc_info=True)
            await self.layer.group_add(group, self.channel)

    async def _group_discard(self, conversation_id: int) -> None:
        group = conversation_group(conversation_id)
        try:
            await self.layer.group_discard(group, self.channel)
        except Exception:
            # Redis down: the subscription dies with the connection anyway.
            logger.warning("fan-out group_discard %s failed", group, exc_info=True)

    def _refresh(self) -> None:
        self.refresher = asyncio.get_running_loop().call_later(REFRESH_SECONDS, self._refresh)
        task = asyncio.ensure_future(self._rejoin())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _rejoin(self) -> None:
        async with self.lock:
            for conversation_id, sub in list(self.subscriptions.items()):
                if sub.joined:
                    await self._group_add(conversation_id)

    # --- delivery ----------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("fan-out receive failed", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            try:
                await self.dispatch(message)
            except Exception:
                logger.exception("fan-out of a %s message failed", message.get("type"))

    async def dispatch(self, message: dict[str, Any]) -> None:
        """One layer message of a conversation group, to every local socket streaming it."""
        kind = message.get("type")
        if kind == LAYER_EVENT:
            event = message.get("event")
            if isinstance(event, dict):
                await self._fan_event(event, message.get("appended_at"))
        elif kind == LAYER_EPHEMERAL:
            frames = message.get("frames")
            for frame in frames if isinstance(frames, list) else [message.get("frame")]:
                if isinstance(frame, dict):
                    await self._fan_ephemeral(frame)

    async def _fan_event(self, event: dict[str, Any], appended_at: Any) -> None:
        cid = event.get("conversation_id")
        if not isinstance(cid, int) or not isinstance(event.get("seq"), int):
            return
        sockets = self.streaming(cid)  # a copy: sockets may detach while we deliver
        if not sockets:
            return
        text = encode_frame(event)  # once per process, not once per socket
        for socket in sockets:
            # Each socket delivers in order or queues for its own task: this loop never waits
            # for one socket's database work. A failing socket closes itself (1011).
            await socket.live_event(event, text, appended_at)

    async def _fan_ephemeral(self, frame: dict[str, Any]) -> None:
        cid = frame.get("conversation_id")
        sockets = self.streaming(cid) if isinstance(cid, int) else []
        if not sockets:
            return
        text = encode_frame(frame)
        for socket in sockets:
            await socket.live_ephemeral(frame, text)


_fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConversationFanout] = weakref.WeakKeyDictionary()


def fanout() -> ConversationFanout:
    """The fan-out of the running loop and the current channel layer (tests swap layers)."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    found = _fanouts.get(loop)
    if found is None or found.layer is not layer:
        if found is not None and found.receiver is not None:
            found.receiver.cancel()
        found = _fanouts[loop] = ConversationFanout(layer)
    return found
