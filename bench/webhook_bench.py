"""Integrations benchmark: incoming webhook requests per second sustained, latency from a
webhook request to the message arriving on a socket, and outgoing event delivery rate with
retries.

    .venv/bin/python bench/webhook_bench.py [--requests 600] [--concurrency 8] [--samples 100] [--events 200]

Runs one daphne process and the task worker (``manage.py worker``) on PostgreSQL with the
in-memory channel layer (``bench/cluster.py``), all on loopback:

1. *Incoming*: ``--requests`` Slack-shaped posts to one webhook from ``--concurrency`` threads
   with keep-alive connections (the per-webhook rate limit is lifted); requests/s and the
   HTTP latency percentiles.
2. *To the socket*: ``--samples`` sequential posts; for each, the time from sending the request
   to the ``message.new`` frame reaching a member's ``/ws/`` socket.
3. *Outgoing*: a bot subscribed to ``message`` events in the channel, a loopback receiver that
   answers 500 to the first attempt of every third event; ``--events`` webhook posts; the time
   until every event was delivered (retries after ``HUB_OUTGOING_RETRY_SECONDS=1``, doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import Cluster, ServerProcess


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- incoming ----------------------------------------------------------------------------------


def post_many(
    server: ServerProcess, path: str, count: int, concurrency: int, token: str | None = None
) -> tuple[float, list[float], int]:
    """``count`` posts from ``concurrency`` threads, each on its own keep-alive connection.
    With ``token``, ``path`` is the messages API (the baseline: a person's post, same pipeline)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    per_thread = [count // concurrency + (1 if i < count % concurrency else 0) for i in range(concurrency)]

    def worker(n: int, index: int) -> None:
        nonlocal failures
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        mine: list[float] = []
        bad = 0
        for i in range(n):
            text = f"*告警* 第 {index}-{i} 条 <https://grafana.example.com/d/{i}|看板>"
            headers = {"Content-Type": "application/json"}
            if token is None:
                body = json.dumps({"text": text})
            else:
                body = json.dumps({"body": text, "client_id": str(uuid.uuid4())})
                headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            body_out = response.read()
            mine.append(time.perf_counter() - started)
            if response.status not in (200, 201):
                bad += 1
                print(f"  ! {response.status} {body_out[:200]!r}", file=sys.stderr)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures += bad

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, per_thread, range(concurrency)))
    return time.perf_counter() - started, latencies, failures


async def socket_latency(server: ServerProcess, token: str, path: str, samples: int) -> list[float]:
    from websockets.asyncio.client import connect

    arrived: dict[str, float] = {}
    async with connect(
        f"{server.ws}?token={token}",
        origin=f"http://127.0.0.1:{server.port}",
        proxy=None,
        max_size=2**22,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "sync", "cursors": {}}))

        async def read() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message.new":
                    arrived[frame["message"]["body"]] = time.perf_counter()

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.5)  # the sync's replay, before measuring
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        results = []
        for i in range(samples):
            text = f"latency {i} {uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            await asyncio.to_thread(_post, connection, path, text)
            deadline = time.monotonic() + 10
            while text not in arrived and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            if text in arrived:
                results.append(arrived[text] - started)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return results


def _post(connection: http.client.HTTPConnection, path: str, text: str) -> None:
    connection.request("POST", path, json.dumps({"text": text}), {"Content-Type": "application/json"})
    connection.getresponse().read()


# --- outgoing ----------------------------------------------------------------------------------


class Sink:
    """A loopback app: 500 to the first attempt of every third event, 200 otherwise."""

    def __init__(self) -> None:
        self.attempts = 0
        self.delivered: dict[str, float] = {}
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery = self.headers.get("X-Hub-Delivery", "")
                with sink.lock:
                    sink.attempts += 1
                    first = delivery not in sink.seen
                    sink.seen.add(delivery)
                    fail = first and len(sink.seen) % 3 == 0
                    if not fail:
                        sink.delivered.setdefault(delivery, time.perf_counter())
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/events"
        finally:
            server.shutdown()
            server.server_close()


def measure_outgoing(cluster: Cluster, server: ServerProcess, path: str, events: int) -> dict[str, Any]:
    assert cluster.seed is not None
    owner = cluster.seed.people[0]
    conv = cluster.seed.conversations["general"]
    ws = cluster.seed.workspace_id
    sink = Sink()
    with sink.serve() as url:
        bot = cluster.api(server, "POST", f"/api/v1/workspaces/{ws}/bots", owner.token, {"name": "bench-bot"})
        cluster.api(server, "POST", f"/api/v1/conversations/{conv}/members", owner.token, {"user_ids": [bot["id"]]})
        cluster.api(
            server,
            "POST",
            f"/api/v1/workspaces/{ws}/bots/{bot['id']}/subscriptions",
            owner.token,
            {"url": url, "events": ["message"]},
        )
        started = time.perf_counter()
        post_many(server, path, events, 4)
        deadline = time.monotonic() + 120
        while len(sink.delivered) < events and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        first_try = [t for d, t in sink.delivered.items()]
        return {
            "events": events,
            "delivered": len(sink.delivered),
            "attempts": sink.attempts,
            "seconds": elapsed,
            "rate": len(sink.delivered) / elapsed,
            "last_at": max(first_try) - started if first_try else float("nan"),
        }


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    env = {
        "HUB_WEBHOOK_PER_MINUTE": "0",  # measure the server, not the limit
        "HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS": "true",  # the receiver is on loopback
        "HUB_OUTGOING_RETRY_SECONDS": "1",
    }
    with Cluster(procs=1, redis_url=None, people=3, channels={"general": 3}, worker=True, extra_env=env) as cluster:
        assert cluster.seed is not None
        server = cluster.servers[0]
        owner, member = cluster.seed.people[0], cluster.seed.people[1]
        conv = cluster.seed.conversations["general"]
        hook = cluster.api(
            server, "POST", f"/api/v1/conversations/{conv}/webhooks", owner.token, {"kind": "slack", "name": "bench"}
        )
        path = urlsplit(hook["url"]).path

        post_many(server, path, 30, 2)  # warm-up
        seconds, latencies, failures = post_many(server, path, args.requests, args.concurrency)
        print(
            f"incoming: {args.requests} requests, {args.concurrency} threads: {args.requests / seconds:.0f} requests/s"
        )
        print(
            f"  HTTP latency p50 {ms(pct(latencies, 0.5))} · p99 {ms(pct(latencies, 0.99))} · "
            f"mean {ms(statistics.mean(latencies))} · failures {failures}"
        )

        api = f"/api/v1/conversations/{conv}/messages"
        seconds, latencies, failures = post_many(server, api, args.requests, args.concurrency, owner.token)
        print(
            f"baseline, the messages API with a token: {args.requests / seconds:.0f} requests/s · "
            f"p50 {ms(pct(latencies, 0.5))} · p99 {ms(pct(latencies, 0.99))} · failures {failures}"
        )

        to_socket = asyncio.run(socket_latency(server, member.token, path, args.samples))
        print(
            f"request → message.new on a socket ({len(to_socket)}/{args.samples} seen): "
            f"p50 {ms(pct(to_socket, 0.5))} · p99 {ms(pct(to_socket, 0.99))} · max {ms(max(to_socket))}"
        )

        out = measure_outgoing(cluster, server, path, args.events)
        print(
            f"outgoing: {out['delivered']}/{out['events']} events delivered in {out['seconds']:.1f} s "
            f"({out['rate']:.0f} events/s), {out['attempts']} attempts (every 3rd event failed once, retried)"
        )


if __name__ == "__main__":
    main()
