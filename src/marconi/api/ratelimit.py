"""Per-credential request rate limits: a token bucket per key, in memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

from marconi.services.clock import Monotonic, monotonic

__all__ = ["RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``rate`` requests a second on average, bursts of up to ``burst``, per credential."""

    def __init__(self, *, rate: float, burst: int, monotonic_clock: Monotonic = monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic_clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, credential_id: str) -> float | None:
        """Take one token: None when allowed, else the seconds until the next one."""
        now = self._monotonic()
        bucket = self._buckets.get(credential_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._prune(now)
            bucket = self._buckets[credential_id] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(seconds: float) -> str:
        """The ``Retry-After`` header value: whole seconds, at least one."""
        return str(max(1, math.ceil(seconds)))

    def _prune(self, now: float) -> None:
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
