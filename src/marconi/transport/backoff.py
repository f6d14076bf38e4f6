"""Exponential backoff with jitter and a cap: how long to wait before the next attempt.

Pure: the random source is injected, nothing sleeps. ``attempt`` counts from 1 (the first retry).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``initial * multiplier ** (attempt - 1)`` capped at ``maximum``, less up to ``jitter`` of it.

    ``jitter`` is the fraction of each delay that is randomised: 0 gives exact delays, 1 gives
    "full jitter" (uniform between 0 and the capped delay). Jitter only ever shortens a delay, so
    ``maximum`` is a true upper bound.
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not (self.initial >= 0 and math.isfinite(self.initial)):
            raise ValueError(f"initial must be a finite number >= 0, not {self.initial!r}")
        if not (self.maximum >= self.initial and math.isfinite(self.maximum)):
            raise ValueError(f"maximum must be finite and >= initial, not {self.maximum!r}")
        if not (self.multiplier >= 1 and math.isfinite(self.multiplier)):
            raise ValueError(f"multiplier must be a finite number >= 1, not {self.multiplier!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, not {self.jitter!r}")

    def ceiling(self, attempt: int) -> float:
        """The delay before ``attempt`` without jitter."""
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, not {attempt}")
        if self.initial == 0:
            return 0.0
        if self.multiplier == 1:
            return self.initial
        # In logarithms, so that a large attempt number cannot overflow a float.
        exponent = math.log(self.initial) + (attempt - 1) * math.log(self.multiplier)
        if exponent >= math.log(self.maximum):
            return self.maximum
        try:
            return min(self.maximum, self.initial * self.multiplier ** (attempt - 1))
        except OverflowError:
            return min(self.maximum, math.exp(exponent))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before ``attempt``; ``rng`` returns a float in [0, 1)."""
        ceiling = self.ceiling(attempt)
        return ceiling * (1.0 - self.jitter * rng())
