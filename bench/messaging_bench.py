"""Messaging benchmark: latency, throughput and memory of the ``/ws/`` socket, with a baseline.

    .venv/bin/python bench/messaging_bench.py            # the full run, a few minutes
    .venv/bin/python bench/messaging_bench.py --quick    # smaller and shorter (smoke test)

Measured on loopback, in one run:

1. send→receive latency (p50/p99 over every delivery) for a 100- and a 1,000-member channel,
   one sender at a fixed rate (default 20 msg/s for 10 s), one socket per member:
   (a) the hub with the in-memory layer in one daphne process;
   (b) the hub with Redis across two daphne processes (members split between them);
   (c) the baseline, ``bench/baseline_ws_server.py``: a bare websockets broadcast server over
       Redis pub/sub, two processes — and the ratio hub(b)/baseline.
2. sustained messages per second: closed-loop senders into the 100-member channel (two
   processes, Redis), every message delivered to every member; same for the baseline.
3. memory per idle socket: RSS growth of one server process over N idle sockets (default 2,000).

All clients live in this one asyncio process (file limit raised via ``resource``); the
servers are real processes on PostgreSQL + Redis, started and killed by ``bench/cluster.py``.
The client shares the 2 cores with the servers, for the hub and the baseline alike, which is
why the ratio is the figure to read. Nothing here asserts: it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import DEFAULT_REDIS, PYTHON, Cluster, ServerProcess, free_port, raise_nofile, rss_bytes
from bench.hubclient import HubSocket, open_many

TARGET_P99_MS = 100.0
TARGET_IDLE_SOCKETS = 2000
TARGET_BYTES_PER_SOCKET = 50 * 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class LatencyResult:
    system: str
    members: int
    processes: int
    rate: float
    sent: int
    expected: int
    delivered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    ack_p50_ms: float
    connect_s: float
    server_cpu_pct: list[float] = field(default_factory=list)
    client_cpu_pct: float = 0.0
    # Server CPU time (all processes) per delivered frame: the figure that other load on the
    # machine distorts least, so the fairest to compare with the baseline.
    server_cpu_us_per_delivery: float = 0.0
    loadavg: float = 0.0
    refused_handshakes: int = 0  # retried; a sign the server could not accept in time
    note: str = ""


@dataclass
class ThroughputResult:
    system: str
    members: int
    senders: int
    seconds: float
    acked: int
    msgs_per_s: float
    deliveries_per_s: float
    complete: bool
    server_cpu_pct: list[float] = field(default_factory=list)
    note: str = ""


@dataclass
class MemoryResult:
    system: str
    sockets: int
    rss_before_mib: float
    rss_after_mib: float
    bytes_per_socket: float
    connect_s: float
    refused_handshakes: int = 0
    note: str = ""


class Target:
    """Where the clients connect: the hub (daphne) processes or the baseline processes."""

    def __init__(self, name: str, servers: list[ServerProcess], hub: bool) -> None:
        self.name = name
        self.servers = servers
        self.hub = hub
        self.refused = 0  # handshakes refused or dropped (then retried)

    def url(self, i: int) -> str:
        return self.servers[i % len(self.servers)].ws

    async def open(self, tokens: list[str], conv: int, *, offset: int = 0, **kwargs: Any) -> list[HubSocket]:
        socks = await open_many([(self.url(i + offset), t) for i, t in enumerate(tokens)], timeout=900, **kwargs)
        self.refused += sum(s.failed_connects for s in socks)
        if self.hub:
            # Wait for ready, then sync from the current head so that the socket streams `conv`.
            async def settle(sock: HubSocket) -> None:
                ready = await sock.wait_ready(60)
                head = {c["id"]: c["last_seq"] for c in ready.get("conversations", [])}.get(conv, 0)
                await sock.sync_and_wait({conv: head}, timeout=60)

            sem = asyncio.Semaphore(50)

            async def bounded(sock: HubSocket) -> None:
                async with sem:
                    await settle(sock)

            try:
                await asyncio.wait_for(asyncio.gather(*(bounded(s) for s in socks)), 600)
            except BaseException:
                await asyncio.shield(close_all(socks))
                raise
        return socks


async def close_all(socks: list[HubSocket]) -> None:
    sem = asyncio.Semaphore(200)

    async def one(sock: HubSocket) -> None:
        async with sem:
            await sock.close()

    await asyncio.gather(*(one(s) for s in socks))


async def measure_latency(
    target: Target, tokens: list[str], sender_tokens: list[str], conv: int, rate: float, seconds: float
) -> LatencyResult:
    """One socket per member; ``rate`` messages per second spread round-robin over a few
    sender sockets (a busy channel has several people typing; one socket sending 20 frames a
    second would also meet the per-socket frame limit)."""
    started = time.perf_counter()
    refused0 = target.refused
    receivers = await target.open(tokens, conv, record=True, track=False)
    connect_s = time.perf_counter() - started
    senders = await target.open(sender_tokens, conv, offset=1, track=False)
    try:
        # Warm-up (first queries, connections, caches): not counted.
        for i, sender in enumerate(senders):
            await sender.ack(await sender.send_message(conv, f"warm-up {i}"), timeout=60)
        await asyncio.sleep(1.0)
        for r in receivers:
            r.received.clear()
        cpu0 = [cpu_seconds(s.pid) for s in target.servers]
        client0 = time.process_time()
        wall0 = time.perf_counter()
        count = int(rate * seconds)
        sent_at: dict[str, float] = {}
        t0 = time.perf_counter()
        for k in range(count):
            delay = t0 + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = str(uuid.uuid4())
            sent_at[cid] = time.perf_counter()
            await senders[k % len(senders)].send_message(conv, f"bench {k}: 今天的报价单已经更新，请查看。", cid)
        expected = count * len(receivers)
        deadline = time.monotonic() + 30  # bounded drain: what is not delivered by then counts as missing
        while time.monotonic() < deadline:
            if sum(sum(1 for _, c in r.received if c in sent_at) for r in receivers) >= expected:
                break
            await asyncio.sleep(0.1)
        wall = time.perf_counter() - wall0
        cpu_used = [cpu_seconds(s.pid) - c for s, c in zip(target.servers, cpu0, strict=True)]
        cpu = [100 * c / wall for c in cpu_used]
        client_cpu = 100 * (time.process_time() - client0) / wall
        latencies = sorted((t - sent_at[c]) * 1000 for r in receivers for t, c in r.received if c in sent_at)
        acked = {c: t for s in senders for c, t in s.ack_times.items()}
        ack_ms = sorted((acked[c] - sent_at[c]) * 1000 for c in sent_at if c in acked)
        return LatencyResult(
            system=target.name,
            members=len(receivers),
            processes=len(target.servers),
            rate=rate,
            sent=count,
            expected=expected,
            delivered=len(latencies),
            p50_ms=pct(latencies, 0.50),
            p99_ms=pct(latencies, 0.99),
            max_ms=latencies[-1] if latencies else float("nan"),
            ack_p50_ms=pct(ack_ms, 0.50),
            connect_s=connect_s,
            server_cpu_pct=[round(c) for c in cpu],
            client_cpu_pct=round(client_cpu),
            server_cpu_us_per_delivery=1e6 * sum(cpu_used) / max(len(latencies), 1),
            loadavg=os.getloadavg()[0],
            refused_handshakes=target.refused - refused0,
        )
    finally:
        await close_all([*receivers, *senders])


async def measure_throughput(
    target: Target, tokens: list[str], sender_tokens: list[str], conv: int, seconds: float, window: int = 8
) -> ThroughputResult:
    receivers = await target.open(tokens, conv, record=True, track=False)
    senders = await target.open(sender_tokens, conv, track=False)
    acked: list[str] = []
    try:
        cpu0 = [cpu_seconds(s.pid) for s in target.servers]
        start = time.perf_counter()
        stop_at = start + seconds

        async def run(sock: HubSocket) -> None:
            in_flight: list[str] = []
            while time.perf_counter() < stop_at or in_flight:
                while time.perf_counter() < stop_at and len(in_flight) < window:
                    in_flight.append(await sock.send_message(conv, "throughput 吞吐量 test"))
                await sock.ack(in_flight.pop(0), timeout=60)
                acked.append("x")

        await asyncio.wait_for(asyncio.gather(*(run(s) for s in senders)), seconds + 120)
        elapsed = time.perf_counter() - start
        cpu = [100 * (cpu_seconds(s.pid) - c) / elapsed for s, c in zip(target.servers, cpu0, strict=True)]
        expected = len(acked) * len(receivers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(len(r.received) for r in receivers) < expected:
            await asyncio.sleep(0.1)
        delivered_at = time.perf_counter() - start
        delivered = sum(len(r.received) for r in receivers)
        return ThroughputResult(
            system=target.name,
            members=len(receivers),
            senders=len(senders),
            seconds=round(elapsed, 1),
            acked=len(acked),
            msgs_per_s=len(acked) / elapsed,
            deliveries_per_s=delivered / delivered_at,
            complete=delivered >= expected,
            server_cpu_pct=[round(c) for c in cpu],
        )
    finally:
        await close_all([*receivers, *senders])


async def measure_memory(target: Target, tokens: list[str], conv: int, sockets: int) -> MemoryResult:
    server = target.servers[0]
    one = Target(target.name, [server], target.hub)
    warm = await one.open(tokens[:20], conv, track=False)
    await asyncio.sleep(1.0)
    before = rss_bytes(server.pid)
    started = time.perf_counter()
    idle = await one.open([tokens[i % len(tokens)] for i in range(sockets)], conv, track=False)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(3.0)  # let connect-time work (presence fan-out, replies) settle
    after = rss_bytes(server.pid)
    alive = sum(1 for s in idle if not s.closed.is_set())
    await close_all([*warm, *idle])
    return MemoryResult(
        system=target.name,
        sockets=alive,
        rss_before_mib=before / 2**20,
        rss_after_mib=after / 2**20,
        bytes_per_socket=(after - before) / max(alive, 1),
        connect_s=connect_s,
        refused_handshakes=one.refused,
    )


def restart(cluster: Cluster, target: Target) -> None:
    for server in target.servers:
        server.stop()
    target.servers[:] = [cluster.add_server() for _ in target.servers]


def start_baseline(count: int, redis_url: str, workdir: Path) -> list[ServerProcess]:
    prefix = f"baseline{uuid.uuid4().hex[:8]}"
    servers = []
    for i in range(count):
        port = free_port()
        argv = [PYTHON, str(Path(__file__).with_name("baseline_ws_server.py")), "--port", str(port)]
        argv += ["--redis", redis_url, "--prefix", prefix]
        server = ServerProcess(i, port, dict(os.environ), workdir / f"baseline-{i}.log", argv=argv)
        servers.append(server)
        server.start()
    return servers


def print_tables(lat: list[LatencyResult], thr: list[ThroughputResult], mem: list[MemoryResult]) -> None:
    print("\n## send→receive latency (one sender, fixed rate; every delivery counted)")
    print(f"{'system':<34} {'members':>7} {'rate':>5} {'delivered':>15} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
          f" {'ack p50':>8} {'server CPU %':>14} {'client CPU %':>12} {'CPU us/deliv':>12} {'load':>5}")  # fmt: skip
    for r in lat:
        print(f"{r.system:<34} {r.members:>7} {r.rate:>5.0f} {f'{r.delivered}/{r.expected}':>15} {r.p50_ms:>8.1f}"
              f" {r.p99_ms:>8.1f} {r.max_ms:>8.1f} {r.ack_p50_ms:>8.1f} {'/'.join(map(str, r.server_cpu_pct)):>14}"
              f" {r.client_cpu_pct:>12} {r.server_cpu_us_per_delivery:>12.0f} {r.loadavg:>5.1f}"
              f"{'  ' + r.note if r.note else ''}")  # fmt: skip
    base = {r.members: r for r in lat if r.system.startswith("baseline")}
    for r in lat:
        if r.system.startswith("hub") and r.members in base:
            b = base[r.members]
            cpu_ratio = r.server_cpu_us_per_delivery / max(b.server_cpu_us_per_delivery, 1e-9)
            print(f"ratio {r.system} / baseline, {r.members} members: "
                  f"p50 x{r.p50_ms / b.p50_ms:.1f}, p99 x{r.p99_ms / b.p99_ms:.1f}, "
                  f"server CPU per delivery x{cpu_ratio:.1f}")  # fmt: skip
    print("\n## sustained throughput (closed-loop senders, every message to every member)")
    print(f"{'system':<34} {'members':>7} {'senders':>7} {'msgs/s':>8} {'deliveries/s':>13} {'complete':>8}"
          f" {'server CPU %':>14}")  # fmt: skip
    for t in thr:
        print(f"{t.system:<34} {t.members:>7} {t.senders:>7} {t.msgs_per_s:>8.0f} {t.deliveries_per_s:>13.0f}"
              f" {t.complete!s:>8} {'/'.join(map(str, t.server_cpu_pct)):>14}"
              f"{'  ' + t.note if t.note else ''}")  # fmt: skip
    hub_t = [t for t in thr if t.system.startswith("hub")]
    base_t = [t for t in thr if t.system.startswith("baseline")]
    if hub_t and base_t:
        print(f"ratio hub / baseline msgs/s: x{hub_t[0].msgs_per_s / max(base_t[0].msgs_per_s, 1e-9):.3f}")
    print("\n## memory per idle socket (RSS growth of one server process)")
    print(f"{'system':<34} {'sockets':>7} {'RSS before MiB':>15} {'RSS after MiB':>14} {'KiB/socket':>11}"
          f" {'connect s':>10} {'refused':>8}")  # fmt: skip
    for m in mem:
        print(f"{m.system:<34} {m.sockets:>7} {m.rss_before_mib:>15.1f} {m.rss_after_mib:>14.1f}"
              f" {m.bytes_per_socket / 1024:>11.1f} {m.connect_s:>10.1f} {m.refused_handshakes:>8}"
              f"{'  ' + m.note if m.note else ''}")  # fmt: skip
    print("\n## targets")
    for r in lat:
        if r.system.startswith("hub, Redis") and r.members >= 1000:
            ok = r.p99_ms <= TARGET_P99_MS and r.delivered == r.expected
            print(f"p99 <= {TARGET_P99_MS:.0f} ms, {r.members} members, {r.rate:.0f} msg/s, 2 processes: "
                  f"{r.p99_ms:.1f} ms -> {'MET' if ok else 'NOT MET'}")  # fmt: skip
    for m in mem:
        if m.system.startswith("hub"):
            ok = m.sockets >= TARGET_IDLE_SOCKETS and m.bytes_per_socket <= TARGET_BYTES_PER_SOCKET
            print(f">= {TARGET_IDLE_SOCKETS} idle sockets at <= 50 KiB: {m.sockets} at "
                  f"{m.bytes_per_socket / 1024:.1f} KiB -> {'MET' if ok else 'NOT MET'}")  # fmt: skip


async def guarded(coro: Any, limit: float) -> tuple[Any, str]:
    """Run one scenario bounded by ``limit`` seconds; a failure becomes a note in the table
    (a scenario the hub cannot complete on this machine is a result, not a crash)."""
    try:
        return await asyncio.wait_for(coro, limit), ""
    except Exception as exc:
        note = f"{type(exc).__name__}: {exc}"[:160] if str(exc) else type(exc).__name__
        if isinstance(exc, TimeoutError):
            note = f"did not complete within {limit:.0f} s"
        print(f"scenario failed: {note}", flush=True)
        return None, note


def failed_latency(target: Target, members: int, rate: float, note: str) -> LatencyResult:
    nan = float("nan")
    return LatencyResult(target.name, members, len(target.servers), rate, 0, 0, 0, nan, nan, nan, nan, nan, note=note)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in args.members.split(",")]
    people = max(max(sizes), 8)
    lat: list[LatencyResult] = []
    thr: list[ThroughputResult] = []
    mem: list[MemoryResult] = []
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    cluster = Cluster(procs=0, redis_url=None, people=people, channels={f"c{n}": n for n in sizes}, extra_env=extra_env)
    baseline: list[ServerProcess] = []
    try:
        cluster.create_database()
        seed = cluster.seed_data()
        tokens = [p.token for p in seed.people]
        # Senders are members 0-3 on a second socket each (one person, several devices).
        sender_tokens = tokens[:4]
        t_run = time.perf_counter()

        if "latency" in args.parts:
            # (a) in-memory layer, one process.
            cluster.redis_url = None
            mem_server = cluster.add_server()
            target = Target("hub, in-memory layer, 1 proc", [mem_server], hub=True)
            for n in sizes:
                conv = seed.conversations[f"c{n}"]
                result, note = await guarded(
                    measure_latency(target, tokens[:n], sender_tokens, conv, args.rate, args.seconds), args.limit
                )
                lat.append(result or failed_latency(target, n, args.rate, note))
                print(lat[-1], flush=True)
            mem_server.stop()

        # (b) Redis layer, two processes.
        cluster.redis_url = args.redis
        hub_servers = [cluster.add_server(), cluster.add_server()]
        hub = Target("hub, Redis, 2 procs", hub_servers, hub=True)
        baseline = start_baseline(2, args.redis, cluster.data_dir)
        base = Target("baseline ws+Redis, 2 procs", baseline, hub=False)
        if "latency" in args.parts:
            for n in sizes:
                conv = seed.conversations[f"c{n}"]
                for target in (hub, base):
                    result, note = await guarded(
                        measure_latency(target, tokens[:n], sender_tokens, conv, args.rate, args.seconds), args.limit
                    )
                    lat.append(result or failed_latency(target, n, args.rate, note))
                    print(lat[-1], flush=True)
                    if note and target is hub:
                        # A backlog would distort what follows: start the hub processes afresh.
                        restart(cluster, hub)
        if "throughput" in args.parts:
            n = min(sizes)
            conv = seed.conversations[f"c{n}"]
            for target in (hub, base):
                result, note = await guarded(
                    measure_throughput(target, tokens[:n], tokens[1:5], conv, args.seconds), args.limit
                )
                thr.append(result or ThroughputResult(target.name, n, 4, 0, 0, 0, 0, False, note=note))
                print(thr[-1], flush=True)
                if note and target is hub:
                    restart(cluster, hub)
        if "memory" in args.parts:
            conv = seed.conversations[f"c{max(sizes)}"]
            for target in (hub, base):
                result, note = await guarded(measure_memory(target, tokens[: max(sizes)], conv, args.idle), args.limit)
                mem.append(result or MemoryResult(target.name, 0, 0, 0, 0, 0, note=note))
                print(mem[-1], flush=True)
        print(f"\nbench wall time {time.perf_counter() - t_run:.0f} s")
    finally:
        for server in baseline:
            server.stop()
        cluster.close()
    print_tables(lat, thr, mem)
    return {
        "latency": [asdict(r) for r in lat],
        "throughput": [asdict(t) for t in thr],
        "memory": [asdict(m) for m in mem],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", default="100,1000", help="channel sizes (default 100,1000)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second for latency (default 20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each timed phase (default 10)")
    parser.add_argument("--idle", type=int, default=2000, help="idle sockets for the memory figure (default 2000)")
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--parts", default="latency,throughput,memory")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the hub processes (repeatable)")
    parser.add_argument("--limit", type=float, default=240.0, help="seconds allowed per scenario (default 240)")
    parser.add_argument("--quick", action="store_true", help="--members 20,100 --seconds 3 --idle 200")
    args = parser.parse_args()
    if args.quick:
        args.members, args.seconds, args.idle = "20,100", 3.0, 200
    args.parts = set(args.parts.split(","))
    print(
        f"file limit raised to {raise_nofile(20_000)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    figures = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
