"""Bad input and floods on the HTTP send path: clear 4xx JSON, never a 500, nothing lost."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from messaging.models import Message
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, send


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])


def test_send_rate_limit_per_person(world: World, conv: int) -> None:
    with override_settings(HUB_SEND_RATE_PER_MINUTE=3):
        sent = [send(world, world.member, conv, f"m{i}") for i in range(3)]
        res = world.api(world.member).post(
            f"/api/v1/conversations/{conv}/messages", {"body": "too many", "client_id": str(uuid.uuid4())}
        )
        assert res.status_code == 429 and error_code(res) == "rate_limited"
        # A retry of an already stored send is not a new send: it still answers.
        retry = world.api(world.member).post(
            f"/api/v1/conversations/{conv}/messages", {"body": "m0", "client_id": sent[0]["client_id"]}
        )
        assert retry.status_code == 200 and retry.json()["id"] == sent[0]["id"]
        # Someone else's budget is separate.
        send(world, world.owner, conv, "owner still fine")
        # Forwards count too.
        res = world.api(world.member).post(
            f"/api/v1/messages/{sent[0]['id']}/forward", {"conversation_id": conv, "client_id": str(uuid.uuid4())}
        )
        assert res.status_code == 429
    assert Message.objects.filter(sender=world.member.user).count() == 3


def test_oversized_bodies(world: World, conv: int) -> None:
    api = world.api(world.member)
    with override_settings(HUB_MESSAGE_MAX_CHARS=100):
        res = api.post(f"/api/v1/conversations/{conv}/messages", {"body": "长" * 101, "client_id": str(uuid.uuid4())})
        assert res.status_code == 413 and error_code(res) == "body_too_long"
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000):
        res = api.post(f"/api/v1/conversations/{conv}/messages", {"body": "x" * 20_000, "client_id": str(uuid.uuid4())})
        assert res.status_code == 413 and error_code(res) == "request_too_large"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"body": "\xff\xfe bad utf-8", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01"}',
        b"{not json",
        b"[]",
        b"null",
        b'"just a string"',
        b'{"body": 12, "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01"}',
        b'{"body": "x", "client_id": "not-a-uuid"}',
        b'{"body": "x"}',
        b'{"body": "x", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01", "thread_root_id": "abc"}',
        b'{"body": "x", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01", "attachment_ids": [null]}',
        b'{"body": "a\\u0000b", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01"}',
        b'{"body": "   ", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01"}',
        b'{"body": "x", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01", "thread_root_id": 999999}',
        b'{"body": "\\ud800", "client_id": "6f1c2d1e-5b7a-4c1e-9a55-1b6f0c8d9e01"}',
    ],
)
def test_garbage_gets_a_json_4xx(world: World, conv: int, raw: bytes) -> None:
    before = Message.objects.count()
    res = world.api(world.member).client.post(
        f"/api/v1/conversations/{conv}/messages", raw, content_type="application/json", **world.member.auth
    )
    assert 400 <= res.status_code < 500, res.content
    assert res.json()["error"]["code"]
    assert Message.objects.count() == before


def test_unknown_ids_and_non_members(world: World, conv: int) -> None:
    body = {"body": "x", "client_id": str(uuid.uuid4())}
    assert world.api(world.member).post("/api/v1/conversations/999999/messages", body).status_code == 404
    assert world.api(world.outsider).post(f"/api/v1/conversations/{conv}/messages", body).status_code == 404
    assert world.api(world.guest).post(f"/api/v1/conversations/{conv}/messages", body).status_code == 404
    res = world.api(world.member2).post(f"/api/v1/conversations/{conv}/messages", body)
    assert res.status_code == 403 and error_code(res) == "not_a_participant"
    for path in ("/api/v1/messages/999999", "/api/v1/messages/999999/thread", "/api/v1/messages/999999/edits"):
        assert world.api(world.member).get(path).status_code == 404


def test_client_id_reused_in_other_conversation(world: World, conv: int) -> None:
    other = create_conversation(world, world.member, "private", "别处")
    first = send(world, world.member, conv, "once")
    res = world.api(world.member).post(
        f"/api/v1/conversations/{other}/messages", {"body": "once", "client_id": first["client_id"]}
    )
    assert res.status_code == 409 and error_code(res) == "client_id_reused"


def test_html_and_scripts_are_sanitised(world: World, conv: int) -> None:
    msg = send(
        world,
        world.member,
        conv,
        '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> <b style="color:red">b</b>',
    )
    html = msg["html"]
    # Raw HTML is shown as text (escaped), never as markup.
    assert "<script" not in html and "<img" not in html and "<b " not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_lone_surrogates_everywhere_are_4xx(world: World, conv: int) -> None:
    msg = send(world, world.member, conv, "ok")
    c, auth = world.api(world.member).client, world.member.auth
    calls = [
        ("patch", f"/api/v1/messages/{msg['id']}", b'{"body": "\\udc00"}'),
        ("patch", f"/api/v1/conversations/{conv}", b'{"topic": "\\ud800"}'),
        ("post", f"/api/v1/messages/{msg['id']}/reactions", b'{"emoji": "\\ud83d"}'),
        (
            "post",
            "/api/v1/conversations",
            b'{"workspace_id": %d, "kind": "public", "name": "\\ud800"}' % world.workspace.pk,
        ),
        (
            "post",
            f"/api/v1/messages/{msg['id']}/forward",
            b'{"conversation_id": %d, "client_id": "%s", "comment": "\\ud800"}' % (conv, str(uuid.uuid4()).encode()),
        ),
    ]
    for method, path, raw in calls:
        res = getattr(c, method)(path, raw, content_type="application/json", **auth)
        assert 400 <= res.status_code < 500, (path, res.content)
        assert res.json()["error"]["code"]


def test_huge_numbers_never_500(world: World, conv: int) -> None:
    """Integers beyond 64 bits (SQLite cannot even bind them) answer 4xx or a harmless 200."""
    from django.test import Client

    msg = send(world, world.member, conv, "ok")
    client, auth, big = Client(raise_request_exception=False), world.member.auth, 10**20
    gets = [
        (f"/api/v1/conversations/{big}/messages", {}),
        ("/api/v1/events", {"cursors": f"{big}:0"}),
        ("/api/v1/events", {"cursors": f"{conv}:{big}"}),
        (f"/api/v1/conversations/{conv}/events", {"after_seq": big}),
        (f"/api/v1/conversations/{conv}/messages", {"before": big}),
        (f"/api/v1/conversations/{conv}/receipts", {"seq": big}),
        (f"/api/v1/messages/{big}", {}),
        (f"/api/v1/attachments/{big}", {}),
        ("/api/v1/conversations", {"workspace": big}),
        ("/api/v1/saved", {"workspace": big}),
        (f"/api/v1/messages/{msg['id']}/thread", {"after": big}),
    ]
    for path, params in gets:
        res = client.get(path, params, **auth)
        assert res.status_code < 500, (path, params, res.status_code)
    posts = [
        (f"/api/v1/conversations/{conv}/members", {"user_ids": [big]}),
        (
            f"/api/v1/conversations/{conv}/messages",
            {"body": "x", "client_id": str(uuid.uuid4()), "attachment_ids": [big]},
        ),
        (
            f"/api/v1/conversations/{conv}/messages",
            {"body": "x", "client_id": str(uuid.uuid4()), "thread_root_id": big},
        ),
        ("/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": "group", "member_ids": [big, 1]}),
        ("/api/v1/conversations", {"workspace_id": big, "kind": "public", "name": "x"}),
    ]
    for path, body in posts:
        res = client.post(path, body, content_type="application/json", **auth)
        assert 400 <= res.status_code < 500, (path, body, res.status_code)
    assert client.delete(f"/api/v1/conversations/{conv}/members/{big}", **world.owner.auth).status_code == 404
    # A read cursor past the end is capped at last_seq.
    res = client.post(f"/api/v1/conversations/{conv}/read", {"seq": big}, content_type="application/json", **auth)
    assert res.status_code == 200 and res.json()["last_read_seq"] == msg["seq"]
    assert Message.objects.count() == 1
