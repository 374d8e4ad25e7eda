"""Delivery across real processes: two (or more) daphne processes on PostgreSQL + Redis.

The contract under test (ARCHITECTURE.md, "Delivery guarantees"): any process can serve any
client; the channel layer is only a fast path; a client that reconnects — to any process —
with its cursors gets everything it missed, exactly once and in order; retried sends are
idempotent by ``client_id``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from bench.cluster import Cluster, RedisServer, ServerProcess
from bench.hubclient import HubSocket

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


# --- helpers ---------------------------------------------------------------------------------


async def connect(server: ServerProcess, token: str, name: str, **kwargs: Any) -> HubSocket:
    sock = await HubSocket(server.ws, token, name=name, **kwargs).connect()
    await sock.wait_ready()
    return sock


async def api(cluster: Cluster, server: ServerProcess, method: str, path: str, token: str, body: Any = None) -> Any:
    return await asyncio.to_thread(cluster.api, server, method, path, token, body)


async def last_seq(cluster: Cluster, server: ServerProcess, conv: int, token: str) -> int:
    events = (await api(cluster, server, "GET", f"/api/v1/conversations/{conv}/events?after_seq=0", token))["events"]
    return max(e["seq"] for e in events)


async def logged_messages(cluster: Cluster, server: ServerProcess, conv: int, token: str) -> list[dict[str, Any]]:
    events = (await api(cluster, server, "GET", f"/api/v1/conversations/{conv}/events?after_seq=0", token))["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "the event log has a gap"
    return [e["message"] for e in events if e["type"] == "message.new"]


def assert_exactly_once_in_order(sock: HubSocket, conv: int, final_seq: int, expected_client_ids: set[str]) -> None:
    applied = sock.applied[conv]
    seqs = [seq for seq, *_ in applied]
    assert seqs == list(range(1, final_seq + 1)), f"{sock.name}: applied seqs are not exactly 1..{final_seq}"
    client_ids = [c for c in sock.message_client_ids(conv) if c in expected_client_ids]
    assert len(client_ids) == len(set(client_ids)), f"{sock.name}: a message was applied twice"
    assert set(client_ids) == expected_client_ids, f"{sock.name}: {len(expected_client_ids - set(client_ids))} missing"
    message_ids = [m for _, t, m, _ in applied if t == "message.new"]
    assert len(message_ids) == len(set(message_ids)), f"{sock.name}: duplicate message ids"


class Sender:
    """Sends ``count`` messages through one socket with up to ``window`` in flight; when the
    socket dies it reconnects to ``failover`` and re-sends every unacknowledged message with
    the *same* client_id (the retry a real client does)."""

    def __init__(self, sock: HubSocket, conv: int, count: int, label: str, *, window: int = 4, pause: float = 0.02):
        self.sock = sock
        self.conv = conv
        self.client_ids = [str(uuid.uuid4()) for _ in range(count)]
        self.label = label
        self.window = window
        self.pause = pause
        self.acks: dict[str, dict[str, Any]] = {}
        self.failovers = 0
        self.retried = 0

    async def run(self, failover: ServerProcess | None = None, deadline: float = 60.0) -> None:
        end = time.monotonic() + deadline
        next_index = 0
        in_flight: list[str] = []
        while len(self.acks) < len(self.client_ids):
            assert time.monotonic() < end, f"sender {self.label} did not finish within {deadline}s"
            try:
                while len(in_flight) < self.window and next_index < len(self.client_ids):
                    cid = self.client_ids[next_index]
                    await self.sock.send_message(self.conv, f"{self.label} #{next_index} 你好", cid)
                    in_flight.append(cid)
                    next_index += 1
                    await asyncio.sleep(self.pause)
                cid = in_flight[0]
                ack = await self.sock.ack(cid, timeout=15)
                self.acks[cid] = ack["message"]
                in_flight.pop(0)
            except (ConnectionError, ConnectionClosed):
                assert failover is not None, f"sender {self.label} lost its socket and has no failover"
                self.failovers += 1
                await self.sock.reconnect(failover.ws)
                failover = None
                # Re-send what was not acknowledged, same client_ids (idempotent on the server).
                for cid in in_flight:
                    self.retried += 1
                    await self.sock.send_message(self.conv, f"{self.label} retry", cid)


# --- tests -----------------------------------------------------------------------------------


async def test_message_sent_through_one_process_reaches_a_socket_on_another(make_cluster: Any) -> None:
    cluster = make_cluster(procs=2, people=3)
    a, b = cluster.servers
    seed = cluster.seed
    conv = seed.conversations["general"]
    sender = await connect(a, seed.people[0].token, "sender", track=False)
    receiver = await connect(b, seed.people[1].token, "receiver")
    try:
        await receiver.sync_and_wait({conv: 0})
        # Over the socket on A ...
        cid = await sender.send_message(conv, "来自进程 A 的消息")
        ack = await sender.ack(cid)
        assert ack["message"]["conversation_id"] == conv
        assert await receiver.wait_seq(conv, ack["message"]["seq"], timeout=10), cluster.logs()
        # ... and over HTTP on A.
        sent = await api(cluster, a, "POST", f"/api/v1/conversations/{conv}/messages", seed.people[2].token, {
            "body": "via HTTP on A", "client_id": str(uuid.uuid4())})  # fmt: skip
        assert await receiver.wait_seq(conv, sent["seq"], timeout=10), cluster.logs()
        bodies = [m for _, t, m, _ in receiver.applied[conv] if t == "message.new"]
        assert bodies[-2:] == [ack["message"]["id"], sent["id"]]
        assert receiver.stats.duplicates == 0 and receiver.stats.gaps == 0
    finally:
        await sender.close()
        await receiver.close()


async def test_kill_a_process_mid_stream_every_message_arrives_exactly_once_in_order(make_cluster: Any) -> None:
    cluster = make_cluster(procs=2, people=10)
    a, b = cluster.servers
    seed = cluster.seed
    conv = seed.conversations["general"]
    people = seed.people
    on_a = [await connect(a, people[i].token, f"a{i}") for i in range(1, 5)]
    on_b = [await connect(b, people[i].token, f"b{i}") for i in range(5, 9)]
    receivers = on_a + on_b
    for sock in receivers:
        await sock.sync_and_wait({conv: 0})
    # One sender keeps sending through B; another sends through A and fails over to B.
    through_b = Sender(await connect(b, people[0].token, "sender-b", track=False), conv, 120, "B")
    through_a = Sender(await connect(a, people[9].token, "sender-a", track=False), conv, 120, "A")
    try:
        sending = [asyncio.create_task(through_b.run()), asyncio.create_task(through_a.run(failover=b))]
        # Let both streams run, then kill A without warning while messages are in flight.
        deadline = time.monotonic() + 60  # generous: the machine may be busy with other work
        while len(through_a.acks) < 40 or len(through_b.acks) < 40:
            assert time.monotonic() < deadline, "senders made no progress before the kill"
            await asyncio.sleep(0.02)
        a.kill()  # SIGKILL
        # Clients of A notice the dead socket and reconnect to B with their cursors.
        for sock in on_a:
            assert await sock.wait_until(sock.closed.is_set, timeout=10), f"{sock.name} did not notice the kill"
            await sock.reconnect(b.ws)
        await asyncio.wait_for(asyncio.gather(*sending), timeout=90)

        assert through_a.failovers == 1
        expected = set(through_a.client_ids) | set(through_b.client_ids)
        # The log holds each client_id exactly once: retried sends were idempotent.
        logged = await logged_messages(cluster, b, conv, people[0].token)
        logged_ids = [m["client_id"] for m in logged]
        assert len(logged_ids) == len(set(logged_ids)) and set(logged_ids) == expected
        final = await last_seq(cluster, b, conv, people[0].token)
        for sock in receivers:
            assert await sock.wait_seq(conv, final, timeout=30), f"{sock.name} stuck at {sock.cursors.get(conv)}"
        for sock in receivers:
            assert_exactly_once_in_order(sock, conv, final, expected)
        # And the order every client applied is the log's order.
        logged_order = [m["id"] for m in logged]
        for sock in receivers:
            assert [m for _, t, m, _ in sock.applied[conv] if t == "message.new"] == logged_order
    finally:
        for sock in [*receivers, through_a.sock, through_b.sock]:
            await sock.close()


async def test_idle_socket_survives_past_the_redis_socket_timeout(make_cluster: Any) -> None:
    """redis-py 8 defaults to a 5 s socket timeout that kills an idle pub/sub consumer
    (channels_redis#422). After 7 s of silence a message from the other process still arrives."""
    cluster = make_cluster(procs=2, people=2)
    a, b = cluster.servers
    seed = cluster.seed
    conv = seed.conversations["general"]
    receiver = await connect(b, seed.people[1].token, "idle")
    sender = await connect(a, seed.people[0].token, "sender", track=False)
    try:
        await receiver.sync_and_wait({conv: 0})
        start = receiver.cursors[conv]
        await asyncio.sleep(7.0)  # idle on every connection: sockets, layer subscriber, publisher
        assert not receiver.closed.is_set(), f"idle socket closed (code {receiver.close_code})"
        cid = await sender.send_message(conv, "after 7 s of silence")
        ack = await sender.ack(cid)
        assert ack["message"]["seq"] == start + 1
        # Live delivery, not a replay: the receiver sends nothing, so only the layer can bring it.
        assert await receiver.wait_seq(conv, start + 1, timeout=5), cluster.logs()
        assert receiver.stats.gaps == 0
    finally:
        await sender.close()
        await receiver.close()


class PubSubKiller:
    """Makes the channel layer drop messages while Redis itself stays up: kills every pub/sub
    connection of our private Redis every 20 ms, so each process's layer subscriber is gone
    (channels_redis waits ~1 s before reconnecting) and PUBLISH reaches nobody. Commands on
    ordinary connections (the cache, publishing) keep working."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5)
        self.stop = asyncio.Event()
        self.killed = 0

    async def run(self, limit: float = 60.0) -> None:
        end = time.monotonic() + limit
        while not self.stop.is_set() and time.monotonic() < end:
            self.killed += await asyncio.to_thread(self.redis.client_kill_filter, _type="pubsub")
            await asyncio.sleep(0.02)

    def subscribers(self, channel_pattern: str) -> int:
        return sum(n for _, n in self.redis.pubsub_numsub(*self.redis.pubsub_channels(channel_pattern)))


async def test_clients_converge_by_replay_when_the_layer_drops_messages(
    make_cluster: Any, private_redis: RedisServer
) -> None:
    """The layer is only a fast path. While it drops every message, sends still commit and
    nothing arrives live. When it is back, the next live event reveals the gap (to the server,
    which replays, or to the client, which asks with ``sync`` after its cursor); a client that
    reconnects gets the rest by replay. Every client ends with the full sequence, exactly once
    and in order."""
    cluster = make_cluster(procs=2, people=8, redis_url=private_redis.url)
    a, b = cluster.servers
    seed = cluster.seed
    conv = seed.conversations["general"]
    token = seed.people[0].token
    receivers = [await connect(cluster.servers[i % 2], seed.people[i].token, f"r{i}") for i in range(1, 7)]
    sent: list[str] = []
    killer = PubSubKiller(private_redis.url)

    async def send_http(server: ServerProcess, n: int, label: str) -> None:
        for i in range(n):
            cid = str(uuid.uuid4())
            await api(cluster, server, "POST", f"/api/v1/conversations/{conv}/messages", token,
                      {"body": f"{label} {i}", "client_id": cid})  # fmt: skip
            sent.append(cid)

    try:
        for sock in receivers:
            await sock.sync_and_wait({conv: 0})
        await send_http(a, 5, "layer up")
        top = await last_seq(cluster, a, conv, token)
        for sock in receivers:
            assert await sock.wait_seq(conv, top, timeout=10), f"{sock.name}: live delivery failed with the layer up"
        assert all(s.stats.gaps == 0 for s in receivers)

        killing = asyncio.create_task(killer.run())
        await asyncio.sleep(0.2)
        assert killer.killed >= 2, "expected to kill both processes' layer subscribers"
        await send_http(a, 5, "layer dropping A")
        await send_http(b, 5, "layer dropping B")
        during_outage = await last_seq(cluster, b, conv, token)
        assert during_outage == top + 10, "sends must commit while the layer drops messages"
        await asyncio.sleep(0.5)
        killer.stop.set()
        await killing
        dropped = [s.cursors[conv] for s in receivers]
        assert all(c == top for c in dropped), f"some frames got through the outage: {dropped} (top {top})"

        # One client does not wait for the layer: it reconnects and replays. (It may need a
        # retry: right after its pub/sub connection was killed, channels_redis fails the first
        # SUBSCRIBE of a new socket and daphne answers the handshake with 500.)
        await receivers[0].reconnect(b.ws, attempts=10)
        print("handshakes refused right after the outage:", receivers[0].failed_connects)
        assert receivers[0].cursors[conv] == during_outage
        # The others learn of the gap from the next live event. Bounded retries: each layer
        # subscriber needs about a second to come back after the last kill.
        deadline = time.monotonic() + 30
        while not all(s.cursors[conv] >= during_outage for s in receivers):
            assert time.monotonic() < deadline, (
                f"clients did not converge: {[s.cursors[conv] for s in receivers]} < {during_outage}\n{cluster.logs()}"
            )
            await send_http(a if len(sent) % 2 else b, 1, "after outage")
            await asyncio.sleep(1.0)
        final = await last_seq(cluster, a, conv, token)
        for sock in receivers:
            assert await sock.wait_seq(conv, final, timeout=15), f"{sock.name} stuck at {sock.cursors[conv]}"
            assert_exactly_once_in_order(sock, conv, final, set(sent))
        # The others never reconnected: the gap was filled on their open sockets, either by the
        # server replaying on a layer event whose seq jumped, or by the client's own resync.
        print("client-side gap resyncs:", [s.stats.gaps for s in receivers[1:]])
    finally:
        killer.stop.set()
        for sock in receivers:
            await sock.close()
