"""``make cluster`` for real: PostgreSQL + Redis + 2 daphne processes + worker + indexer behind
the load balancer, exercised the way a browser would use it (sign in through the balancer,
one socket on each process, a message crosses from one process to the other)."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.cluster import Cluster
from tests.integration.conftest import make_cluster, template_db  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "cluster-Test-2026"


def sign_in(base: str, email: str, password: str) -> str:
    """The HTML sign-in form through the balancer; returns the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=15) as resp:
        page = resp.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "login": email, "password": password})
    with opener.open(f"{base}/accounts/login/", data=form.encode(), timeout=15) as resp:
        assert resp.status == 200
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    assert session, "signing in through the balancer set no session cookie"
    return session


def balancer_status(base: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/__balancer__", timeout=5) as resp:
        return list(json.loads(resp.read())["backends"])


async def recv_type(ws: ClientConnection, frame_type: str, timeout: float = 20.0) -> dict[str, Any]:
    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return dict(frame)

    return await asyncio.wait_for(loop(), timeout)


async def open_socket(cluster: Cluster, session: str) -> tuple[ClientConnection, str]:
    """A browser-like socket through the balancer, and the backend it landed on."""
    assert cluster.balancer is not None
    base = cluster.balancer.http
    before = {b["address"]: b["total"] for b in await asyncio.to_thread(balancer_status, base)}
    ws = await connect(
        f"ws://127.0.0.1:{cluster.balancer.port}/ws/",
        additional_headers={"Cookie": f"sessionid={session}", "Origin": base},
        open_timeout=15,
    )
    await recv_type(ws, "ready")
    await ws.send(json.dumps({"type": "sync", "cursors": {}}))
    await recv_type(ws, "sync.done")
    after = await asyncio.to_thread(balancer_status, base)
    landed = [b["address"] for b in after if b["total"] > before.get(b["address"], 0)]
    assert len(landed) == 1, after
    return ws, landed[0]


async def test_cluster_serves_through_the_balancer_across_processes(make_cluster: Callable[..., Cluster]) -> None:  # noqa: F811
    cluster = make_cluster(procs=2, people=3, balancer=True, worker=True, indexer=True, password=PASSWORD)
    assert cluster.balancer is not None and cluster.seed is not None
    base = cluster.balancer.http
    assert all(p.alive() for p in cluster.workers), cluster.logs()
    session = await asyncio.to_thread(sign_in, base, "owner@bench.test", PASSWORD)

    # Round-robin puts consecutive sockets on different processes; open until both have one.
    sockets: dict[str, ClientConnection] = {}
    for _ in range(4):
        ws, backend = await open_socket(cluster, session)
        if backend in sockets:
            await ws.close()
            continue
        sockets[backend] = ws
        if len(sockets) == 2:
            break
    assert len(sockets) == 2, "the balancer never used the second process"
    sender, receiver = sockets.values()
    before = await asyncio.to_thread(cluster.scrape)
    assert before[("hub_websockets_open", (("endpoint", "/ws/"),))] == 2  # one on each process

    conv = cluster.seed.conversations["general"]
    client_id = str(uuid.uuid4())
    body = f"跨进程 via balancer {client_id[:8]}"
    frame = {"type": "message.send", "conversation_id": conv, "client_id": client_id, "body": body}
    await sender.send(json.dumps(frame))
    ack = await recv_type(sender, "message.ack")
    assert ack["message"]["body"] == body
    delivered = await recv_type(receiver, "message.new")
    assert delivered["message"]["client_id"] == client_id and delivered["seq"] == ack["message"]["seq"]
    # Summed over the processes: one event appended, delivered to both sockets (the sender's
    # own copy and the receiver's), each delivery timed.
    after = await asyncio.to_thread(cluster.scrape)
    appended = after[("hub_events_appended_total", ())] - before[("hub_events_appended_total", ())]
    fanned = after[("hub_fanout_latency_seconds_count", ())] - before[("hub_fanout_latency_seconds_count", ())]
    assert (appended, fanned) == (1, 2)

    # The indexer (a separate process) makes it searchable; the API answers through the balancer.
    owner_token = cluster.seed.people[0].token

    def search() -> list[Any]:
        query = urllib.parse.urlencode({"workspace": cluster.seed.workspace_id, "q": "跨进程"})  # type: ignore[union-attr]
        request = urllib.request.Request(
            f"{base}/api/v1/search?{query}", headers={"Authorization": f"Bearer {owner_token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return list(json.loads(resp.read())["results"])

    found: list[Any] = []
    for _ in range(100):  # bounded wait for the separate indexer process
        found = await asyncio.to_thread(search)
        if found:
            break
        await asyncio.sleep(0.2)
    assert [r["message_id"] for r in found] == [ack["message"]["id"]]
    for ws in sockets.values():
        await ws.close()

    # A dead process is skipped: every new request still succeeds through the balancer.
    cluster.servers[0].kill()
    for _ in range(4):
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as resp:
            assert resp.status == 200
    statuses = {b["address"]: b["up"] for b in await asyncio.to_thread(balancer_status, base)}
    assert statuses[f"127.0.0.1:{cluster.servers[0].port}"] is False

    cluster.close()
    assert not cluster.balancer.alive() and not any(p.alive() for p in cluster.workers)
