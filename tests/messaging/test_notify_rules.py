"""The rules every channel follows: mute, notification level, do-not-disturb, access re-checked
at delivery, read-before-delivery, preview modes, coalescing, the hourly limit, scheduling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks import task_backends

from messaging.delivery import pipeline
from messaging.delivery.models import NotifyCursor, NotifyDelivery
from messaging.models import PendingNotification
from tests.conftest import Persona, World
from tests.messaging.helpers_http import create_conversation, send, shared_channel
from tests.messaging.notify_receivers import Receiver, add_target, allow_private_fixture, receiver_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("allow_private")


def later(seconds: int = 30) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(
        world, world.owner, "public", "销售", member_ids=[world.member.user.pk, world.member2.user.pk]
    )


def robot(world: World, persona: Persona, receiver: Receiver, name: str = "r") -> str:
    """A WeCom target whose requests land under /<name>/ on the receiver."""
    add_target(world, persona, "wecom", receiver.url(f"/{name}/send?key=key-{name}-123456"))
    return f"/{name}/"


def texts(receiver: Receiver, prefix: str) -> list[str]:
    return [r.json()["text"]["content"] for r in receiver.to(prefix)]


def test_a_burst_of_twenty_mentions_is_one_notification(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    for n in range(20):
        send(world, world.owner if n % 2 else world.member2, conv, f"@张三 第{n}条")
    assert pipeline.run_due(later()) == 1
    [text] = texts(receiver, path)
    lines = text.splitlines()
    assert lines[0] == "【小微 Hub】20 条新消息"
    assert lines[1:4] == ["王老板：@张三 第17条", "Lucy Chen：@张三 第18条", "王老板：@张三 第19条"]
    assert lines[-1].endswith(f"/c/{conv}/m/{PendingNotification.objects.order_by('pk').first().message_id}/")  # type: ignore[union-attr]
    assert pipeline.run_due(later(60)) == 0  # nothing new: nothing more
    # The next one after the batch is a new notification.
    send(world, world.owner, conv, "@张三 又一条")
    assert pipeline.run_due(later(90)) == 1
    assert len(texts(receiver, path)) == 2


@pytest.mark.parametrize(
    ("preview", "one", "many"),
    [
        ("none", ["【小微 Hub】小微 Hub", "你有 1 条新消息"], ["【小微 Hub】2 条新消息", "打开小微 Hub 查看"]),
        ("sender", ["【小微 Hub】王老板 在 #销售 提到了你"], ["【小微 Hub】2 条新消息", "来自 王老板、Lucy Chen"]),
        (
            "first_line",
            ["【小微 Hub】王老板 在 #销售 提到了你", "@张三 价格 ¥128/斤"],
            ["【小微 Hub】2 条新消息", "王老板：@张三 第一", "Lucy Chen：@张三 第二"],
        ),
    ],
)
def test_preview_modes(
    world: World, conv: int, receiver: Receiver, preview: str, one: list[str], many: list[str]
) -> None:
    path = robot(world, world.member, receiver)
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": preview})
    send(world, world.owner, conv, "@张三 价格 ¥128/斤\n\n第二行是机密")
    assert pipeline.run_due(later()) == 1
    send(world, world.owner, conv, "@张三 第一\n机密")
    send(world, world.member2, conv, "@张三 第二")
    assert pipeline.run_due(later(90)) == 1
    first, second = texts(receiver, path)
    assert first.splitlines()[:-1] == one
    assert second.splitlines()[:-1] == many
    assert "机密" not in first + second


def test_bad_preview_value_is_a_422(world: World) -> None:
    api = world.api(world.member)
    assert api.patch("/api/v1/me/notifications", {"push_preview": "everything"}).status_code == 422
    assert api.patch("/api/v1/me/notifications", {"push_preview": None}).status_code == 400
    assert api.get("/api/v1/me/notifications").json()["push_preview"] == "sender"


def test_read_before_delivery_means_no_notification(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    msg = send(world, world.owner, conv, "@张三 看到了吗")
    world.api(world.member).post(f"/api/v1/conversations/{conv}/read", {"seq": msg["seq"]})
    assert pipeline.run_due(later()) == 0
    assert receiver.to(path) == [] and not NotifyDelivery.objects.exists()
    assert NotifyCursor.objects.get(user=world.member.user).last_pending_id == PendingNotification.objects.get().pk


def test_deleted_message_is_not_announced(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    msg = send(world, world.owner, conv, "@张三 发错了")
    assert world.api(world.owner).delete(f"/api/v1/messages/{msg['id']}").status_code in (200, 204)
    assert pipeline.run_due(later()) == 0 and receiver.to(path) == []


def test_mute_and_level_are_checked_again_at_delivery(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    path2 = robot(world, world.member2, receiver, "r2")
    send(world, world.owner, conv, "@all 全体开会")
    send(world, world.owner, conv, "@张三 @member2 你们俩")
    # After queueing, before delivery: member mutes (a personal mention still gets through),
    # member2 switches the channel to "nothing" (nothing gets through).
    world.api(world.member).patch(f"/api/v1/conversations/{conv}/notifications", {"muted": True})
    world.api(world.member2).patch(f"/api/v1/conversations/{conv}/notifications", {"notification_level": "nothing"})
    assert pipeline.run_due(later()) == 1
    [text] = texts(receiver, path)
    assert text.splitlines()[0] == "【小微 Hub】王老板 在 #销售 提到了你"  # one: the personal mention
    assert receiver.to(path2) == []


def test_dm_level_mentions_drops_dms_but_not_mentions(world: World, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    group = create_conversation(
        world, world.owner, "group", "", member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    send(world, world.owner, group, "大家好")
    world.api(world.member).patch(f"/api/v1/conversations/{group}/notifications", {"notification_level": "mentions"})
    assert pipeline.run_due(later()) == 0
    send(world, world.owner, group, "@张三 你来一下")
    assert pipeline.run_due(later(90)) == 1
    assert len(texts(receiver, path)) == 1


def test_no_content_after_access_ended(world: World, receiver: Receiver) -> None:
    shared = shared_channel(world)
    send(world, world.guest, shared, "我在")
    guest_path = robot(world, world.guest, receiver, "guest")
    private = create_conversation(world, world.owner, "private", "内部", member_ids=[world.member2.user.pk])
    member2_path = robot(world, world.member2, receiver, "m2")
    world.api(world.member2).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    send(world, world.member, shared, "@赵顾客 报价见附件")
    send(world, world.owner, private, "@member2 内部消息：底价 80")
    world.api(world.owner).delete(f"/api/v1/conversations/{shared}/share/{world.customer.pk}")
    world.api(world.owner).delete(f"/api/v1/conversations/{private}/members/{world.member2.user.pk}")
    assert pipeline.run_due(later()) == 0
    assert receiver.to(guest_path) == [] and receiver.to(member2_path) == []


def test_access_is_checked_again_at_each_retry(world: World, receiver: Receiver) -> None:
    private = create_conversation(world, world.owner, "private", "内部", member_ids=[world.member2.user.pk])
    path = robot(world, world.member2, receiver, "m2")
    receiver.answer(path, (503, {}), (200, {"errcode": 0}))
    world.api(world.member2).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    send(world, world.owner, private, "@member2 底价 80")
    start = later()
    assert pipeline.run_due(start) == 0  # 503: retry later
    world.api(world.owner).delete(f"/api/v1/conversations/{private}/members/{world.member2.user.pk}")
    assert pipeline.run_due(start + timedelta(minutes=5)) == 0
    assert len(receiver.to(path)) == 1  # the retry did not go out at all
    assert NotifyDelivery.objects.get().status == "dropped"


def test_do_not_disturb_holds_notifications_until_morning(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    world.member.user.time_zone = "Asia/Shanghai"
    world.member.user.save()
    world.api(world.member).patch("/api/v1/me/notifications", {"dnd_start": "22:00", "dnd_end": "08:00"})
    shanghai = ZoneInfo("Asia/Shanghai")
    night = timezone.now().astimezone(shanghai).replace(hour=23, minute=0) + timedelta(days=1)
    send(world, world.owner, conv, "@张三 深夜一")
    send(world, world.owner, conv, "@张三 深夜二")
    PendingNotification.objects.update(created_at=night)
    assert pipeline.run_due(night + timedelta(minutes=1)) == 0
    assert pipeline.run_due(night + timedelta(hours=3)) == 0
    assert receiver.to(path) == []
    morning = (night + timedelta(days=1)).replace(hour=8, minute=1)
    assert pipeline.run_due(morning) == 1
    [text] = texts(receiver, path)
    assert text.startswith("【小微 Hub】2 条新消息")


def test_hourly_limit_holds_back_and_then_coalesces(world: World, conv: int, receiver: Receiver, settings: Any) -> None:
    settings.HUB_NOTIFY_MAX_PER_HOUR = 2
    path = robot(world, world.member, receiver)
    now = later()
    for n in range(2):
        send(world, world.owner, conv, f"@张三 第{n}条")
        PendingNotification.objects.filter(message__body=f"@张三 第{n}条").update(created_at=now - timedelta(minutes=1))
        assert pipeline.run_due(now) == 1
        now += timedelta(minutes=1)
    for n in range(2, 6):
        send(world, world.owner, conv, f"@张三 第{n}条")
    PendingNotification.objects.filter(created_at__gt=now - timedelta(minutes=1)).update(
        created_at=now - timedelta(minutes=1)
    )
    assert pipeline.run_due(now) == 0  # limit reached: held back
    assert pipeline.run_due(now + timedelta(minutes=30)) == 0
    assert len(texts(receiver, path)) == 2
    assert pipeline.run_due(now + timedelta(minutes=61)) == 1  # the first batch aged out
    assert texts(receiver, path)[-1].startswith("【小微 Hub】4 条新消息")


def test_people_without_channels_cost_nothing(world: World, conv: int) -> None:
    send(world, world.owner, conv, "@张三 @member2 hi")
    assert pipeline.run_due(later()) == 0
    assert not NotifyDelivery.objects.exists() and not NotifyCursor.objects.exists()


def test_only_new_rows_after_the_first_channel(world: World, conv: int, receiver: Receiver) -> None:
    send(world, world.owner, conv, "@张三 旧消息")
    path = robot(world, world.member, receiver)
    assert pipeline.run_due(later()) == 0 and receiver.to(path) == []


def test_one_collect_is_scheduled_per_burst(
    world: World, conv: int, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    robot(world, world.member, receiver)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(5):
                send(world, world.owner, conv, f"@张三 @member2 {n}")
        results = task_backends["default"].results  # type: ignore[attr-defined]
        collects = [r for r in results if r.task.name == "collect_notifications"]
        # member has a channel (one collect for the burst); member2 has none (no task).
        assert [r.args for r in collects] == [[world.member.user.pk]]
        run_after = collects[0].task.run_after
        assert run_after is not None and timedelta(seconds=15) < run_after - timezone.now() <= timedelta(seconds=20)


def test_collect_then_send_through_the_database_backend(
    world: World, conv: int, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    """The embedded default: db_worker runs the deferred collect, which enqueues the sends."""
    from django_tasks_db.models import DBTaskResult

    path = robot(world, world.member, receiver)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, world.owner, conv, "@张三 队列")
        row = DBTaskResult.objects.get(task_path="messaging.delivery.tasks.collect_notifications")
        assert row.run_after is not None and row.run_after > timezone.now()
        PendingNotification.objects.update(created_at=timezone.now() - timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert row.task.call(*row.args_kwargs["args"]) == 1
        sends = DBTaskResult.objects.filter(task_path="messaging.delivery.tasks.send_notification")
        assert sends.count() == 1
        job = sends.get()
        assert job.task.call(*job.args_kwargs["args"]) == "sent"
    assert len(receiver.to(path)) == 1


def test_deliver_notifications_command(world: World, conv: int, receiver: Receiver) -> None:
    from io import StringIO

    from django.core.management import call_command

    path = robot(world, world.member, receiver)
    send(world, world.owner, conv, "@张三 命令")
    PendingNotification.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("deliver_notifications", stdout=out)
    assert out.getvalue().strip() == "1 notification(s) delivered"
    assert len(receiver.to(path)) == 1


def test_long_and_markup_messages_are_cut_and_sent_as_plain_text(world: World, conv: int, receiver: Receiver) -> None:
    path = robot(world, world.member, receiver)
    world.api(world.member).patch("/api/v1/me/notifications", {"push_preview": "first_line"})
    send(world, world.owner, conv, "# @张三 <script>alert(1)</script> **加粗** " + "很长" * 3000)
    assert pipeline.run_due(later()) == 1
    [text] = texts(receiver, path)
    first = text.splitlines()[1]
    assert first.startswith("@张三 <script>alert(1)</script> **加粗** 很长")  # literal: robots get text, not HTML
    assert len(first) == 100 and first.endswith("…")
    assert len(text.encode()) < 4096  # well inside Web Push's payload limit too


def test_one_deferred_collect_per_person_for_the_end_of_quiet_hours(
    world: World, conv: int, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    robot(world, world.member, receiver)
    world.member.user.time_zone = "Asia/Shanghai"
    world.member.user.save()
    local = timezone.now().astimezone(ZoneInfo("Asia/Shanghai"))
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=2)).strftime("%H:%M")
    world.api(world.member).patch("/api/v1/me/notifications", {"dnd_start": start, "dnd_end": end})
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        send(world, world.owner, conv, "@张三 一")
        for minutes in (1, 2, 3):
            PendingNotification.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))
            assert pipeline.collect(world.member.user.pk) == []  # quiet: deferred to the end
        results = task_backends["default"].results  # type: ignore[attr-defined]
        deferred = [r for r in results if r.task.name == "collect_notifications"]
        assert len(deferred) == 1
        assert deferred[0].task.run_after.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") == end


def test_an_all_in_a_big_channel_schedules_in_the_worker(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from hub.models import Member
    from tests.conftest import make_persona

    people = [make_persona(f"p{n}@tea.test", f"员工{n}") for n in range(12)]
    for persona in people:
        Member.objects.create(workspace=world.workspace, user=persona.user, role=Member.Role.MEMBER)
        robot(world, persona, receiver, f"p{persona.user.pk}")
    big = create_conversation(world, world.owner, "public", "全员", member_ids=[p.user.pk for p in people])
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, world.owner, big, "@all 明天盘点")
        results = [r for r in task_backends["default"].results if r.task.name != "send_digest"]  # type: ignore[attr-defined]
        # One task in the request (besides the email digests): the worker schedules the collects.
        assert [r.task.name for r in results] == ["schedule_collects"]
        assert sorted(results[0].args[0]) == sorted(p.user.pk for p in people)
        task_backends["default"].clear()  # type: ignore[attr-defined]
        results[0].task.call(*results[0].args)
        collects = [r for r in task_backends["default"].results if r.task.name == "collect_notifications"]  # type: ignore[attr-defined]
        assert len(collects) == 12
