"""The permission matrix over WebSockets: every client frame type of ``/ws/``
(``messaging.protocol.CLIENT_FRAMES``) and every message type of the ``/ws/docs/<id>/`` Yjs
protocol (``docs_collab.protocol``), sent by every persona against every kind of conversation
or document. A frame type added to the protocol without a row here fails the test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from docs_collab import protocol as yproto
from docs_collab.models import Document
from hub import actions as hub_actions
from hub.bots import do_create_bot
from hub.models import Member
from messaging import actions
from messaging.models import Conversation
from messaging.protocol import CLIENT_FRAMES
from tests.conftest import Persona, World, make_persona
from tests.docs_collab.yclient import SocketClient, YPeer
from tests.messaging.socket_client import Socket, connect, socket_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]

SOCKET_PERSONAS = ("owner", "admin", "member", "guest", "other_guest", "outsider", "ex_member", "bot")
KINDS = ("public", "private", "dm", "group", "shared")
STAFF = {"owner", "admin", "member"}
READERS = {
    "public": STAFF,
    "private": {"owner", "member"},
    "dm": {"owner", "member"},
    "group": {"owner", "member"},
    "shared": STAFF | {"guest"},
}
# Participants, plus the customer's guest whose access to the shared channel is the share.
POSTERS = {
    "public": {"owner", "member"},
    "private": {"owner", "member"},
    "dm": {"owner", "member"},
    "group": {"owner", "member"},
    "shared": {"owner", "member", "guest"},
}

# Client frame type → (the frame for a conversation id, who may send it for each kind).
# ``None`` as the rule: the frame names no conversation and every connected socket may send it.
Frame = Callable[[int], dict[str, Any]]
WS_RULES: dict[str, tuple[Frame, Callable[[str], set[str]] | None]] = {
    # Naming an unreadable conversation in ``sync`` gets a not_found for it, never its events.
    "sync": (lambda cid: {"type": "sync", "cursors": {str(cid): 0}}, READERS.__getitem__),
    "message.send": (
        lambda cid: {"type": "message.send", "conversation_id": cid, "client_id": str(uuid.uuid4()), "body": "hi"},
        POSTERS.__getitem__,
    ),
    "read": (lambda cid: {"type": "read", "conversation_id": cid, "seq": 1}, POSTERS.__getitem__),
    # Typing goes only to conversations the socket streams: its participations, and whatever
    # readable conversation it synced or subscribed to (the matrix syncs every kind first).
    "typing": (lambda cid: {"type": "typing", "conversation_id": cid}, READERS.__getitem__),
    "ping": (lambda cid: {"type": "ping", "t": 1}, None),
    "subscribe": (lambda cid: {"type": "subscribe", "conversation_id": cid}, READERS.__getitem__),
    # Unsubscribing is allowed from what the socket streams (its participations).
    "unsubscribe": (lambda cid: {"type": "unsubscribe", "conversation_id": cid}, POSTERS.__getitem__),
    "presence.set": (lambda cid: {"type": "presence.set", "status": "away"}, None),
}


def test_every_client_frame_type_is_in_the_matrix() -> None:
    missing = sorted(set(CLIENT_FRAMES) - set(WS_RULES))
    assert not missing, (
        "client frame types without a row in the socket permission matrix — add each to WS_RULES in "
        "tests/security/test_matrix_ws.py saying who may send it:\n  " + "\n  ".join(missing)
    )


@dataclass
class SocketWorld:
    personas: dict[str, Persona]
    conversations: dict[str, int]
    documents: dict[str, int]


def _member(world: World, persona: Persona) -> Member:
    return Member.objects.get(workspace=world.workspace, user=persona.user)


def build(world: World) -> SocketWorld:
    owner = _member(world, world.owner)
    personas = {
        "owner": world.owner,
        "admin": world.admin,
        "member": world.member,
        "guest": world.guest,
        "other_guest": world.supplier_guest,
        "outsider": world.outsider,
    }
    ex = make_persona("ex@tea.test", "离职")
    Member.objects.create(workspace=world.workspace, user=ex.user, role=Member.Role.MEMBER)
    personas["ex_member"] = ex
    issued = do_create_bot(owner, "ERP sync")
    personas["bot"] = Persona(user=issued.member.user, token=issued.token)
    m, m2 = world.member.user.pk, world.member2.user.pk

    def create(kind: str, name: str, ids: list[int]) -> int:
        return int(actions.check_create_conversation(owner, kind, name, ids).pk)

    conversations = {
        "public": create("public", "综合", [m]),
        "private": create("private", "管理层", [m]),
        "dm": create("dm", "", [m]),
        "group": create("group", "", [m, m2]),
        "shared": create("public", "对接", [m]),
    }
    shared = Conversation.objects.get(pk=conversations["shared"])
    actions.check_share(owner, shared, world.customer)
    actions.check_add_members(owner, shared, [world.guest.user.pk])
    create("private", "bot-room", [issued.member.user_id])
    from docs_collab.actions import check_create_document

    documents = {
        "shared_edit": check_create_document(owner, "对接记录", shared, "edit").pk,
        "shared_view": check_create_document(owner, "报价说明", shared, "view").pk,
        "private": check_create_document(
            owner, "管理层纪要", Conversation.objects.get(pk=conversations["private"]), "edit"
        ).pk,
    }
    hub_actions.do_deactivate_member(owner, Member.objects.get(workspace=world.workspace, user=ex.user))
    return SocketWorld(personas, conversations, documents)


async def _answer(sock: Socket, frame: dict[str, Any]) -> str:
    """ "ok", or the error code the server answered ``frame`` with. A ping follows every frame:
    the socket handles frames in order, so everything before its pong is this frame's answer
    (some frames answer nothing on success: typing, presence.set)."""
    probe = str(uuid.uuid4())
    await sock.send(frame)
    await sock.send({"type": "ping", "t": probe})
    seen = await sock.until(lambda f: f["type"] in ("pong", "__closed__") and f.get("t", probe) == probe)
    for got in seen:
        if got["type"] == "error":
            return str(got["code"])
        if got["type"] == "__closed__":
            return f"closed {got['code']}"
    return "ok"


def _expected(rule: Callable[[str], set[str]] | None, kind: str, persona: str) -> str:
    """ "ok"; "not_found" for whoever cannot read the conversation (the answer a nonexistent
    id gets, so nothing is confirmed); "refused" (any error) for readers lacking the right."""
    if rule is None or persona in rule(kind):
        return "ok"
    if persona not in READERS[kind]:
        return "not_found"
    return "refused"


async def test_socket_frames_by_persona_and_conversation_kind(world: World, settings: Any) -> None:
    # ~90 frames per socket in a burst: above the per-socket frame budget, which is not under test.
    settings.HUB_WS_FRAME_BURST = 1000.0
    sw = await database_sync_to_async(build)(world)
    wrong: list[str] = []
    for persona in SOCKET_PERSONAS:
        sock = await connect(sw.personas[persona])
        try:
            for frame_type, (make, rule) in WS_RULES.items():
                for kind in KINDS if rule is not None else ("-",):
                    cid = sw.conversations.get(kind, 1)
                    got = await _answer(sock, make(cid))
                    want = _expected(rule, kind, persona)
                    if got != want and not (want == "refused" and got != "ok"):
                        wrong.append(f"{frame_type:13} {kind:8} {persona:12} expected {want}, got {got}")
                    if frame_type == "subscribe" and got == "ok" and persona not in POSTERS.get(kind, set()):
                        await sock.send({"type": "unsubscribe", "conversation_id": cid})
                        await sock.expect("unsubscribed")
        finally:
            await sock.close()
    assert not wrong, "socket permission matrix:\n" + "\n".join(wrong)


# --- /ws/docs/<id>/ ---------------------------------------------------------------------------

# Every message type of the y-websocket protocol (docs_collab.protocol), and what it needs.
DOC_MESSAGE_TYPES = {
    ("MESSAGE_SYNC", "SYNC_STEP1"): "viewer: the server answers with its state",
    ("MESSAGE_SYNC", "SYNC_STEP2"): "editor: changes the document; a viewer's is not saved",
    ("MESSAGE_SYNC", "SYNC_UPDATE"): "editor: changes the document; a viewer's is not saved",
    ("MESSAGE_AWARENESS", None): "viewer: cursors and names are shown to the room",
    ("MESSAGE_AUTH", None): "server → client only (permission denied); ignored from clients",
    ("MESSAGE_QUERY_AWARENESS", None): "viewer: answered with the room's awareness",
}
DOC_READERS = {
    "shared_edit": STAFF | {"guest"},
    "shared_view": STAFF | {"guest"},
    "private": {"owner", "member"},
}
DOC_EDITORS = {
    "shared_edit": STAFF | {"guest"},
    "shared_view": {"owner"},  # the creator owns it; everyone else inherits "view"
    "private": {"owner", "member"},
}


def test_every_yjs_message_type_is_classified() -> None:
    names = {n for n in dir(yproto) if (n.startswith("MESSAGE_") or n.startswith("SYNC_")) and n.isupper()}
    named = {part for key in DOC_MESSAGE_TYPES for part in key if part}
    assert names - named == set(), f"Yjs message types not classified in DOC_MESSAGE_TYPES: {sorted(names - named)}"


async def _open_doc(document_id: int, persona: Persona | None) -> tuple[SocketClient, int | None]:
    from hub.asgi import application

    query = f"?token={persona.token}" if persona else ""
    comm = WebsocketCommunicator(application, f"/ws/docs/{document_id}/{query}")
    connected, _ = await comm.connect()
    assert connected
    client = SocketClient(comm, YPeer())
    await client.send(client.peer.hello())
    await client.pump(timeout=0.2)
    return client, client.closed_code


def _stored_text(document_id: int) -> str:
    from docs_collab import content, store

    return content.plain_text(store.build_doc(store.load_state(document_id)))


async def test_document_sockets_by_persona(world: World, settings: Any) -> None:
    settings.HUB_DOCS_FLUSH_MS = 20
    sw = await database_sync_to_async(build)(world)
    wrong: list[str] = []
    markers: dict[tuple[str, str], str] = {}
    for doc_key, document_id in sw.documents.items():
        for persona in (*SOCKET_PERSONAS, "anonymous"):
            who = sw.personas.get(persona)
            client, closed = await _open_doc(document_id, who)
            readable = persona in DOC_READERS[doc_key]
            if not readable:
                want = 4401 if who is None else 4404  # 4404 whether or not the id exists
                if closed != want:
                    wrong.append(f"{doc_key:12} {persona:12} expected close {want}, got {closed}")
                await client.close()
                continue
            if closed is not None:
                wrong.append(f"{doc_key:12} {persona:12} expected open, closed {closed}")
                continue
            # Every client message type a reader may send, then an edit.
            await client.send(yproto.encode_query_awareness())
            await client.send(client.peer.awareness_frame({"user": {"name": persona}}))
            await client.send(yproto.encode_permission_denied("let me in"))  # ignored from clients
            marker = f"{persona}-{doc_key}"
            client.peer.paragraph(marker)
            await client.push()
            await client.pump(timeout=0.3)
            if client.closed_code is not None:
                wrong.append(f"{doc_key:12} {persona:12} closed {client.closed_code} by a reader's frames")
            await client.close()
            markers[(doc_key, persona)] = marker
    # Rooms flush to the database shortly after the last edit: wait (bounded) for every edit
    # that must be saved, then check that no viewer's edit was.
    for _ in range(100):
        texts = {key: await database_sync_to_async(_stored_text)(doc) for key, doc in sw.documents.items()}
        if all(m in texts[d] for (d, p), m in markers.items() if p in DOC_EDITORS[d]):
            break
        await asyncio.sleep(0.1)
    for (doc_key, persona), marker in markers.items():
        saved = marker in texts[doc_key]
        if saved != (persona in DOC_EDITORS[doc_key]):
            wrong.append(f"{doc_key:12} {persona:12} edit {'saved' if saved else 'not saved'}")
    assert not wrong, "document socket matrix:\n" + "\n".join(wrong)


async def test_unknown_document_id_closes_like_an_unreadable_one(world: World) -> None:
    client, closed = await _open_doc(987654, world.member)
    assert closed == 4404
    await client.close()


async def test_document_of_another_workspace_is_4404_for_its_owner(world: World) -> None:
    sw = await database_sync_to_async(build)(world)
    client, closed = await _open_doc(sw.documents["shared_edit"], world.outsider)
    assert closed == 4404
    await client.close()
    # And a document id is not a key: the row exists, the rival's owner is told nothing more.
    assert await database_sync_to_async(Document.objects.filter(pk=sw.documents["shared_edit"]).exists)()


__all__ = ["socket_env"]
