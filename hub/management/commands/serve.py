"""``manage.py serve`` (what ``make run`` calls): migrate, load the demo on first start, then run
daphne (HTTP + WebSocket) and the django-tasks worker side by side until Ctrl-C / SIGTERM.

Both children run in their own process group, so a Ctrl-C in the terminal reaches only this
supervisor, which then stops them in order with SIGTERM (a worker that received SIGINT *and*
SIGTERM would treat the second as "force quit" and abandon a running task). On Linux the
children also get SIGTERM if the supervisor dies without cleaning up (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from hub.management.commands.load_demo import print_accounts

_STOP_TIMEOUT_S = 15.0
_READY_TIMEOUT_S = 60.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Not Linux/glibc: the supervisor's own cleanup still stops the children.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run Xiaowei Hub: migrate, load the demo (unless HUB_DEMO=0), serve with daphne and run the task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="bind address (default: $HUB_HOST or 127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="port (default: $HUB_PORT or 8000)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the background task worker")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo workspace")

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"] or settings.HUB_HOST
        port: int = options["port"] or settings.HUB_PORT
        self.stdout.write(f"Data directory: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        # Collected files let WhiteNoise serve static assets with far-future cache headers.
        call_command("collectstatic", interactive=False, verbosity=0)
        if settings.HUB_DEMO and not options["no_demo"]:
            # Imported here: the demo loader is part of the composition root (it uses messaging).
            from hub.demo import load_demo

            data = load_demo()
            state = "loaded" if data.created else "already present"
            self.stdout.write(f"Demo workspace {data.workspace.name}: {state}.")
            print_accounts(self.stdout.write)
        if _port_open(host, port):
            self.stderr.write(f"Port {port} on {host} is already in use; set HUB_PORT to another port.")
            sys.exit(2)
        self._supervise(host, port, with_worker=not options["no_worker"])

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            process_group=0,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def _supervise(self, host: str, port: int, *, with_worker: bool) -> None:
        stop_requested: list[int] = []

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop_requested.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        manage = str(Path(settings.BASE_DIR) / "manage.py")
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        if with_worker:
            # `worker` = db_worker + the periodic jobs (hub.periodic), as in the scaled-out deployment.
            children.append(("task worker", self._spawn([sys.executable, manage, "worker", "--interval", "1"])))
        server = self._spawn([sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "hub.asgi:application"])
        children.append(("daphne", server))

        deadline = time.monotonic() + _READY_TIMEOUT_S
        announced = False
        exit_code = 0
        while not stop_requested:
            dead = [(name, proc) for name, proc in children if proc.poll() is not None]
            if dead:
                name, proc = dead[0]
                self.stderr.write(f"{name} exited unexpectedly with code {proc.returncode}; stopping.")
                exit_code = 1
                break
            if not announced and _port_open(host, port):
                announced = True
                self.stdout.write(
                    self.style.SUCCESS(f"Xiaowei Hub is running at http://{host}:{port}/ — Ctrl-C stops it.")
                )
            elif not announced and time.monotonic() > deadline:
                self.stderr.write(f"daphne did not open port {port} within {_READY_TIMEOUT_S:.0f} s; stopping.")
                exit_code = 1
                break
            time.sleep(0.2)

        self.stdout.write("Stopping…")
        self._stop(children)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        # The server first (no new requests enqueue work), then the worker finishes its task.
        for _name, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {_STOP_TIMEOUT_S:.0f} s; killing it.")
                proc.kill()
                proc.wait()
