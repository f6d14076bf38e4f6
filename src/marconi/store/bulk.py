"""Many rows, one statement: the writes on the hot paths, below SQLAlchemy's per-row work.

SQLite gets ``executemany`` of a plain statement (a loop in C). PostgreSQL gets a single
statement over ``unnest()`` of one array per column: one round trip and one plan, whatever the
number of rows, where ``executemany`` would plan and execute each row on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.store.schema import UtcDateTime

__all__ = ["BulkWrite", "bulk_insert", "bulk_update"]

_SQLITE: Final = "sqlite"


class BulkWrite:
    """A statement that takes rows as tuples, in the column order it was built with."""

    def __init__(self, sql: str, *, pg: bool) -> None:
        self.sql = sql
        self._pg = pg

    async def run(self, conn: AsyncConnection, rows: Sequence[tuple[object, ...]]) -> None:
        if not rows:
            return
        if self._pg:
            await conn.exec_driver_sql(
                self.sql, tuple(list(column) for column in zip(*rows, strict=True))
            )
        else:
            await conn.exec_driver_sql(self.sql, list(rows))


def _array_type(column: sa.Column[object]) -> str:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return "timestamptz"
    if isinstance(kind, sa.JSON):
        return "text"  # cast to jsonb in the select list
    if isinstance(kind, sa.SmallInteger):
        return "int2"
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.Integer):
        return "int4"
    return "text"


def _value(column: sa.Column[object]) -> str:
    return f'u."{column.name}"::jsonb' if isinstance(column.type, sa.JSON) else f'u."{column.name}"'


def _unnest(columns: Sequence[sa.Column[object]]) -> str:
    arrays = ", ".join(f"${i}::{_array_type(c)}[]" for i, c in enumerate(columns, 1))
    names = ", ".join(f'"{c.name}"' for c in columns)
    return f"unnest({arrays}) AS u({names})"


def bulk_insert(table: sa.Table, *, pg: bool, suffix: str = "") -> BulkWrite:
    """INSERT of whole rows in the table's column order; ``suffix`` may add ON CONFLICT."""
    columns = list(table.columns)
    names = ", ".join(f'"{c.name}"' for c in columns)
    # Names come from our own metadata, never from input.
    if pg:
        values = ", ".join(_value(c) for c in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM {_unnest(columns)}'  # noqa: S608
    else:
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608
    return BulkWrite(f"{sql} {suffix}".rstrip(), pg=pg)


def bulk_update(
    table: sa.Table, set_names: Sequence[str], key_names: Sequence[str], *, pg: bool
) -> BulkWrite:
    """UPDATE of ``set_names`` for rows found by ``key_names``; rows are (set values…, keys…)."""
    set_columns = [table.c[n] for n in set_names]
    key_columns = [table.c[n] for n in key_names]
    if pg:
        assignments = ", ".join(f'"{c.name}" = {_value(c)}' for c in set_columns)
        match = " AND ".join(f't."{c.name}" = u."{c.name}"' for c in key_columns)
        sql = (
            f'UPDATE "{table.name}" AS t SET {assignments} '  # noqa: S608
            f"FROM {_unnest(set_columns + key_columns)} WHERE {match}"
        )
    else:
        assignments = ", ".join(f'"{c.name}" = ?' for c in set_columns)
        match = " AND ".join(f'"{c.name}" = ?' for c in key_columns)
        sql = f'UPDATE "{table.name}" SET {assignments} WHERE {match}'  # noqa: S608
    return BulkWrite(sql, pg=pg)
