"""A loopback HTTP server standing in for an external app: records every request and answers
with whatever the test scripts (status, body, content type, delay)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    delay: float = 0.0


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    script: Script = field(default_factory=Script)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            state.arrived.set()
            script = state.script
            if script.delay:
                time.sleep(script.delay)
            try:
                self.send_response(script.status)
                self.send_header("Content-Type", script.content_type)
                self.send_header("Content-Length", str(len(script.body)))
                self.end_headers()
                self.wfile.write(script.body)
            except OSError:
                pass  # the hub gave up waiting (timeout tests)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
