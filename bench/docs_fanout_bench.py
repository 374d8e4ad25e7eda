"""Documents fan-out: N editors typing at once into one document, spread over two daphne
processes on PostgreSQL + Redis — latency from one editor's keystroke to its arrival at every
other editor (p50/p99). Baseline in the same run: the same editors all on one process.

    .venv/bin/python bench/docs_fanout_bench.py                 # 20 editors, 5 keys/s, 10 s
    .venv/bin/python bench/docs_fanout_bench.py --editors 40 --seconds 20

Each editor is a pycrdt client on a real socket (tests/docs_collab/yclient.py: the y-websocket
protocol) typing a unique token ``[editor:n]`` into its own paragraph; receivers find the
tokens in the deltas they apply. All clients run in this one process, so the figures include
the clients' own Python cost (each receives editors×rate frames per second). Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cluster import DEFAULT_PG, DEFAULT_REDIS, Cluster, raise_nofile  # noqa: E402
from tests.docs_collab.yclient import LiveClient  # noqa: E402

TOKEN = re.compile(r"\[(\d+):(\d+)\]")


async def run_editors(cluster: Cluster, editors: int, rate: float, seconds: float) -> dict[str, Any]:
    assert cluster.seed is not None
    owner = cluster.seed.people[0]
    body = await asyncio.to_thread(
        cluster.api,
        cluster.servers[0],
        "POST",
        "/api/v1/documents",
        owner.token,
        {"workspace_id": cluster.seed.workspace_id, "title": "fan-out"},
    )
    document_id = int(body["id"])
    sent: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    clients: list[LiveClient] = []
    for i in range(editors):
        server = cluster.servers[i % len(cluster.servers)]
        person = cluster.seed.people[i % len(cluster.seed.people)]
        client = LiveClient(f"ws://127.0.0.1:{server.port}/ws/docs/{document_id}/?token={person.token}")
        clients.append(client)

    def observer(me: int) -> Any:
        def on_events(events: Any) -> None:
            now = time.perf_counter()
            for event in events:
                for op in getattr(event, "delta", None) or []:
                    inserted = op.get("insert") if isinstance(op, dict) else None
                    if isinstance(inserted, str):
                        for editor, n in TOKEN.findall(inserted):
                            key = (int(editor), int(n))
                            if key[0] != me and key in sent:
                                latencies.append(now - sent[key])

        return on_events

    for i, client in enumerate(clients):
        client.peer.fragment.observe_deep(observer(i))
        await client.open()
    await asyncio.sleep(1.0)  # initial sync everywhere

    async def type_tokens(index: int, client: LiveClient) -> int:
        node = client.peer.paragraph("")
        typed = 0
        count = 0
        interval = 1.0 / rate
        deadline = time.perf_counter() + seconds
        await asyncio.sleep(interval * index / editors)  # spread the editors over the interval
        while time.perf_counter() < deadline:
            token = f"[{index}:{count}]"
            sent[(index, count)] = time.perf_counter()
            node.insert(typed, token)
            typed += len(token)
            count += 1
            await client.push()
            await asyncio.sleep(interval)
        return count

    counts = await asyncio.gather(*(type_tokens(i, c) for i, c in enumerate(clients)))
    await asyncio.sleep(3.0)  # let the tail arrive
    expected = sum(counts) * (editors - 1)
    texts = {c.peer.text() for c in clients}
    for client in clients:
        await client.close()
    latencies.sort()
    return {
        "updates": sum(counts),
        "deliveries": len(latencies),
        "expected": expected,
        "converged": len(texts) == 1,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan"),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def measure(procs: int, args: argparse.Namespace) -> dict[str, Any]:
    with Cluster(procs=procs, redis_url=args.redis, admin_url=args.pg, people=args.editors) as cluster:
        return asyncio.run(run_editors(cluster, args.editors, args.rate, args.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--rate", type=float, default=5.0, help="updates per second per editor")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()
    raise_nofile()
    print(f"{args.editors} editors × {args.rate:g} updates/s for {args.seconds:g} s, one document")
    results = {}
    for procs in (1, 2):
        results[procs] = figures = measure(procs, args)
        print(
            f"  {procs} process{'es' if procs > 1 else ''}: p50 {figures['p50_ms']:.1f} ms"
            f" · p99 {figures['p99_ms']:.1f} ms"
            f" · max {figures['max_ms']:.0f} ms · {figures['deliveries']:,}/{figures['expected']:,} deliveries"
            f" · converged {figures['converged']}"
        )
    print(f"  ratio p99 two processes / one process: {results[2]['p99_ms'] / results[1]['p99_ms']:.2f}×")


if __name__ == "__main__":
    main()
