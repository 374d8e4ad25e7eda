"""The machinery every fake ERP server shares: a threaded HTTP server on a loopback port that
can be stopped (an outage) and started again on the same port, configurable latency, and
faults queued for the next requests (an HTTP status with ``Retry-After``, a hang longer than
the client's timeout, a dropped connection)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int = 0  # answer this HTTP status instead of serving
    retry_after: str | None = None
    hang: float = 0.0  # sleep this long before serving (longer than the client's timeout)
    drop: bool = False  # close the connection without an answer
    after: bool = False  # apply after serving (the write happened, then the answer is lost)


class Reply:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeServer:
    """Subclasses implement ``handle(method, path, headers, body) -> Reply``."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request served
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._connections: set[socket.socket] = set()

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK add ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake.lock:
                    fake._connections.discard(self.connection)
                super().finish()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake._serve_one(self, body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """An outage: nothing listens on the port any more (connections are refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Kept-alive connections would go on being served by their handler threads: a real
        # outage drops them too.
        with self.lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    # --- faults -----------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500, retry_after: str | None = None) -> None:
        for _ in range(count):
            self.faults.append(Fault(status=status, retry_after=retry_after))

    def hang_next(self, seconds: float, *, after: bool = False) -> None:
        self.faults.append(Fault(hang=seconds, after=after))

    def drop_next(self, *, after: bool = False) -> None:
        self.faults.append(Fault(drop=True, after=after))

    # --- serving ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        raise NotImplementedError

    def _serve_one(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if self.latency:
            time.sleep(self.latency)
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and not fault.after:
            if fault.hang:
                time.sleep(fault.hang)
            if fault.drop:
                handler.close_connection = True
                handler.connection.close()
                return
            if fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(handler, Reply(fault.status, f"<html>{fault.status}</html>", headers), html=True)
                return
        with self.lock:
            self.requests.append((handler.command, handler.path))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        reply = self.handle(handler.command, handler.path, headers, body)
        if fault is not None and fault.after:
            # The work is done; the answer never arrives in time (or at all).
            if fault.hang:
                time.sleep(fault.hang)
            if fault.drop:
                handler.close_connection = True
                handler.connection.close()
                return
        self._send(handler, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply, *, html: bool = False) -> None:
        if html:
            data = str(reply.body).encode("utf-8")
            content_type = "text/html; charset=utf-8"
        else:
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
