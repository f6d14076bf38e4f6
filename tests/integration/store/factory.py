"""Small builders shared by the store contract tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.integration.store.conftest import T0

from marconi.store.model import Account, Message, NewMessage
from marconi.store.sql import SqlStore


def new_message(account_id: str, **overrides: Any) -> NewMessage:
    values: dict[str, Any] = {
        "account_id": account_id,
        "from_addr": "+15550000001",
        "to_addr": "+15550000002",
        "body": "hello",
        "encoding": "gsm7",
        "segments": 1,
    }
    values.update(overrides)
    return NewMessage(**values)


async def account(store: SqlStore, name: str = "acme", **kw: Any) -> Account:
    return await store.create_account(name=name, now=T0, **kw)


async def queued(
    store: SqlStore, account_id: str, *, at: datetime = T0, **overrides: Any
) -> Message:
    return await store.insert_message(new_message(account_id, **overrides), now=at)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
