"""Browser-test harness: a real daphne server on a free loopback port with its own data
directory and migrated SQLite database, seeded users, and Debian's Chromium driven by
Playwright (never a downloaded browser).

Screenshots go to ``test-results/screenshots/`` (git-ignored) so anyone can look at them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
PASSWORD = "pw-E2e-Secret-2026"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    ids: dict[str, int]
    data_dir: Path
    log: Path

    def ws_url(self, path: str = "/app/") -> str:
        return self.url + path


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DJANGO_", "REDIS_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="hub.settings",
        HUB_DATA_DIR=str(data_dir),
        HUB_DEMO="0",
        HUB_SEND_RATE_PER_MINUTE="100000",
        # Notification forwarding tests point targets at loopback receivers.
        HUB_NOTIFY_ALLOW_PRIVATE_TARGETS="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server for the session; each test works in its own seeded conversation."""
    data_dir = Path(tempfile.mkdtemp(prefix="hub-e2e-"))
    env = _server_env(data_dir)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [python, "manage.py", "shell"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        stdin=(Path(__file__).parent / "seed.py").open(),
    )
    line = next(line for line in seeded.stdout.splitlines() if line.startswith("SEED "))
    ids = json.loads(line[5:])
    port = _free_port()
    log = data_dir / "daphne.log"
    daphne = Path(python).with_name("daphne")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(port), "hub.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        yield Server(url=url, ids=ids, data_dir=data_dir, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    chromium = require_binary("Chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_context(browser: Any, server: Server) -> Iterator[Any]:
    contexts: list[Any] = []
    outside: list[str] = []

    def make(*, locale: str = "zh-CN", viewport: dict[str, int] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("service_workers", "block")
        context = browser.new_context(
            locale=locale,
            timezone_id="Asia/Shanghai",
            viewport=viewport or {"width": 1280, "height": 800},
            base_url=server.url,
            **kwargs,
        )
        context.set_default_timeout(15_000)

        def loopback_only(route: Any) -> None:
            # The app must never reach outside the hub (fonts, CDNs, analytics): abort, record.
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", loopback_only)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not outside, f"requests outside the loopback server: {outside}"


# Session cookies per e-mail: each person signs in through the real form once per test
# session, later contexts reuse the cookies. (The server limits logins to 30 a minute per IP,
# which a suite signing in on every test would exceed.)
_SESSIONS: dict[str, list[Any]] = {}


def sign_in(page: Any, email: str, path: str = "/") -> None:
    """Through the real sign-in form (first time per person), then wait for the app's socket."""
    if email in _SESSIONS:
        page.context.add_cookies(_SESSIONS[email])
        page.goto(path)
    else:
        page.goto("/accounts/login/?next=" + path)
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form").filter(has=page.locator("input[name=password]")).locator("[type=submit]").first.click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        _SESSIONS[email] = page.context.cookies()
    page.wait_for_function("() => window.__hub && window.__hub.state.socket === 'open'")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
