"""``manage.py serve`` as a real process: migrate + demo + daphne + worker, health, demo sign-in,
clean shutdown on SIGINT, and a second start that reuses the data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hub.demo import DEMO_PASSWORD, STAFF

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUB_DEMO")}
    env.update(
        DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=str(data_dir), HUB_PORT=str(port), PYTHONUNBUFFERED="1"
    )
    return env


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=_env(data_dir, port),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited early:\n{log.read_text()}"
        if "is running at" in log.read_text():
            return
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"serve did not come up on port {port}:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes], log: Path) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"serve did not stop within 30 s of SIGINT:\n{log.read_text()}")


def test_serve_runs_demo_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve-1.log"
    proc = _start(tmp_path / "data", port, log)
    try:
        _wait_until_up(proc, port, log)
        output = log.read_text()
        assert "loaded." in output
        assert DEMO_PASSWORD in output
        for person in STAFF:
            assert person.email in output

        assert _get(f"{base}/healthz")[0] == 200
        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        assert body["failed"] == []

        # The demo owner signs in through allauth's headless app API...
        status, body = _post_json(
            f"{base}/_allauth/app/v1/auth/login", {"email": STAFF[0].email, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        assert body["data"]["user"]["email"] == STAFF[0].email
        # ... and a wrong password is refused.
        status, _ = _post_json(
            f"{base}/_allauth/app/v1/auth/login", {"email": STAFF[0].email, "password": "wrong-password"}
        )
        assert status == 400
    finally:
        code = _stop(proc, log)
    assert code == 0, log.read_text()
    assert "Stopped." in log.read_text()
    assert (tmp_path / "data" / "hub.sqlite3").exists()
    assert (tmp_path / "data" / "secret_key").exists()

    # A second start reuses the database and does not load the demo twice.
    log2 = tmp_path / "serve-2.log"
    proc = _start(tmp_path / "data", port, log2)
    try:
        _wait_until_up(proc, port, log2)
        assert "already present" in log2.read_text()
        assert _get(f"{base}/healthz")[0] == 200
    finally:
        code = _stop(proc, log2)
    assert code == 0, log2.read_text()


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = _env(tmp_path / "data", port)
        env["HUB_DEMO"] = "0"
        result = subprocess.run(
            [sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 2
    assert "already in use" in result.stderr
    assert "Demo" not in result.stdout  # HUB_DEMO=0 skips the demo
