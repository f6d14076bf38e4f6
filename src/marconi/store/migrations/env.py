"""Alembic environment for Marconi's own tables.

``marconi migrate`` (and :func:`marconi.store.migrate.run_migrations`) hands in an open
connection through ``config.attributes["connection"]``. Run from the ``alembic`` command line, the
URL comes from ``sqlalchemy.url`` or ``MARCONI_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from marconi.store.engine import async_url, create_engines
from marconi.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MARCONI_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or MARCONI_DATABASE_URL")
    return url


async def _run_online() -> None:
    writer, reader = create_engines(async_url(_url()), pool_size=1)
    try:
        async with writer.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await writer.dispose()
        await reader.dispose()


if context.is_offline_mode():
    context.configure(url=str(async_url(_url())), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        asyncio.run(_run_online())
