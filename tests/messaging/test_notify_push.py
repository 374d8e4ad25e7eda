"""Web Push: the VAPID key in the data dir, subscribing, and a real encrypted push to a fake
push service on loopback, decrypted here with the browser's private key."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import timedelta
from typing import Any

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from messaging.delivery import pipeline, vapid
from messaging.delivery.models import NotifyDelivery, PushSubscription
from tests.conftest import Persona, World
from tests.messaging.helpers_http import create_conversation, error_code, send
from tests.messaging.notify_receivers import Receiver, allow_private_fixture, receiver_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("allow_private")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """What a browser keeps for one push subscription: an ECDH key pair and the auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.json = {"endpoint": endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return dict(
            json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))
        )


def subscribe(world: World, persona: Persona, browser: Browser) -> int:
    res = world.api(persona).post("/api/v1/me/notify/push/subscriptions", {**browser.json, "user_agent": "Chrome 手机"})
    assert res.status_code == 201, res.content
    return int(res.json()["id"])


def later(seconds: int = 30) -> Any:
    return timezone.now() + timedelta(seconds=seconds)


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])


def test_vapid_key_is_generated_once_into_the_data_dir(world: World, settings: Any) -> None:
    path = settings.DATA_DIR / vapid.KEY_FILE_NAME
    res = world.api(world.member).get("/api/v1/me/notify/push")
    assert res.status_code == 200
    key = res.json()["vapid_public_key"]
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point, as subscribe() wants
    vapid._key.cache_clear()  # a restart reads the same file
    assert vapid.public_key() == key
    assert world.api(world.owner).get("/api/v1/me/notify/push").json()["vapid_public_key"] == key
    assert world.api(None).get("/api/v1/me/notify/push").status_code == 401


def test_configured_vapid_key_wins(settings: Any) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    settings.HUB_VAPID_PRIVATE_KEY = pem.decode()
    public = serialization.load_pem_private_key(pem, None).public_key()  # type: ignore[union-attr]
    raw = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert vapid.public_key() == b64(raw)


def test_subscribe_is_idempotent_per_browser_and_never_shows_the_endpoint(world: World, receiver: Receiver) -> None:
    browser = Browser(receiver.url("/push/secret-capability-token"))
    first = subscribe(world, world.member, browser)
    assert subscribe(world, world.member, browser) == first
    listed = world.api(world.member).get("/api/v1/me/notify/push").json()["subscriptions"]
    assert [(s["id"], s["host"], s["user_agent"]) for s in listed] == [(first, "127.0.0.1", "Chrome 手机")]
    assert "secret-capability-token" not in json.dumps(listed)
    row = PushSubscription.objects.get()
    assert "secret-capability-token" not in row.sealed  # sealed at rest
    # The same browser, now signed in as someone else, belongs to them.
    assert subscribe(world, world.member2, browser) == first
    assert PushSubscription.objects.get().user_id == world.member2.user.pk
    assert world.api(world.member).get("/api/v1/me/notify/push").json()["subscriptions"] == []
    # Someone else's subscription is a 404; unsubscribe by endpoint is idempotent.
    assert world.api(world.member).delete(f"/api/v1/me/notify/push/subscriptions/{first}").status_code == 404
    api2 = world.api(world.member2)
    assert api2.post("/api/v1/me/notify/push/unsubscribe", {"endpoint": browser.endpoint}).status_code == 204
    assert api2.post("/api/v1/me/notify/push/unsubscribe", {"endpoint": browser.endpoint}).status_code == 204
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"endpoint": "ftp://127.0.0.1/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}, 400, "invalid_url"),
        ({"endpoint": "not a url", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}, 400, "invalid_url"),
        (
            {"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
            400,
            "invalid_subscription",
        ),
        ({"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "%%%", "auth": "?"}}, 400, "invalid_subscription"),
        ({"endpoint": "http://127.0.0.1:9/x"}, 422, "invalid_request"),
        (
            {"endpoint": "http://127.0.0.1:9/" + "x" * 3000, "keys": {"p256dh": "a", "auth": "b"}},
            422,
            "invalid_request",
        ),
    ],
)
def test_bad_subscriptions_are_4xx(world: World, body: dict[str, Any], status: int, code: str) -> None:
    res = world.api(world.member).post("/api/v1/me/notify/push/subscriptions", body)
    assert res.status_code == status, res.content
    assert error_code(res) == code


def test_a_mention_arrives_encrypted_and_signed(world: World, conv: int, receiver: Receiver) -> None:
    browser = Browser(receiver.url("/push/abc"))
    receiver.answer("/push/", (201, {}))
    subscribe(world, world.member, browser)
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    message = send(world, world.owner, conv, "@张三 明天九点开会\n第二行不显示")
    assert pipeline.run_due(timezone.now()) == 0  # the coalescing window is still open
    assert pipeline.run_due(later()) == 1
    [push] = receiver.to("/push/abc")
    assert push.headers["content-encoding"] == "aes128gcm"
    assert int(push.headers["ttl"]) > 0
    payload = browser.decrypt(push.body)
    assert payload == {
        "title": "王老板 在 #销售 提到了你",
        "body": "@张三 明天九点开会",
        "path": f"/app/w/{world.workspace.pk}/c/{conv}/m/{message['id']}/",
        "tag": f"conv-{conv}",
        "count": 1,
    }
    # VAPID (RFC 8292): "vapid t=<JWT>, k=<server public key>", the JWT signed with that key.
    scheme, _, params = push.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == vapid.public_key()
    raw = base64.urlsafe_b64decode(fields["k"] + "=" * (-len(fields["k"]) % 4))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=f"http://127.0.0.1:{receiver.port}")
    assert claims["sub"].startswith("mailto:") and claims["exp"] > timezone.now().timestamp()
    with pytest.raises(jwt.InvalidSignatureError):
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        jwt.decode(fields["t"], other, algorithms=["ES256"], audience=f"http://127.0.0.1:{receiver.port}")
    assert NotifyDelivery.objects.get().status == "sent"
    assert PushSubscription.objects.get().last_success_at is not None


@pytest.mark.parametrize("status", [404, 410])
def test_expired_subscriptions_are_removed(world: World, conv: int, receiver: Receiver, status: int) -> None:
    keep = Browser(receiver.url("/push/alive"))
    gone = Browser(receiver.url("/push/expired"))
    receiver.answer("/push/expired", (status, {}))
    receiver.answer("/push/alive", (201, {}))
    subscribe(world, world.member, keep)
    subscribe(world, world.member, gone)
    send(world, world.owner, conv, "@张三 在吗")
    assert pipeline.run_due(later()) == 1
    assert len(receiver.to("/push/expired")) == 1
    assert list(PushSubscription.objects.values_list("host", flat=True)) == ["127.0.0.1"]
    assert PushSubscription.objects.count() == 1
    assert keep.decrypt(receiver.to("/push/alive")[0].body)["count"] == 1


def test_push_service_errors_are_retried_with_back_off(world: World, conv: int, receiver: Receiver) -> None:
    browser = Browser(receiver.url("/push/flaky"))
    receiver.answer("/push/flaky", (503, {}), (429, {}), (201, {}))
    subscribe(world, world.member, browser)
    send(world, world.owner, conv, "@张三 重要")
    start = later()
    assert pipeline.run_due(start) == 0
    delivery = NotifyDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert "503" in delivery.last_error
    assert pipeline.run_due(start + timedelta(seconds=10)) == 0  # not yet
    assert len(receiver.to("/push/flaky")) == 1
    assert pipeline.run_due(start + timedelta(seconds=31)) == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at == start + timedelta(seconds=31 + 120)
    assert pipeline.run_due(start + timedelta(seconds=31 + 121)) == 1
    assert len(receiver.to("/push/flaky")) == 3
    assert NotifyDelivery.objects.get().status == "sent"
    assert browser.decrypt(receiver.to("/push/flaky")[-1].body)["count"] == 1


def test_send_test_push_reports_each_browser(world: World, receiver: Receiver) -> None:
    ok = Browser(receiver.url("/push/ok"))
    broken = Browser(receiver.url("/push/broken"))
    receiver.answer("/push/ok", (201, {}))
    receiver.answer("/push/broken", (400, {}))
    ok_id = subscribe(world, world.member, ok)
    broken_id = subscribe(world, world.member, broken)
    res = world.api(world.member).post("/api/v1/me/notify/push/test")
    assert res.status_code == 200, res.content
    results = {r["id"]: r for r in res.json()["results"]}
    assert results[ok_id]["ok"] is True and results[ok_id]["detail"] == ""
    assert results[broken_id]["ok"] is False and "HTTP 400" in results[broken_id]["detail"]
    assert ok.decrypt(receiver.to("/push/ok")[0].body)["title"] == "小微 Hub 测试通知"


def test_a_browser_taken_over_by_someone_else_gets_none_of_the_first_persons_batch(
    world: World, conv: int, receiver: Receiver
) -> None:
    """Someone else signs in on the shop computer between batching and sending."""
    browser = Browser(receiver.url("/push/shared"))
    receiver.answer("/push/", (201, {}))
    subscribe(world, world.member, browser)
    send(world, world.owner, conv, "@张三 机密报价")
    start = later()
    pipeline.collect(world.member.user.pk, start)
    subscribe(world, world.member2, browser)
    assert pipeline.run_due(start) == 0
    assert receiver.to("/push/") == []
    assert NotifyDelivery.objects.get().status == "dropped"
