"""Services over a real SQLite store in tmp_path, with clocks the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from marconi.services import Services, build_services
from marconi.store import open_store
from marconi.store.sql import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = T0
    mono: float = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path_factory.mktemp('svc') / 'marconi.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def services(store: SqlStore, clock: FakeClock) -> AsyncIterator[Services]:
    built = build_services(store, clock=clock, monotonic_clock=clock.monotonic)
    try:
        yield built
    finally:
        await built.aclose()
