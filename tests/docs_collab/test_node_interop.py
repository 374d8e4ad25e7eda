"""The protocol proof: an unchanged Node.js ``yjs`` + ``y-websocket`` client and a Python
pycrdt client edit one document through a real daphne server and converge; a late joiner to a
fresh server process (empty memory) receives the whole persisted document."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.conftest import require_binary
from tests.docs_collab.server import HubSite, Seed, cleanup, ensure_node_modules, node_client
from tests.docs_collab.yclient import YPeer

pytestmark = [pytest.mark.node, pytest.mark.slow]


@pytest.fixture
def site() -> Iterator[HubSite]:
    data_dir = Path(tempfile.mkdtemp(prefix="hub-docs-interop-"))
    hub = HubSite(data_dir)
    try:
        yield hub
    finally:
        hub.stop_all()
        print(hub.logs())
        cleanup(data_dir)


async def python_client(port: int, seed: Seed, write: str | None, expect: list[str], seconds: float = 15) -> YPeer:
    peer = YPeer()
    url = f"ws://127.0.0.1:{port}/ws/docs/{seed.document_id}/?token={seed.editor_token}"
    async with connect(url, max_size=None) as ws:
        await ws.send(peer.hello())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        wrote = write is None
        while loop.time() < deadline:
            try:
                frame = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                frame = None
            if isinstance(frame, bytes):
                for reply in peer.handle(frame):
                    await ws.send(reply)
            if peer.synced and not wrote:
                # cursors/presence first, as an editor does on load; then the edit
                await ws.send(peer.awareness_frame({"user": {"name": "python-client", "color": "#f783ac"}}))
                peer.paragraph(write or "")
                wrote = True
                for update in peer.drain():
                    await ws.send(update)
            if peer.synced and wrote and all(e in peer.text() for e in expect):
                await asyncio.sleep(0.3)  # let our last update leave before closing
                return peer
    raise AssertionError(f"python client did not converge: {peer.text()!r}")


async def _node(process_args: tuple[str, int, Seed], *args: str) -> dict[str, object]:
    node, port, seed = process_args
    process = node_client(node, port, seed, *args)
    stdout, stderr = await asyncio.to_thread(process.communicate, timeout=40)
    assert process.returncode == 0, (stdout.decode(), stderr.decode()[-2000:])
    result: dict[str, object] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


async def test_node_yjs_and_python_clients_converge_through_daphne(site: HubSite) -> None:
    node = require_binary("Node.js", "node")
    ensure_node_modules(require_binary("npm", "npm"))
    seed = site.seed()
    port = site.start()

    node_task = asyncio.create_task(
        _node((node, port, seed), "--write", "Node 你好 from yjs", "--expect", "Python 👋 from pycrdt")
    )
    python_peer = await python_client(port, seed, "Python 👋 from pycrdt", ["Node 你好 from yjs"])
    node_result = await node_task
    assert node_result["ok"] and node_result["synced"]
    assert node_result["text"] == python_peer.text()
    # awareness (cursors, names) crosses both ways between the two implementations
    assert "python-client" in node_result["peers"]  # type: ignore[operator]
    assert any(s.get("user", {}).get("name") == "node-client" for s in python_peer.awareness.values())
    assert sorted(python_peer.text().split("\n")) == ["Node 你好 from yjs", "Python 👋 from pycrdt"]

    # A second round on the same room: edits keep flowing both ways after the first sync.
    node_task = asyncio.create_task(_node((node, port, seed), "--write", "second node line", "--expect", "second py"))
    await asyncio.sleep(0.5)
    second = await python_client(port, seed, "second py", ["second node line"])
    assert (await node_task)["text"] == second.text()
    final = second.text()
    assert len(final.split("\n")) == 4

    # Fresh process, empty memory: everything comes from the persisted log.
    await asyncio.sleep(0.5)  # the room flushes when its last socket leaves
    site.stop_all()
    port = site.start()
    late_python = await python_client(port, seed, None, [])
    assert late_python.text() == final
    late_node = await _node((node, port, seed), "--expect", "second node line", "--expect", "second py")
    assert late_node["ok"] and late_node["text"] == final
