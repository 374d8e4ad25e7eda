"""Loopback HTTP receivers for the notification tests: a threaded server on 127.0.0.1 that
records every request and answers what the test tells it to (per path prefix)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Received:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    # path prefix → list of (status, body) answers, used in order; the last one repeats.
    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, prefix: str, *answers: tuple[int, Any]) -> None:
        self.answers[prefix] = list(answers)

    def to(self, prefix: str) -> list[Received]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _answer_for(self, path: str) -> tuple[int, Any]:
        with self.lock:
            for prefix in sorted(self.answers, key=len, reverse=True):
                if path.startswith(prefix):
                    queue = self.answers[prefix]
                    return queue.pop(0) if len(queue) > 1 else queue[0]
        return 200, {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            parts = urlsplit(self.path)
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        "POST",
                        parts.path,
                        parse_qs(parts.query),
                        parts.query,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
            status, answer = receiver._answer_for(parts.path)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(0)))
    rec = Receiver(server.server_address[1])
    server.RequestHandlerClass = _handler(rec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture(name="allow_private")
def allow_private_fixture(settings: Any) -> None:
    """The receivers live on loopback: let the SSRF guard through (as an intranet relay would)."""
    settings.HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = True


def add_target(world: Any, persona: Any, kind: str, url: str, secret: str = "", label: str = "") -> int:
    res = world.api(persona).post(
        "/api/v1/me/notify/targets", {"kind": kind, "url": url, "secret": secret, "label": label}
    )
    assert res.status_code == 201, res.content
    return int(res.json()["id"])
