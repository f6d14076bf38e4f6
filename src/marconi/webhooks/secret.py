"""Each account's webhook signing secret: made on first need, rotated with a grace period.

During a rotation the old secret stays valid until ``previous_until``: every webhook is signed
with both, so a receiver can switch to the new secret whenever it likes within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import MarconiError
from marconi.store.engine import Dialect
from marconi.store.schema import webhook_secrets
from marconi.store.sql import SqlStore
from marconi.webhooks.signature import generate_secret, secret_key

__all__ = [
    "DEFAULT_GRACE",
    "MemorySecretRepository",
    "SecretRepository",
    "SigningKeys",
    "SigningSecret",
    "SqlSecretRepository",
    "secret_repository_for",
]

DEFAULT_GRACE: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningSecret:
    account_id: str
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_until: datetime | None
    created_at: datetime
    rotated_at: datetime | None

    def valid(self, now: datetime) -> tuple[str, ...]:
        """The secrets a webhook signed at ``now`` carries signatures for, newest first."""
        if (
            self.previous_secret is not None
            and self.previous_until is not None
            and now < self.previous_until
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


class SecretRepository(Protocol):
    async def get_or_create_secret(self, account_id: str, *, now: datetime) -> SigningSecret:
        """The account's secret, made now if it has none (concurrent callers get the same)."""
        ...

    async def rotate_secret(
        self, account_id: str, *, now: datetime, grace: timedelta
    ) -> SigningSecret:
        """A new secret; the current one stays valid for ``grace``."""
        ...


def _fresh(account_id: str, now: datetime) -> SigningSecret:
    return SigningSecret(
        account_id=account_id,
        secret=generate_secret(),
        previous_secret=None,
        previous_until=None,
        created_at=now,
        rotated_at=None,
    )


def _rotated(current: SigningSecret, now: datetime, grace: timedelta) -> SigningSecret:
    return replace(
        current,
        secret=generate_secret(),
        previous_secret=current.secret,
        previous_until=now + grace,
        rotated_at=now,
    )


class MemorySecretRepository:
    """Secrets in a dict, for tests and tools that run without a database."""

    def __init__(self) -> None:
        self.secrets: dict[str, SigningSecret] = {}

    async def get_or_create_secret(self, account_id: str, *, now: datetime) -> SigningSecret:
        if account_id not in self.secrets:
            self.secrets[account_id] = _fresh(account_id, now)
        return self.secrets[account_id]

    async def rotate_secret(
        self, account_id: str, *, now: datetime, grace: timedelta
    ) -> SigningSecret:
        current = await self.get_or_create_secret(account_id, now=now)
        self.secrets[account_id] = rotated = _rotated(current, now, grace)
        return rotated


def _secret(row: sa.RowMapping) -> SigningSecret:
    return SigningSecret(**{c.name: row[c.name] for c in webhook_secrets.columns})


class SqlSecretRepository:
    """Secrets in the ``webhook_secrets`` table, written through the store's group commit."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._insert = postgresql.insert if store.dialect is Dialect.POSTGRESQL else sqlite.insert

    async def get_or_create_secret(self, account_id: str, *, now: datetime) -> SigningSecret:
        result: SigningSecret = await self._store.committer.submit(
            self._op_get_or_create, (account_id, now)
        )
        return result

    async def _select(self, conn: AsyncConnection, account_id: str) -> SigningSecret | None:
        row = (
            await conn.execute(
                webhook_secrets.select().where(webhook_secrets.c.account_id == account_id)
            )
        ).first()
        return None if row is None else _secret(row._mapping)

    async def _op_get_or_create(
        self, conn: AsyncConnection, items: Sequence[tuple[str, datetime]]
    ) -> list[SigningSecret | MarconiError]:
        results: list[SigningSecret | MarconiError] = []
        for account_id, now in items:
            found = await self._select(conn, account_id)
            if found is None:
                fresh = _fresh(account_id, now)
                values = {c.name: getattr(fresh, c.name) for c in webhook_secrets.columns}
                # another node may insert first: its secret wins and is read back
                await conn.execute(
                    self._insert(webhook_secrets).values(values).on_conflict_do_nothing()
                )
                found = await self._select(conn, account_id)
                assert found is not None
            results.append(found)
        return results

    async def rotate_secret(
        self, account_id: str, *, now: datetime, grace: timedelta
    ) -> SigningSecret:
        result: SigningSecret = await self._store.committer.submit(
            self._op_rotate, (account_id, now, grace)
        )
        return result

    async def _op_rotate(
        self, conn: AsyncConnection, items: Sequence[tuple[str, datetime, timedelta]]
    ) -> list[SigningSecret | MarconiError]:
        results: list[SigningSecret | MarconiError] = []
        for account_id, now, grace in items:
            (current,) = await self._op_get_or_create(conn, [(account_id, now)])
            assert isinstance(current, SigningSecret)
            rotated = _rotated(current, now, grace)
            await conn.execute(
                webhook_secrets.update()
                .where(webhook_secrets.c.account_id == account_id)
                .values(
                    secret=rotated.secret,
                    previous_secret=rotated.previous_secret,
                    previous_until=rotated.previous_until,
                    rotated_at=now,
                )
            )
            results.append(rotated)
        return results


@dataclass(slots=True)
class _Entry:
    secret: SigningSecret
    until: float


class SigningKeys:
    """The HMAC keys to sign an account's webhooks with, cached for ``ttl`` seconds so a
    rotation made on any node is in use everywhere within that time."""

    def __init__(
        self,
        *,
        repository: SecretRepository,
        ttl: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, _Entry] = {}
        self._keys: dict[str, bytes] = {}

    async def keys(self, account_id: str, *, now: datetime) -> tuple[bytes, ...]:
        entry = self._cache.get(account_id)
        clock = self._monotonic()
        if entry is None or entry.until <= clock:
            secret = await self._repository.get_or_create_secret(account_id, now=now)
            entry = self._cache[account_id] = _Entry(secret, clock + self._ttl)
        return tuple(self._key(s) for s in entry.secret.valid(now))

    def _key(self, secret: str) -> bytes:
        key = self._keys.get(secret)
        if key is None:
            if len(self._keys) > 10_000:
                self._keys.clear()
            key = self._keys[secret] = secret_key(secret)
        return key

    def forget(self, account_id: str) -> None:
        """Drop the cached secret (after a rotation on this node)."""
        self._cache.pop(account_id, None)


def secret_repository_for(store: object) -> SecretRepository:
    """Where the secrets of ``store``'s accounts live: its database, for a SQL store (or a
    wrapper that passes its attributes through)."""
    if isinstance(getattr(store, "dialect", None), Dialect) and hasattr(store, "committer"):
        return SqlSecretRepository(cast(SqlStore, store))
    raise TypeError(f"no webhook secret repository for {type(store).__name__}")
