from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from docs_collab import actions, content, room, store
from docs_collab.models import Document
from hub.models import Member
from tests.conftest import Persona, World
from tests.docs_collab.yclient import SocketClient, YPeer


@pytest.fixture
def doc_settings(settings: Any) -> Any:
    settings.HUB_DOCS_FLUSH_MS = 20
    settings.HUB_DOCS_FLUSH_UPDATES = 16
    settings.HUB_DOCS_CATCHUP_SECONDS = 1
    return settings


def member_of(world: World, persona: Persona) -> Member:
    return Member.objects.get(workspace=world.workspace, user=persona.user)


def make_document(world: World, persona: Persona | None = None, title: str = "季度计划", **kw: Any) -> Document:
    return actions.check_create_document(
        member_of(world, persona or world.owner), title, kw.pop("conversation", None), **kw
    )


def write_text(document: Document, text: str, author: Persona | None = None) -> None:
    """Append one paragraph as a stored update (as a room would have flushed it)."""
    base = store.build_doc(store.load_state(document.pk))
    updates: list[bytes] = []
    base.observe(lambda event: updates.append(event.update))
    fragment = base.get(content.FRAGMENT, type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", {}, [XmlText(text)]))
    store.append_batches(document.pk, [(author.user.pk if author else None, updates)])


def stored_text(document_id: int) -> str:
    doc: Doc = store.build_doc(store.load_state(document_id))
    return content.plain_text(doc)


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    from hub.asgi import application

    opened: list[SocketClient] = []

    async def _connect(
        document_id: int, persona: Persona | None, *, query: str = "", hello: bool = True, peer: YPeer | None = None
    ) -> SocketClient:
        params = []
        if persona is not None:
            params.append(f"token={persona.token}")
        if query:
            params.append(query)
        path = f"/ws/docs/{document_id}/" + ("?" + "&".join(params) if params else "")
        communicator = WebsocketCommunicator(application, path)
        connected, _ = await communicator.connect()
        assert connected
        client = SocketClient(communicator, peer or YPeer())
        opened.append(client)
        if hello:
            await client.send(client.peer.hello())
        await client.pump(timeout=0.2)
        return client

    yield _connect
    for client in opened:
        with contextlib.suppress(Exception):  # already gone
            await client.comm.disconnect()
    # every room closes with its last socket
    for _ in range(100):
        if not room.open_rooms():
            break
        await asyncio.sleep(0.02)
    assert not room.open_rooms(), "a document room stayed open after its sockets closed"
    # the database thread's connection, so that PostgreSQL can drop the test database
    await sync_to_async(connections.close_all)()


def rich_update(document: Document) -> None:
    """A Tiptap-shaped document with the usual nodes and marks, and hostile bits."""
    base = store.build_doc(store.load_state(document.pk))
    updates: list[bytes] = []
    base.observe(lambda event: updates.append(event.update))
    fragment = base.get(content.FRAGMENT, type=XmlFragment)
    with base.transaction():
        fragment.children.append(XmlElement("heading", {"level": "2"}, [XmlText("采购计划")]))
        paragraph = fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText())
        pieces = [
            ("普通 ", None),
            ("加粗", {"bold": {}}),
            (" ", None),
            ("官网", {"link": {"href": "https://example.cn"}}),
            (" ", None),
            ("坏链接", {"link": {"href": "javascript:alert(1)"}}),
        ]
        offset = 0
        for chunk, attrs in pieces:
            text.insert(offset, chunk, attrs)
            offset += len(chunk.encode())
        tasks = fragment.children.append(XmlElement("taskList"))
        tasks.children.append(
            XmlElement("taskItem", {"checked": "true"}, [XmlElement("paragraph", {}, [XmlText("已完成")])])
        )
        tasks.children.append(
            XmlElement("taskItem", {"checked": "false"}, [XmlElement("paragraph", {}, [XmlText("待办")])])
        )
        ordered = fragment.children.append(XmlElement("orderedList"))
        ordered.children.append(XmlElement("listItem", {}, [XmlElement("paragraph", {}, [XmlText("第一")])]))
        table = fragment.children.append(XmlElement("table"))
        header = table.children.append(XmlElement("tableRow"))
        for cell in ("品名", "数量"):
            header.children.append(XmlElement("tableHeader", {}, [XmlElement("paragraph", {}, [XmlText(cell)])]))
        row = table.children.append(XmlElement("tableRow"))
        for cell in ("龙井", "20"):
            row.children.append(XmlElement("tableCell", {}, [XmlElement("paragraph", {}, [XmlText(cell)])]))
        fragment.children.append(XmlElement("codeBlock", {"language": "python"}, [XmlText("print('<hi>')")]))
        fragment.children.append(XmlElement("script", {}, [XmlText("alert(1)")]))
        fragment.children.append(XmlElement("image", {"src": "x", "alt": "<img src=x onerror=alert(1)>"}))
    store.append_batches(document.pk, [(None, updates)])


@pytest.fixture
def build_rich() -> Callable[[Document], None]:
    return rich_update
