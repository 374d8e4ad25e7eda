"""``/ws/`` connection: authentication (token header, query token, session cookie), origin
checks, refusal codes, and what a fresh socket streams."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from messaging.protocol import CLOSE_UNAUTHENTICATED
from tests.conftest import World
from tests.messaging.socket_client import (
    TIMEOUT,
    Socket,
    communicator,
    connect,
    create_conversation,
    set_shared,
    socket_env,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]


async def test_bearer_header_connects_and_ready_lists_participations(world: World) -> None:
    conv = await create_conversation(world.owner, world.workspace.pk, "private", "采购", (world.member,))
    sock = await connect(world.member)
    assert sock.ready["user_id"] == world.member.user.pk
    assert sock.ready["workspace_ids"] == [world.workspace.pk]
    assert {c["id"] for c in sock.ready["conversations"]} == {conv}
    assert sock.ready["max_frame_bytes"] == 64 * 1024
    await sock.close()


async def _closed_with(comm_kwargs: dict[str, object]) -> int | None:
    comm = communicator(**comm_kwargs)  # type: ignore[arg-type]
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected  # accepted, then closed with an application code the client can read
    frame = await Socket(comm).recv()
    assert frame["type"] == "__closed__", frame
    return frame["code"]


async def test_query_token_connects_without_origin(world: World) -> None:
    comm = communicator(query_token=world.member.token, origin=False)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    ready = await Socket(comm).expect("ready")
    assert ready["user_id"] == world.member.user.pk
    await comm.disconnect()


async def _login_cookie(email: str) -> str:
    def login() -> str:
        client = Client()
        assert client.login(email=email, password="pw-Secret-123")
        return client.cookies["sessionid"].value

    return await database_sync_to_async(login)()


async def test_session_cookie_with_same_origin_connects(world: World) -> None:
    cookie = await _login_cookie(world.member.user.email)
    comm = communicator(cookie=cookie, origin=True)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    ready = await Socket(comm).expect("ready")
    assert ready["user_id"] == world.member.user.pk
    await comm.disconnect()


async def test_session_cookie_without_origin_is_not_enough(world: World) -> None:
    # Browsers always send Origin; a cookie-only handshake without one is not our page.
    cookie = await _login_cookie(world.member.user.email)
    assert await _closed_with({"cookie": cookie, "origin": False}) == CLOSE_UNAUTHENTICATED


async def test_foreign_origin_is_refused_at_handshake(world: World) -> None:
    comm = communicator(token=world.member.token, origin=False)
    comm.scope["headers"].append((b"origin", b"http://evil.test"))
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert not connected


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # anonymous
        {"token": "xwh_not-a-real-token"},
        {"query_token": "garbage"},
        {"cookie": "no-such-session"},
    ],
    ids=["anonymous", "bad-bearer", "bad-query-token", "bad-cookie"],
)
async def test_unauthenticated_sockets_close_4401(world: World, kwargs: dict[str, object]) -> None:
    assert await _closed_with(kwargs) == CLOSE_UNAUTHENTICATED


async def test_invalid_bearer_wins_over_valid_session(world: World) -> None:
    cookie = await _login_cookie(world.member.user.email)
    assert await _closed_with({"cookie": cookie, "token": "xwh_wrong"}) == CLOSE_UNAUTHENTICATED


async def test_deactivated_user_token_is_refused(world: World) -> None:
    def deactivate() -> None:
        world.member.user.is_active = False
        world.member.user.save(update_fields=["is_active"])

    await database_sync_to_async(deactivate)()
    assert await _closed_with({"token": world.member.token}) == CLOSE_UNAUTHENTICATED


async def test_outsider_streams_only_their_own_workspace(world: World) -> None:
    await create_conversation(world.owner, world.workspace.pk, "public", "公告")
    mine = await create_conversation(world.outsider, world.other_workspace.pk, "public", "general")
    sock = await connect(world.outsider)
    assert sock.ready["workspace_ids"] == [world.other_workspace.pk]
    assert [c["id"] for c in sock.ready["conversations"]] == [mine]
    await sock.close()


async def test_guest_streams_only_shared_channels(world: World) -> None:
    shared = await create_conversation(world.owner, world.workspace.pk, "public", "对外")
    await create_conversation(world.owner, world.workspace.pk, "public", "内部")
    await create_conversation(world.owner, world.workspace.pk, "private", "机密", (world.member,))
    await set_shared(world.owner, shared, world.customer, True)
    sock = await connect(world.guest)
    assert [c["id"] for c in sock.ready["conversations"]] == [shared]
    other_guest = await connect(world.supplier_guest)
    assert other_guest.ready["conversations"] == []
    await sock.close()
    await other_guest.close()


async def test_person_without_workspace_gets_an_empty_socket(world: World) -> None:
    from tests.conftest import make_persona

    newcomer = await database_sync_to_async(make_persona)("new@tea.test", "新人")
    sock = await connect(newcomer)
    assert (sock.ready["workspace_ids"], sock.ready["conversations"]) == ([], [])
    await sock.send({"type": "ping"})
    await sock.expect("pong")
    await sock.close()


async def test_database_failure_at_connect_closes_1011(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from messaging.consumers import state

    def broken(user_id: int) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(state, "socket_access", broken)
    assert await _closed_with({"token": world.member.token}) == 1011
