"""Identifiers: a two-letter prefix, then 32 hex digits that sort by creation time.

The first 12 hex digits are the milliseconds since the epoch, the other 20 are random (80 bits), so
ids are unguessable, index well (new rows go to the end) and need no coordination between nodes.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from typing import Final

__all__ = [
    "ACCOUNT",
    "API_KEY",
    "MESSAGE",
    "NUMBER",
    "WEBHOOK_DELIVERY",
    "new_id",
]

MESSAGE: Final = "SM"
ACCOUNT: Final = "AC"
API_KEY: Final = "SK"
NUMBER: Final = "PN"
WEBHOOK_DELIVERY: Final = "WH"


_RANDOM_BYTES: Final = 10
_POOL_SIZE: Final = 4096


class _RandomPool:
    """Random bytes from the OS, fetched a few kilobytes at a time: one system call per few
    hundred ids instead of one per id, which shows at thousands of messages a second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._offset + n > len(self._pool):
                self._pool = secrets.token_bytes(_POOL_SIZE)
                self._offset = 0
            start = self._offset
            self._offset += n
            return self._pool[start : start + n]

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = 0


_random = _RandomPool()
# A forked child must not hand out the bytes its parent will hand out too.
os.register_at_fork(after_in_child=_random.reset)


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    if len(prefix) != 2 or not prefix.isalpha():
        raise ValueError(f"an id prefix is two letters, got {prefix!r}")
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return f"{prefix}{ms & 0xFFFFFFFFFFFF:012x}{_random.take(_RANDOM_BYTES).hex()}"
