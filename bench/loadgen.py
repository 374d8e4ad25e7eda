"""Ceiling test: how many concurrent, realistic users the scaled-out hub holds on this machine.

    .venv/bin/python bench/loadgen.py                       # ramp 200, 400, ... until unhealthy
    .venv/bin/python bench/loadgen.py --quick               # small smoke run (a minute or two)
    .venv/bin/python bench/loadgen.py --start 400 --step 200 --max 2000 --json out.json

The model is Mattermost's ceiling test: every simulated user keeps one WebSocket open and acts
about every 20 s — reads a page of history, marks it read, reacts, searches, switches to another
conversation (lists conversations, reads its history) or types — and posts about every 5 minutes.
Like the web app, it also sends a heartbeat ``ping`` every 25 s (the pong's round trip is
reported as "ping (socket)").
Users are spread over many workspaces (default 50 of 20–40 people: three channels, a few DMs,
and a channel shared with a partner organisation's guest, who is simulated too).

Topology: ``bench/cluster.py``'s compose-on-loopback — a private PostgreSQL cluster (``initdb``
on a free port; ``--pg URL`` uses an existing server instead), a private ``redis-server``, N
daphne processes, the task worker, the search indexer and ``bench/balancer.py`` in front; every
simulated request and socket goes through the balancer. Private servers keep other users of
the machine's PostgreSQL (its connection limit) out of the measurement.

Users are added in steps. After each step's sockets are open the step is held (default 60 s) and
measured; it *holds* while all of these do (the thresholds of Mattermost's test):

* average HTTP request time ≤ 100 ms and p99 ≤ 2 s;
* errors + timeouts ≤ 0.025 % of operations (HTTP requests, socket sends, socket connects;
  an unexpectedly closed socket counts as one);
* server CPU ≤ 85 % of the machine (every hub process, Redis, and the PostgreSQL backends of
  this database, sampled from ``/proc``).

The result is the largest step that held. The simulated users run in ``--clients`` separate
processes (one asyncio process cannot use more than one core); their own CPU is measured too,
and a step where a client process used > 85 % of a core is flagged: past that point the
*client* is the limit, not the server. The machine's load from anything else (other users of
these 2 cores) is reported per step: ``other %`` = whole-machine busy time minus ours.

Everything binds to loopback; every process started here is stopped at the end (also on
errors), the database is dropped and the private Redis removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import PYTHON, Cluster, PostgresServer, RedisServer, postgres_bindir, raise_nofile, rss_bytes

# --- the health thresholds (Mattermost's) ---------------------------------------------------
MAX_AVG_MS = 100.0
MAX_P99_MS = 2000.0
MAX_ERROR_RATE = 0.00025  # 0.025 %
MAX_SERVER_CPU_PCT = 85.0
CLIENT_LIMIT_CPU_PCT = 85.0  # of one core: a client process near this is itself the bottleneck

# --- the user model ---------------------------------------------------------------------------
ACT_EVERY_S = 20.0
POST_EVERY_S = 300.0
PING_EVERY_S = 25.0  # the web app's heartbeat (docs/protocol.md); the server may compare cursors on it
HTTP_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 10.0
SEARCH_TERMS = ["报价", "发货", "合同", "invoice", "库存", "meeting", "样品", "付款"]
REACTIONS = ["👍", "✅", "🎉", "👀"]
MARK = "lg@"  # a posted body starts with MARK + the send time (epoch), for delivery latency

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


# --- /proc sampling --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process; 0 once it is gone (its last interval is lost)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def safe_rss(pid: int) -> int:
    try:
        return rss_bytes(pid)
    except (OSError, RuntimeError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them. PostgreSQL
    backends all map the shared buffers, so their RSS summed would count them many times."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class CpuMeter:
    """CPU used by a changing set of processes over a window, as a share of one core per
    process and of the whole machine (100 % = every core busy).

    The set changes: Django closes a database connection after ``conn_max_age`` (60 s), so
    PostgreSQL backends end and new ones start within a window. ``sample()`` (call it every
    second or so) keeps each process's latest CPU time; a process first seen after ``start()``
    was born in the window and counts from zero. What a backend uses in the last moment
    before it exits is lost — under a second of a 60-second life."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.wall0 = 0.0
        self.machine0 = (0.0, 0.0)

    def start(self, pids: list[int]) -> None:
        self.first = {pid: cpu_seconds(pid) for pid in pids}
        self.last = dict(self.first)
        self.wall0 = time.monotonic()
        self.machine0 = machine_busy_seconds()

    def sample(self, pids: list[int]) -> None:
        for pid in pids:
            used = cpu_seconds(pid)
            if used > 0:  # 0: the process is already gone, keep its last sample
                self.first.setdefault(pid, 0.0)
                self.last[pid] = used

    def stop(self, pids: list[int]) -> tuple[dict[int, float], float]:
        """Per-pid share of one core (%) for every process seen, and the machine's busy share."""
        self.sample(pids)
        wall = max(time.monotonic() - self.wall0, 1e-6)
        used = {pid: 100 * max(self.last[pid] - self.first[pid], 0.0) / wall for pid in self.first}
        busy1, total1 = machine_busy_seconds()
        busy0, total0 = self.machine0
        machine = 100 * (busy1 - busy0) / max(total1 - total0, 1e-6)
        return used, machine


# --- statistics ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Window:
    """What the simulated users did in one measuring window (merged over client processes)."""

    http_ms: list[float] = field(default_factory=list)
    delivery_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    http_errors: int = 0
    timeouts: int = 0
    ws_sends: int = 0
    ws_errors: int = 0  # error frames, acks that never came, sockets closed under us
    connects: int = 0
    connect_errors: int = 0
    posts: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    kind_ms: dict[str, list[float]] = field(default_factory=dict)  # HTTP latency per action
    error_samples: list[str] = field(default_factory=list)

    def merge(self, other: dict[str, Any]) -> None:
        for name in ("http_ms", "delivery_ms", "ack_ms", "error_samples"):
            getattr(self, name).extend(other[name])
        for name in ("http_errors", "timeouts", "ws_sends", "ws_errors", "connects", "connect_errors", "posts"):
            setattr(self, name, getattr(self, name) + other[name])
        for kind, n in other["by_kind"].items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n
        for kind, values in other["kind_ms"].items():
            self.kind_ms.setdefault(kind, []).extend(values)
        del self.error_samples[20:]

    @property
    def operations(self) -> int:
        return len(self.http_ms) + self.http_errors + self.timeouts + self.ws_sends + self.connects

    @property
    def failures(self) -> int:
        return self.http_errors + self.timeouts + self.ws_errors + self.connect_errors


@dataclass
class StepResult:
    users: int
    seconds: float
    requests_per_s: float
    msgs_per_s: float
    deliveries_per_s: float
    http_avg_ms: float
    http_p50_ms: float
    http_p99_ms: float
    delivery_avg_ms: float
    delivery_p50_ms: float
    delivery_p99_ms: float
    ack_p50_ms: float
    operations: int
    errors: int
    error_rate_pct: float
    server_cpu_pct: float  # of the whole machine
    client_cpu_pct: list[float]  # of one core, per client process
    other_cpu_pct: float  # the machine's busy share that is neither server nor client
    loadavg: float
    rss_mib: dict[str, float]
    held: bool
    broke: list[str]
    client_limited: bool
    ramp_s: float
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)  # count, p50, p99 per action
    error_samples: list[str] = field(default_factory=list)


# --- seeding (runs inside a Django process with the cluster's environment) --------------------


def _seed_workspaces(spec: dict[str, Any]) -> dict[str, Any]:
    """``workspaces`` workspaces of ``min_people``..``max_people`` people, each with three public
    channels (everyone, half, a third), a few DMs, a channel shared with a partner
    organisation whose guest is a member, and a little history. People and tokens are bulk
    inserted; conversations, shares and messages go through the real actions."""
    import django

    django.setup()
    from hub import actions as hub_actions
    from hub.models import ApiToken, Member, User
    from messaging import actions as messaging_actions

    rng = random.Random(spec["seed"])
    result: list[dict[str, Any]] = []
    for w in range(spec["workspaces"]):
        size = rng.randint(spec["min_people"], spec["max_people"])
        owner = User.objects.create_user(email=f"owner{w}@load.test", password=None, display_name=f"老板 {w}")
        workspace = hub_actions.do_create_workspace(owner, f"Load Co {w}")
        owner_member = Member.objects.get(workspace=workspace, user=owner)
        staff = User.objects.bulk_create(
            [User(email=f"w{w}p{i}@load.test", display_name=f"员工 {w}-{i}", password="!") for i in range(1, size)]
        )
        members = Member.objects.bulk_create(
            [Member(workspace=workspace, user=u, role=Member.Role.MEMBER) for u in staff]
        )
        partner = hub_actions.do_create_partner(owner_member, f"客户 {w}", "customer")
        guest = User.objects.create_user(email=f"guest{w}@customer.test", password=None, display_name=f"顾客 {w}")
        Member.objects.create(workspace=workspace, user=guest, role=Member.Role.GUEST, partner=partner)
        people = [owner, *staff, guest]
        keys = [ApiToken.new_key() for _ in people]
        ApiToken.objects.bulk_create(
            [ApiToken(user=u, name="load", key_hash=ApiToken.hash_key(k)) for u, k in zip(people, keys, strict=True)]
        )
        staff_ids = [u.pk for u in staff]
        channels = {"general": staff_ids, "sales": staff_ids[: size // 2], "ops": staff_ids[-(size // 3) :]}
        # (who posts the seeded history, conversation)
        conversations = [
            (owner_member, messaging_actions.check_create_conversation(owner_member, "public", name, ids))
            for name, ids in channels.items()
        ]
        shared = messaging_actions.check_create_conversation(owner_member, "private", "客户对接", staff_ids[:4])
        messaging_actions.check_share(owner_member, shared, partner)
        conversations.append((owner_member, shared))
        pairs = {tuple(sorted(rng.sample(range(len(members)), 2))) for _ in range(spec["dms"])}
        for a, b in pairs:
            dm = messaging_actions.check_create_conversation(members[a], "dm", "", [members[b].user_id])
            conversations.append((members[a], dm))
        for sender, conversation in conversations:
            for k in range(spec["history"]):
                body = f"{rng.choice(SEARCH_TERMS)} 第 {k} 条：明天上午十点前确认{rng.choice(SEARCH_TERMS)}。"
                messaging_actions.check_send_message(sender, conversation, body, uuid.uuid4())
        result.append({"id": workspace.pk, "tokens": keys})
    return {"workspaces": result}


def seed(cluster: Cluster, workspaces: int, min_people: int, max_people: int) -> list[tuple[str, int]]:
    """Seed through a subprocess in the cluster's environment; (token, workspace id) per person."""
    spec = {
        "workspaces": workspaces,
        "min_people": min_people,
        "max_people": max_people,
        "dms": 5,
        "history": 3,
        "seed": 8,
    }
    done = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "_seed", json.dumps(spec)],
        cwd=Path(__file__).resolve().parent.parent,
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr[-4000:]}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    people = [(token, ws["id"]) for ws in raw["workspaces"] for token in ws["tokens"]]
    # Interleave workspaces so that every step of the ramp touches all of them.
    random.Random(3).shuffle(people)
    return people


# --- one simulated user (runs in a client process) ---------------------------------------------


class Recorder:
    """The per-window accumulators of one client process."""

    def __init__(self) -> None:
        self.window = Window()

    def take(self) -> dict[str, Any]:
        taken, self.window = self.window, Window()
        return asdict(taken)

    def http(self, kind: str, ms: float | None, status: int | None, detail: str = "") -> None:
        w = self.window
        w.by_kind[kind] = w.by_kind.get(kind, 0) + 1
        if ms is None:
            w.timeouts += 1
            self.sample(f"{kind}: timeout {detail}")
        elif status is None or status >= 400:
            w.http_errors += 1
            self.sample(f"{kind}: HTTP {status} {detail}")
        else:
            w.http_ms.append(ms)
            w.kind_ms.setdefault(kind, []).append(ms)

    def sample(self, text: str) -> None:
        if len(self.window.error_samples) < 20:
            self.window.error_samples.append(text[:300])


class SimUser:
    def __init__(self, base: str, token: str, workspace: int, rec: Recorder, session: Any, rng: random.Random):
        self.base = base
        self.ws_url = base.replace("http://", "ws://") + "/ws/"
        self.token = token
        self.workspace = workspace
        self.rec = rec
        self.session = session
        self.rng = rng
        self.headers = {"Authorization": f"Bearer {token}"}
        self.user_id = 0
        self.convs: dict[int, int] = {}  # streamed conversation -> last seq seen
        self.current = 0
        self.recent_messages: list[int] = []
        self.pending: dict[str, float] = {}  # client_id -> send time (perf_counter)
        self.ws: Any = None
        self.stopping = False

    # --- HTTP ---

    async def request(self, kind: str, method: str, path: str, body: Any = None) -> Any:
        import aiohttp

        started = time.perf_counter()
        try:
            async with self.session.request(
                method, self.base + path, json=body, headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
            ) as resp:  # fmt: skip
                payload = await resp.read()
                ms = (time.perf_counter() - started) * 1000
                self.rec.http(kind, ms, resp.status, payload[:200].decode(errors="replace"))
                return json.loads(payload) if resp.status < 400 and payload else None
        except TimeoutError:
            self.rec.http(kind, None, None, path)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            self.rec.http(kind, 0.0, None, repr(exc))
        return None

    # --- the socket ---

    async def connect(self) -> bool:
        import websockets

        w = self.rec.window
        w.connects += 1
        try:
            self.ws = await websockets.connect(
                self.ws_url, additional_headers=self.headers, compression=None, proxy=None,
                open_timeout=HTTP_TIMEOUT_S, ping_interval=None, max_queue=None,
            )  # fmt: skip
            ready = json.loads(await asyncio.wait_for(self.ws.recv(), HTTP_TIMEOUT_S))
            if ready.get("type") != "ready":
                raise ConnectionError(f"first frame {ready.get('type')}")
            self.user_id = ready["user_id"]
            self.convs = {c["id"]: c["last_seq"] for c in ready["conversations"]}
            self.current = self.rng.choice(list(self.convs))
            await self.ws.send(json.dumps({"type": "sync", "cursors": {}}))
            return True
        except Exception as exc:  # any failure to connect is one counted error
            self.rec.window.connect_errors += 1
            self.rec.sample(f"connect: {exc!r}")
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await self.ws.close()
            self.ws = None
            return False

    async def read_frames(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                now_wall = time.time()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    message = frame["message"]
                    self.convs[frame["conversation_id"]] = frame["seq"]
                    self.recent_messages = [*self.recent_messages[-19:], message["id"]]
                    body = message.get("body", "")
                    if message.get("sender_id") != self.user_id and body.startswith(MARK):
                        with contextlib.suppress(ValueError):
                            sent = float(body[len(MARK) :].split(" ", 1)[0])
                            self.rec.window.delivery_ms.append((now_wall - sent) * 1000)
                elif kind == "pong":
                    with contextlib.suppress(TypeError, ValueError):
                        pong_ms = (time.perf_counter() - float(frame["t"])) * 1000
                        self.rec.window.kind_ms.setdefault("ping (socket)", []).append(pong_ms)
                elif kind == "message.ack":
                    started = self.pending.pop(frame.get("client_id", ""), None)
                    if started is not None:
                        self.rec.window.ack_ms.append((time.perf_counter() - started) * 1000)
                elif kind == "error":
                    self.rec.window.ws_errors += 1
                    self.rec.sample(f"socket error frame: {raw[:200]}")
        except ConnectionClosed:
            pass
        except (OSError, ValueError) as exc:
            self.rec.sample(f"reader: {exc!r}")
        if not self.stopping:
            self.rec.window.ws_errors += 1
            self.rec.sample(f"socket closed under us (code {getattr(self.ws, 'close_code', None)})")

    async def send(self, frame: dict[str, Any]) -> bool:
        from websockets.exceptions import ConnectionClosed

        self.rec.window.ws_sends += 1
        try:
            await self.ws.send(json.dumps(frame))
            return True
        except (ConnectionClosed, OSError) as exc:
            self.rec.window.ws_errors += 1
            self.rec.sample(f"send: {exc!r}")
            return False

    # --- behaviour ---

    async def act(self) -> None:
        """One of the things a person does every ~20 s, weighted like a chat client's use."""
        roll = self.rng.random()
        conv = self.current
        if roll < 0.30:  # read history of the open conversation
            page = await self.request("history", "GET", f"/api/v1/conversations/{conv}/messages?limit=30")
            if page:
                self.recent_messages = [m["id"] for m in page["messages"]][-20:]
        elif roll < 0.50:  # mark it read
            seq = self.convs.get(conv, 0)
            if seq:
                await self.request("mark_read", "POST", f"/api/v1/conversations/{conv}/read", {"seq": seq})
            else:
                await self.send({"type": "typing", "conversation_id": conv})
        elif roll < 0.62:  # react to something recent
            if self.recent_messages:
                message = self.rng.choice(self.recent_messages)
                emoji = self.rng.choice(REACTIONS)
                await self.request("react", "POST", f"/api/v1/messages/{message}/reactions", {"emoji": emoji})
            else:
                await self.request("history", "GET", f"/api/v1/conversations/{conv}/messages?limit=30")
        elif roll < 0.72:  # search the workspace
            term = self.rng.choice(SEARCH_TERMS)
            await self.request("search", "GET", f"/api/v1/search?workspace={self.workspace}&q={term}&limit=20")
        elif roll < 0.87:  # switch conversation: the list, then the new one's history
            await self.request("conversations", "GET", f"/api/v1/conversations?workspace={self.workspace}")
            self.current = self.rng.choice(list(self.convs))
            page = await self.request("history", "GET", f"/api/v1/conversations/{self.current}/messages?limit=30")
            if page:
                self.recent_messages = [m["id"] for m in page["messages"]][-20:]
        else:  # typing
            await self.send({"type": "typing", "conversation_id": conv})

    async def post(self) -> None:
        client_id = str(uuid.uuid4())
        body = f"{MARK}{time.time():.6f} 今天的{self.rng.choice(SEARCH_TERMS)}我已经发到群里了，请确认。"
        self.pending[client_id] = time.perf_counter()
        frame = {"type": "message.send", "conversation_id": self.current, "client_id": client_id, "body": body}
        if await self.send(frame):
            self.rec.window.posts += 1

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Connect, then act and post on independent random clocks until cancelled. A socket
        that closes under us counts as an error and is reopened (a real client reconnects)."""
        try:
            while not await self.connect():
                await asyncio.sleep(self.rng.uniform(1, 3))
            if ready is not None:
                ready.set()
            reader = asyncio.create_task(self.read_frames())
            # Desynchronise: a step's users must not all act in the same second.
            next_act = time.monotonic() + self.rng.uniform(0, ACT_EVERY_S)
            next_post = time.monotonic() + self.rng.expovariate(1 / POST_EVERY_S)
            next_ping = time.monotonic() + self.rng.uniform(0, PING_EVERY_S)
            while True:
                if reader.done():
                    while not await self.connect():
                        await asyncio.sleep(self.rng.uniform(1, 3))
                    reader = asyncio.create_task(self.read_frames())
                now = time.monotonic()
                for cid, started in list(self.pending.items()):
                    if time.perf_counter() - started > ACK_TIMEOUT_S:
                        del self.pending[cid]
                        self.rec.window.timeouts += 1
                        self.rec.sample("message.ack did not come within 10 s")
                if now >= next_ping:
                    await self.send({"type": "ping", "t": time.perf_counter()})
                    next_ping = now + PING_EVERY_S
                if now >= next_post:
                    await self.post()
                    next_post = now + self.rng.expovariate(1 / POST_EVERY_S)
                elif now >= next_act:
                    await self.act()
                    next_act = now + self.rng.uniform(0.5, 1.5) * ACT_EVERY_S
                await asyncio.sleep(max(0.05, min(next_act, next_post, next_ping) - time.monotonic()))
        finally:
            self.stopping = True
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(), 5)


async def client_main() -> None:
    """A client process: reads JSON commands on stdin, answers one JSON line each on stdout.

    ``{"cmd": "add", "users": [[token, workspace], ...], "base": url}`` opens those users
    (bounded concurrency) and answers when every one is connected; ``{"cmd": "take"}`` answers
    the window since the last take; ``{"cmd": "stop"}`` closes everything."""
    import aiohttp

    raise_nofile()
    rec = Recorder()
    rng = random.Random(os.getpid())
    tasks: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=256, limit_per_host=256, ttl_dns_cache=None)
    session = aiohttp.ClientSession(connector=connector)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    gate = asyncio.Semaphore(20)  # a connect storm on 2 cores would time out handshakes

    async def start_user(token: str, workspace: int, base: str) -> None:
        async with gate:
            ready = asyncio.Event()
            user = SimUser(base, token, workspace, rec, session, random.Random(rng.random()))
            tasks.append(asyncio.create_task(user.run(ready)))
            await asyncio.wait_for(ready.wait(), 120)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    try:
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "add":
                started = time.monotonic()
                results = await asyncio.gather(
                    *(start_user(t, w, command["base"]) for t, w in command["users"]), return_exceptions=True
                )
                failed = [repr(r) for r in results if isinstance(r, BaseException)]
                answer({"users": len(tasks), "failed": failed[:5], "seconds": time.monotonic() - started})
            elif command["cmd"] == "take":
                answer(rec.take())
            elif command["cmd"] == "stop":
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        answer({"stopped": True})


# --- the coordinator ---------------------------------------------------------------------------


class ClientProcess:
    def __init__(self, index: int, log_dir: Path) -> None:
        self.index = index
        self.log = (log_dir / f"loadgen-client-{index}.log").open("ab")
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            PYTHON, str(Path(__file__).resolve()), "_client",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.log,
            limit=2**26,  # a window's samples arrive as one line
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def call(self, command: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"client process {self.index} exited (see its log)")
        return dict(json.loads(line))

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            await self.call({"cmd": "stop"}, timeout=30)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        self.log.close()


class LoadRun:
    """A cluster, its seeded people, and client processes that hold ``users`` simulated users."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.redis = RedisServer(Path(tempfile.mkdtemp(prefix="hub-load-redis-")))
        self.postgres: PostgresServer | None = None
        self.cluster: Cluster | None = None
        self.clients: list[ClientProcess] = []
        self.people: list[tuple[str, int]] = []
        self.users = 0

    async def __aenter__(self) -> LoadRun:
        raise_nofile()
        self.redis.start()
        admin_url = self.args.pg
        if admin_url == "private":
            bindir = postgres_bindir()
            if bindir is None:
                raise SystemExit("--pg private needs PostgreSQL's server binaries (initdb, postgres)")
            # Django keeps one connection per thread, and under ASGI every request runs in a
            # thread of its own: the hub's connection count grows with concurrency and passed
            # PostgreSQL's default 100 at ~750 users (docs/performance.md).
            self.postgres = PostgresServer(
                Path(tempfile.mkdtemp(prefix="hub-load-pg-")),
                bindir,
                {"max_connections": str(self.args.pg_max_connections)},
            )
            await asyncio.to_thread(self.postgres.start)
            admin_url = self.postgres.url
        self.cluster = Cluster(
            procs=self.args.procs, redis_url=self.redis.url, admin_url=admin_url, people=1,
            balancer=True, worker=True, indexer=True,
            # Production limits, not the benchmarks' relaxed ones: the users here behave like people.
            extra_env={"HUB_SEND_RATE_PER_MINUTE": "30", "HUB_WS_FRAME_RATE": "20", "HUB_WS_FRAME_BURST": "60"},
        )  # fmt: skip
        await asyncio.to_thread(self.cluster.start)
        started = time.monotonic()
        self.people = await asyncio.to_thread(
            seed, self.cluster, self.args.workspaces, self.args.min_people, self.args.max_people
        )
        log(f"seeded {len(self.people)} people, {self.args.workspaces} workspaces, {time.monotonic() - started:.0f} s")
        await asyncio.to_thread(self.warm_up)
        for index in range(self.args.clients):
            client = ClientProcess(index, self.cluster.data_dir)
            await client.start()
            self.clients.append(client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.close)
        self.redis.stop()
        shutil.rmtree(self.redis.workdir, ignore_errors=True)
        if self.postgres is not None:
            self.postgres.stop("fast")
            shutil.rmtree(self.postgres.workdir, ignore_errors=True)

    def warm_up(self) -> None:
        """One search and one history read on every process before measuring: the first search
        in a process opens the index and loads the Chinese tokenizer's dictionary (~2 s), a
        start-up cost a long-running server has paid long ago."""
        assert self.cluster is not None
        token, workspace = self.people[0]
        conversations = self.cluster.api(
            self.cluster.servers[0], "GET", f"/api/v1/conversations?workspace={workspace}", token
        )
        for server in self.cluster.servers:
            for term in SEARCH_TERMS[:2]:
                self.cluster.api(server, "GET", f"/api/v1/search?workspace={workspace}&q={quote(term)}", token)
            self.cluster.api(server, "GET", f"/api/v1/conversations/{conversations[0]['id']}/messages?limit=30", token)

    def server_pids(self) -> dict[str, int]:
        """Every process that serves these users: hub processes, Redis, and the PostgreSQL
        backends connected to this run's database (other databases' backends are not ours)."""
        assert self.cluster is not None
        pids = {f"daphne-{s.index}": s.pid for s in self.cluster.servers if s.alive()}
        pids |= {p.log_path.stem: p.pid for p in self.cluster.workers if p.alive()}
        if self.cluster.balancer is not None:
            pids["balancer"] = self.cluster.balancer.pid
        if self.redis.proc is not None:
            pids["redis"] = self.redis.proc.pid
        for pid in self.pg_backends():
            pids[f"postgres-{pid}"] = pid
        return pids

    def pg_backends(self) -> list[int]:
        import psycopg

        assert self.cluster is not None
        try:
            with psycopg.connect(self.cluster.admin_url, autocommit=True, connect_timeout=5) as conn:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.cluster.db_name,),
                ).fetchall()
        except psycopg.OperationalError:
            return []  # out of connections: this sample misses the backends, the next one may not
        return [int(r[0]) for r in rows]

    async def grow(self, users: int) -> float:
        """Add users (spread evenly over the client processes) until ``users`` are connected."""
        assert self.cluster is not None and self.cluster.balancer is not None
        if users > len(self.people):
            raise SystemExit(f"only {len(self.people)} people were seeded; raise --workspaces")
        new = self.people[self.users : users]
        started = time.monotonic()
        shares = [new[i :: len(self.clients)] for i in range(len(self.clients))]
        base = self.cluster.balancer.http
        answers = await asyncio.gather(
            *(c.call({"cmd": "add", "users": s, "base": base}) for c, s in zip(self.clients, shares, strict=True))
        )
        for answer in answers:
            if answer["failed"]:
                log(f"  users that never connected: {answer['failed']}")
        self.users = users
        return time.monotonic() - started

    async def take(self) -> Window:
        window = Window()
        for part in await asyncio.gather(*(c.call({"cmd": "take"}) for c in self.clients)):
            window.merge(part)
        return window

    async def measure(self, seconds: float, ramp_s: float) -> StepResult:
        """Hold the current users for ``seconds`` and judge the step."""
        await self.take()  # discard what happened while connecting
        pids = self.server_pids()
        client_pids = [c.pid for c in self.clients]
        meter = CpuMeter()
        meter.start([*pids.values(), *client_pids])
        started = time.monotonic()
        server_seen = set(pids.values())
        while (left := started + seconds - time.monotonic()) > 0:
            await asyncio.sleep(min(1.0, left))
            current = await asyncio.to_thread(self.server_pids)
            server_seen |= set(current.values())
            meter.sample(list(current.values()))
        window = await self.take()
        elapsed = time.monotonic() - started
        pids = self.server_pids()
        used, machine = meter.stop([*pids.values(), *client_pids])
        server_cpu = sum(used.get(p, 0.0) for p in server_seen) / NCPU
        client_cpu = [used[p] for p in client_pids]
        other = max(machine - server_cpu - sum(client_cpu) / NCPU, 0.0)
        rss = {name: safe_rss(pid) / 2**20 for name, pid in pids.items() if not name.startswith("postgres")}
        rss["postgres backends (PSS)"] = sum(pss_bytes(p) for n, p in pids.items() if n.startswith("postgres")) / 2**20
        errors = window.failures
        rate = errors / max(window.operations, 1)
        http = window.http_ms
        avg = statistics.fmean(http) if http else 0.0
        p99 = pct(http, 0.99)
        broke = []
        if avg > MAX_AVG_MS:
            broke.append(f"avg {avg:.0f} ms > {MAX_AVG_MS:.0f}")
        if p99 > MAX_P99_MS:
            broke.append(f"p99 {p99:.0f} ms > {MAX_P99_MS:.0f}")
        if rate > MAX_ERROR_RATE:
            broke.append(f"errors {100 * rate:.3f} % > {100 * MAX_ERROR_RATE:.3f}")
        if server_cpu > MAX_SERVER_CPU_PCT:
            broke.append(f"server CPU {server_cpu:.0f} % > {MAX_SERVER_CPU_PCT:.0f}")
        deliveries = window.delivery_ms
        return StepResult(
            users=self.users,
            seconds=round(elapsed, 1),
            requests_per_s=round(len(http) / elapsed, 1),
            msgs_per_s=round(window.posts / elapsed, 2),
            deliveries_per_s=round(len(deliveries) / elapsed, 1),
            http_avg_ms=round(avg, 1),
            http_p50_ms=round(pct(http, 0.5), 1),
            http_p99_ms=round(p99, 1),
            delivery_avg_ms=round(statistics.fmean(deliveries), 1) if deliveries else 0.0,
            delivery_p50_ms=round(pct(deliveries, 0.5), 1),
            delivery_p99_ms=round(pct(deliveries, 0.99), 1),
            ack_p50_ms=round(pct(window.ack_ms, 0.5), 1),
            operations=window.operations,
            errors=errors,
            error_rate_pct=round(100 * rate, 4),
            server_cpu_pct=round(server_cpu, 1),
            client_cpu_pct=[round(c, 1) for c in client_cpu],
            other_cpu_pct=round(other, 1),
            loadavg=loadavg(),
            rss_mib={k: round(v, 1) for k, v in rss.items()},
            held=not broke,
            broke=broke,
            client_limited=any(c > CLIENT_LIMIT_CPU_PCT for c in client_cpu),
            ramp_s=round(ramp_s, 1),
            by_kind={
                kind: {"count": len(v), "p50_ms": round(pct(v, 0.5), 1), "p99_ms": round(pct(v, 0.99), 1)}
                for kind, v in sorted(window.kind_ms.items())
            },
            error_samples=window.error_samples,
        )


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


HEADER = (
    f"{'users':>6} {'req/s':>6} {'msg/s':>6} {'dlv/s':>6} | {'http avg':>8} {'p50':>6} {'p99':>6} | "
    f"{'dlv avg':>7} {'p50':>6} {'p99':>6} | {'errors':>10} | {'srv CPU':>7} {'client CPU':>11} "
    f"{'other':>6} {'load':>5} | {'daphne RSS':>10} | held"
)


def row(step: StepResult) -> str:
    daphne_rss = sum(v for k, v in step.rss_mib.items() if k.startswith("daphne"))
    clients = "/".join(f"{c:.0f}" for c in step.client_cpu_pct)
    verdict = "yes" if step.held else "NO: " + "; ".join(step.broke)
    if step.client_limited:
        verdict += " (client-limited)"
    return (
        f"{step.users:>6} {step.requests_per_s:>6.1f} {step.msgs_per_s:>6.2f} {step.deliveries_per_s:>6.1f} | "
        f"{step.http_avg_ms:>6.1f}ms {step.http_p50_ms:>6.1f} {step.http_p99_ms:>6.0f} | "
        f"{step.delivery_avg_ms:>5.1f}ms {step.delivery_p50_ms:>6.1f} {step.delivery_p99_ms:>6.0f} | "
        f"{step.errors:>4}/{step.operations:<5} | {step.server_cpu_pct:>6.1f}% {clients:>10}% "
        f"{step.other_cpu_pct:>5.0f}% {step.loadavg:>5.1f} | {daphne_rss:>7.0f}MiB | {verdict}"
    )


async def ramp(args: argparse.Namespace) -> dict[str, Any]:
    steps: list[StepResult] = []
    started = time.time()
    async with LoadRun(args) as run:
        if args.not_before:
            # Seeded and ready; wait for the machine to be ours (other work ends at a known time).
            wait = wait_seconds_until(args.not_before)
            log(f"waiting {wait:.0f} s until {args.not_before} UTC")
            await asyncio.sleep(wait)
            started = time.time()
        users = args.start
        while users <= args.max:
            ramp_s = await run.grow(users)
            log(f"{users} users connected in {ramp_s:.0f} s; settling {args.settle:.0f} s, holding {args.hold:.0f} s")
            await asyncio.sleep(args.settle)
            step = await run.measure(args.hold, ramp_s)
            steps.append(step)
            if len(steps) == 1:
                log(HEADER)
            log(row(step))
            log(
                "  per action: "
                + ", ".join(
                    f"{k} {v['count']:.0f}× p50 {v['p50_ms']} p99 {v['p99_ms']}" for k, v in step.by_kind.items()
                )
            )
            if step.error_samples:
                log(f"  error samples: {step.error_samples[:3]}")
            if not step.held:
                break
            users += args.step
    held = [s.users for s in steps if s.held]
    return {
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "ended_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": NCPU,
        "procs": args.procs,
        "clients": args.clients,
        "workspaces": args.workspaces,
        "ceiling_users": max(held) if held else 0,
        "reached_max": bool(steps) and steps[-1].held,
        "steps": [asdict(s) for s in steps],
    }


def wait_seconds_until(hhmm: str) -> float:
    """Seconds from now until the next ``HH:MM`` UTC (0 if that is less than a minute ago)."""
    now = time.time()
    hours, minutes = (int(part) for part in hhmm.split(":"))
    midnight = now - now % 86400
    target = midnight + hours * 3600 + minutes * 60
    return max(target - now, 0.0) if target > now - 60 else target + 86400 - now


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--procs", type=int, default=2, help="daphne processes (default 2)")
    parser.add_argument("--clients", type=int, default=2, help="client processes simulating users (default 2)")
    parser.add_argument("--workspaces", type=int, default=50, help="workspaces to seed (default 50)")
    parser.add_argument("--min-people", type=int, default=20)
    parser.add_argument("--max-people", type=int, default=40)
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.add_argument("--pg-max-connections", type=int, default=1000, help="of the private PostgreSQL")
    parser.add_argument(
        "--pg",
        default="private",
        help="PostgreSQL admin URL, or 'private' (default): an initdb cluster of our own on a free port, so that "
        "other users of the machine's server (its connection limit, its load) do not enter the measurement",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_seed":
        print(json.dumps(_seed_workspaces(json.loads(argv[1]))))
        return 0
    if argv and argv[0] == "_client":
        asyncio.run(client_main())
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--start", type=int, default=200, help="users in the first step (default 200)")
    parser.add_argument("--step", type=int, default=200, help="users added per step (default 200)")
    parser.add_argument("--max", type=int, default=3000, help="stop after this many users (default 3000)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after connecting before measuring")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds each step is measured (default 60)")
    parser.add_argument("--not-before", metavar="HH:MM", help="seed now, start the load at this UTC time")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 workspaces, steps of 50, 20 s holds")
    args = parser.parse_args(argv)
    if args.quick:
        args.workspaces, args.start, args.step, args.max, args.hold, args.settle = 5, 50, 50, 100, 20.0, 3.0
    result = asyncio.run(ramp(args))
    print(HEADER)
    for step in result["steps"]:
        print(row(StepResult(**step)))
    print(
        f"ceiling: {result['ceiling_users']} concurrent users held"
        + ("" if not result["reached_max"] else f" (the run stopped at --max {args.max}, not at a threshold)")
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
