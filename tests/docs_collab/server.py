"""A real hub for socket tests: a fresh data directory with a migrated SQLite file database,
a seeded document, and daphne processes started on free loopback ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")
DAPHNE = str(REPO / ".venv" / "bin" / "daphne")
NODE_DIR = REPO / "tests" / "node"

SEED = """
import json
from hub import actions as hub_actions
from hub.models import Member, User
from docs_collab import actions as doc_actions
owner = User.objects.create_user(email="owner@interop.test", password="x", display_name="Owner")
editor = User.objects.create_user(email="editor@interop.test", password="x", display_name="Editor")
ws = hub_actions.do_create_workspace(owner, "Interop")
Member.objects.create(workspace=ws, user=editor, role=Member.Role.MEMBER)
member = Member.objects.get(workspace=ws, user=owner)
document = doc_actions.check_create_document(member, "interop", None)
_, owner_token = hub_actions.do_issue_api_token(owner, "test")
_, editor_token = hub_actions.do_issue_api_token(editor, "test")
print(json.dumps({"document_id": document.pk, "owner_token": owner_token, "editor_token": editor_token}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Seed:
    document_id: int
    owner_token: str
    editor_token: str


class HubSite:
    """One data directory; daphne processes come and go on top of it."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "REDIS_URL"))}
        self.env.update(
            {
                "HUB_DATA_DIR": str(data_dir),
                "HUB_DEMO": "0",
                "DATABASE_URL": "",
                "DJANGO_SETTINGS_MODULE": "hub.settings",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(extra_env or {})
        self.processes: list[subprocess.Popen[bytes]] = []

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, timeout=180, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {result.stderr.decode()[-3000:]}")
        return result.stdout.decode()

    def seed(self) -> Seed:
        self.manage("migrate", "--noinput")
        out = self.manage("shell", "-c", SEED)
        return Seed(**json.loads(out.strip().splitlines()[-1]))

    def start(self) -> int:
        port = free_port()
        log = open(self.data_dir / f"daphne-{port}.log", "wb")  # noqa: SIM115 — lives as long as the process
        process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "hub.asgi:application"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("daphne exited:\n" + self.logs())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not become healthy:\n" + self.logs())

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.data_dir.glob("daphne-*.log")))


def ensure_node_modules(npm: str) -> None:
    """``npm ci`` from the committed lock file when node_modules is missing."""
    if (NODE_DIR / "node_modules" / "y-websocket").is_dir():
        return
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)


def node_client(node: str, port: int, seed: Seed, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            node,
            str(NODE_DIR / "doc_client.mjs"),
            f"ws://127.0.0.1:{port}/ws/docs",
            str(seed.document_id),
            seed.owner_token,
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def cleanup(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)


__all__ = ["HubSite", "Seed", "cleanup", "ensure_node_modules", "free_port", "node_client"]
