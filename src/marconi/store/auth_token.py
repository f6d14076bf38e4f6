"""Auth tokens kept readable, for signing Twilio-style webhooks (X-Twilio-Signature).

An HMAC needs its key, and the key of X-Twilio-Signature is the account's auth token, so the
token is kept here as the webhook signing secrets are. Logins do not read it: they still check
``accounts.auth_token_hash`` in constant time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.store.engine import Dialect
from marconi.store.schema import auth_tokens

if TYPE_CHECKING:  # services import this module; they must not load a backend
    from marconi.store.sql import SqlStore

__all__ = [
    "AuthTokenRepository",
    "MemoryAuthTokenRepository",
    "SqlAuthTokenRepository",
    "auth_token_repository_for",
]


class AuthTokenRepository(Protocol):
    async def put_auth_token(self, account_id: str, token: str, *, now: datetime) -> None:
        """Keep ``token`` as the account's, replacing the one before."""
        ...

    async def get_auth_token(self, account_id: str) -> str | None:
        """The account's token, or None when it was made before tokens were kept."""
        ...


class MemoryAuthTokenRepository:
    """Tokens in a dict, for tests and tools without a database."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    async def put_auth_token(self, account_id: str, token: str, *, now: datetime) -> None:
        self.tokens[account_id] = token

    async def get_auth_token(self, account_id: str) -> str | None:
        return self.tokens.get(account_id)


class SqlAuthTokenRepository:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._postgresql = store.dialect is Dialect.POSTGRESQL

    async def put_auth_token(self, account_id: str, token: str, *, now: datetime) -> None:
        insert = postgresql.insert if self._postgresql else sqlite.insert
        statement = insert(auth_tokens).values(account_id=account_id, token=token, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[auth_tokens.c.account_id],
            set_={"token": statement.excluded.token, "updated_at": statement.excluded.updated_at},
        )

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self._store._write(write)  # the store package's own plumbing

    async def get_auth_token(self, account_id: str) -> str | None:
        query = sa.select(auth_tokens.c.token).where(auth_tokens.c.account_id == account_id)

        async def read(conn: AsyncConnection) -> str | None:
            return cast(str | None, (await conn.execute(query)).scalar())

        return await self._store._read(read)  # the store package's own plumbing


def auth_token_repository_for(store: object) -> AuthTokenRepository | None:
    """Where ``store`` keeps auth tokens: its database for a SQL store; None for others."""
    if isinstance(getattr(store, "dialect", None), Dialect) and hasattr(store, "committer"):
        return SqlAuthTokenRepository(cast("SqlStore", store))
    return None
