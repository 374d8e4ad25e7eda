"""A small load balancer for ``make cluster``: what nginx does in docker/compose.yaml, without
needing nginx on the machine.

It balances *connections* round-robin over the hub processes (a TCP proxy, like nginx's
``stream`` module), so HTTP keep-alive and WebSocket upgrades pass through untouched. No
stickiness is needed: any hub process can serve any client. A backend that refuses a
connection, or fails its ``/healthz`` probe (every second), is skipped until it answers again;
when none is up the client gets ``503``.

``GET /__balancer__`` is answered by the balancer itself with JSON statistics (which backend is
up, connections open and total per backend), so tests can see where connections went.

Run: ``python bench/balancer.py --port 8080 --backend 127.0.0.1:8001 --backend 127.0.0.1:8002``
(prints ``listening on 127.0.0.1:PORT`` once it accepts connections; SIGTERM stops it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass

STATUS_PATH = b"GET /__balancer__ "
CONNECT_TIMEOUT_S = 2.0
HEALTH_EVERY_S = 1.0


@dataclass
class Backend:
    host: str
    port: int
    up: bool = True
    open: int = 0
    total: int = 0
    failures: int = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Balancer:
    def __init__(self, backends: list[Backend], health_path: str = "/healthz") -> None:
        self.backends = backends
        self.health_path = health_path
        self.next_index = 0

    # --- choosing a backend ---

    def _candidates(self) -> list[Backend]:
        """Backends in round-robin order starting after the last pick; healthy ones first, then
        the rest (a probe may be stale: trying a "down" backend beats answering 503)."""
        count = len(self.backends)
        start = self.next_index
        self.next_index = (self.next_index + 1) % count
        ordered = [self.backends[(start + i) % count] for i in range(count)]
        return [b for b in ordered if b.up] + [b for b in ordered if not b.up]

    async def _connect(self) -> tuple[Backend, asyncio.StreamReader, asyncio.StreamWriter] | None:
        for backend in self._candidates():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(backend.host, backend.port), CONNECT_TIMEOUT_S
                )
            except (OSError, TimeoutError):
                backend.up = False
                backend.failures += 1
                continue
            backend.up = True
            return backend, reader, writer
        return None

    # --- proxying ---

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            first = await client_reader.read(65536)
            if not first:
                return
            if first.startswith(STATUS_PATH):
                await self._answer(client_writer, 200, self.status())
                return
            picked = await self._connect()
            if picked is None:
                await self._answer(client_writer, 503, {"error": "no hub process is up"})
                return
            backend, reader, writer = picked
            backend.open += 1
            backend.total += 1
            try:
                writer.write(first)
                await asyncio.gather(self._pipe(client_reader, writer), self._pipe(reader, client_writer))
            finally:
                backend.open -= 1
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        except (OSError, asyncio.IncompleteReadError):
            pass  # a side went away: both are closed below
        finally:
            client_writer.close()
            with contextlib.suppress(OSError):
                await client_writer.wait_closed()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            # Half-close: the other direction may still carry the end of a response.
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof():
                    writer.write_eof()

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        reason = {200: "OK", 503: "Service Unavailable"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + data)
        with contextlib.suppress(OSError):
            await writer.drain()

    def status(self) -> dict[str, object]:
        return {
            "backends": [
                {"address": b.address, "up": b.up, "open": b.open, "total": b.total, "failures": b.failures}
                for b in self.backends
            ]
        }

    # --- health probes ---

    async def _probe(self, backend: Backend) -> bool:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(backend.host, backend.port), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError):
            return False
        try:
            request = f"GET {self.health_path} HTTP/1.1\r\nHost: {backend.host}\r\nConnection: close\r\n\r\n"
            writer.write(request.encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), CONNECT_TIMEOUT_S)
            return line.split(b" ")[1:2] == [b"200"]
        except (OSError, TimeoutError, IndexError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def health_loop(self) -> None:
        while True:
            results = await asyncio.gather(*(self._probe(b) for b in self.backends))
            for backend, ok in zip(self.backends, results, strict=True):
                backend.up = ok
            await asyncio.sleep(HEALTH_EVERY_S)


async def serve(host: str, port: int, backends: list[Backend]) -> None:
    balancer = Balancer(backends)
    server = await asyncio.start_server(balancer.handle, host, port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    health = asyncio.create_task(balancer.health_loop())
    bound = server.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    async with server:
        await stop.wait()
    health.cancel()


def parse_backend(value: str) -> Backend:
    host, _, port = value.rpartition(":")
    return Backend(host or "127.0.0.1", int(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="host:port of a hub process (repeat)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, [parse_backend(b) for b in args.backend]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
