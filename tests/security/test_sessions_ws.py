"""Sessions and tokens on the sockets: a foreign ``Origin`` is refused at the handshake on
both ``/ws/`` and ``/ws/docs/<id>/``; revoking a token closes the sockets it opened; and
deactivating a person logs them out everywhere — browser session, headless app session, API
tokens, and every open socket — through the real endpoints, committed (these tests run in
transactions so that on-commit signals fire as in production)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from docs_collab.actions import check_create_document
from hub.asgi import application
from hub.models import ApiToken, Member
from tests.conftest import World
from tests.docs_collab.yclient import SocketClient, YPeer
from tests.messaging.socket_client import TIMEOUT, Socket, socket_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("socket_env")]
__all__ = ["socket_env"]

CLOSE_ACCESS_ENDED = 4403  # both sockets' code for "access ended while connected"
SAME_ORIGIN = b"http://testserver"
FOREIGN_ORIGIN = b"http://evil.test"
PASSWORD = "pw-Secret-123"  # tests.conftest.make_persona's


def _document(world: World) -> int:
    owner = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    return int(check_create_document(owner, "季度计划", None, "edit").pk)


def _browser_cookie(world: World) -> str:
    client = Client()
    assert client.login(email=world.member.user.email, password=PASSWORD)
    return client.cookies["sessionid"].value


def _communicator(path: str, *, origin: bytes | None, token: str | None = None, cookie: str | None = None) -> Any:
    headers: list[tuple[bytes, bytes]] = []
    if origin is not None:
        headers.append((b"origin", origin))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.parametrize("socket", ["messaging", "document"])
@pytest.mark.parametrize("auth", ["cookie", "token"])
async def test_a_foreign_origin_is_refused_at_the_handshake(world: World, socket: str, auth: str) -> None:
    path = "/ws/" if socket == "messaging" else f"/ws/docs/{await database_sync_to_async(_document)(world)}/"
    credentials: dict[str, str] = (
        {"cookie": await database_sync_to_async(_browser_cookie)(world)}
        if auth == "cookie"
        else {"token": world.member.token}
    )
    refused = _communicator(path, origin=FOREIGN_ORIGIN, **credentials)
    connected, _ = await refused.connect(timeout=TIMEOUT)
    assert not connected
    # The same credentials from our own page connect (the refusal was the origin's).
    allowed = _communicator(path, origin=SAME_ORIGIN, **credentials)
    connected, _ = await allowed.connect(timeout=TIMEOUT)
    assert connected
    if socket == "document":
        first = await allowed.receive_output(TIMEOUT)  # the server's sync step 1, not a close
        assert first["type"] == "websocket.send", first
    await allowed.disconnect()


async def _open_chat(token: str | None = None, cookie: str | None = None) -> Socket:
    comm = _communicator("/ws/", origin=SAME_ORIGIN if cookie else None, token=token, cookie=cookie)
    assert (await comm.connect(timeout=TIMEOUT))[0]
    sock = Socket(comm)
    await sock.expect("ready")
    return sock


async def _open_doc(document_id: int, token: str | None = None, cookie: str | None = None) -> SocketClient:
    comm = _communicator(f"/ws/docs/{document_id}/", origin=SAME_ORIGIN if cookie else None, token=token, cookie=cookie)
    assert (await comm.connect(timeout=TIMEOUT))[0]
    client = SocketClient(comm, YPeer())
    await client.send(client.peer.hello())
    await client.pump(timeout=0.2)
    assert client.closed_code is None
    return client


async def _chat_closed(sock: Socket) -> int | None:
    frames = await sock.until(lambda f: f["type"] == "__closed__")
    return frames[-1]["code"]


async def _doc_closed(client: SocketClient) -> int | None:
    output = await client.comm.receive_output(TIMEOUT)
    while output["type"] != "websocket.close":
        output = await client.comm.receive_output(TIMEOUT)
    return output.get("code")


async def test_revoking_a_token_closes_the_sockets_it_opened(world: World) -> None:
    document_id = await database_sync_to_async(_document)(world)
    chat = await _open_chat(token=world.member.token)
    doc = await _open_doc(document_id, token=world.member.token)
    # The person's browser (a session, not that token) stays connected.
    cookie = await database_sync_to_async(_browser_cookie)(world)
    browser = await _open_chat(cookie=cookie)

    def revoke() -> None:
        token = ApiToken.objects.get(key_hash=ApiToken.hash_key(world.member.token))
        response = Client().delete(f"/api/v1/tokens/{token.pk}", HTTP_AUTHORIZATION=f"Bearer {world.member.token}")
        assert response.status_code == 204, response.content

    await database_sync_to_async(revoke)()
    assert await _chat_closed(chat) == CLOSE_ACCESS_ENDED
    assert await _doc_closed(doc) == CLOSE_ACCESS_ENDED
    await browser.send({"type": "ping", "t": "still here"})
    assert (await browser.expect("pong"))["t"] == "still here"
    await browser.close()


async def test_deactivation_logs_a_person_out_everywhere(world: World) -> None:
    document_id = await database_sync_to_async(_document)(world)

    def sign_in_everywhere() -> tuple[Client, str, str]:
        browser = Client()
        assert browser.login(email=world.member.user.email, password=PASSWORD)
        app = Client().post(
            "/_allauth/app/v1/auth/login",
            {"email": world.member.user.email, "password": PASSWORD},
            content_type="application/json",
        )
        assert app.status_code == 200, app.content
        assert browser.get("/api/v1/me").status_code == 200
        return browser, browser.cookies["sessionid"].value, app.json()["meta"]["session_token"]

    browser, cookie, app_token = await database_sync_to_async(sign_in_everywhere)()
    sockets = [
        await _open_chat(token=world.member.token),
        await _open_chat(cookie=cookie),
    ]
    docs = [await _open_doc(document_id, token=world.member.token), await _open_doc(document_id, cookie=cookie)]

    def deactivate() -> None:
        owner = Client(HTTP_AUTHORIZATION=f"Bearer {world.owner.token}")
        url = f"/api/v1/workspaces/{world.workspace.pk}/members/{world.member.user.pk}/deactivate-account"
        assert owner.post(url).status_code < 300

    await database_sync_to_async(deactivate)()
    for sock in sockets:
        assert await _chat_closed(sock) == CLOSE_ACCESS_ENDED
    for doc in docs:
        assert await _doc_closed(doc) == CLOSE_ACCESS_ENDED

    def still_signed_in() -> dict[str, int]:
        return {
            "browser session": browser.get("/api/v1/me").status_code,
            "web app": browser.get("/").status_code,
            "API token": Client(HTTP_AUTHORIZATION=f"Bearer {world.member.token}").get("/api/v1/me").status_code,
            "app session token": Client(HTTP_X_SESSION_TOKEN=app_token).get("/api/v1/me").status_code,
            "headless session": Client(HTTP_X_SESSION_TOKEN=app_token).get("/_allauth/app/v1/auth/session").status_code,
        }

    assert await database_sync_to_async(still_signed_in)() == {
        "browser session": 401,
        "web app": 302,  # to the sign-in page
        "API token": 401,
        "app session token": 401,
        "headless session": 410,  # allauth: the session token is gone
    }
    # And no new socket opens with the old credentials.
    for kwargs in ({"token": world.member.token}, {"cookie": cookie}):
        comm = _communicator("/ws/", origin=SAME_ORIGIN if "cookie" in kwargs else None, **kwargs)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        assert (await comm.receive_output(TIMEOUT))["code"] == 4401
