"""What stands between the hub and a slow, flaky or strict ERP: a per-source token-bucket
rate limit, retries with exponential back-off and jitter (honouring ``Retry-After``), and a
circuit breaker. ``crm_bridge.sources.registry.build_source`` wraps every adapter in
:class:`ResilientSource`, so callers get the behaviour without knowing about it.

Rules:
* Reads are retried (a bounded number of times, a bounded total wait). Writes — ``transition``
  and ``log_note`` — are sent exactly once: a retry after a lost answer could approve an order
  twice or post a note twice. A write that timed out surfaces as ``OutcomeUnknown`` (raised by
  the HTTP edge) and the caller reconciles by re-reading.
* The breaker opens after ``failure_threshold`` consecutive failures (unavailable or unknown
  outcome; a 404 or a refusal is an answer, not a failure). While open every call fails at
  once with ``SourceUnavailable`` — cards go stale instead of every request waiting on
  timeouts. After ``cooldown`` one trial call is let through (half-open): success closes the
  breaker, failure opens it again.
* Breaker and bucket state is per source and per process (a module-level registry): every
  request that builds the same source shares it.

Timeouts themselves are enforced at the HTTP edge (``crm_bridge.sources.http``); the policy
carries them so that one config block tunes everything.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from crm_bridge.sources.base import (
    ChangeBatch,
    Health,
    OutcomeUnknown,
    PriceQuote,
    RateLimited,
    Record,
    RecordRef,
    RecordType,
    SalesSummary,
    Source,
    SourceUnavailable,
    StockLevel,
    Transition,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """Resilience settings of one source; every field can be set in the source's config
    (``ErpSource.config["resilience"]``, see docs/erp.md)."""

    rate_per_second: float = 10.0  # sustained calls per second to this source; 0 = unlimited
    burst: int = 20  # calls allowed in a burst above the rate
    max_rate_wait: float = 2.0  # wait at most this long for a token, else RateLimited
    max_attempts: int = 4  # attempts per read (1 = no retry)
    base_delay: float = 0.2  # first back-off step, doubled per attempt, full jitter
    max_delay: float = 5.0  # largest single back-off
    max_total_wait: float = 10.0  # a read gives up once its back-offs would exceed this
    failure_threshold: int = 5  # consecutive failures that open the breaker
    cooldown: float = 30.0  # seconds the breaker stays open before a trial call
    timeout: float = 10.0  # seconds to wait for an answer (HTTP read timeout)
    connect_timeout: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Policy:
        """Build from a config mapping, ignoring unknown keys and coercing numbers."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if config and f.name in config and config[f.name] is not None:
                values[f.name] = int(config[f.name]) if f.type in ("int", int) else float(config[f.name])
        return cls(**values)


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; returns how long the caller must wait before using it (0 = now).
        The token is taken even when a wait is needed, so concurrent callers queue fairly."""
        if self.rate <= 0:
            return 0.0
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def give_back(self) -> None:
        with self.lock:
            self.tokens = min(self.capacity, self.tokens + 1.0)


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float]) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_in_flight = False
        self.lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self.opened_at >= self.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self) -> None:
        """Raise SourceUnavailable while open; in half-open let exactly one trial through."""
        with self.lock:
            state = self.state
            if state is BreakerState.CLOSED:
                return
            if state is BreakerState.HALF_OPEN and not self.trial_in_flight:
                self.trial_in_flight = True
                return
            assert self.opened_at is not None
            wait = max(0.0, self.cooldown - (self.clock() - self.opened_at))
            raise SourceUnavailable(
                f"the source failed {self.failures} times in a row; not calling it for another {wait:.0f} s"
            )

    def success(self) -> None:
        with self.lock:
            self.failures = 0
            self.opened_at = None
            self.trial_in_flight = False

    def failure(self) -> None:
        with self.lock:
            self.failures += 1
            if self.trial_in_flight or self.failures >= self.threshold:
                self.opened_at = self.clock()
            self.trial_in_flight = False

    def neutral(self) -> None:
        """The call got an answer that says nothing about health (rate limited): free the
        half-open trial slot without closing or opening."""
        with self.lock:
            self.trial_in_flight = False


class Guard:
    """The shared state of one source: its bucket and its breaker."""

    def __init__(self, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.bucket = TokenBucket(policy.rate_per_second, policy.burst, clock)
        self.breaker = CircuitBreaker(policy.failure_threshold, policy.cooldown, clock)


_guards: dict[tuple[str, Policy], Guard] = {}
_guards_lock = threading.Lock()


def guard_for(source_key: str, policy: Policy) -> Guard:
    """The process-wide guard of a source (a changed policy starts a fresh guard)."""
    with _guards_lock:
        guard = _guards.get((source_key, policy))
        if guard is None:
            for key in [k for k in _guards if k[0] == source_key]:
                del _guards[key]
            guard = _guards[(source_key, policy)] = Guard(policy)
        return guard


def breaker_state(source_key: str) -> BreakerState | None:
    with _guards_lock:
        for (key, _), guard in _guards.items():
            if key == source_key:
                return guard.breaker.state
    return None


def reset_guards() -> None:
    """Forget every breaker and bucket (tests; an operator's "retry now")."""
    with _guards_lock:
        _guards.clear()


class ResilientSource:
    """A ``Source`` that applies a :class:`Guard` around another ``Source``."""

    def __init__(
        self,
        inner: Source,
        guard: Guard,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.label = inner.label
        self.guard = guard
        self.policy = guard.policy
        self._sleep = sleep
        self._jitter = jitter

    # --- the machinery ---------------------------------------------------------------------

    def _admit(self) -> None:
        self.guard.breaker.admit()
        wait = self.guard.bucket.reserve()
        if wait > self.policy.max_rate_wait:
            self.guard.bucket.give_back()
            self.guard.breaker.neutral()
            raise RateLimited(f"too many calls to {self.label}; try again in {wait:.1f} s", retry_after=wait)
        if wait > 0:
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        # "Full jitter": a random point below the exponential step, so that many workers
        # retrying the same outage do not hammer the source in lock-step.
        step = min(self.policy.max_delay, self.policy.base_delay * (2 ** (attempt - 1)))
        return self._jitter() * step

    def _read(self, call: Callable[[], T]) -> T:
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._admit()
            try:
                result = call()
            except RateLimited as exc:
                self.guard.breaker.neutral()
                delay = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
                # Honour Retry-After (plus a little jitter so waiting workers spread out).
                delay += self._jitter() * self.policy.base_delay
                if attempt >= self.policy.max_attempts or waited + delay > self.policy.max_total_wait:
                    raise
            except (SourceUnavailable, OutcomeUnknown):
                self.guard.breaker.failure()
                delay = self._backoff(attempt)
                if (
                    attempt >= self.policy.max_attempts
                    or waited + delay > self.policy.max_total_wait
                    or self.guard.breaker.state is not BreakerState.CLOSED
                ):
                    raise
            except Exception:
                # Not found, permission denied, a bug: the source answered; it is alive.
                self.guard.breaker.success()
                raise
            else:
                self.guard.breaker.success()
                return result
            waited += delay
            self._sleep(delay)

    def _write(self, call: Callable[[], T]) -> T:
        self._admit()
        try:
            result = call()
        except RateLimited:
            self.guard.breaker.neutral()
            raise
        except (SourceUnavailable, OutcomeUnknown):
            self.guard.breaker.failure()
            raise
        except Exception:
            self.guard.breaker.success()
            raise
        self.guard.breaker.success()
        return result

    # --- the Source interface --------------------------------------------------------------

    def resolve(self, text: str) -> RecordRef | None:
        return self._read(lambda: self.inner.resolve(text))

    def get(self, ref: RecordRef) -> Record:
        return self._read(lambda: self.inner.get(ref))

    def search(self, type: RecordType, query: str, limit: int = 10) -> Sequence[Record]:
        return self._read(lambda: self.inner.search(type, query, limit))

    def stock(self, product_query: str, warehouse: str | None = None) -> Sequence[StockLevel]:
        return self._read(lambda: self.inner.stock(product_query, warehouse))

    def price(
        self, product_query: str, customer_query: str | None = None, quantity: Decimal = Decimal(1)
    ) -> PriceQuote:
        return self._read(lambda: self.inner.price(product_query, customer_query, quantity))

    def sales_summary(self, day: date, tz: ZoneInfo) -> SalesSummary:
        return self._read(lambda: self.inner.sales_summary(day, tz))

    def changes_since(self, cursor: str | None, types: Sequence[RecordType], limit: int = 200) -> ChangeBatch:
        return self._read(lambda: self.inner.changes_since(cursor, types, limit))

    def transition(
        self, ref: RecordRef, action: Transition, *, expected_version: str, actor: str, comment: str = ""
    ) -> Record:
        return self._write(
            lambda: self.inner.transition(ref, action, expected_version=expected_version, actor=actor, comment=comment)
        )

    def log_note(self, ref: RecordRef, body: str, *, author: str) -> None:
        self._write(lambda: self.inner.log_note(ref, body, author=author))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[RecordRef]:
        # Local work only (signature check, parsing): no rate limit, no breaker.
        return self.inner.parse_webhook(headers, body)

    def health(self) -> Health:
        # One attempt, no retries, no breaker: an admin's "test connection" wants the real
        # answer at once, even while the breaker is open. A good answer closes the breaker.
        result = self.inner.health()
        if result.ok:
            self.guard.breaker.success()
        return result
