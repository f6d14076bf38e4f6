"""Where services get the time: a clock passed in, so tests can stop and move it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

__all__ = ["Clock", "Monotonic", "monotonic", "utc_now"]

Clock: TypeAlias = Callable[[], datetime]
"""Returns the current time, timezone-aware."""

Monotonic: TypeAlias = Callable[[], float]
"""Seconds from an arbitrary start that never go back; for caches and rate limits."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def monotonic() -> float:
    return time.monotonic()
