"""Approvals under real concurrency (PostgreSQL): two approvers and their double clicks, all
at once — the ERP is called once, one click is recorded as done, the rest are told so."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from crm_bridge import approvals
from crm_bridge.approval_models import Approval, ApprovalAction, ApprovalCard
from crm_bridge.cache import read_through
from crm_bridge.sources.registry import build_source
from hub.models import Member
from tests.conftest import World
from tests.crm_bridge.chat_fixtures import Erp

pytestmark = pytest.mark.django_db(transaction=True)

CLICKS_PER_PERSON = 3


def test_simultaneous_clicks_call_the_erp_once(world: World, erp: Erp) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (run with HUB_TEST_DATABASE_URL)")
    read_through(erp.source, build_source(erp.source), erp.po.ref)  # autocommit: the round opens
    approval = Approval.objects.get()
    people = [world.owner.user, world.admin.user]
    cards = {c.recipient_id: c for c in ApprovalCard.objects.select_related("approval__snapshot__source")}
    members = {m.user_id: m for m in Member.objects.select_related("user").filter(user__in=people)}
    erp.fake.transition_delay = 0.3
    work = [(members[u.pk], cards[u.pk]) for u in people for _ in range(CLICKS_PER_PERSON)]
    barrier = threading.Barrier(len(work))
    results: list[str] = []
    errors: list[BaseException] = []

    def click(member: Member, card: ApprovalCard) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(approvals.check_decide(member, card, "approve", "").status)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=pair) for pair in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == ["already_done"] * (len(work) - 1) + ["done"]
    assert len([c for c in erp.fake.calls if c.startswith("transition")]) == 1
    assert list(ApprovalAction.objects.values_list("outcome", flat=True)) == ["done"]
    approval.refresh_from_db()
    assert approval.state == "approved"
    assert len(erp.fake.notes) == 1
