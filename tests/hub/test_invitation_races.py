"""Two people racing for the last use of an invitation: exactly one gets in (the row lock in
do_accept_invitation), and nobody gets a 500. Real concurrency needs PostgreSQL, so this runs
in the PostgreSQL pass of `make test`."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from hub import actions
from hub.errors import HubError
from hub.models import Invitation, Member, User

pytestmark = pytest.mark.django_db(transaction=True)


def _race(token: str, users: list[User]) -> list[str]:
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(user: User) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            member = actions.do_accept_invitation(user, token)
            result = f"joined:{member.role}"
        except HubError as exc:
            result = exc.code
        except Exception as exc:  # anything else would be a 500
            result = f"crash:{type(exc).__name__}:{exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _setup(max_uses: int) -> tuple[str, Any]:
    owner = actions.do_create_user("owner@race.test", "pw-Secret-123")
    workspace = actions.do_create_workspace(owner, "Race Tea")
    issued = actions.do_create_invitation(Member.objects.get(user=owner), role="member", max_uses=max_uses)
    return issued.token, workspace


def test_last_use_goes_to_exactly_one_person() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (the PostgreSQL pass of make test runs this)")
    token, workspace = _setup(max_uses=1)
    racers = [actions.do_create_user(f"racer{i}@race.test", "pw-Secret-123") for i in range(6)]
    outcomes = _race(token, racers)
    assert sorted(outcomes) == ["invitation_used"] * 5 + ["joined:member"], outcomes
    assert Member.objects.filter(workspace=workspace).count() == 2
    assert Invitation.objects.get().use_count == 1


def test_same_person_accepting_twice_at_once_joins_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (the PostgreSQL pass of make test runs this)")
    token, workspace = _setup(max_uses=5)
    person = actions.do_create_user("twice@race.test", "pw-Secret-123")
    outcomes = _race(token, [person, User.objects.get(pk=person.pk)])
    assert outcomes == ["joined:member", "joined:member"], outcomes
    assert Member.objects.filter(workspace=workspace, user=person).count() == 1
    assert Invitation.objects.get().use_count == 1
