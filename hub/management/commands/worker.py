"""``manage.py worker`` — the background worker of a deployment: runs django-tasks'
``db_worker`` (digests, ERP sync, retention, exports, …) and enqueues the periodic jobs when
they are due (``hub.periodic``). ``serve`` starts it beside daphne; scaled out it is its own
service (docker/compose.yaml ``worker``, ``make cluster``).

SIGTERM / Ctrl-C: the db_worker gets one SIGTERM and finishes the task it is running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from hub.periodic import enqueue_due

_STOP_TIMEOUT_S = 30.0


class Command(BaseCommand):
    help = "Run the background task worker (db_worker) and enqueue periodic jobs when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="db_worker polling interval (s)")
        parser.add_argument("--schedule-every", type=float, default=60.0, help="how often to check periodic jobs (s)")

    def handle(self, *args: Any, **options: Any) -> None:
        stop: list[int] = []

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        child = subprocess.Popen(
            [sys.executable, manage, "db_worker", "--interval", str(options["interval"])],
            cwd=settings.BASE_DIR,
            process_group=0,  # a terminal's Ctrl-C reaches only us; we send one SIGTERM
        )
        self.stdout.write(f"task worker running (pid {child.pid})")
        next_check = 0.0
        exit_code = 0
        while not stop:
            if child.poll() is not None:
                self.stderr.write(f"db_worker exited with {child.returncode}")
                exit_code = 1
                break
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + options["schedule_every"]
                try:
                    for path in enqueue_due():
                        self.stdout.write(f"enqueued {path}")
                except Exception as exc:  # noqa: BLE001 — the database may be restarting; retry next round
                    self.stderr.write(f"could not check periodic jobs: {exc}")
                finally:
                    close_old_connections()
            time.sleep(0.2)
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if exit_code:
            sys.exit(exit_code)
