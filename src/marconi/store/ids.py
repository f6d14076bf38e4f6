"""Identifiers: a two-letter prefix, then 32 hex digits that sort by creation time.

The first 12 hex digits are the milliseconds since the epoch, the other 20 are random (80 bits), so
ids are unguessable, index well (new rows go to the end) and need no coordination between nodes.
"""

from __future__ import annotations

import secrets
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


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    if len(prefix) != 2 or not prefix.isalpha():
        raise ValueError(f"an id prefix is two letters, got {prefix!r}")
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return f"{prefix}{ms & 0xFFFFFFFFFFFF:012x}{secrets.token_hex(10)}"
