"""Durable storage: repositories behind Protocols, over SQLite or PostgreSQL.

Services depend on :mod:`marconi.store.protocols` only. :func:`open_store` builds the backend a
database URL names.
"""

from __future__ import annotations

from marconi.config import SqliteSynchronous
from marconi.errors import StoreError
from marconi.store.engine import Dialect, async_url, create_engines, dialect_of
from marconi.store.migrate import head_revision, run_migrations, schema_revision
from marconi.store.model import MessageStatus
from marconi.store.protocols import Store
from marconi.store.sql import (
    DEFAULT_CALLBACK_STATUSES,
    SqlStore,
    StatusPayload,
    default_status_payload,
)

__all__ = ["Store", "open_store", "run_migrations"]


async def open_store(
    database_url: str,
    *,
    migrate: bool | None = None,
    synchronous: SqliteSynchronous | str = SqliteSynchronous.NORMAL,
    schema: str | None = None,
    callback_statuses: frozenset[MessageStatus] = DEFAULT_CALLBACK_STATUSES,
    status_payload: StatusPayload = default_status_payload,
    writers: int | None = None,
) -> SqlStore:
    """Open the store a URL names (``sqlite:///path`` or ``postgresql://…``).

    ``migrate`` runs the migrations first; by default SQLite is migrated and PostgreSQL, which an
    operator migrates with ``marconi migrate``, is only checked to be at the newest revision.
    ``schema`` puts the tables in a PostgreSQL schema of their own.
    """
    url = async_url(database_url)
    dialect = dialect_of(url)
    if migrate is None:
        migrate = dialect is Dialect.SQLITE
    if migrate:
        await run_migrations(database_url, schema=schema)
    writer, reader = create_engines(url, synchronous=str(synchronous), schema=schema)
    try:
        async with reader.connect() as conn:
            current = await schema_revision(conn)
    except Exception as exc:
        await writer.dispose()
        await reader.dispose()
        raise StoreError(f"cannot reach the database: {type(exc).__name__}: {exc}") from exc
    head = head_revision()
    if current != head:
        await writer.dispose()
        await reader.dispose()
        raise StoreError(
            f"the database schema is at revision {current or 'none'}, this version needs {head}: "
            "run `marconi migrate`"
        )
    return SqlStore(
        dialect=dialect,
        write_engine=writer,
        read_engine=reader,
        writers=writers,
        callback_statuses=callback_statuses,
        status_payload=status_payload,
        schema=schema,
    )
