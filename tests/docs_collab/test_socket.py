"""``/ws/docs/<id>/``: sync, relay, persistence, access, read-only, limits, bad frames."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from channels.db import database_sync_to_async

from docs_collab import protocol, room, store
from docs_collab.models import Document, DocUpdate
from tests.conftest import World
from tests.docs_collab.conftest import make_document, stored_text, write_text
from tests.docs_collab.yclient import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


async def _doc(world: World, **kw: Any) -> Document:
    return await database_sync_to_async(make_document)(world, **kw)


async def test_two_editors_converge_and_the_log_is_batched(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    alice = await connect(document.pk, world.owner)
    bob = await connect(document.pk, world.member)
    assert alice.peer.synced and bob.peer.synced
    text = alice.peer.paragraph("")
    typed = ""
    for ch in "你好, Xiaowei!":
        text.insert(len(typed.encode()), ch)  # pycrdt offsets are UTF-8 bytes
        typed += ch
        await alice.push()
    assert await wait_for(lambda: bob.peer.text() == "你好, Xiaowei!", [alice, bob])
    bob_text = bob.peer.last_text()
    bob_text.insert(len(str(bob_text).encode()), " 👍")
    await bob.push()
    assert await wait_for(lambda: alice.peer.text() == "你好, Xiaowei! 👍", [alice, bob])

    async def flushed() -> str:
        return await database_sync_to_async(stored_text)(document.pk)

    for _ in range(100):
        if await flushed() == "你好, Xiaowei! 👍":
            break
        await asyncio.sleep(0.05)
    assert await flushed() == "你好, Xiaowei! 👍"
    rows = await database_sync_to_async(lambda: list(DocUpdate.objects.filter(document=document)))()
    # 15 keystroke updates (+1 paragraph) were stored in batches, not one row per keystroke.
    assert sum(r.update_count for r in rows) >= 15
    assert len(rows) < 8
    assert {r.author_id for r in rows} == {world.owner.user.pk, world.member.user.pk}
    refreshed = await database_sync_to_async(Document.objects.get)(pk=document.pk)
    assert refreshed.last_editor_id == world.member.user.pk


async def test_late_joiner_to_an_empty_room_gets_the_persisted_document(
    world: World, connect: Any, doc_settings: Any
) -> None:
    document = await _doc(world)
    await database_sync_to_async(write_text)(document, "stored before anyone connected")
    writer = await connect(document.pk, world.owner)
    assert writer.peer.text() == "stored before anyone connected"
    writer.peer.paragraph("typed live")
    await writer.push()
    await writer.pump(0.1)
    await writer.close()
    for _ in range(100):
        if not room.open_rooms():
            break
        await asyncio.sleep(0.02)
    assert room.open_room(document.pk) is None  # the room closed and flushed with its last socket
    late = await connect(document.pk, world.member)
    assert late.peer.text() == "stored before anyone connected\ntyped live"


async def test_outsider_anonymous_and_unshared_guest_are_closed(world: World, connect: Any) -> None:
    document = await _doc(world)
    for persona, code in [(world.outsider, 4404), (None, 4401), (world.guest, 4404)]:
        client = await connect(document.pk, persona, hello=False)
        assert client.closed_code == code, persona
    missing = await connect(999_999, world.owner, hello=False)
    assert missing.closed_code == 4404


async def test_guest_edits_a_document_of_a_shared_channel(world: World, connect: Any, doc_settings: Any) -> None:
    from messaging import actions as messaging_actions
    from messaging.models import Conversation
    from tests.docs_collab.conftest import member_of

    def setup() -> Document:
        owner = member_of(world, world.owner)
        channel = messaging_actions.check_create_conversation(owner, Conversation.Kind.PUBLIC, "客户协作")
        messaging_actions.check_share(owner, channel, world.customer)
        return make_document(world, conversation=channel)

    document = await database_sync_to_async(setup)()
    guest = await connect(document.pk, world.guest)
    assert guest.closed_code is None and guest.peer.synced
    other_guest = await connect(document.pk, world.supplier_guest, hello=False)
    assert other_guest.closed_code == 4404


async def test_viewer_updates_are_refused_by_the_server(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world, default_access=Document.Access.VIEW)
    await database_sync_to_async(write_text)(document, "official text")
    editor = await connect(document.pk, world.owner)
    viewer = await connect(document.pk, world.member)
    assert any(n.startswith("read_only") for n in viewer.peer.notices)
    assert viewer.peer.text() == "official text"
    viewer.peer.paragraph("vandalism")
    await viewer.push()
    await viewer.pump(0.2)
    await editor.pump(0.2)
    assert editor.peer.text() == "official text"
    await asyncio.sleep(0.1)
    assert await database_sync_to_async(stored_text)(document.pk) == "official text"
    # and the viewer still receives the editors' changes live
    editor.peer.paragraph("update from the editor")
    await editor.push()
    assert await wait_for(lambda: "update from the editor" in viewer.peer.text(), [viewer, editor])


async def test_editor_limit_makes_the_rest_viewers(world: World, connect: Any, doc_settings: Any) -> None:
    doc_settings.HUB_DOCS_MAX_EDITORS = 1
    document = await _doc(world)
    first = await connect(document.pk, world.owner)
    second = await connect(document.pk, world.member)
    assert not first.peer.notices
    assert any("editor_limit" in n and "1 people are already editing" in n for n in second.peer.notices)
    second.peer.paragraph("not accepted")
    await second.push()
    await second.pump(0.2)
    await first.pump(0.2)
    assert first.peer.text() == ""


BAD_FRAMES = [
    b"",
    b"\x00",  # sync without a type
    b"\x00\x02",  # update without a payload
    b"\x00\x02\x05abc",  # payload shorter than announced
    b"\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # absurd length
    b"\x00\x09\x00",  # unknown sync type
    b"\x07",  # unknown message type
    b"\x00\x02\x03\x01\x02\x03",  # an "update" that is not a Yjs update
    b"\x01\x05\x01\x01\x01\x01{",  # awareness with broken JSON
    b"\x03\x00",  # query awareness with trailing junk
    b"\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x7f",  # step1 with an out-of-range length
]


@pytest.mark.parametrize("frame", BAD_FRAMES)
async def test_malformed_frames_close_4400_without_corrupting(
    world: World, connect: Any, doc_settings: Any, frame: bytes
) -> None:
    document = await _doc(world)
    await database_sync_to_async(write_text)(document, "intact")
    good = await connect(document.pk, world.owner)
    bad = await connect(document.pk, world.member)
    await bad.send(frame)
    await bad.pump(0.3)
    assert bad.closed_code == 4400
    good.peer.paragraph("still works")
    await good.push()
    late = await connect(document.pk, world.admin)
    assert late.peer.text() == "intact\nstill works"


async def test_truncated_real_update_is_refused(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    source = await connect(document.pk, world.owner)
    source.peer.paragraph("a real paragraph with some text")
    frames = source.peer.drain()
    update = protocol.decode_message(frames[0])
    assert isinstance(update, protocol.SyncUpdate)
    for cut in (1, len(update.update) // 2, len(update.update) - 1):
        bad = await connect(document.pk, world.member)
        await bad.send(protocol.encode_sync_update(update.update[:cut]))
        await bad.pump(0.2)
        assert bad.closed_code == 4400, cut
    await source.pump(0.1)
    assert source.peer.text() == "a real paragraph with some text"  # local, never sent
    late = await connect(document.pk, world.admin)
    assert late.peer.text() == ""


async def test_random_garbage_never_crashes_the_room(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    good = await connect(document.pk, world.owner)
    good.peer.paragraph("survivor")
    await good.push()
    rng = __import__("random").Random(6)
    for i in range(60):
        frame = bytes([rng.choice([0, 0, 1, 3])]) + bytes([rng.choice([0, 1, 2])]) + os.urandom(rng.randint(0, 64))
        bad = await connect(document.pk, world.member, hello=False)
        await bad.send(frame)
        await bad.pump(0.05)
        await bad.close()
        assert room.open_room(document.pk) is not None, i
    late = await connect(document.pk, world.admin)
    assert "survivor" in late.peer.text()


async def test_oversized_and_text_frames_are_closed(world: World, connect: Any, doc_settings: Any) -> None:
    doc_settings.HUB_DOCS_MAX_FRAME_BYTES = 1024
    document = await _doc(world)
    big = await connect(document.pk, world.owner)
    await big.send(protocol.encode_sync_update(b"\x00" * 2048))
    await big.pump(0.2)
    assert big.closed_code == 4413
    text = await connect(document.pk, world.owner)
    await text.comm.send_to(text_data="hello")
    await text.pump(0.2)
    assert text.closed_code == 4400


async def test_awareness_is_relayed_queried_and_cleared(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    alice = await connect(document.pk, world.owner)
    bob = await connect(document.pk, world.member)
    await alice.send(alice.peer.awareness_frame({"user": {"name": "王老板", "color": "#f00"}, "cursor": None}))
    assert await wait_for(lambda: alice.peer.doc.client_id in bob.peer.awareness, [alice, bob])
    carol = await connect(document.pk, world.admin)  # gets current states on join
    assert carol.peer.awareness[alice.peer.doc.client_id]["user"]["name"] == "王老板"
    await carol.send(protocol.encode_query_awareness())
    await carol.pump(0.1)
    # bob may not speak for alice's client id
    await bob.send(alice.peer.awareness_frame({"user": {"name": "impostor"}}, clock=9))
    await carol.pump(0.2)
    assert carol.peer.awareness[alice.peer.doc.client_id]["user"]["name"] == "王老板"
    await alice.close()
    assert await wait_for(lambda: alice.peer.doc.client_id not in carol.peer.awareness, [carol, bob])


async def test_room_heals_from_the_log_without_the_channel_layer(world: World, connect: Any, doc_settings: Any) -> None:
    """Another process wrote to the log and its layer messages were all dropped: the periodic
    catch-up (1 s here) still brings the text to the connected client."""
    document = await _doc(world)
    client = await connect(document.pk, world.owner)
    await database_sync_to_async(write_text)(document, "from another process")
    assert await wait_for(lambda: client.peer.text() == "from another process", [client], seconds=4)


async def test_flush_hint_with_missing_relays_triggers_a_log_read(
    world: World, connect: Any, doc_settings: Any
) -> None:
    doc_settings.HUB_DOCS_CATCHUP_SECONDS = 60  # only the hint can heal within the test
    document = await _doc(world)
    client = await connect(document.pk, world.owner)
    await database_sync_to_async(write_text)(document, "relay was dropped")
    open_room = room.open_room(document.pk)
    assert open_room is not None
    seq = await database_sync_to_async(store.current_seq)(document.pk)
    await open_room._on_group_message(
        {"type": "doc.flushed", "origin": "other", "first_seq": seq, "last_seq": seq, "from_n": 1, "through_n": 1}
    )
    assert await wait_for(lambda: client.peer.text() == "relay was dropped", [client], seconds=2)


async def test_frame_flood_is_closed_4429(world: World, connect: Any, doc_settings: Any) -> None:
    doc_settings.HUB_DOCS_FRAMES_PER_SECOND = 5  # burst 20
    document = await _doc(world)
    flooder = await connect(document.pk, world.owner)
    for _ in range(40):
        await flooder.send(protocol.encode_query_awareness())
    await flooder.pump(0.3)
    assert flooder.closed_code == 4429
    calm = await connect(document.pk, world.member)
    for _ in range(5):
        await calm.send(protocol.encode_query_awareness())
    await calm.pump(0.2)
    assert calm.closed_code is None


async def test_closing_room_compacts_a_long_log(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    client = await connect(document.pk, world.owner)
    node = client.peer.paragraph("")
    for i in range(30):
        node.insert(i, "x")
        await client.push()
        await asyncio.sleep(0.03)  # > flush interval: one row per keystroke here
    await client.pump(0.2)
    await client.close()
    for _ in range(100):
        if not room.open_rooms():
            break
        await asyncio.sleep(0.02)
    count = await database_sync_to_async(DocUpdate.objects.filter(document=document).count)()
    assert count == 0
    assert await database_sync_to_async(stored_text)(document.pk) == "x" * 30


async def test_awareness_crosses_processes_through_the_group(world: World, connect: Any, doc_settings: Any) -> None:
    """What a room publishes for other processes decodes there (payloads, not frames)."""
    document = await _doc(world)
    alice = await connect(document.pk, world.owner)
    await alice.send(alice.peer.awareness_frame({"user": {"name": "Alice"}}))
    await alice.pump(0.1)
    open_room = room.open_room(document.pk)
    assert open_room is not None
    published: list[dict[str, Any]] = []

    async def capture(message: dict[str, Any]) -> None:
        published.append(message)

    open_room._group_send = capture  # type: ignore[method-assign]
    await open_room._on_group_message({"type": "doc.awareness_query", "origin": "other"})
    await alice.close()
    await asyncio.sleep(0.1)
    payloads = [m["payload"] for m in published if m["type"] == "doc.awareness"]
    assert len(payloads) == 2  # the answer to the query, then alice leaving
    answer, leaving = (protocol.decode_awareness(p) for p in payloads)
    assert [e.client_id for e in answer] == [alice.peer.doc.client_id] and "Alice" in answer[0].state
    assert leaving[0].client_id == alice.peer.doc.client_id and leaving[0].state == "null"


async def test_access_changes_apply_to_open_sockets(world: World, connect: Any, doc_settings: Any) -> None:
    document = await _doc(world)
    editor = await connect(document.pk, world.member)
    other = await connect(document.pk, world.member2)
    owner_api = world.api(world.owner)

    def call(method: str, path: str, body: Any) -> Any:
        return getattr(owner_api, method)(path, body)

    # member is lowered to viewer: told so, and their edits are refused from now on
    response = await database_sync_to_async(call)(
        "post", f"/api/v1/documents/{document.pk}/permissions", {"user_id": world.member.user.pk, "role": "view"}
    )
    assert response.status_code == 200
    assert await wait_for(lambda: any("now only view" in n for n in editor.peer.notices), [editor], seconds=3)
    editor.peer.paragraph("after demotion")
    await editor.push()
    await other.pump(0.3)
    assert "after demotion" not in other.peer.text()
    # nobody but overrides may read: member2 (inherited access) is closed, member (view) stays
    response = await database_sync_to_async(call)(
        "patch", f"/api/v1/documents/{document.pk}", {"default_access": "none"}
    )
    assert response.status_code == 200
    assert await wait_for(lambda: other.closed_code == 4403, [other], seconds=3)
    await editor.pump(0.2)
    assert editor.closed_code is None


async def test_offline_edits_merge_on_reconnect(world: World, connect: Any, doc_settings: Any) -> None:
    """Two people edit while disconnected (a phone in a lift); on reconnect the standard sync
    exchange carries their edits both ways and everyone converges."""
    document = await _doc(world)
    await database_sync_to_async(write_text)(document, "shared start")
    phone = await connect(document.pk, world.member)
    laptop = await connect(document.pk, world.member2)
    await phone.close()
    await laptop.close()
    phone.peer.paragraph("typed on the phone, offline")
    laptop.peer.last_text().insert(0, "laptop: ")
    phone.peer.drain()  # nothing is sent while offline; the sync on reconnect carries it
    laptop.peer.drain()
    # same Yjs documents, new sockets
    again = [await connect(document.pk, world.member, peer=old.peer) for old in (phone, laptop)]
    assert await wait_for(lambda: again[0].peer.text() == again[1].peer.text(), again, seconds=3)
    assert sorted(again[0].peer.text().split("\n")) == ["laptop: shared start", "typed on the phone, offline"]
    late = await connect(document.pk, world.admin)
    assert late.peer.text() == again[0].peer.text()


async def test_a_failed_flush_is_retried(world: World, connect: Any, doc_settings: Any, monkeypatch: Any) -> None:
    document = await _doc(world)
    real = store.append_batches
    failures = {"left": 2}

    def flaky(document_id: int, batches: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database went away")
        return real(document_id, batches)

    monkeypatch.setattr(store, "append_batches", flaky)
    client = await connect(document.pk, world.owner)
    client.peer.paragraph("kept despite the outage")
    await client.push()
    await client.pump(0.1)
    await client.close()  # the closing room keeps trying
    for _ in range(200):
        if not room.open_rooms():
            break
        await asyncio.sleep(0.02)
    assert failures["left"] == 0
    assert await database_sync_to_async(stored_text)(document.pk) == "kept despite the outage"


async def test_losing_the_conversation_or_the_account_closes_document_sockets(
    world: World, connect: Any, doc_settings: Any
) -> None:
    from messaging import actions as messaging_actions
    from messaging.models import Conversation
    from tests.docs_collab.conftest import member_of

    def setup() -> Document:
        owner = member_of(world, world.owner)
        private = messaging_actions.check_create_conversation(
            owner, Conversation.Kind.PRIVATE, "项目组", [world.member.user.pk, world.member2.user.pk]
        )
        return make_document(world, conversation=private)

    document = await database_sync_to_async(setup)()
    member = await connect(document.pk, world.member)
    member2 = await connect(document.pk, world.member2)
    owner = await connect(document.pk, world.owner)
    assert member.closed_code is None and member2.closed_code is None

    def remove_member() -> None:
        conversation = Conversation.objects.get(pk=document.conversation_id)
        messaging_actions.check_remove_member(member_of(world, world.owner), conversation, world.member.user.pk)

    await database_sync_to_async(remove_member)()
    assert await wait_for(lambda: member.closed_code == 4403, [member], seconds=3)

    def revoke_token() -> None:
        from hub import actions as hub_actions
        from hub.models import ApiToken

        token = ApiToken.objects.get(user=world.member2.user)
        hub_actions.do_revoke_api_token(world.member2.user, token)

    await database_sync_to_async(revoke_token)()
    assert await wait_for(lambda: member2.closed_code == 4403, [member2], seconds=3)
    await owner.pump(0.2)
    assert owner.closed_code is None  # everyone else stays


async def test_a_viewer_granted_edit_is_asked_to_reconnect_and_then_edits(
    world: World, connect: Any, doc_settings: Any
) -> None:
    from docs_collab import actions
    from docs_collab.access import access_document

    document = await _doc(world, default_access="view")
    viewer = await connect(document.pk, world.member)
    assert any(n.startswith("read_only") for n in viewer.peer.notices)

    def grant() -> None:
        actions.check_set_permission(access_document(world.owner.user, document.pk), world.member.user.pk, "edit")

    await database_sync_to_async(grant)()
    assert await wait_for(lambda: viewer.closed_code == room.CLOSE_RECONNECT, [viewer])
    again = await connect(document.pk, world.member)
    assert not any(n.startswith("read_only") for n in again.peer.notices)
    again.peer.paragraph("现在可以编辑了")
    await again.push()
    owner = await connect(document.pk, world.owner)
    assert await wait_for(lambda: "现在可以编辑了" in owner.peer.text(), [owner, again])
