"""Two real daphne processes on PostgreSQL + Redis: editors connected to different processes
converge even when the channel layer drops messages (rooms heal from the update log), and a
document socket idle for longer than redis-py's default 5 s socket timeout still relays."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.docs_collab.yclient import LiveClient, converge
from tests.integration.conftest import make_cluster, template_db  # noqa: F401 — fixtures

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def _document(cluster: Any) -> int:
    owner = cluster.seed.people[0]
    body = cluster.api(
        cluster.servers[0],
        "POST",
        "/api/v1/documents",
        owner.token,
        {"workspace_id": cluster.seed.workspace_id, "title": "t"},
    )
    return int(body["id"])


def _url(cluster: Any, server: int, document_id: int, person: int) -> str:
    return f"ws://127.0.0.1:{cluster.servers[server].port}/ws/docs/{document_id}/?token={cluster.seed.people[person].token}"


async def test_editors_on_two_processes_converge_with_a_lossy_layer(make_cluster: Any) -> None:  # noqa: F811
    # Every 3rd update/flush message a room publishes is dropped; catch-up every second.
    cluster = make_cluster(
        procs=2, people=6, extra_env={"HUB_DOCS_FAULT_DROP_LAYER": "3", "HUB_DOCS_CATCHUP_SECONDS": "1"}
    )
    document_id = await asyncio.to_thread(_document, cluster)
    clients = [await LiveClient(_url(cluster, i % 2, document_id, i)).open() for i in range(6)]
    await asyncio.sleep(0.5)
    lines = [f"editor {i} 在输入 line" for i in range(6)]
    await asyncio.gather(*(c.type_line(line, chunk=2, pause=0.01) for c, line in zip(clients, lines, strict=True)))

    def complete(text: str) -> bool:
        return sorted(text.split("\n")) == sorted(lines)

    ok = await converge(clients, complete, seconds=20)
    texts = [c.peer.text() for c in clients]
    assert ok, (texts, cluster.logs())
    assert len(set(texts)) == 1  # identical, including the order of the paragraphs
    # A late joiner on either process gets the same document.
    for server in (0, 1):
        late = await LiveClient(_url(cluster, server, document_id, 0)).open()
        assert await converge([late], lambda t: t == texts[0], seconds=5), late.peer.text()
        await late.close()
    for c in clients:
        await c.close()


async def test_idle_document_socket_outlives_the_redis_timeout(make_cluster: Any) -> None:  # noqa: F811
    # No catch-up within the test: only the channel layer can carry the edit in time.
    cluster = make_cluster(procs=2, people=2, extra_env={"HUB_DOCS_CATCHUP_SECONDS": "600"})
    document_id = await asyncio.to_thread(_document, cluster)
    writer = await LiveClient(_url(cluster, 0, document_id, 0)).open()
    await writer.ws.send(writer.peer.awareness_frame({"user": {"name": "写作者", "color": "#0a0"}}))
    await asyncio.sleep(0.3)
    # The reader's process opens its room now and queries awareness over the layer: the writer
    # appears at once, without having to move its cursor.
    reader = await LiveClient(_url(cluster, 1, document_id, 1)).open()
    writer_id = writer.peer.doc.client_id
    for _ in range(60):
        if writer_id in reader.peer.awareness:
            break
        await asyncio.sleep(0.05)
    assert reader.peer.awareness.get(writer_id, {}).get("user", {}).get("name") == "写作者"
    await writer.type_line("before idle")
    assert await converge([reader], lambda t: t == "before idle", seconds=5)
    await asyncio.sleep(7)  # > redis-py's default 5 s socket timeout
    started = asyncio.get_running_loop().time()
    await writer.type_line(" after idle", chunk=20)
    assert await converge([reader], lambda t: t == "before idle\n after idle", seconds=3), cluster.logs()
    assert asyncio.get_running_loop().time() - started < 3
    await writer.close()
    await reader.close()


async def test_editing_now_and_the_editor_limit_span_both_processes(make_cluster: Any) -> None:  # noqa: F811
    cluster = make_cluster(procs=2, people=3, extra_env={"HUB_DOCS_MAX_EDITORS": "2"})
    document_id = await asyncio.to_thread(_document, cluster)
    first = await LiveClient(_url(cluster, 0, document_id, 0)).open()
    second = await LiveClient(_url(cluster, 1, document_id, 1)).open()
    await asyncio.sleep(0.5)  # each room writes its entry in the shared cache when a socket joins

    def detail(server: int) -> Any:
        owner = cluster.seed.people[0]
        return cluster.api(cluster.servers[server], "GET", f"/api/v1/documents/{document_id}", owner.token)

    for server in (0, 1):
        body = await asyncio.to_thread(detail, server)
        assert body["editing_now"] == 2, (server, body, cluster.logs())
    # A third editor, on either process, is over the cluster-wide limit of two.
    third = await LiveClient(_url(cluster, 0, document_id, 2)).open()
    for _ in range(40):
        if third.peer.notices:
            break
        await asyncio.sleep(0.05)
    assert any(n.startswith("editor_limit") for n in third.peer.notices), third.peer.notices
    assert not first.peer.notices and not second.peer.notices
    for c in (first, second, third):
        await c.close()
