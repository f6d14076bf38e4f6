"""Opt-outs and keyword settings in SQL (tables ``opt_outs`` and ``keyword_settings``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import ValidationError
from marconi.store.attached import Attached
from marconi.store.model import JsonValue, Page
from marconi.store.optout import OptOut
from marconi.store.read_batch import ReadBatcher
from marconi.store.schema import keyword_settings, opt_outs
from marconi.store.sql import SqlStore

__all__ = ["SqlOptOutRepository"]

ALL: Final = ""  # the scope of an opt-out from every sender of the account


def _scope(from_addr: str | None) -> str:
    return ALL if from_addr is None else from_addr


def _opt_out(row: sa.RowMapping) -> OptOut:
    return OptOut(
        account_id=row["account_id"],
        to_addr=row["to_addr"],
        from_addr=row["scope"] or None,
        source=row["source"],
        keyword=row["keyword"],
        created_at=row["created_at"],
    )


def _encode_cursor(to_addr: str, scope: str) -> str:
    raw = f"{to_addr}\x00{scope}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        to_addr, scope = raw.split("\x00", 1)
        return to_addr, scope
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationError(
            "the cursor is not one this API returned; pass next_cursor from the previous page",
            code="invalid_cursor",
            field="cursor",
        ) from None


class SqlOptOutRepository(Attached):
    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        # The send path asks about every message: concurrent checks share one query.
        self._scopes: ReadBatcher[tuple[str, str], frozenset[str]] = ReadBatcher(
            self._fetch_scopes, default=frozenset()
        )

    async def add_opt_out(
        self,
        account_id: str,
        to_addr: str,
        *,
        from_addr: str | None,
        source: str,
        keyword: str | None,
        now: datetime,
    ) -> OptOut:
        key = (account_id, to_addr, _scope(from_addr))
        values = {
            "account_id": account_id,
            "to_addr": to_addr,
            "scope": key[2],
            "source": source,
            "keyword": keyword,
            "created_at": now,
        }

        async def run(conn: AsyncConnection) -> OptOut:
            await conn.execute(self._insert(opt_outs).values(values).on_conflict_do_nothing())
            row = (await conn.execute(opt_outs.select().where(_key(*key)))).first()
            assert row is not None
            return _opt_out(row._mapping)

        return await self._write(run)

    async def remove_opt_outs(
        self, account_id: str, to_addr: str, *, from_addrs: tuple[str | None, ...]
    ) -> int:
        scopes = [_scope(f) for f in from_addrs]

        async def run(conn: AsyncConnection) -> int:
            result = await conn.execute(
                opt_outs.delete().where(
                    opt_outs.c.account_id == account_id,
                    opt_outs.c.to_addr == to_addr,
                    opt_outs.c.scope.in_(scopes),
                )
            )
            return int(result.rowcount)

        return await self._write(run)

    async def is_opted_out(self, account_id: str, to_addr: str, from_addr: str) -> bool:
        scopes = await self._scopes.get((account_id, to_addr))
        return ALL in scopes or from_addr in scopes

    async def _fetch_scopes(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], frozenset[str]]:
        """The opt-out scopes of every (account, destination) asked for, in one read."""
        by_account: dict[str, list[str]] = {}
        for account_id, to_addr in keys:
            by_account.setdefault(account_id, []).append(to_addr)
        queries = [
            sa.select(opt_outs.c.account_id, opt_outs.c.to_addr, opt_outs.c.scope).where(
                opt_outs.c.account_id == account_id, opt_outs.c.to_addr.in_(to_addrs)
            )
            for account_id, to_addrs in by_account.items()
        ]

        async def run(conn: AsyncConnection) -> dict[tuple[str, str], frozenset[str]]:
            found: dict[tuple[str, str], set[str]] = {}
            for query in queries:
                for account_id, to_addr, scope in await conn.execute(query):
                    found.setdefault((account_id, to_addr), set()).add(scope)
            return {key: frozenset(scopes) for key, scopes in found.items()}

        return await self._read(run)

    async def has_opt_outs(self, account_id: str) -> bool:
        query = sa.select(sa.literal(1)).where(opt_outs.c.account_id == account_id).limit(1)

        async def run(conn: AsyncConnection) -> bool:
            return (await conn.scalar(query)) is not None

        return await self._read(run)

    async def list_opt_outs(
        self,
        account_id: str,
        *,
        to_addr: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[OptOut]:
        query = opt_outs.select().where(opt_outs.c.account_id == account_id)
        if to_addr is not None:
            query = query.where(opt_outs.c.to_addr == to_addr)
        if cursor is not None:
            after_to, after_scope = _decode_cursor(cursor)
            query = query.where(
                sa.or_(
                    opt_outs.c.to_addr > after_to,
                    sa.and_(opt_outs.c.to_addr == after_to, opt_outs.c.scope > after_scope),
                )
            )
        query = query.order_by(opt_outs.c.to_addr, opt_outs.c.scope).limit(limit + 1)

        async def run(conn: AsyncConnection) -> Page[OptOut]:
            rows = [r._mapping for r in await conn.execute(query)]
            more = len(rows) > limit
            rows = rows[:limit]
            next_cursor = (
                _encode_cursor(rows[-1]["to_addr"], rows[-1]["scope"]) if more and rows else None
            )
            return Page(items=[_opt_out(r) for r in rows], next_cursor=next_cursor)

        return await self._read(run)

    async def get_keyword_settings(self, account_id: str) -> Mapping[str, JsonValue] | None:
        query = sa.select(keyword_settings.c.settings).where(
            keyword_settings.c.account_id == account_id
        )

        async def run(conn: AsyncConnection) -> Mapping[str, JsonValue] | None:
            value = await conn.scalar(query)
            return None if value is None else dict(value)

        return await self._read(run)

    async def put_keyword_settings(
        self, account_id: str, settings: Mapping[str, JsonValue], *, now: datetime
    ) -> None:
        values = {"account_id": account_id, "settings": dict(settings), "updated_at": now}

        async def run(conn: AsyncConnection) -> None:
            statement = self._insert(keyword_settings).values(values)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[keyword_settings.c.account_id],
                    set_={"settings": statement.excluded.settings, "updated_at": now},
                )
            )

        await self._write(run)


def _key(account_id: str, to_addr: str, scope: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        opt_outs.c.account_id == account_id,
        opt_outs.c.to_addr == to_addr,
        opt_outs.c.scope == scope,
    )
