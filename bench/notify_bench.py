"""Notification delivery benchmark: people with a forwarding target (a WeCom-style robot on a
loopback HTTP server), a burst of mentions, then the delivery sweep — how long collecting
(coalescing, access checks) and sending take, how many robot requests the burst became.

    .venv/bin/python bench/notify_bench.py --people 200 --burst 20

A throwaway data directory (SQLite database) is created and deleted. Prints figures; asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Robot(BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Robot.lock:
            Robot.hits += 1
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--burst", type=int, default=20, help="@all messages sent in one burst")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="hub-notify-bench-"))
    os.environ.update(
        HUB_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="hub.settings",
        HUB_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        HUB_NOTIFY_ALLOW_PRIVATE_TARGETS="1",
        HUB_SEND_RATE_PER_MINUTE="0",
        HUB_DEMO="0",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        from hub import actions as hub_actions
        from hub.models import Member, User
        from messaging import actions as messaging_actions
        from messaging.delivery import actions as delivery_actions
        from messaging.delivery import pipeline
        from messaging.delivery.models import NotifyDelivery
        from messaging.models import PendingNotification

        owner = User.objects.create_user(email="owner@bench.test", password="x", display_name="王老板")
        workspace = hub_actions.do_create_workspace(owner, "压测茶叶")
        owner_member = Member.objects.get(workspace=workspace, user=owner)
        people = []
        for n in range(args.people):
            user = User.objects.create_user(email=f"p{n}@bench.test", password="x", display_name=f"员工{n}")
            Member.objects.create(workspace=workspace, user=user, role=Member.Role.MEMBER)
            url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=k{n:06d}"
            delivery_actions.check_add_target(user, "wecom", "", url, "")
            people.append(user)
        conv = messaging_actions.check_create_conversation(owner_member, "public", "全员", [u.pk for u in people])
        workspace.broadcast_mention_threshold = 0
        workspace.save()

        started = time.perf_counter()
        for n in range(args.burst):
            messaging_actions.check_send_message(owner_member, conv, f"@all 第{n}条通知：明天盘点", uuid.uuid4())
        send_s = time.perf_counter() - started
        rows = PendingNotification.objects.count()

        now = timezone.now() + timedelta(seconds=60)
        started = time.perf_counter()
        for user in people:
            pipeline.collect(user.pk, now)
        collect_s = time.perf_counter() - started
        deliveries = NotifyDelivery.objects.count()
        started = time.perf_counter()
        sent = pipeline.run_due(now)
        send_all_s = time.perf_counter() - started

        print(
            json.dumps(
                {
                    "people_with_a_target": args.people,
                    "burst_messages": args.burst,
                    "pending_rows": rows,
                    "burst_send_ms_per_message": round(send_s * 1000 / args.burst, 1),
                    "deliveries_after_coalescing": deliveries,
                    "robot_requests": Robot.hits,
                    "collect_ms_per_person": round(collect_s * 1000 / args.people, 2),
                    "deliveries_sent": sent,
                    "delivery_ms_each": round(send_all_s * 1000 / max(sent, 1), 2),
                    "deliveries_per_second": round(sent / send_all_s, 1) if send_all_s else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    finally:
        server.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
