"""The minimal baseline for the messaging benchmark: a bare ``websockets`` broadcast server
over Redis pub/sub. No database, no Django, no auth, no permission checks — the floor that
Python + websockets + Redis on this machine can do, so the hub's figures can be read as a ratio.

It speaks just enough of the hub's frames for the same benchmark client:

* client ``{"type": "message.send", "conversation_id", "client_id", "body"}`` → a per-room
  ``seq`` from ``INCR``, one ``PUBLISH`` to the room, and ``message.ack`` to the sender;
* every process subscribes once to every room and broadcasts each published frame
  (``message.new``) to all of its local sockets;
* ``sync`` frames are ignored (there is no log to replay); ``GET /healthz`` answers 200.

Run: ``.venv/bin/python bench/baseline_ws_server.py --port 8100 --redis redis://127.0.0.1:6379/0
--prefix <unique>``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from http import HTTPStatus

import redis.asyncio as aioredis
from websockets.asyncio.server import Request, Response, ServerConnection, broadcast, serve


async def run(port: int, redis_url: str, prefix: str) -> None:
    # socket_timeout=None: redis-py 8's 5 s default would kill the idle subscriber (the same
    # guard the hub's channel layer needs).
    redis = aioredis.from_url(redis_url, socket_timeout=None)
    room_channel = f"{prefix}:rooms"
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") != "message.send":
                    continue
                conv = int(frame["conversation_id"])
                seq = await redis.incr(f"{prefix}:seq:{conv}")
                message = {
                    "conversation_id": conv,
                    "seq": seq,
                    "client_id": frame["client_id"],
                    "body": frame["body"],
                }
                await redis.publish(
                    room_channel,
                    json.dumps({"type": "message.new", "conversation_id": conv, "seq": seq, "message": message}),
                )
                await ws.send(json.dumps({"type": "message.ack", "client_id": frame["client_id"], "message": message}))
        finally:
            clients.discard(ws)

    async def pump() -> None:
        pubsub = redis.pubsub()
        await pubsub.subscribe(room_channel)
        async for item in pubsub.listen():
            if item["type"] == "message":
                broadcast(clients, item["data"].decode())

    def health(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        return None

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    pump_task = asyncio.create_task(pump())
    async with serve(
        handler, "127.0.0.1", port, process_request=health, compression=None, ping_interval=None, max_queue=None
    ):
        await stop
    pump_task.cancel()
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default="baseline")
    args = parser.parse_args()
    asyncio.run(run(args.port, args.redis, args.prefix))


if __name__ == "__main__":
    main()
