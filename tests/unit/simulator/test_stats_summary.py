from __future__ import annotations

from marconi.simulator.stats import Counters, Summary


def test_idle_interval_logs_nothing() -> None:
    counters = Counters()
    summary = Summary(counters, now=0.0)
    assert summary.line(counters, 1.0, sessions=0, pending=0) is None


def test_rates_and_increments_since_the_last_line() -> None:
    counters = Counters()
    summary = Summary(counters, now=0.0)
    counters.binds += 2
    counters.submits += 1000
    counters.receipts_sent += 500
    line = summary.line(counters, 2.0, sessions=2, pending=7)
    assert line == (
        "binds +2 · submit 500/s · receipts 250/s · sessions 2 · receipts pending 7"
        " · total submitted 1000"
    )
    counters.submits += 10
    line = summary.line(counters, 3.0, sessions=2, pending=0)
    assert line == "submit 10/s · sessions 2 · total submitted 1010"


def test_snapshot_has_every_counter() -> None:
    counters = Counters(submits=3, faults=1)
    snap = counters.snapshot()
    assert snap["submits"] == 3
    assert snap["faults"] == 1
    assert set(snap) >= {"binds", "receipts_sent", "mo_sent", "receipts_dropped"}


def test_gauges_going_down_show_their_sign() -> None:
    counters = Counters(receipts_queued=5)
    summary = Summary(counters, now=0.0)
    counters.receipts_queued -= 3
    line = summary.line(counters, 1.0, sessions=1, pending=2)
    assert line is not None
    assert "receipts queued -3" in line
