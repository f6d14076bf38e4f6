"""Store-backed webhook tests: the store on SQLite and PostgreSQL (as the store's contract tests
build it), a real receiver on loopback, and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from tests.integration.store.conftest import T0, OpenStore, open_stores, pg_schema

from marconi.store.sql import SqlStore
from marconi.webhooks.payload import status_payload
from marconi.webhooks.testing import WebhookReceiver

__all__ = ["Clock", "open_stores", "pg_schema"]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(open_stores: OpenStore) -> SqlStore:
    return await open_stores(status_payload=status_payload)


@pytest.fixture
async def account_id(store: SqlStore, clock: Clock) -> str:
    return (await store.create_account(name="hooks", now=clock())).id


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as r:
        yield r
