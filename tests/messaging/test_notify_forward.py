"""Forwarding a person's own mentions and DMs: fake WeCom / DingTalk / Feishu robots on loopback
that check the documented payloads and signatures, apprise json:// and mmost:// targets, email,
the targets API (masked, sealed, 4xx on bad input) and the "send test" action."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from messaging.delivery import pipeline
from messaging.delivery.models import ForwardTarget, NotifyDelivery
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, send
from tests.messaging.notify_receivers import Receiver, add_target, allow_private_fixture, receiver_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("allow_private")

KEY = "a1b2c3d4-e5f6-7788-9900-robotkey0001"


def later(seconds: int = 30) -> Any:
    return timezone.now() + timedelta(seconds=seconds)


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "销售", member_ids=[world.member.user.pk])


def test_wecom_robot_gets_a_text_message(world: World, conv: int, receiver: Receiver) -> None:
    add_target(world, world.member, "wecom", receiver.url(f"/cgi-bin/webhook/send?key={KEY}"), label="我的企业微信")
    message = send(world, world.owner, conv, "@张三 报价单看一下")
    assert pipeline.run_due(later()) == 1
    [hit] = receiver.to("/cgi-bin/webhook/send")
    assert hit.query == {"key": [KEY]}
    assert hit.headers["content-type"] == "application/json"
    body = hit.json()
    assert set(body) == {"msgtype", "text"} and body["msgtype"] == "text"
    content = body["text"]["content"]
    # Preview "sender" (the default): who and where, not what.
    assert content.splitlines()[0] == "【小微 Hub】王老板 在 #销售 提到了你"
    assert "报价单" not in content
    assert content.endswith(f"/app/w/{world.workspace.pk}/c/{conv}/m/{message['id']}/")
    target = ForwardTarget.objects.get()
    assert target.last_success_at is not None and target.last_error == "" and target.failure_count == 0


def test_dingtalk_robot_signs_with_jiaqian(world: World, conv: int, receiver: Receiver) -> None:
    secret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
    add_target(world, world.member, "dingtalk", receiver.url("/robot/send?access_token=tok123456"), secret=secret)
    add_target(world, world.member2, "dingtalk", receiver.url("/robot/send?access_token=unsigned999"))
    both = create_conversation(
        world, world.owner, "public", "签名", member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    send(world, world.owner, both, "@张三 @member2 签名测试")
    before = int(time.time() * 1000)
    assert pipeline.run_due(later()) >= 1
    signed = [r for r in receiver.to("/robot/send") if r.query["access_token"] == ["tok123456"]]
    assert len(signed) == 1
    hit = signed[0]
    timestamp = int(hit.query["timestamp"][0])
    assert abs(timestamp - before) < 3600 * 1000  # DingTalk's one-hour window, in milliseconds
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert hit.query["sign"] == [expected]
    # url-encoded in the raw query: base64's + / = must not reach DingTalk unescaped
    raw_sign = hit.raw_query.split("sign=", 1)[1].split("&")[0]
    assert not set(raw_sign) & set("+/=")
    assert hit.json()["msgtype"] == "text" and "【小微 Hub】" in hit.json()["text"]["content"]
    unsigned = [r for r in receiver.to("/robot/send") if r.query["access_token"] == ["unsigned999"]]
    assert len(unsigned) == 1 and "sign" not in unsigned[0].query and "timestamp" not in unsigned[0].query


def test_feishu_bot_signs_the_body(world: World, conv: int, receiver: Receiver) -> None:
    secret = "feishuSecret你好"  # any text; Chinese included
    add_target(world, world.member, "feishu", receiver.url("/open-apis/bot/v2/hook/hook-uuid-1234"), secret=secret)
    receiver.answer("/open-apis/", (200, {"code": 0, "msg": "success", "data": {}}))
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    send(world, world.owner, conv, "@张三 飞书你好")
    assert pipeline.run_due(later()) == 1
    [hit] = receiver.to("/open-apis/bot/v2/hook/hook-uuid-1234")
    body = hit.json()
    assert body["msg_type"] == "text"
    assert "@张三 飞书你好" in body["content"]["text"]
    timestamp = int(body["timestamp"])
    assert abs(timestamp - time.time()) < 3600
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected


def test_apprise_json_and_mattermost_targets(world: World, conv: int, receiver: Receiver) -> None:
    add_target(world, world.member, "apprise", f"json://127.0.0.1:{receiver.port}/notify/json-path")
    add_target(world, world.member, "apprise", f"mmost://127.0.0.1:{receiver.port}/mmkey12345")
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    send(world, world.owner, conv, "@张三 apprise 转发")
    assert pipeline.run_due(later()) == 2
    [as_json] = receiver.to("/notify/json-path")
    payload = as_json.json()
    assert payload["title"] == "小微 Hub: 王老板 在 #销售 提到了你"
    assert "@张三 apprise 转发" in payload["message"]
    [as_mattermost] = receiver.to("/hooks/mmkey12345")  # Mattermost's incoming-webhook shape
    assert "王老板 在 #销售 提到了你" in as_mattermost.json()["text"]


def test_email_target(world: World, conv: int) -> None:
    add_target(world, world.member, "email", "zhangsan@qq.example")
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member.user.pk])
    send(world, world.owner, dm, "私聊内容")
    assert pipeline.run_due(later()) == 1
    [email] = mail.outbox
    assert email.to == ["zhangsan@qq.example"]
    assert email.subject == "[小微 Hub] 王老板 给你发了私信"
    assert f"/c/{dm}/m/" in email.body and "私聊内容" not in email.body


def test_english_speakers_get_english(world: World, conv: int, receiver: Receiver) -> None:
    world.member.user.language = "en"
    world.member.user.save()
    add_target(world, world.member, "wecom", receiver.url(f"/cgi-bin/webhook/send?key={KEY}"))
    for n in range(3):
        send(world, world.owner, conv, f"@张三 message {n}")
    assert pipeline.run_due(later()) == 1
    content = receiver.to("/cgi-bin/")[0].json()["text"]["content"]
    assert content.splitlines()[:2] == ["【Xiaowei Hub】3 new notifications", "from 王老板"]


def test_targets_api_masks_and_seals(world: World, receiver: Receiver) -> None:
    api = world.api(world.member)
    url = receiver.url(f"/cgi-bin/webhook/send?key={KEY}")
    res = api.post(
        "/api/v1/me/notify/targets", {"kind": "dingtalk", "url": url, "secret": "SECsigning", "label": "钉钉"}
    )
    assert res.status_code == 201, res.content
    out = res.json()
    assert out["masked"] == "127.0.0.1…0001" and out["has_secret"] is True and out["enabled"] is True
    assert KEY not in res.content.decode() and "SECsigning" not in res.content.decode()
    row = ForwardTarget.objects.get()
    assert KEY not in row.sealed and "SECsigning" not in row.sealed
    target_id = out["id"]
    listed = api.get("/api/v1/me/notify/targets").json()
    assert [t["id"] for t in listed] == [target_id] and KEY not in str(listed)
    # Patch without the URL keeps it; an empty secret removes signing.
    res = api.patch(f"/api/v1/me/notify/targets/{target_id}", {"label": "老板的钉钉", "enabled": False, "secret": ""})
    assert res.status_code == 200, res.content
    assert (res.json()["label"], res.json()["enabled"], res.json()["has_secret"]) == ("老板的钉钉", False, False)
    # Nobody else can see, change, test or delete it.
    other = world.api(world.member2)
    assert other.get("/api/v1/me/notify/targets").json() == []
    assert other.patch(f"/api/v1/me/notify/targets/{target_id}", {"label": "x"}).status_code == 404
    assert other.post(f"/api/v1/me/notify/targets/{target_id}/test").status_code == 404
    assert other.delete(f"/api/v1/me/notify/targets/{target_id}").status_code == 404
    assert world.api(None).get("/api/v1/me/notify/targets").status_code == 401
    assert api.delete(f"/api/v1/me/notify/targets/{target_id}").status_code == 204
    assert not ForwardTarget.objects.exists()
    from hub.models import AuditEvent

    actions = list(AuditEvent.objects.filter(actor=world.member.user).values_list("action", flat=True))
    assert {"notify.target_added", "notify.target_changed", "notify.target_removed"} <= set(actions)
    assert KEY not in str(list(AuditEvent.objects.values_list("data", flat=True)))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "slack", "url": "https://example.com/x"}, 422, "invalid_request"),
        ({"kind": "wecom", "url": ""}, 422, "invalid_request"),
        ({"kind": "wecom", "url": "ftp://example.com/x"}, 400, "invalid_url"),
        ({"kind": "wecom", "url": "https://"}, 400, "invalid_url"),
        ({"kind": "wecom", "url": "https://example.com:99999/x"}, 400, "invalid_url"),
        ({"kind": "wecom", "url": "https://example.com/x", "secret": "s"}, 400, "invalid_secret"),
        ({"kind": "email", "url": "not-an-address"}, 400, "invalid_email"),
        ({"kind": "email", "url": "a@b.example", "secret": "s"}, 400, "invalid_secret"),
        ({"kind": "apprise", "url": "nosuchscheme://host/x"}, 400, "invalid_url"),
        ({"kind": "apprise", "url": "syslog://"}, 400, "invalid_url"),
        ({"kind": "apprise", "url": "这不是网址"}, 400, "invalid_url"),
        ({"kind": "wecom", "url": "https://example.com/" + "k" * 2100}, 422, "invalid_request"),
        ({"kind": "wecom", "url": "https://example.com/x", "label": "长" * 61}, 422, "invalid_request"),
        ({"kind": "wecom"}, 422, "invalid_request"),
        ([1, 2], 422, "invalid_request"),
    ],
)
def test_bad_targets_are_4xx(world: World, body: Any, status: int, code: str) -> None:
    res = world.api(world.member).post("/api/v1/me/notify/targets", body)
    assert res.status_code == status, res.content
    assert error_code(res) == code
    assert not ForwardTarget.objects.exists()


def test_too_many_targets(world: World) -> None:
    for n in range(10):
        add_target(world, world.member, "email", f"m{n}@example.com")
    res = world.api(world.member).post("/api/v1/me/notify/targets", {"kind": "email", "url": "m10@example.com"})
    assert res.status_code == 400 and error_code(res) == "too_many_targets"


def test_send_test_reports_success_and_the_failure_reason(world: World, receiver: Receiver) -> None:
    api = world.api(world.member)
    good = add_target(world, world.member, "wecom", receiver.url(f"/good/send?key={KEY}"))
    bad = add_target(world, world.member, "wecom", receiver.url(f"/bad/send?key={KEY}"))
    # WeCom answers errors with HTTP 200 and an errcode (and may quote the key back).
    receiver.answer("/bad/", (200, {"errcode": 93000, "errmsg": f"invalid webhook url, key {KEY} unknown"}))
    res = api.post(f"/api/v1/me/notify/targets/{good}/test")
    assert res.status_code == 200 and res.json() == {"id": good, "ok": True, "detail": ""}
    assert "小微 Hub 测试通知" in receiver.to("/good/")[0].json()["text"]["content"]
    res = api.post(f"/api/v1/me/notify/targets/{bad}/test")
    assert res.status_code == 200
    result = res.json()
    assert result["ok"] is False and "93000" in result["detail"] and "invalid webhook url" in result["detail"]
    assert KEY not in result["detail"]  # redacted
    assert ForwardTarget.objects.get(pk=bad).last_error == result["detail"]
    unreachable = add_target(world, world.member, "apprise", "json://127.0.0.1:9/nothing-listens")
    res = api.post(f"/api/v1/me/notify/targets/{unreachable}/test")
    assert res.json()["ok"] is False and res.json()["detail"]
    # Five tests a minute, then a clear 429.
    api.post(f"/api/v1/me/notify/targets/{good}/test")
    api.post(f"/api/v1/me/notify/targets/{good}/test")
    res = api.post(f"/api/v1/me/notify/targets/{good}/test")
    assert res.status_code == 429 and error_code(res) == "rate_limited"


def test_robot_errors_in_the_worker(world: World, conv: int, receiver: Receiver) -> None:
    """ "Too fast" codes are retried; a refused configuration is not, and its reason shows."""
    add_target(world, world.member, "dingtalk", receiver.url("/slow/send?access_token=t1234567"))
    add_target(world, world.member, "dingtalk", receiver.url("/wrong/send?access_token=t7654321"))
    receiver.answer("/slow/", (200, {"errcode": 130101, "errmsg": "send too fast"}), (200, {"errcode": 0}))
    receiver.answer("/wrong/", (200, {"errcode": 310000, "errmsg": "sign not match"}))
    send(world, world.owner, conv, "@张三 hi")
    start = later()
    assert pipeline.run_due(start) == 0
    by_path = {d.target.masked: d for d in NotifyDelivery.objects.select_related("target")}
    slow = next(d for k, d in by_path.items() if k.endswith("4567"))
    wrong = next(d for k, d in by_path.items() if k.endswith("4321"))
    assert (slow.status, slow.attempts) == ("pending", 1)
    assert (wrong.status, wrong.attempts) == ("failed", 1) and "310000 sign not match" in wrong.last_error
    assert pipeline.run_due(start + timedelta(seconds=31)) == 1
    slow.refresh_from_db()
    assert slow.status == "sent" and len(receiver.to("/slow/")) == 2


def test_a_target_that_keeps_failing_switches_itself_off(world: World, conv: int, receiver: Receiver) -> None:
    target_id = add_target(world, world.member, "wecom", receiver.url("/broken/send?key=k1234567"))
    receiver.answer("/broken/", (200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    now = later()
    for n in range(10):
        send(world, world.owner, conv, f"@张三 第{n}次")
        now += timedelta(minutes=5)
        pipeline.run_due(now)
    target = ForwardTarget.objects.get(pk=target_id)
    assert target.enabled is False and target.failure_count == 10
    send(world, world.owner, conv, "@张三 之后")
    pipeline.run_due(now + timedelta(minutes=5))
    assert len(receiver.to("/broken/")) == 10
    # Switching it on again resets the streak.
    res = world.api(world.member).patch(f"/api/v1/me/notify/targets/{target_id}", {"enabled": True})
    assert res.json()["failure_count"] == 0 and res.json()["enabled"] is True


def test_secrets_never_reach_the_logs(world: World, conv: int, receiver: Receiver, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    add_target(world, world.member, "wecom", receiver.url(f"/cgi-bin/webhook/send?key={KEY}"))
    add_target(world, world.member, "apprise", f"json://127.0.0.1:9/{KEY}")
    add_target(world, world.member, "feishu", receiver.url(f"/open-apis/bot/v2/hook/{KEY}x"), secret="SECRETsign99")
    receiver.answer("/open-apis/", (500, {}))
    send(world, world.owner, conv, "@张三 日志")
    pipeline.run_due(later())
    world.api(world.member).post(f"/api/v1/me/notify/targets/{ForwardTarget.objects.first().pk}/test")  # type: ignore[union-attr]
    assert receiver.to("/cgi-bin/") and receiver.to("/open-apis/")
    # apprise's logger does not propagate to the site's handlers (forward.py); pytest attaches
    # its capture to such loggers anyway, so their records are left out here.
    assert logging.getLogger("apprise").propagate is False
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("apprise"))
    assert "robotkey" in KEY and KEY not in logged and "SECRETsign99" not in logged
    errors = " ".join(NotifyDelivery.objects.values_list("last_error", flat=True))
    errors += " ".join(ForwardTarget.objects.values_list("last_error", flat=True))
    assert errors.strip() and KEY not in errors


def test_switching_a_target_off_stops_a_batch_already_made(world: World, conv: int, receiver: Receiver) -> None:
    target_id = add_target(world, world.member, "wecom", receiver.url(f"/cgi-bin/webhook/send?key={KEY}"))
    send(world, world.owner, conv, "@张三 hi")
    start = later()
    pipeline.collect(world.member.user.pk, start)
    world.api(world.member).patch(f"/api/v1/me/notify/targets/{target_id}", {"enabled": False})
    assert pipeline.run_due(start) == 0
    assert receiver.requests == [] and NotifyDelivery.objects.get().status == "dropped"


def test_admin_pages_show_health_but_no_secret(world: World, conv: int, receiver: Receiver, admin_client: Any) -> None:
    add_target(world, world.member, "dingtalk", receiver.url(f"/robot/send?access_token={KEY}"), secret="SECadmin9")
    send(world, world.owner, conv, "@张三 hi")
    pipeline.run_due(later())
    target = ForwardTarget.objects.get()
    for url in [
        "/admin/messaging/forwardtarget/",
        f"/admin/messaging/forwardtarget/{target.pk}/change/",
        "/admin/messaging/notifydelivery/",
        "/admin/messaging/pushsubscription/",
    ]:
        res = admin_client.get(url)
        assert res.status_code == 200, url
        assert KEY not in res.content.decode() and "SECadmin9" not in res.content.decode()
    assert admin_client.get("/admin/messaging/forwardtarget/add/").status_code == 403


def test_secret_key_rotation(world: World, receiver: Receiver, settings: Any) -> None:
    """Sealed with the old SECRET_KEY: still usable while it is in SECRET_KEY_FALLBACKS; without
    it the target says to enter the URL again, and accepts a new one."""
    api = world.api(world.member)
    target_id = add_target(world, world.member, "wecom", receiver.url(f"/old/send?key={KEY}"))
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old]
    assert api.post(f"/api/v1/me/notify/targets/{target_id}/test").json()["ok"] is True
    settings.SECRET_KEY_FALLBACKS = []
    res = api.post(f"/api/v1/me/notify/targets/{target_id}/test").json()
    assert res["ok"] is False and "enter its URL again" in res["detail"]
    res = api.patch(f"/api/v1/me/notify/targets/{target_id}", {"secret": ""})
    assert res.status_code == 400 and error_code(res) == "secret_lost"
    res = api.patch(f"/api/v1/me/notify/targets/{target_id}", {"url": receiver.url(f"/new/send?key={KEY}")})
    assert res.status_code == 200, res.content
    assert api.post(f"/api/v1/me/notify/targets/{target_id}/test").json()["ok"] is True
    assert len(receiver.to("/old/")) == 1 and len(receiver.to("/new/")) == 1
