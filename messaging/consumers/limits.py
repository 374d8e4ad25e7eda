"""Per-socket flood control: a token bucket on incoming frames, and the rule for when a flood
has gone on long enough to close the socket."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings


def _setting(name: str, default: float) -> float:
    # Read at socket creation, never at import (tests and deployments override them).
    return float(getattr(settings, name, default))


@dataclass
class FrameLimiter:
    """``rate`` frames per second sustained, bursts of ``burst``. A frame over the limit is
    dropped with a ``rate_limited`` error; more than ``max_drops`` drops within
    ``drop_window`` seconds means the client ignores the errors, and the socket closes (4429).
    """

    rate: float = field(default_factory=lambda: _setting("HUB_WS_FRAME_RATE", 20.0))
    burst: float = field(default_factory=lambda: _setting("HUB_WS_FRAME_BURST", 60.0))
    max_drops: int = field(default_factory=lambda: int(_setting("HUB_WS_MAX_DROPS", 50)))
    drop_window: float = 10.0
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)
    drops: int = 0
    window_start: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        if now - self.window_start > self.drop_window:
            self.window_start = now
            self.drops = 0
        self.drops += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.drops > self.max_drops
