"""Concurrent writers on PostgreSQL: toggles, pins and edits from several connections at once
keep the log gap-free and the rows consistent with the last event."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection

from hub.models import Member
from messaging import actions
from messaging.models import Conversation, Event, Message, Pin, Reaction
from messaging.serializers import reaction_summary
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
ROUNDS = 5


def _need_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (run with HUB_TEST_DATABASE_URL)")


def _race(work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in THREADS threads released together; each closes its connection."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(i)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def _setup(world: World) -> tuple[list[Member], Conversation, Message]:
    users = [world.owner.user, world.admin.user, world.member.user, world.member2.user]
    members = list(Member.objects.select_related("user", "workspace").filter(workspace=world.workspace, user__in=users))
    owner = next(m for m in members if m.user_id == world.owner.user.pk)
    conv = actions.check_create_conversation(owner, "public", "并发", [m.user_id for m in members])
    message, _ = actions.check_send_message(owner, conv, "并发测试", uuid.uuid4())
    return members, conv, message


def _assert_gap_free(conv: Conversation) -> list[Event]:
    log = list(Event.objects.filter(conversation=conv).order_by("seq"))
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    conv.refresh_from_db()
    assert conv.last_seq == len(log)
    return log


def test_concurrent_reaction_toggles(world: World) -> None:
    _need_postgres()
    members, conv, message = _setup(world)

    def work(i: int) -> None:
        member = members[i % len(members)]
        msg = Message.objects.select_related("conversation").get(pk=message.pk)
        for _ in range(ROUNDS + (i % 2)):  # odd threads toggle once more
            actions.check_toggle_reaction(member, msg, "👍")

    assert _race(work) == []
    log = _assert_gap_free(conv)
    toggles = [e for e in log if e.type == "reaction.changed"]
    assert len(toggles) == sum(ROUNDS + (i % 2) for i in range(THREADS))
    # The last event's summary is the state of the rows.
    rows = list(Reaction.objects.filter(message=message))
    assert toggles[-1].payload["reactions"] == reaction_summary(rows)
    assert len({(r.user_id, r.emoji) for r in rows}) == len(rows)


def test_concurrent_pin_and_unpin(world: World) -> None:
    _need_postgres()
    members, conv, message = _setup(world)

    def work(i: int) -> None:
        member = members[i % len(members)]
        msg = Message.objects.select_related("conversation").get(pk=message.pk)
        for r in range(ROUNDS):
            actions.check_set_pin(member, msg, (i + r) % 2 == 0)

    assert _race(work) == []
    log = _assert_gap_free(conv)
    pins = [e.payload["pinned"] for e in log if e.type == "pin.changed"]
    # Only real changes are logged: the states alternate, and the last matches the rows.
    assert all(a != b for a, b in itertools.pairwise(pins))
    assert (pins[-1] if pins else False) == Pin.objects.filter(message=message).exists()


def test_concurrent_sends_edits_and_replies(world: World) -> None:
    _need_postgres()
    members, conv, message = _setup(world)

    def work(i: int) -> None:
        member = members[i % len(members)]
        c = Conversation.objects.get(pk=conv.pk)
        for r in range(ROUNDS):
            actions.check_send_message(member, c, f"{i}-{r}", uuid.uuid4(), thread_root_id=message.pk)
            if member.user_id == message.sender_id:
                actions.check_edit_message(member, Message.objects.get(pk=message.pk), f"edit {i}-{r}")

    assert _race(work) == []
    log = _assert_gap_free(conv)
    message.refresh_from_db()
    assert message.reply_count == THREADS * ROUNDS
    last_thread = [e for e in log if e.type == "thread.updated"][-1]
    assert last_thread.payload["reply_count"] == THREADS * ROUNDS
