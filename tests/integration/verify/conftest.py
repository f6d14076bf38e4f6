"""Verify over a real store, SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.store.conftest import open_stores, pg_schema, store

from marconi.services import Services, build_services
from marconi.store.model import Account
from marconi.store.sql import SqlStore
from marconi.store.verify import SqlVerifyStore
from marconi.verify import VerificationService

__all__ = ["open_stores", "pg_schema", "store"]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SENDER = "+15550000001"


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    store: SqlStore
    services: Services
    verify: VerificationService
    account: Account
    clock: FakeClock


async def make_account(
    world_store: SqlStore, services: Services, name: str, sender: str
) -> Account:
    account = await world_store.create_account(name=name, now=T0)
    await services.numbers.add_number(account.id, sender)
    return account


@pytest.fixture
async def world(store: SqlStore) -> AsyncIterator[World]:
    clock = FakeClock()
    services = build_services(store, clock=clock)
    verify = VerificationService(
        store=SqlVerifyStore(store), messages=services.messages, clock=clock
    )
    account = await make_account(store, services, "acme", SENDER)
    try:
        yield World(store, services, verify, account, clock)
    finally:
        await services.aclose()
