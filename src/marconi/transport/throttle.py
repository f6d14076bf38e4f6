"""Pacing of outgoing requests: a smooth token bucket and the throttle that backs off on its own.

Both are pure: time comes from an injected clock (or an explicit ``now``) and nothing sleeps. They
answer "how long must this request wait", and the caller sleeps.

The bucket is written as a generic cell rate algorithm (a "theoretical arrival time"), which is a
token bucket of capacity ``burst`` refilled at ``rate`` per second: with the default burst of 1,
100 messages per second are sent 10 ms apart, never in clumps.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Protocol

from marconi.transport.backoff import Backoff

__all__ = ["AdaptiveThrottle", "Clock", "TokenBucket"]


class Clock(Protocol):
    """Seconds from an arbitrary origin that never go backwards (``time.monotonic``)."""

    def __call__(self) -> float: ...


def _check_rate(rate: float) -> float:
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"rate must be a finite number > 0, not {rate!r}")
    return float(rate)


class TokenBucket:
    """``rate`` requests per second, with at most ``burst`` of them back to back after idling."""

    __slots__ = ("_burst", "_clock", "_interval", "_tat")

    def __init__(self, *, rate: float, burst: float = 1.0, clock: Clock = time.monotonic) -> None:
        if not (burst >= 1 and math.isfinite(burst)):
            raise ValueError(f"burst must be a finite number >= 1, not {burst!r}")
        self._interval = 1.0 / _check_rate(rate)
        self._burst = float(burst)
        self._clock = clock
        # The time at which the bucket would be full again if nothing more were taken.
        self._tat = -math.inf

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    @rate.setter
    def rate(self, rate: float) -> None:
        self._interval = 1.0 / _check_rate(rate)

    @property
    def burst(self) -> float:
        return self._burst

    def _tolerance(self) -> float:
        return (self._burst - 1.0) * self._interval

    def delay(self, now: float | None = None) -> float:
        """Seconds until one token is available, without taking it."""
        if now is None:
            now = self._clock()
        return max(0.0, self._tat - self._tolerance() - now)

    def reserve(self, now: float | None = None) -> float:
        """Take one token, possibly from the future; return the seconds to wait before using it.

        Reserving ahead keeps concurrent callers in a fair queue: each sleeps until its own slot.
        """
        if now is None:
            now = self._clock()
        wait = max(0.0, self._tat - self._tolerance() - now)
        self._tat = max(self._tat, now) + self._interval
        return wait

    def try_acquire(self, now: float | None = None) -> bool:
        """Take one token if one is available right now."""
        return self.acquire(now) == 0.0

    def acquire(self, now: float | None = None) -> float:
        """Take one token and return 0 if one is available now; else take none, return the wait."""
        if now is None:
            now = self._clock()
        wait = self._tat - self._tolerance() - now
        if wait > 0:
            return wait
        self._tat = max(self._tat, now) + self._interval
        return 0.0

    def hold_until(self, when: float) -> None:
        """Give no token before ``when``; after it the bucket restarts empty."""
        self._tat = max(self._tat, when + self._tolerance())


class AdaptiveThrottle:
    """A bucket at the configured ``rate`` (or none) that slows down when the peer says so.

    :meth:`throttled` (the peer answered ESME_RTHROTTLED or ESME_RMSGQFUL) pauses all sending for
    a backoff delay that grows with each consecutive refusal and, when a rate is configured,
    multiplies the rate by ``decrease``. The rate then climbs back linearly to the configured one
    over ``recovery`` seconds; :meth:`accepted` resets the count of consecutive refusals.
    """

    __slots__ = (
        "_backoff",
        "_bucket",
        "_clock",
        "_current",
        "_decrease",
        "_floor",
        "_last_change",
        "_paused_until",
        "_recovery",
        "_refusals",
        "_rng",
        "_target",
    )

    def __init__(
        self,
        *,
        rate: float | None,
        burst: float = 1.0,
        backoff: Backoff | None = None,
        decrease: float = 0.5,
        floor: float = 0.05,
        recovery: float = 10.0,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < decrease <= 1:
            raise ValueError(f"decrease must be in (0, 1], not {decrease!r}")
        if not 0 < floor <= 1:
            raise ValueError(f"floor must be in (0, 1], not {floor!r}")
        if not recovery > 0:
            raise ValueError(f"recovery must be > 0, not {recovery!r}")
        self._target = None if rate is None else _check_rate(rate)
        self._current = self._target
        self._bucket = None if rate is None else TokenBucket(rate=rate, burst=burst, clock=clock)
        self._backoff = backoff if backoff is not None else Backoff(initial=0.1, maximum=5.0)
        self._decrease = decrease
        self._floor = floor
        self._recovery = recovery
        self._clock = clock
        self._rng = rng
        self._paused_until = -math.inf
        self._refusals = 0
        self._last_change = -math.inf

    @property
    def rate(self) -> float | None:
        """The rate in force now (below the configured one while recovering)."""
        return self._current

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def _recover(self, now: float) -> None:
        target, current = self._target, self._current
        if target is None or current is None or current >= target:
            return
        elapsed = now - max(self._last_change, self._paused_until)
        if elapsed <= 0:
            return
        current = min(target, current + target * elapsed / self._recovery)
        self._current = current
        self._last_change = now
        assert self._bucket is not None
        self._bucket.rate = current

    def reserve(self, now: float | None = None) -> float:
        """Book the next send; return the seconds to wait before it."""
        if now is None:
            now = self._clock()
        start = max(now, self._paused_until)
        if self._bucket is None:
            return start - now
        self._recover(now)
        return self._bucket.reserve(start) + (start - now)

    def acquire(self, now: float | None = None) -> float:
        """Take the right to send now and return 0, or take nothing and return the wait."""
        if now is None:
            now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if self._bucket is None:
            return 0.0
        if self._current != self._target:
            self._recover(now)
        return self._bucket.acquire(now)

    def throttled(self, now: float | None = None) -> float:
        """The peer refused for load: pause and slow down. Returns the pause in seconds."""
        if now is None:
            now = self._clock()
        self._refusals += 1
        pause = self._backoff.delay(self._refusals, self._rng)
        self._paused_until = max(self._paused_until, now + pause)
        if self._target is not None and self._current is not None and self._bucket is not None:
            self._recover(now)
            self._current = max(self._target * self._floor, self._current * self._decrease)
            self._bucket.rate = self._current
            self._bucket.hold_until(self._paused_until)
            self._last_change = now
        return pause

    def accepted(self) -> None:
        """The peer accepted a request: the next refusal starts the backoff afresh."""
        self._refusals = 0
