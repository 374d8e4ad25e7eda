"""ERP-lite under real concurrency (PostgreSQL): simultaneous transitions with the same
expected version apply once; simultaneous "open the room" calls make one room."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from crm_bridge import rooms
from crm_bridge.erplite.models import Note
from crm_bridge.models import ErpSource, RecordLink
from crm_bridge.sources.base import SourceError, Transition
from crm_bridge.sources.builtin import BuiltinSource
from hub.demo import DemoData
from hub.models import Member
from tests.crm_bridge.erplite_fixtures import ref

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 6


def _at_once(work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work(i))
        except BaseException as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (run with HUB_TEST_DATABASE_URL)")


def test_simultaneous_approvals_apply_once(source: BuiltinSource) -> None:
    _needs_postgres()
    po = ref(source, "PO-2001")
    version = source.get(po).version
    results, errors = _at_once(
        lambda i: source.transition(
            po, Transition.APPROVE, expected_version=version, actor="owner@demo.xiaowei.test", comment=f"同意 {i}"
        )
    )
    assert len(results) == 1 and results[0].status == "approved"
    assert len(errors) == THREADS - 1 and all(isinstance(e, SourceError) for e in errors)
    assert {e.code for e in errors} == {"version_conflict"}  # type: ignore[attr-defined]
    assert Note.objects.filter(record_type="purchase_order").count() == 1


def test_simultaneous_room_opening_makes_one_room(source: BuiltinSource, source_row: ErpSource, demo: DemoData) -> None:
    _needs_postgres()
    so = ref(source, "SO-1001")
    people = ["owner", "sales", "finance", "sales", "owner", "warehouse"]
    members = {k: Member.objects.select_related("user", "workspace").get(user=demo.users[k]) for k in set(people)}
    results, errors = _at_once(lambda i: rooms.check_open_room(members[people[i]], source_row, so)[0].pk)
    assert not errors, errors
    assert len(set(results)) == 1
    assert RecordLink.objects.filter(kind="room").count() == 1
