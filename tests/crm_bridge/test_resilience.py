"""The resilience wrapper: retries with back-off and jitter for reads only, Retry-After
honoured, a token bucket per source, a circuit breaker (open → fail fast → half-open trial),
and writes that are never retried: a lost answer is OutcomeUnknown. Time is a fake clock, so
nothing here waits or depends on the machine's speed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from crm_bridge.resilience import BreakerState, Guard, Policy, ResilientSource
from crm_bridge.sources.base import (
    OutcomeUnknown,
    RateLimited,
    RecordNotFound,
    RecordRef,
    RecordType,
    SourceUnavailable,
    Status,
    Transition,
)
from crm_bridge.sources.http import parse_retry_after
from crm_bridge.sources.odoo import OdooConfig, odoo_from_config
from tests.crm_bridge.fakes import odoo as fake_odoo
from tests.crm_bridge.fakes.odoo import FakeOdoo

REF = RecordRef(RecordType.SALES_ORDER, "1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Scripted:
    """An inner source whose calls play a script of results and exceptions."""

    kind = "test"
    label = "Scripted"

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    def _next(self, name: str) -> Any:
        self.calls.append(name)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            raise step
        return step

    def get(self, ref: RecordRef) -> Any:
        return self._next("get")

    def transition(self, ref: RecordRef, action: Transition, **kwargs: Any) -> Any:
        return self._next("transition")

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        self._next("log_note")

    def parse_webhook(self, headers: Any, body: bytes) -> Any:
        return self._next("parse_webhook")


def wrap(inner: Any, clock: Clock, **policy: Any) -> ResilientSource:
    guard = Guard(Policy(**{"rate_per_second": 0, **policy}), clock=clock)
    return ResilientSource(inner, guard, sleep=clock.sleep, jitter=lambda: 0.5)


def test_reads_are_retried_with_growing_jittered_back_off() -> None:
    clock = Clock()
    inner = Scripted(SourceUnavailable("down"), SourceUnavailable("down"), "record")
    source = wrap(inner, clock, base_delay=0.2, max_attempts=4)
    assert source.get(REF) == "record"
    assert inner.calls == ["get", "get", "get"]
    assert clock.slept == [0.1, 0.2]  # jitter 0.5 × 0.2, 0.5 × 0.4


def test_reads_give_up_after_max_attempts() -> None:
    clock = Clock()
    inner = Scripted(*[SourceUnavailable("down")] * 5)
    with pytest.raises(SourceUnavailable):
        wrap(inner, clock, max_attempts=3, failure_threshold=10).get(REF)
    assert len(inner.calls) == 3


def test_retry_after_is_honoured() -> None:
    clock = Clock()
    inner = Scripted(RateLimited("slow down", retry_after=3.0), "record")
    assert wrap(inner, clock, base_delay=0.2).get(REF) == "record"
    assert clock.slept == [pytest.approx(3.1)]  # Retry-After plus a little jitter


def test_a_retry_after_beyond_the_budget_is_passed_up() -> None:
    clock = Clock()
    inner = Scripted(RateLimited("slow down", retry_after=120.0), "record")
    with pytest.raises(RateLimited) as caught:
        wrap(inner, clock, max_total_wait=10).get(REF)
    assert caught.value.retry_after == 120.0 and clock.slept == [] and len(inner.calls) == 1


def test_not_found_is_an_answer_not_a_failure() -> None:
    clock = Clock()
    inner = Scripted(RecordNotFound("no"), RecordNotFound("no"), RecordNotFound("no"))
    source = wrap(inner, clock, failure_threshold=2)
    for _ in range(3):
        with pytest.raises(RecordNotFound):
            source.get(REF)
    assert len(inner.calls) == 3 and source.guard.breaker.state == BreakerState.CLOSED


@pytest.mark.parametrize("error", [OutcomeUnknown("timed out"), SourceUnavailable("502"), RateLimited("429", 1.0)])
@pytest.mark.parametrize("write", ["transition", "log_note"])
def test_writes_are_never_retried(error: Exception, write: str) -> None:
    clock = Clock()
    inner = Scripted(error, "would succeed the second time")
    source = wrap(inner, clock, max_attempts=5)
    call: Callable[[], Any] = (
        (lambda: source.transition(REF, Transition.APPROVE, expected_version="1", actor="a"))
        if write == "transition"
        else (lambda: source.log_note(REF, "note", author="a"))
    )
    with pytest.raises(type(error)):
        call()
    assert inner.calls == [write] and clock.slept == []


def test_breaker_opens_fails_fast_then_half_opens() -> None:
    clock = Clock()
    inner = Scripted(*[SourceUnavailable("down")] * 3)
    source = wrap(inner, clock, max_attempts=1, failure_threshold=3, cooldown=30)
    for _ in range(3):
        with pytest.raises(SourceUnavailable):
            source.get(REF)
    assert source.guard.breaker.state == BreakerState.OPEN
    with pytest.raises(SourceUnavailable, match="not calling it"):
        source.get(REF)
    assert len(inner.calls) == 3  # the open breaker did not call the source
    clock.now += 31
    assert source.guard.breaker.state == BreakerState.HALF_OPEN
    assert source.get(REF) == "ok"  # the trial call goes through and closes the breaker
    assert source.guard.breaker.state == BreakerState.CLOSED


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = Clock()
    inner = Scripted(SourceUnavailable("down"), SourceUnavailable("still down"))
    source = wrap(inner, clock, max_attempts=1, failure_threshold=1, cooldown=30)
    with pytest.raises(SourceUnavailable):
        source.get(REF)
    clock.now += 31
    with pytest.raises(SourceUnavailable, match="still down"):
        source.get(REF)
    assert source.guard.breaker.state == BreakerState.OPEN
    with pytest.raises(SourceUnavailable, match="not calling it"):
        source.get(REF)


def test_only_one_trial_at_a_time_while_half_open() -> None:
    clock = Clock()
    guard = Guard(Policy(failure_threshold=1, cooldown=5), clock=clock)
    guard.breaker.failure()
    clock.now += 6
    guard.breaker.admit()  # the trial
    with pytest.raises(SourceUnavailable):
        guard.breaker.admit()  # a second caller meanwhile fails fast


def test_token_bucket_waits_for_a_token() -> None:
    clock = Clock()
    source = wrap(Scripted(), clock, rate_per_second=1, burst=2, max_rate_wait=1.5)
    source.get(REF)
    source.get(REF)
    assert clock.slept == []  # the burst
    source.get(REF)  # the bucket is empty: wait one token's time
    assert clock.slept == [pytest.approx(1.0)]


def test_token_bucket_refuses_rather_than_queue_too_long() -> None:
    clock = Clock()
    inner = Scripted()
    source = wrap(inner, clock, rate_per_second=1, burst=2, max_rate_wait=0.5)
    source.get(REF)
    source.get(REF)
    with pytest.raises(RateLimited) as caught:
        source.get(REF)
    assert caught.value.retry_after == pytest.approx(1.0) and clock.slept == [] and len(inner.calls) == 2
    clock.now += 1.0  # a token has come back (the refused call returned its reservation)
    source.get(REF)
    assert len(inner.calls) == 3


def test_webhook_parsing_is_not_rationed() -> None:
    clock = Clock()
    source = wrap(Scripted(*["refs"] * 5), clock, rate_per_second=1, burst=1, max_rate_wait=0)
    assert [source.parse_webhook({}, b"") for _ in range(5)] == ["refs"] * 5


def test_policy_from_config() -> None:
    policy = Policy.from_config({"rate_per_second": "2.5", "max_attempts": "2", "surprise": 1})
    assert policy.rate_per_second == 2.5 and policy.max_attempts == 2 and policy.burst == Policy().burst


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now=1795694400.0) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# --- against the fake Odoo over HTTP ---------------------------------------------------------


def odoo(fake: FakeOdoo, clock: Clock, **policy: Any) -> ResilientSource:
    config = OdooConfig.model_validate(
        {"url": fake.url, "database": fake.database, "username": fake_odoo.LOGIN, "resilience": policy}
    )
    inner = odoo_from_config(config, {"password": fake_odoo.PASSWORD})
    guard = Guard(Policy.from_config({"rate_per_second": 0, **policy}), clock=clock)
    return ResilientSource(inner, guard, sleep=clock.sleep, jitter=lambda: 0.5)


def test_http_429_with_retry_after_then_success(odoo_fake: FakeOdoo) -> None:
    clock = Clock()
    source = odoo(odoo_fake, clock)
    ref = source.resolve("SO-1001")
    assert ref is not None
    odoo_fake.fail_next(1, status=429, retry_after="2")
    assert source.get(ref).number == "SO-1001"
    assert clock.slept[0] == pytest.approx(2.1)


def test_http_500s_are_retried_then_the_breaker_opens(odoo_fake: FakeOdoo) -> None:
    clock = Clock()
    source = odoo(odoo_fake, clock, max_attempts=2, failure_threshold=4)
    ref = source.resolve("SO-1001")
    assert ref is not None
    odoo_fake.fail_next(1, status=500)
    assert source.get(ref).number == "SO-1001"  # one 500, then fine
    odoo_fake.fail_next(10, status=500)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            source.get(ref)
    assert source.guard.breaker.state == BreakerState.OPEN
    served = len(odoo_fake.requests) + len(odoo_fake.faults)
    with pytest.raises(SourceUnavailable, match="not calling it"):
        source.get(ref)
    assert len(odoo_fake.requests) + len(odoo_fake.faults) == served  # nothing was sent


def test_outage_and_recovery(odoo_fake: FakeOdoo) -> None:
    clock = Clock()
    source = odoo(odoo_fake, clock, max_attempts=1, failure_threshold=2, cooldown=30)
    ref = source.resolve("SO-1001")
    assert ref is not None
    odoo_fake.stop()
    for _ in range(2):
        with pytest.raises(SourceUnavailable, match="cannot reach"):
            source.get(ref)
    assert not source.health().ok
    odoo_fake.start()  # back on the same port
    with pytest.raises(SourceUnavailable, match="not calling it"):
        source.get(ref)
    clock.now += 31
    assert source.get(ref).number == "SO-1001"


def test_a_write_whose_answer_is_lost_is_outcome_unknown_and_sent_once(odoo_fake: FakeOdoo) -> None:
    clock = Clock()
    source = odoo(odoo_fake, clock, timeout=0.3, max_attempts=5)
    ref = source.resolve("PO-2001")
    assert ref is not None
    version = source.get(ref).version
    odoo_fake.faults.clear()
    # The read of the current version goes through; then the business call is executed by
    # Odoo but its answer takes longer than the client waits.
    odoo_fake.latency = 0
    calls_before = odoo_fake.calls.count(("purchase.order", "button_approve"))
    original = odoo_fake.handle

    def slow_after_approve(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        reply = original(method, path, headers, body)
        if b"button_approve" in body:
            import time

            time.sleep(0.6)
        return reply

    odoo_fake.handle = slow_after_approve  # type: ignore[method-assign]
    with pytest.raises(OutcomeUnknown):
        source.transition(ref, Transition.APPROVE, expected_version=version, actor="boss@tea.test")
    odoo_fake.handle = original  # type: ignore[method-assign]
    assert odoo_fake.calls.count(("purchase.order", "button_approve")) == calls_before + 1  # never re-sent
    assert source.get(ref).status == Status.APPROVED  # reconcile by re-reading: it did happen


def test_rate_limit_from_the_source_on_a_read_stays_typed(odoo_fake: FakeOdoo) -> None:
    clock = Clock()
    source = odoo(odoo_fake, clock, max_attempts=2)
    odoo_fake.fail_next(5, status=429, retry_after="1")
    with pytest.raises(RateLimited):
        source.stock("LJ-250")
    assert Decimal(1) <= Decimal(str(clock.slept[0]))


@pytest.mark.parametrize("lose", ["hang", "drop"])
def test_erpnext_write_with_a_lost_answer_is_outcome_unknown(erpnext_fake: Any, lose: str) -> None:
    from crm_bridge.sources.rest import RestSource, load_config
    from tests.crm_bridge.fakes import erpnext as fake_erpnext
    from tests.crm_bridge.fakes.base import Fault

    config = load_config(
        {"preset": "erpnext", "base_url": erpnext_fake.url, "resilience": {"timeout": 0.3, "max_attempts": 5}}
    )
    inner = RestSource(config, {"api_key": fake_erpnext.API_KEY, "api_secret": fake_erpnext.API_SECRET})
    clock = Clock()
    source = ResilientSource(inner, Guard(Policy(rate_per_second=0), clock=clock), sleep=clock.sleep)
    ref = RecordRef(RecordType.PURCHASE_ORDER, "PO-2001")
    version = source.get(ref).version
    # The re-read passes; the submit is executed, then its answer is lost.
    erpnext_fake.faults.extend(
        [Fault(), Fault(hang=0.8, after=True) if lose == "hang" else Fault(drop=True, after=True)]
    )
    with pytest.raises(OutcomeUnknown):
        source.transition(ref, Transition.APPROVE, expected_version=version, actor="boss@tea.test")
    submits = [r for r in erpnext_fake.requests if r[1].endswith("frappe.client.submit")]
    assert len(submits) == 1  # sent once, never again
    assert source.get(ref).status == Status.APPROVED  # re-reading tells what happened
