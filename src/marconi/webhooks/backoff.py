"""When to try a failed webhook delivery again, and when to give up.

The default schedule waits 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h and 8 h
between tries (each ±20 % at random, so receivers that come back are not hit by every sender at
once): 12 tries over about 31 hours, never less than 24 hours even with the shortest draws. After
the last try the delivery is dead (see :meth:`RetrySchedule.delay`).
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = ["DEFAULT_SCHEDULE", "RetrySchedule", "parse_retry_after"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySchedule:
    """``delays[i]`` seconds after try ``i + 1`` fails comes try ``i + 2``; ``jitter`` is the
    fraction each delay may move either way."""

    delays: tuple[float, ...]
    jitter: float = 0.2
    max_retry_after: float = 24 * 3600.0  # a Retry-After longer than this is capped

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays):
            raise ValueError("a retry schedule needs at least one delay, none negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    @property
    def tries(self) -> int:
        """How many tries a delivery gets before it is dead."""
        return len(self.delays) + 1

    def minimum_span(self) -> float:
        """Seconds from the first try to the last with every delay drawn at its shortest."""
        return sum(self.delays) * (1 - self.jitter)

    def delay(
        self,
        attempt: int,
        *,
        retry_after: float | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> float | None:
        """Seconds until the next try after try number ``attempt`` (1-based) failed, or None
        when that was the last try. A receiver's ``Retry-After`` replaces the drawn delay.

        A replayed delivery starts a fresh schedule once its previous one is used up: try
        ``tries + 1`` counts as the first of a new round.
        """
        if attempt < 1:
            raise ValueError("tries are numbered from 1")
        position = (attempt - 1) % self.tries  # 0 for the first try of a round
        if position == self.tries - 1:
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = self.delays[position]
        return base * uniform(1 - self.jitter, 1 + self.jitter)


DEFAULT_SCHEDULE: Final = RetrySchedule(
    delays=(5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800)
)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
