"""Identifiers, cursors and stored times, without a database."""

from __future__ import annotations

import os
import re
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ValidationError
from marconi.store.cursor import decode_cursor, encode_cursor
from marconi.store.ids import MESSAGE, new_id
from marconi.store.schema import from_micros, to_micros

aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def test_ids_have_the_prefix_and_32_hex_digits() -> None:
    value = new_id(MESSAGE)
    assert re.fullmatch(r"SM[0-9a-f]{32}", value)
    assert len({new_id(MESSAGE) for _ in range(1000)}) == 1000
    with pytest.raises(ValueError, match="two letters"):
        new_id("S")


def test_a_forked_child_draws_other_random_bytes() -> None:
    new_id(MESSAGE)  # fill the pool before forking
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Newer Pythons warn about fork() in a threaded process; the child only writes and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        os.write(write, new_id(MESSAGE, now_ms=0).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child != new_id(MESSAGE, now_ms=0)


@given(st.integers(0, 2**47), st.integers(1, 2**20))
def test_ids_sort_by_time(ms: int, step: int) -> None:
    assert new_id("SM", now_ms=ms) < new_id("SM", now_ms=ms + step)


@given(aware, st.from_regex(r"[A-Z]{2}[0-9a-f]{32}", fullmatch=True))
def test_cursor_round_trips(at: datetime, row_id: str) -> None:
    assert decode_cursor(encode_cursor(at, row_id)) == (at, row_id)


@pytest.mark.parametrize("bad", ["", "!!!", "bm90LWEtY3Vyc29y", "MTIzOg", "YWJjOlNNMQ"])
def test_foreign_cursors_are_a_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(bad)
    assert caught.value.code == "invalid_cursor"
    assert caught.value.field == "cursor"


@given(st.binary(max_size=64))
def test_random_cursors_never_crash(raw: bytes) -> None:
    text = raw.decode("latin-1")
    try:
        at, row_id = decode_cursor(text)
    except ValidationError:
        return  # refused cleanly, which is one of the two allowed outcomes
    assert row_id.isalnum()
    assert at.tzinfo is UTC


@given(aware)
def test_micros_round_trip(at: datetime) -> None:
    assert from_micros(to_micros(at)) == at


def test_micros_keep_the_instant_of_other_zones_and_refuse_naive_times() -> None:
    plus_two = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert from_micros(to_micros(plus_two)) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_micros(datetime(2026, 1, 1))
