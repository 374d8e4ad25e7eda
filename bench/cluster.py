"""Start a scaled-out hub on loopback: N daphne processes on PostgreSQL + Redis.

Used three ways:

* ``make cluster`` (``.venv/bin/python bench/cluster.py --procs 2 --full``) — the topology of
  docker/compose.yaml on loopback: creates a fresh database, migrates it, seeds a workspace
  with people and API tokens, starts N daphne processes, the background worker (``manage.py
  worker``), the search-index writer (``search_worker``) and a load balancer in front
  (``bench/balancer.py``), prints the addresses and tokens, and runs until Ctrl-C; then stops
  the processes and drops the database.
* ``tests/integration`` imports :class:`Cluster` to prove delivery across real processes.
* ``bench/messaging_bench.py`` imports it to measure latency, throughput and memory.

Everything binds to 127.0.0.1. Every process started here is killed by ``Cluster.close()``
(also on exceptions: use it as a context manager), and every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
DAPHNE = str(VENV_BIN / "daphne")

DEFAULT_PG = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_REDIS = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


# --- small utilities -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(wanted: int = 20_000) -> int:
    """Raise this process's open-file limit (children inherit it) as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _pg_admin(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200 (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s (last error: {last})")


# --- the pieces of a cluster -----------------------------------------------------------------


@dataclass
class Person:
    user_id: int
    email: str
    token: str


@dataclass
class Seed:
    workspace_id: int
    people: list[Person]
    conversations: dict[str, int]  # name -> id
    members: dict[str, list[int]] = field(default_factory=dict)  # name -> indexes into people


@dataclass
class ServerProcess:
    """One daphne process; its output goes to a log file so a failing test can show it."""

    index: int
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    # Defaults to daphne serving the hub; the baseline server passes its own command.
    argv: list[str] | None = None
    # What answers 200 once the process is ready; None for processes without HTTP (workers),
    # which only have to stay alive for a moment.
    ready_path: str | None = "/healthz"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv or [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "hub.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, not daphne
            )
        finally:
            log.close()
        if self.ready_path is not None:
            wait_http(f"{self.http}{self.ready_path}", timeout=timeout, proc=self.proc)
        else:
            time.sleep(1.0)
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.proc.returncode}:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL, wait: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=wait)

    def stop(self) -> None:
        """Graceful first (SIGTERM), then SIGKILL."""
        self.kill(signal.SIGTERM, wait=5.0)
        self.kill(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class RedisServer:
    """A private ``redis-server`` on a free port, for tests that kill, pause or fill Redis."""

    def __init__(self, workdir: Path, binary: str = "redis-server") -> None:
        self.binary = shutil.which(binary) or binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        try:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--bind", "127.0.0.1",
                    "--port", str(self.port),
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(self.workdir),
                    "--enable-debug-command", "local",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGKILL promptly otherwise
            self.proc.kill()
        self.proc.wait(timeout=10)


def postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` (Debian's layout), else
    the directory of an ``initdb`` on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if found:
        return found[0].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


class PostgresServer:
    """A private PostgreSQL cluster (``initdb`` + ``postgres``) in a temporary directory on a
    free loopback port, for tests that stop the database. The machine's shared server is never
    touched.

    PostgreSQL refuses to run as root; when we are root the server runs as the ``postgres``
    user (Debian's package creates it), which then owns the directory."""

    def __init__(self, workdir: Path, bindir: Path, settings: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.bindir = bindir
        self.settings = settings or {}  # postgresql.conf parameters, e.g. {"max_connections": "1000"}
        self.data = workdir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]], user=self.user, check=True, capture_output=True, timeout=120
        )

    def start(self, timeout: float = 30.0) -> None:
        if not self.data.exists():
            if self.user is not None:
                shutil.chown(self.workdir, self.user)
            # fsync off: only an operating-system crash needs it, and the tests crash PostgreSQL,
            # not the machine (an immediate stop still makes PostgreSQL replay its WAL).
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        log = (self.workdir / "postgres.log").open("ab")
        try:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                    "-k", str(self.workdir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                    *(arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}")),
                ],
                user=self.user,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}: see {self.workdir}/postgres.log")
            with contextlib.suppress(Exception):
                _pg_admin(self.url, "SELECT 1")
                return
            time.sleep(0.1)
        raise TimeoutError("postgres did not start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: like a crash — no shutdown checkpoint, WAL replay at the next start."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")
        self.proc.wait(timeout=30)


class TemplateDatabase:
    """A migrated database to copy with ``CREATE DATABASE ... TEMPLATE``: migrating once per
    test session instead of once per cluster saves ~10 s per test."""

    def __init__(self, admin_url: str = DEFAULT_PG, data_dir: Path | None = None) -> None:
        self.admin_url = admin_url
        self.name = f"hubtpl_{uuid.uuid4().hex[:12]}"
        self.url = _with_dbname(admin_url, self.name)
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hub-tpl-"))
        self.created = False

    def create(self) -> None:
        _pg_admin(self.admin_url, f'CREATE DATABASE "{self.name}"')
        self.created = True
        env = base_env(self.url, None, "tpl", self.data_dir)
        run_manage(env, ["migrate", "--noinput", "-v", "0"], timeout=300)

    def drop(self) -> None:
        if self.created:
            _pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


def base_env(database_url: str, redis_url: str | None, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "REDIS_", "DATABASE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "DATABASE_URL": database_url,
            "HUB_CHANNEL_PREFIX": prefix,
            "HUB_DATA_DIR": str(data_dir),
            "HUB_DEMO": "0",
            # All processes of a cluster must share one key (sessions, signed tokens).
            "SECRET_KEY": "cluster-" + prefix,
            "LOG_LEVEL": "WARNING",
            # Benchmarks and tests send far faster than a person; the limits are tested elsewhere
            # (a sender acknowledged quickly exceeds the socket's 20 frames/s and loses frames).
            "HUB_SEND_RATE_PER_MINUTE": "1000000",
            "HUB_WS_FRAME_RATE": "1000000",
            "HUB_WS_FRAME_BURST": "1000000",
            "PYTHONUNBUFFERED": "1",
            # Scaled out, search indexing belongs to one `search_worker` process (two servers
            # indexing into one directory would be two writers); the messaging figures leave it
            # out. Override with extra_env={"HUB_SEARCH_INDEXING": "thread"}.
            "HUB_SEARCH_INDEXING": "off",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def run_manage(env: dict[str, str], args: list[str], timeout: float = 120) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


class Cluster:
    """A fresh database (+ seed) and ``procs`` daphne processes sharing one channel-layer prefix.

    ``redis_url=None`` gives the in-memory layer (only meaningful with one process).
    """

    def __init__(
        self,
        procs: int = 2,
        *,
        redis_url: str | None = DEFAULT_REDIS,
        admin_url: str = DEFAULT_PG,
        template: TemplateDatabase | None = None,
        people: int = 4,
        channels: dict[str, int] | None = None,
        extra_env: dict[str, str] | None = None,
        balancer: bool = False,
        worker: bool = False,
        indexer: bool = False,
        password: str | None = None,
    ) -> None:
        self.procs = procs
        # The rest of docker/compose.yaml's topology, off by default (the messaging tests and
        # benchmarks talk to each process directly).
        self.with_balancer = balancer
        self.with_worker = worker
        self.with_indexer = indexer
        self.password = password  # the seeded owner's password, for sign-in tests
        self.redis_url = redis_url
        self.admin_url = admin_url
        self.template = template
        self.people = people
        self.channels = channels if channels is not None else {"general": people}
        self.run_id = uuid.uuid4().hex[:10]
        self.db_name = f"hubcl_{self.run_id}"
        self.database_url = _with_dbname(admin_url, self.db_name)
        self.prefix = f"hubcl{self.run_id}"
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"hub-cluster-{self.run_id}-"))
        self.extra_env = dict(extra_env or {})
        self.servers: list[ServerProcess] = []
        self.workers: list[ServerProcess] = []  # worker, indexer (no HTTP)
        self.balancer: ServerProcess | None = None
        self.seed: Seed | None = None
        self._db_created = False
        if indexer:
            # One index writer for the deployment; the servers only read (as in compose).
            self.extra_env.setdefault("HUB_SEARCH_INDEXING", "worker")

    # --- lifecycle ---

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(self.database_url, self.redis_url, self.prefix, self.data_dir, **{**self.extra_env, **extra})

    def create_database(self) -> None:
        if self.template is not None:
            _pg_admin(self.admin_url, f'CREATE DATABASE "{self.db_name}" TEMPLATE "{self.template.name}"')
            self._db_created = True
        else:
            _pg_admin(self.admin_url, f'CREATE DATABASE "{self.db_name}"')
            self._db_created = True
            run_manage(self.env(), ["migrate", "--noinput", "-v", "0"], timeout=300)

    def seed_data(self) -> Seed:
        spec = json.dumps({"people": self.people, "channels": self.channels, "password": self.password})
        result = subprocess.run(
            [PYTHON, str(Path(__file__).resolve()), "_seed", spec],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{result.stderr[-4000:]}")
        raw = json.loads(result.stdout.strip().splitlines()[-1])
        self.seed = Seed(
            workspace_id=raw["workspace_id"],
            people=[Person(**p) for p in raw["people"]],
            conversations=raw["conversations"],
            members=raw["members"],
        )
        return self.seed

    def add_server(self, **extra_env: str) -> ServerProcess:
        index = len(self.servers)
        server = ServerProcess(index, free_port(), self.env(**extra_env), self.data_dir / f"daphne-{index}.log")
        self.servers.append(server)
        server.start()
        return server

    def add_process(self, name: str, args: list[str]) -> ServerProcess:
        """A ``manage.py`` process without HTTP (the task worker, the index writer)."""
        index = len(self.workers)
        process = ServerProcess(
            index, 0, self.env(), self.data_dir / f"{name}.log", argv=[PYTHON, "manage.py", *args], ready_path=None
        )
        self.workers.append(process)
        process.start()
        return process

    def add_balancer(self) -> ServerProcess:
        """``bench/balancer.py`` in front of the servers (round-robin, skips dead ones)."""
        port = free_port()
        argv = [PYTHON, str(ROOT / "bench" / "balancer.py"), "--port", str(port)]
        for server in self.servers:
            argv += ["--backend", f"127.0.0.1:{server.port}"]
        self.balancer = ServerProcess(-1, port, self.env(), self.data_dir / "balancer.log", argv=argv)
        self.balancer.start()
        return self.balancer

    def start(self) -> Cluster:
        raise_nofile()
        try:
            self.create_database()
            self.seed_data()
            for _ in range(self.procs):
                self.add_server()
            if self.with_worker:
                self.add_process("worker", ["worker", "--interval", "0.5"])
            if self.with_indexer:
                self.add_process("indexer", ["search_worker"])
            if self.with_balancer:
                self.add_balancer()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        # Front to back: the balancer, the servers, then the workers (they finish their task).
        if self.balancer is not None:
            self.balancer.stop()
        for server in self.servers:
            server.stop()
        for process in self.workers:
            process.stop()
        if self._db_created:
            with contextlib.suppress(Exception):
                _pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self._db_created = False
        if not os.environ.get("HUB_KEEP_CLUSTER_LOGS"):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def logs(self) -> str:
        parts = [f"--- daphne {s.index} (port {s.port}) ---\n{s.log_tail()}" for s in self.servers]
        parts += [f"--- {p.log_path.stem} ---\n{p.log_tail()}" for p in self.workers]
        if self.balancer is not None:
            parts.append(f"--- balancer (port {self.balancer.port}) ---\n{self.balancer.log_tail()}")
        return "\n".join(parts)

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every hub process's ``/metrics``, summed per (sample name, labels) — what a
        Prometheus ``sum()`` over the processes would show (docs/operations.md "Metrics").
        Deployment-wide gauges (queue depths) are the same on every process: divide by
        ``len(self.servers)`` or read one process for those."""
        from prometheus_client.parser import text_string_to_metric_families

        total: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for server in self.servers:
            if not server.alive():
                continue
            with urllib.request.urlopen(f"{server.http}/metrics", timeout=10) as resp:
                text = resp.read().decode()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    total[key] = total.get(key, 0.0) + sample.value
        return total

    @property
    def entry(self) -> ServerProcess:
        """Where clients connect: the balancer when there is one, else the first server."""
        return self.balancer if self.balancer is not None else self.servers[0]

    # --- helpers for tests and benchmarks ---

    def api(self, server: ServerProcess, method: str, path: str, token: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            server.http + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=15) as resp:
            return json.loads(resp.read() or b"null")


@contextlib.contextmanager
def running_cluster(**kwargs: Any) -> Iterator[Cluster]:
    cluster = Cluster(**kwargs)
    with cluster:
        yield cluster


# --- seeding (runs inside a Django process with the cluster's environment) --------------------


def _seed(spec: dict[str, Any]) -> dict[str, Any]:
    """People with API tokens, one workspace, and channels whose members are the first N people.

    Bulk inserts for people and tokens (creating 2,000 users through the password hasher would
    take minutes); workspace and conversations go through the real actions.
    """
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from hub import actions as hub_actions
    from hub.models import ApiToken, Member, User
    from messaging import actions as messaging_actions

    count = int(spec["people"])
    owner = User.objects.create_user(email="owner@bench.test", password=spec.get("password"), display_name="Owner")
    workspace = hub_actions.do_create_workspace(owner, "Bench Co")
    users = User.objects.bulk_create(
        [
            User(email=f"p{i}@bench.test", display_name=f"Person {i}", password="!unusable")
            for i in range(1, count)  # person 0 is the owner
        ]
    )
    all_users = [owner, *users]
    Member.objects.bulk_create([Member(workspace=workspace, user=u, role=Member.Role.MEMBER) for u in users])
    keys = [ApiToken.new_key() for _ in all_users]
    ApiToken.objects.bulk_create(
        [ApiToken(user=u, name="bench", key_hash=ApiToken.hash_key(k)) for u, k in zip(all_users, keys, strict=True)]
    )
    owner_member = Member.objects.get(workspace=workspace, user=owner)
    conversations: dict[str, int] = {}
    members: dict[str, list[int]] = {}
    for name, size in spec["channels"].items():
        size = min(int(size), count)
        conversation = messaging_actions.check_create_conversation(
            owner_member, "public", name, [u.pk for u in all_users[1:size]]
        )
        conversations[name] = conversation.pk
        members[name] = list(range(size))
    return {
        "workspace_id": workspace.pk,
        "people": [{"user_id": u.pk, "email": u.email, "token": k} for u, k in zip(all_users, keys, strict=True)],
        "conversations": conversations,
        "members": members,
    }


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_seed":
        print(json.dumps(_seed(json.loads(argv[1]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procs", type=int, default=2, help="daphne processes (default 2)")
    parser.add_argument("--people", type=int, default=10, help="people with API tokens (default 10)")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis URL, or 'none' for the in-memory layer")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL admin URL")
    parser.add_argument(
        "--full", action="store_true", help="the whole compose topology: + worker, indexer and load balancer"
    )
    parser.add_argument("--password", default="cluster-demo-2026", help="password of owner@bench.test")
    args = parser.parse_args(argv)
    redis_url = None if args.redis == "none" else args.redis
    options: dict[str, Any] = {"balancer": args.full, "worker": args.full, "indexer": args.full}
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    with running_cluster(
        procs=args.procs, redis_url=redis_url, admin_url=args.pg, people=args.people, password=args.password, **options
    ) as cluster:
        assert cluster.seed is not None
        print(f"database {cluster.db_name}  layer prefix {cluster.prefix}  data {cluster.data_dir}")
        for server in cluster.servers:
            print(f"daphne {server.index}: {server.http}  (pid {server.pid})  ws {server.ws}  {server.http}/metrics")
        for process in cluster.workers:
            print(f"{process.log_path.stem}: pid {process.pid}")
        if cluster.balancer is not None:
            print(f"load balancer: {cluster.balancer.http}/  (status {cluster.balancer.http}/__balancer__)")
        print(f"sign in as owner@bench.test / {args.password}")
        print(f"conversation 'general' = {cluster.seed.conversations['general']}")
        for person in cluster.seed.people[:5]:
            print(f"  {person.email}  user {person.user_id}  token {person.token}")
        print("Ctrl-C stops the processes and drops the database.", flush=True)
        everything = [*cluster.servers, *cluster.workers, *([cluster.balancer] if cluster.balancer else [])]
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.alive() for p in everything):
                time.sleep(1)
        dead = [p.log_path.stem for p in everything if not p.alive()]
        if dead:
            print(f"{dead} exited:\n{cluster.logs()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
