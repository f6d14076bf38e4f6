"""Counters of a running simulator, and the one-line-per-interval summary the logs show.

The counters are plain integer attributes bumped on the hot paths; :class:`Summary` compares two
snapshots and renders rates, so the standalone process logs one line per interval instead of one
per message, and nothing at all while idle.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Counters", "Summary"]


@dataclass(slots=True)
class Counters:
    binds: int = 0
    bind_failures: int = 0
    unbinds: int = 0
    submits: int = 0
    submit_errors: int = 0
    receipts_sent: int = 0
    receipts_queued: int = 0
    receipts_dropped: int = 0
    receipts_refused: int = 0
    mo_sent: int = 0
    queries: int = 0
    cancels: int = 0
    faults: int = 0

    def snapshot(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_RATES = ("submits", "receipts_sent")
_LABELS = {
    "binds": "binds",
    "bind_failures": "bind failures",
    "unbinds": "unbinds",
    "submits": "submit",
    "submit_errors": "refused",
    "receipts_sent": "receipts",
    "receipts_queued": "receipts queued",
    "receipts_dropped": "receipts dropped",
    "receipts_refused": "receipts refused by the ESME",
    "mo_sent": "MO",
    "queries": "query_sm",
    "cancels": "cancel_sm",
    "faults": "faults applied",
}


class Summary:
    """Turns successive counter snapshots into log lines such as
    ``submit 51234/s · receipts 50990/s · refused 12 · sessions 2 (total: 1000000 submitted)``."""

    __slots__ = ("_last", "_last_at")

    def __init__(self, counters: Counters, now: float) -> None:
        self._last = counters.snapshot()
        self._last_at = now

    def line(self, counters: Counters, now: float, *, sessions: int, pending: int) -> str | None:
        """The summary since the previous call, or ``None`` when nothing happened."""
        current = counters.snapshot()
        elapsed = max(now - self._last_at, 1e-9)
        delta = {k: current[k] - self._last[k] for k in current}
        self._last = current
        self._last_at = now
        if not any(delta.values()):
            return None
        parts: list[str] = []
        for key, value in delta.items():
            if not value:
                continue
            if key in _RATES:
                parts.append(f"{_LABELS[key]} {value / elapsed:.0f}/s")
            else:
                parts.append(f"{_LABELS[key]} {value:+d}")
        parts.append(f"sessions {sessions}")
        if pending:
            parts.append(f"receipts pending {pending}")
        parts.append(f"total submitted {current['submits']}")
        return " · ".join(parts)
