"""What one attempt at one channel came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str = ""  # the failure reason, for the person (never a URL or secret)
    retry: bool = False  # worth trying again later (network, 5xx, 429, "too fast")
    gone: bool = False  # the push service forgot this subscription (404/410): delete it

    @classmethod
    def success(cls) -> Outcome:
        return cls(True)

    @classmethod
    def transient(cls, detail: str) -> Outcome:
        return cls(False, detail[:300], retry=True)

    @classmethod
    def permanent(cls, detail: str) -> Outcome:
        return cls(False, detail[:300])
