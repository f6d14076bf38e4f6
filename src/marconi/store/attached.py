"""Repositories that live in modules of their own but share a SQL store's database: its read
engine, its group commit, its error translation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.store.engine import Dialect
from marconi.store.sql import SqlStore

__all__ = ["Attached", "is_sql_store"]

T = TypeVar("T")


def is_sql_store(store: object) -> TypeGuard[SqlStore]:
    """A SqlStore, or a wrapper that passes its attributes through (as tests use)."""
    return isinstance(getattr(store, "dialect", None), Dialect) and hasattr(store, "committer")


class Attached:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._pg = store.dialect is Dialect.POSTGRESQL
        self._insert: Any = postgresql.insert if self._pg else sqlite.insert

    async def _read(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await self._store._read(fn)

    async def _write(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """In a transaction it may share with other writes; NotFound and Conflict raised by
        ``fn`` before it writes fail only this call."""
        return await self._store._write(fn)
