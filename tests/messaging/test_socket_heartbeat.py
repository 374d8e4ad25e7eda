"""Dead sockets are noticed: a real daphne process with short keepalive settings closes a peer
that stops answering WebSocket pings, and the rest of the workspace sees that person go
offline. A healthy idle socket (one that answers pings) stays open.

Production runs daphne's defaults (``--ping-interval 20 --ping-timeout 30``): the same
mechanism, noticed within about 52 s. Here 1 s / 2 s keep the test short.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.cluster import DAPHNE, Cluster, ServerProcess, free_port, raise_nofile
from tests.conftest import require_binary, require_postgres, require_redis

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Cluster, ServerProcess]]:
    admin_url = require_postgres()
    redis_url = require_redis()
    require_binary("daphne", str(Path(DAPHNE)))
    raise_nofile()
    cluster = Cluster(procs=0, redis_url=redis_url, admin_url=admin_url, people=3)
    try:
        cluster.start()
        port = free_port()
        argv = [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--ping-interval", "1", "--ping-timeout", "2"]
        process = ServerProcess(
            0, port, cluster.env(), cluster.data_dir / "daphne-heartbeat.log", argv=[*argv, "hub.asgi:application"]
        )
        cluster.servers.append(process)
        process.start()
        yield cluster, process
    finally:
        print(cluster.logs())
        cluster.close()


async def _frames_until(ws: ClientConnection, predicate: Any, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return dict(frame)


def _presence(user_id: int, status: str) -> Any:
    return lambda f: f["type"] == "presence" and f["user_id"] == user_id and f["status"] == status


def _silent_peer(port: int, token: str) -> socket.socket:
    """Complete the WebSocket handshake, then never read or answer anything (a phone that
    lost its network without closing the TCP connection)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response and len(response) < 10_000:
        chunk = sock.recv(4096)
        if not chunk:
            break
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response[:200]
    return sock


async def test_dead_peer_is_closed_and_reported_offline(server: tuple[Cluster, ServerProcess]) -> None:
    cluster, process = server
    assert cluster.seed is not None
    watcher, victim = cluster.seed.people[0], cluster.seed.people[1]
    async with connect(process.ws, additional_headers={"Authorization": f"Bearer {watcher.token}"}) as ws:
        await _frames_until(ws, lambda f: f["type"] == "ready", 10)
        await ws.send(json.dumps({"type": "sync", "cursors": {}}))
        await _frames_until(ws, lambda f: f["type"] == "sync.done", 10)
        started = time.monotonic()
        peer = await asyncio.to_thread(_silent_peer, process.port, victim.token)
        try:
            await _frames_until(ws, _presence(victim.user_id, "online"), 20)
            await _frames_until(ws, _presence(victim.user_id, "offline"), 30)
            noticed = time.monotonic() - started
        finally:
            peer.close()
    print(f"dead peer noticed (reported offline) after {noticed:.1f} s")
    # ping after ~1-3 s of silence (checked every 2 s) + 2 s timeout + the 2 s presence window:
    # ~5 s measured; the bound leaves room for a loaded 2-core machine.
    assert noticed < 20, noticed


async def test_idle_peer_that_answers_pings_stays_open(server: tuple[Cluster, ServerProcess]) -> None:
    cluster, process = server
    assert cluster.seed is not None
    person = cluster.seed.people[2]
    # The websockets client answers protocol pings by itself, like a browser.
    async with connect(process.ws, additional_headers={"Authorization": f"Bearer {person.token}"}) as ws:
        await _frames_until(ws, lambda f: f["type"] == "ready", 10)
        await asyncio.sleep(6)  # several ping intervals and timeouts of silence on our side
        await ws.send(json.dumps({"type": "ping", "t": "alive"}))
        pong = await _frames_until(ws, lambda f: f["type"] == "pong", 10)
        assert pong["t"] == "alive"
