"""Faults under load, through the load balancer: a hub process killed with SIGKILL, Redis
restarted, PostgreSQL stopped for 30 s, the upload disk full.

Every test counts, per client, the messages sent and the messages received, and asserts exact
equality with the conversation's log: nothing lost, nothing applied twice, in the log's order.
Clients behave like the real ones (docs/protocol.md): a send is retried with the *same*
``client_id`` until it is acknowledged, and a socket that closes under a client is reopened
through the balancer with its cursors.

Redis and PostgreSQL are private instances on free loopback ports when a test stops them; the
machine's shared servers are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from bench.cluster import Cluster, PostgresServer, RedisServer, postgres_bindir
from bench.hubclient import HubSocket
from tests.conftest import missing_service, require_binary, require_redis
from tests.integration.test_multiprocess import logged_messages

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OUTAGE_S = 30.0


# --- clients that behave like real ones ------------------------------------------------------


async def open_socket(url: str, token: str, name: str, attempts: int = 20) -> HubSocket:
    sock = HubSocket(url, token, name=name)
    for attempt in range(1, attempts + 1):
        try:
            await sock.connect()
            await sock.wait_ready()
            await sock.sync_and_wait({})
            return sock
        except (InvalidStatus, InvalidMessage, OSError, ConnectionError, TimeoutError):
            await sock.close()
            if attempt == attempts:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


class Client:
    """One person's socket through the balancer, reopened (bounded, with backoff) whenever it
    closes under us — what the web app does."""

    def __init__(self, sock: HubSocket, entry: str) -> None:
        self.sock = sock
        self.entry = entry
        self.reconnects = 0
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while not self.stop.is_set():
            if self.sock.closed.is_set():
                with contextlib.suppress(InvalidStatus, InvalidMessage, OSError, ConnectionError, TimeoutError):
                    await self.sock.reconnect(self.entry, attempts=3, delay=0.5)
                    self.reconnects += 1
                    continue
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.stop.set()
        await self.task
        await self.sock.close()


class PatientSender:
    """Sends ``count`` messages one after the other; each is retried with the same client_id
    until acknowledged (after an error frame, a missing ack, or a closed socket)."""

    def __init__(self, client: Client, conv: int, label: str, count: int) -> None:
        self.client = client
        self.conv = conv
        self.label = label
        self.client_ids = [str(uuid.uuid4()) for _ in range(count)]
        self.acked: list[str] = []
        self.refused = 0  # sends answered by an error frame (the frames are in sock.stats.errors)
        self.attempts = 0

    async def run(self, deadline: float = 150.0, pause: float = 0.02) -> None:
        end = time.monotonic() + deadline
        sock = self.client.sock
        for i, cid in enumerate(self.client_ids):
            while True:
                assert time.monotonic() < end, f"{self.label}: message {i} not acknowledged within {deadline}s"
                if sock.closed.is_set():
                    await asyncio.sleep(0.2)  # the Client reopens it
                    continue
                self.attempts += 1
                try:
                    await sock.send_message(self.conv, f"{self.label} #{i} 你好", cid)
                    await sock.ack(cid, timeout=5)
                    break
                except RuntimeError:  # an error frame: the server could not commit it
                    self.refused += 1
                    await asyncio.sleep(0.5)
                except (ConnectionError, ConnectionClosed, TimeoutError):
                    await asyncio.sleep(0.2)
            self.acked.append(cid)
            await asyncio.sleep(pause)


async def converge(cluster: Cluster, clients: list[Client], conv: int, token: str, limit: float = 60.0) -> int:
    """Post a message every second until every client has the log's last seq (a client learns
    of a gap from the next live event); returns that seq."""
    deadline = time.monotonic() + limit
    while True:
        final = await last_seq_http(cluster, conv, token)
        if all(c.sock.cursors.get(conv, 0) >= final for c in clients):
            return final
        assert time.monotonic() < deadline, (
            f"clients did not converge: {[c.sock.cursors.get(conv) for c in clients]} < {final}\n{cluster.logs()}"
        )
        await asyncio.to_thread(http_json, cluster, "POST", f"/api/v1/conversations/{conv}/messages", token,
                                {"body": "nudge", "client_id": str(uuid.uuid4())})  # fmt: skip
        await asyncio.sleep(1.0)


def http_json(cluster: Cluster, method: str, path: str, token: str, body: Any = None) -> Any:
    return cluster.api(cluster.entry, method, path, token, body)


async def last_seq_http(cluster: Cluster, conv: int, token: str) -> int:
    page = await asyncio.to_thread(http_json, cluster, "GET", f"/api/v1/conversations/{conv}/events?after_seq=0", token)
    return int(page["last_seq"])


async def assert_every_client_got_the_log(
    cluster: Cluster, clients: list[Client], conv: int, token: str, senders: list[PatientSender]
) -> None:
    """Per client: the messages received are exactly the messages sent (the log), in order."""
    for sender in senders:
        assert sender.acked == sender.client_ids, f"{sender.label}: not every message was acknowledged"
    final = await converge(cluster, clients, conv, token)
    logged = await logged_messages(cluster, cluster.entry, conv, token)  # also asserts a gap-free log
    logged_ids = [m["client_id"] for m in logged]
    sent = {cid for s in senders for cid in s.client_ids}
    # Sent vs stored: every message once (retries were idempotent), none extra.
    assert len(logged_ids) == len(set(logged_ids)), "the log holds a message twice"
    assert sent <= set(logged_ids), f"{len(sent - set(logged_ids))} sent messages are not in the log"
    for client in clients:
        sock = client.sock
        seqs = [seq for seq, *_ in sock.applied[conv]]
        assert seqs == list(range(1, final + 1)), f"{sock.name}: applied seqs are not exactly 1..{final}"
        received = sock.message_client_ids(conv)
        assert received == logged_ids, (
            f"{sock.name}: received {len(received)} messages, the log has {len(logged_ids)} "
            f"(missing {len(set(logged_ids) - set(received))}, duplicates {len(received) - len(set(received))})"
        )
        mine = [cid for cid in received if cid in sent]
        assert len(mine) == len(sent), f"{sock.name}: sent {len(sent)}, received {len(mine)}"


async def start_clients(cluster: Cluster, tokens: list[str], prefix: str) -> list[Client]:
    entry = cluster.entry.ws
    socks = [await open_socket(entry, t, f"{prefix}{i}") for i, t in enumerate(tokens)]
    return [Client(s, entry) for s in socks]


async def close_clients(clients: list[Client]) -> None:
    for client in clients:
        await client.close()


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


# --- a process dies ----------------------------------------------------------------------------


async def test_kill_9_a_hub_process_under_load_clients_move_to_the_other(make_cluster: Any) -> None:
    cluster = make_cluster(procs=2, people=10, balancer=True)
    people = cluster.seed.people
    conv = cluster.seed.conversations["general"]
    token = people[0].token
    receivers = await start_clients(cluster, [p.token for p in people[2:10]], "r")
    senders_ = await start_clients(cluster, [people[0].token, people[1].token], "s")
    senders = [PatientSender(c, conv, f"S{i}", 80) for i, c in enumerate(senders_)]
    try:
        sending = [asyncio.create_task(s.run()) for s in senders]
        await wait_for(lambda: all(len(s.acked) >= 25 for s in senders), 60, "the senders to get going")
        victim = cluster.servers[0]
        victim.kill()  # SIGKILL: no goodbye to any socket
        await asyncio.wait_for(asyncio.gather(*sending), 180)
        clients = receivers + senders_
        # Round-robin put about half of the sockets on the victim: they had to move.
        assert sum(c.reconnects for c in clients) >= 2, "the kill reached no client"
        await assert_every_client_got_the_log(cluster, clients, conv, token, senders)
        assert cluster.servers[1].alive()
    finally:
        await close_clients(receivers + senders_)


# --- Redis restarts -------------------------------------------------------------------------------


async def test_redis_restart_delivery_resumes_and_clients_catch_up(
    make_cluster: Any, private_redis: RedisServer
) -> None:
    cluster = make_cluster(procs=2, people=8, balancer=True, redis_url=private_redis.url)
    people = cluster.seed.people
    conv = cluster.seed.conversations["general"]
    token = people[0].token
    receivers = await start_clients(cluster, [p.token for p in people[2:8]], "r")
    senders_ = await start_clients(cluster, [people[0].token, people[1].token], "s")
    senders = [PatientSender(c, conv, f"S{i}", 60) for i, c in enumerate(senders_)]
    try:
        sending = [asyncio.create_task(s.run()) for s in senders]
        await wait_for(lambda: all(len(s.acked) >= 20 for s in senders), 60, "the senders to get going")
        private_redis.stop()  # SIGKILL; nothing persisted (--save "")
        await asyncio.sleep(2.0)
        private_redis.start()  # same port, empty
        await asyncio.wait_for(asyncio.gather(*sending), 180)
        clients = receivers + senders_
        await assert_every_client_got_the_log(cluster, clients, conv, token, senders)
        # Live delivery works again: one more message reaches every socket without a nudge.
        sent = await asyncio.to_thread(http_json, cluster, "POST", f"/api/v1/conversations/{conv}/messages", token,
                                       {"body": "after the restart", "client_id": str(uuid.uuid4())})  # fmt: skip
        for client in clients:
            assert await client.sock.wait_seq(conv, sent["seq"], timeout=15), f"{client.sock.name}: no live delivery"
        print("reconnects per client:", [c.reconnects for c in clients])
    finally:
        await close_clients(receivers + senders_)


# --- PostgreSQL stops for 30 s ----------------------------------------------------------------------


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None or not (bindir / "postgres").exists():
        missing_service("PostgreSQL server binaries", "no initdb/postgres under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    workdir = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    server = PostgresServer(workdir, bindir)
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("fast")
        shutil.rmtree(workdir, ignore_errors=True)


def probe_history(cluster: Cluster, conv: int, token: str) -> tuple[int, str]:
    """(status, error code) of a history read through the balancer."""
    response = httpx.get(
        f"{cluster.entry.http}/api/v1/conversations/{conv}/messages?limit=5",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    code = "" if response.status_code == 200 else response.json().get("error", {}).get("code", "")
    return response.status_code, code


async def test_postgres_down_30s_clear_errors_then_recovery_without_loss(private_postgres: PostgresServer) -> None:
    require_binary("daphne", str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "daphne"))
    cluster = Cluster(procs=2, people=6, balancer=True, admin_url=private_postgres.url, redis_url=require_redis())
    cluster.start()
    clients: list[Client] = []
    try:
        people = cluster.seed.people  # type: ignore[union-attr]
        conv = cluster.seed.conversations["general"]  # type: ignore[union-attr]
        token = people[0].token
        receivers = await start_clients(cluster, [p.token for p in people[1:6]], "r")
        sender_client = (await start_clients(cluster, [token], "s"))[0]
        clients = [*receivers, sender_client]
        sender = PatientSender(sender_client, conv, "S", 40)
        sending = asyncio.create_task(sender.run(deadline=OUTAGE_S + 120, pause=0.3))
        await wait_for(lambda: len(sender.acked) >= 10, 60, "the sender to get going")

        private_postgres.stop("immediate")  # a crash: no shutdown checkpoint, WAL replay at start
        outage_end = time.monotonic() + OUTAGE_S
        answers: list[tuple[int, str]] = []
        acked_during = len(sender.acked)
        while time.monotonic() < outage_end:
            answers.append(await asyncio.to_thread(probe_history, cluster, conv, token))
            await asyncio.sleep(1.0)
        acked_during = len(sender.acked) - acked_during
        private_postgres.start()

        # Clear errors: every HTTP answer during the outage was 503 database_unavailable (no 500,
        # no hang); the socket answered the sends with error frames carrying a code.
        assert answers and all(a == (503, "database_unavailable") for a in answers), answers
        assert acked_during <= 1, "sends cannot commit without the database"  # one may race the stop
        assert sender.refused, "the socket gave no error frame for sends during the outage"
        errors = sender_client.sock.stats.errors
        assert errors and all(e.get("code") and e.get("client_id") in sender.client_ids for e in errors), errors

        # Recovery without manual steps: the same processes answer again ...
        deadline = time.monotonic() + 30
        while (status := (await asyncio.to_thread(probe_history, cluster, conv, token))[0]) != 200:
            assert time.monotonic() < deadline, f"still {status} 30 s after PostgreSQL came back"
            await asyncio.sleep(0.5)
        await asyncio.wait_for(sending, OUTAGE_S + 120)
        # ... every message the sender retried committed exactly once, and every client has them.
        await assert_every_client_got_the_log(cluster, clients, conv, token, [sender])
        # No corruption: amcheck verifies every B-tree index of the database against its table.
        check = subprocess.run(
            [str(private_postgres.bindir / "pg_amcheck"), "--install-missing", "--heapallindexed",
             "-h", "127.0.0.1", "-p", str(private_postgres.port), "-U", "postgres", "-d", cluster.db_name],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        assert all(s.alive() for s in cluster.servers), cluster.logs()
    finally:
        await close_clients(clients)
        cluster.close()


# --- the upload disk fills up -------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_filesystem(path: Path, size: str = "1m") -> Iterator[Path]:
    """A real size-limited filesystem (tmpfs) mounted at ``path``; mounting needs root."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        missing_service("a size-limited filesystem", f"mount -t tmpfs failed: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def upload(cluster: Cluster, conv: int, token: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{cluster.entry.http}/api/v1/conversations/{conv}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, data, "text/plain")},
        timeout=30,
    )


def stored_attachment_names(cluster: Cluster) -> list[str]:
    import psycopg

    with psycopg.connect(cluster.database_url, connect_timeout=10) as conn:
        rows = conn.execute("SELECT original_name FROM messaging_attachment ORDER BY original_name").fetchall()
    return [r[0] for r in rows]


def used_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


async def test_full_upload_disk_answers_storage_full_and_nothing_else_breaks(make_cluster: Any) -> None:
    if os.geteuid() != 0:
        missing_service("a size-limited filesystem", "mounting a tmpfs needs root")
    cluster = make_cluster(procs=1, people=3, balancer=True)
    people = cluster.seed.people
    conv = cluster.seed.conversations["general"]
    token = people[0].token
    with tiny_filesystem(cluster.data_dir / "files", "1m") as files:
        clients = await start_clients(cluster, [people[1].token, people[2].token], "r")
        sender = PatientSender(clients[1], conv, "S", 20)
        try:
            first = await asyncio.to_thread(
                upload, cluster, conv, token, "报价单.txt", "价格 100 元\n".encode() * 20_000
            )
            assert first.status_code == 201, first.text
            used = used_bytes(files)
            # More than is left: the disk fills up half-way through the write.
            full = await asyncio.to_thread(upload, cluster, conv, token, "大文件.txt", b"x" * 900_000)
            assert full.status_code == 507, full.text
            assert full.json()["error"]["code"] == "storage_full"
            # Nothing half-written stays behind to keep the space ...
            assert used_bytes(files) == used
            # ... so a small file still fits, and messaging never noticed.
            small = await asyncio.to_thread(upload, cluster, conv, token, "备注.txt", "明天发货\n".encode())
            assert small.status_code == 201, small.text
            await sender.run(deadline=60)
            message = await asyncio.to_thread(http_json, cluster, "POST", f"/api/v1/conversations/{conv}/messages",
                                              token, {"body": "附件", "client_id": str(uuid.uuid4()),
                                                      "attachment_ids": [small.json()["id"]]})  # fmt: skip
            assert [a["id"] for a in message["attachments"]] == [small.json()["id"]]
            # The refused upload left no row either; the first file is intact.
            assert stored_attachment_names(cluster) == ["备注.txt", "报价单.txt"]
            download = await asyncio.to_thread(
                httpx.get, f"{cluster.entry.http}/api/v1/attachments/{first.json()['id']}",
                headers={"Authorization": f"Bearer {token}"}, timeout=15,
            )  # fmt: skip
            assert download.content == "价格 100 元\n".encode() * 20_000
            await assert_every_client_got_the_log(cluster, clients, conv, token, [sender])
        finally:
            await close_clients(clients)
