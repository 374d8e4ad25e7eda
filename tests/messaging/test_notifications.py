"""Email digests for mentions, DMs and followed threads: delay, read-before-delay, mute and
level, do-not-disturb hours in the person's time zone, one email per burst."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from django_tasks import task_backends

from messaging import notifications
from messaging.models import NotificationPrefs, PendingNotification
from tests.conftest import World
from tests.messaging.helpers_http import create_conversation, error_code, send


def _later(minutes: int = 11) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def _reasons(world: World) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for user_id, reason in PendingNotification.objects.values_list("user_id", "reason"):
        out.setdefault(user_id, set()).add(reason)
    return out


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(
        world, world.owner, "public", "销售", member_ids=[world.member.user.pk, world.member2.user.pk]
    )


def test_mention_is_emailed_after_the_delay_in_one_digest(world: World, conv: int) -> None:
    send(world, world.owner, conv, "@张三 第一件事")
    send(world, world.owner, conv, "@张三 第二件事")
    send(world, world.owner, conv, "没提到任何人")
    assert _reasons(world) == {world.member.user.pk: {"mention"}}
    assert notifications.send_due_digests(timezone.now()) == 0  # not due yet
    assert notifications.send_due_digests(_later()) == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["member@tea.test"]
    assert "第一件事" in email.body and "第二件事" in email.body and f"/c/{conv}?seq=" in email.body
    assert notifications.send_due_digests(_later(30)) == 0  # one email per burst
    assert len(mail.outbox) == 1


def test_read_before_the_delay_means_no_email(world: World, conv: int) -> None:
    msg = send(world, world.owner, conv, "@张三 看到了吗")
    world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]})
    assert notifications.send_due_digests(_later()) == 0
    assert mail.outbox == []
    assert not PendingNotification.objects.filter(emailed_at__isnull=True).exists()


def test_dm_thread_mute_and_levels(world: World, conv: int) -> None:
    dm = create_conversation(world, world.owner, "dm", "", member_ids=[world.member2.user.pk])
    send(world, world.owner, dm, "私信")
    assert _reasons(world) == {world.member2.user.pk: {"dm"}}
    PendingNotification.objects.all().delete()

    root = send(world, world.member, conv, "话题")
    send(world, world.owner, conv, "回复", thread_root_id=root["id"])
    assert _reasons(world) == {world.member.user.pk: {"thread"}}  # the root's author follows
    PendingNotification.objects.all().delete()
    world.api(world.member).delete(f"/api/v1/messages/{root['id']}/follow")
    send(world, world.owner, conv, "再回复", thread_root_id=root["id"])
    assert _reasons(world) == {}

    # Muted: @all stays quiet, a personal mention still gets through; "nothing" silences all.
    world.api(world.member).patch(f"/api/v1/conversations/{conv}/notifications", {"muted": True})
    world.api(world.member2).patch(f"/api/v1/conversations/{conv}/notifications", {"notification_level": "nothing"})
    send(world, world.owner, conv, "@all 开会")
    assert _reasons(world) == {}
    send(world, world.owner, conv, "@张三 @member2 你们两个")
    assert _reasons(world) == {world.member.user.pk: {"mention"}}


def test_do_not_disturb_hours_in_the_persons_time_zone(world: World, conv: int) -> None:
    user = world.member.user
    user.time_zone = "Asia/Shanghai"
    user.save()
    res = world.api(world.member).patch("/api/v1/me/notifications", {"dnd_start": "22:00", "dnd_end": "08:00"})
    assert res.status_code == 200, res.content
    send(world, world.owner, conv, "@张三 深夜消息")
    shanghai = ZoneInfo("Asia/Shanghai")
    created = PendingNotification.objects.get().created_at
    night = datetime(created.year, created.month, created.day, 23, 30, tzinfo=shanghai) + timedelta(days=1)
    assert notifications.deliver_digest(user.pk, night) == 0
    assert mail.outbox == []
    morning = night.replace(hour=8, minute=5) + timedelta(days=1)
    assert notifications.deliver_digest(user.pk, morning) == 1
    assert len(mail.outbox) == 1
    prefs = NotificationPrefs.objects.get(user=user)
    assert notifications.in_quiet_hours(prefs, "Asia/Shanghai", night) == night.replace(hour=8, minute=0) + timedelta(
        days=1
    )
    # 23:30 in Shanghai is 15:30 UTC: someone in London is not in their quiet hours then.
    assert notifications.in_quiet_hours(prefs, "Europe/London", night) is None


def test_email_off_consumes_without_sending(world: World, conv: int) -> None:
    world.api(world.member).patch("/api/v1/me/notifications", {"email_enabled": False})
    send(world, world.owner, conv, "@张三 hi")
    assert notifications.send_due_digests(_later()) == 0
    assert mail.outbox == []


def test_digest_is_scheduled_after_commit_when_the_backend_can_defer(
    world: World, conv: int, django_capture_on_commit_callbacks: Any
) -> None:
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, world.owner, conv, "@张三 hi")
        results = task_backends["default"].results  # type: ignore[attr-defined]
        assert len(results) == 1
        assert results[0].args == [world.member.user.pk]
        run_after = results[0].task.run_after
        assert run_after is not None and timedelta(minutes=9) < run_after - timezone.now() <= timedelta(minutes=10)


def test_prefs_api(world: World) -> None:
    api = world.api(world.member)
    assert api.get("/api/v1/me/notifications").json() == {
        "email_enabled": True,
        "email_delay_minutes": 10,
        "dnd_start": None,
        "dnd_end": None,
        "push_preview": "sender",
    }
    res = api.patch("/api/v1/me/notifications", {"email_delay_minutes": 30, "dnd_start": "12:00", "dnd_end": "13:30"})
    assert res.status_code == 200 and res.json()["dnd_end"] == "13:30:00"
    assert api.patch("/api/v1/me/notifications", {"dnd_start": None, "dnd_end": None}).json()["dnd_start"] is None
    assert error_code(api.patch("/api/v1/me/notifications", {"dnd_start": "22:00"})) == "invalid_dnd"
    assert api.patch("/api/v1/me/notifications", {"email_delay_minutes": 0}).status_code == 422
    assert api.patch("/api/v1/me/notifications", {"dnd_start": "25:99", "dnd_end": "08:00"}).status_code == 422
    assert error_code(api.patch("/api/v1/me/notifications", {"email_enabled": None})) == "invalid_request"
    assert world.api(world.owner).get("/api/v1/me/notifications").json()["email_delay_minutes"] == 10
    assert world.api(None).get("/api/v1/me/notifications").status_code == 401


def test_send_digests_command(world: World, conv: int) -> None:
    from io import StringIO

    from django.core.management import call_command

    send(world, world.owner, conv, "@张三 hi")
    PendingNotification.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    out = StringIO()
    call_command("send_digests", stdout=out)
    assert out.getvalue().strip() == "1 digest email(s) sent"
    assert len(mail.outbox) == 1


def test_admin_pages_are_read_only(world: World, conv: int, admin_client: Any) -> None:
    msg = send(world, world.owner, conv, "admin view")
    assert admin_client.get("/admin/messaging/conversation/").status_code == 200
    assert admin_client.get(f"/admin/messaging/conversation/{conv}/change/").status_code == 200
    assert admin_client.get(f"/admin/messaging/message/{msg['id']}/change/").status_code == 200
    assert admin_client.get("/admin/messaging/message/add/").status_code == 403
    res = admin_client.post(f"/admin/messaging/message/{msg['id']}/delete/", {"post": "yes"})
    assert res.status_code == 403


def test_no_email_after_access_ended(world: World) -> None:
    from tests.messaging.helpers_http import shared_channel

    shared = shared_channel(world)
    send(world, world.guest, shared, "我在")  # the guest's participant row appears
    send(world, world.member, shared, "@赵顾客 报价见附件")
    private = create_conversation(world, world.owner, "private", "内部", member_ids=[world.member2.user.pk])
    send(world, world.owner, private, "@member2 内部消息")
    assert set(_reasons(world)) == {world.guest.user.pk, world.member2.user.pk}
    world.api(world.owner).delete(f"/api/v1/conversations/{shared}/share/{world.customer.pk}")
    world.api(world.owner).delete(f"/api/v1/conversations/{private}/members/{world.member2.user.pk}")
    assert notifications.send_due_digests(_later()) == 0
    assert mail.outbox == []


def test_digest_task_with_the_database_backend(
    world: World, conv: int, django_capture_on_commit_callbacks: Any
) -> None:
    """The embedded default: a deferred row that db_worker runs after the delay."""
    from django_tasks_db.models import DBTaskResult

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, world.owner, conv, "@张三 数据库队列")
        row = DBTaskResult.objects.get()
        assert row.task_path == "messaging.notifications.send_digest"
        assert row.run_after is not None and row.run_after > timezone.now() + timedelta(minutes=9)
        assert not DBTaskResult.objects.ready().exists()  # not before the delay
        # What the worker does once it is due:
        PendingNotification.objects.update(created_at=timezone.now() - timedelta(minutes=11))
        assert row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]) == 1
    assert len(mail.outbox) == 1
