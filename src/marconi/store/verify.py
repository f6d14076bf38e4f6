"""The SQL side of Verify, beside :class:`~marconi.store.sql.SqlStore` and over its connections.

A start and a check each run in one write transaction with the rows they decide on locked
(``FOR UPDATE`` on PostgreSQL; SQLite has a single writer), so two concurrent requests can never
both pass a limit or both approve a code. The decision itself is the service's: it is passed in.
Starts go to the group committer as a batch operation of their own, one batch in flight at a
time (:mod:`marconi.store.verify_queue`): those waiting together share their statements
(:mod:`marconi.store.verify_start`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import MarconiError, NotFound
from marconi.store import ids
from marconi.store.engine import Dialect
from marconi.store.model import Message, NewMessage
from marconi.store.schema import verifications, verify_blocks, verify_services
from marconi.store.verify_model import (
    VERIFICATION_ID,
    CheckDecider,
    Destination,
    NewVerifyService,
    StartDecider,
    StartResult,
    Verification,
    VerifyBlock,
    VerifyRepository,
    VerifyService,
    VerifyServicePatch,
)
from marconi.store.verify_queue import OneBatch
from marconi.store.verify_rows import block_of, service_of, verification_of
from marconi.store.verify_start import StartItem, start_batch

if TYPE_CHECKING:  # services may import this module; they must not load a backend
    from marconi.store.sql import SqlStore

__all__ = ["SERVICE_ID", "VERIFICATION_ID", "SqlVerifyStore"]

SERVICE_ID: Final = "VA"
_PAGE_MAX: Final = 500


class SqlVerifyStore:
    """Verify's tables, read and written through ``store``'s engines and group committer.
    Implements :class:`~marconi.store.verify_model.VerifyRepository`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        # PostgreSQL's several writers would write batches at once, each waiting for the other's
        # lock of the service: one at a time there, the next one growing meanwhile.
        self._starts: OneBatch[StartItem, StartResult] | None = (
            OneBatch(self._write_starts) if store.dialect is Dialect.POSTGRESQL else None
        )

    # -- services ------------------------------------------------------------------------------

    async def create_service(self, new: NewVerifyService, *, now: datetime) -> VerifyService:
        row = {
            "id": ids.new_id(SERVICE_ID),
            "account_id": new.account_id,
            "name": new.name,
            "code_length": new.code_length,
            "ttl": new.ttl,
            "max_attempts": new.max_attempts,
            "max_sends": new.max_sends,
            "send_window": new.send_window,
            "prefix_limit": new.prefix_limit,
            "country_limit": new.country_limit,
            "allowed_countries": list(new.allowed_countries),
            "template": new.template,
            "locale": new.locale,
            "from_addr": new.from_addr,
            "created_at": now,
            "updated_at": now,
        }

        async def run(conn: AsyncConnection) -> VerifyService:
            await conn.execute(verify_services.insert().values(row))
            return service_of(row)

        return await self._store._write(run)

    async def get_service(self, account_id: str, service_id: str) -> VerifyService:
        async def run(conn: AsyncConnection) -> VerifyService:
            return await _load_service(conn, account_id, service_id, lock=False)

        return await self._store._read(run)

    async def list_services(self, account_id: str) -> list[VerifyService]:
        async def run(conn: AsyncConnection) -> list[VerifyService]:
            t = verify_services.c
            rows = await conn.execute(
                sa.select(verify_services)
                .where(t.account_id == account_id)
                .order_by(t.created_at, t.id)
                .limit(_PAGE_MAX)
            )
            return [service_of(r._mapping) for r in rows]

        return await self._store._read(run)

    async def update_service(
        self, account_id: str, service_id: str, patch: VerifyServicePatch, *, now: datetime
    ) -> VerifyService:
        values: dict[str, Any] = {
            name: getattr(patch, name)
            for name in VerifyServicePatch.__dataclass_fields__
            if getattr(patch, name) is not None
        }
        if "allowed_countries" in values:
            values["allowed_countries"] = list(values["allowed_countries"])
        values["updated_at"] = now

        async def run(conn: AsyncConnection) -> VerifyService:
            t = verify_services.c
            row = (
                await conn.execute(
                    verify_services.update()
                    .where(t.id == service_id, t.account_id == account_id)
                    .values(values)
                    .returning(*verify_services.c)
                )
            ).one_or_none()
            if row is None:
                raise NotFound(f"no verify service {service_id} in this account")
            return service_of(row._mapping)

        return await self._store._write(run)

    # -- verifications ---------------------------------------------------------------------------

    async def start_verification(
        self,
        account_id: str,
        service_id: str,
        destination: Destination,
        *,
        now: datetime,
        decide: StartDecider,
    ) -> StartResult:
        """Start a verification (or resend the pending one) as ``decide`` says, counting the
        send; or record the block it chose. The service's row is locked meanwhile, and the
        starts waiting together are decided in one pass (:mod:`marconi.store.verify_start`)."""
        item = StartItem(account_id, service_id, destination, now, decide)
        if self._starts is None:  # one writer: each of its transactions takes the starts waiting
            (result,) = await self._write_one(item)
            if isinstance(result, MarconiError):
                raise result
            return result
        return await self._starts.submit(item)

    async def _write_starts(self, items: list[StartItem]) -> Sequence[StartResult | BaseException]:
        try:
            written: list[StartResult | MarconiError] = await self._store.committer.submit(
                self._op_starts, items
            )
            return written
        except Exception:
            if len(items) == 1:
                raise
        # One start the database refused must not fail the others: each again on its own.
        alone: list[list[StartResult | MarconiError] | BaseException] = await asyncio.gather(
            *(self._write_one(item) for item in items), return_exceptions=True
        )
        return [one if isinstance(one, BaseException) else one[0] for one in alone]

    async def _write_one(self, item: StartItem) -> list[StartResult | MarconiError]:
        written: list[StartResult | MarconiError] = await self._store.committer.submit(
            self._op_starts, [item]
        )
        return written

    async def _op_starts(
        self, conn: AsyncConnection, items: Sequence[list[StartItem]]
    ) -> Sequence[list[StartResult | MarconiError] | MarconiError]:
        """The batches of starts the committer took, decided in one pass."""
        flat = [item for batch in items for item in batch]
        results = await start_batch(
            conn,
            flat,
            pg=self._store.dialect is Dialect.POSTGRESQL,
            insert_messages=self._insert_messages,
        )
        split: list[list[StartResult | MarconiError] | MarconiError] = []
        for batch in items:
            split.append(results[: len(batch)])
            results = results[len(batch) :]
        return split

    async def _insert_messages(
        self, conn: AsyncConnection, news: Sequence[NewMessage], now: datetime
    ) -> list[Message]:
        """The messages of codes, stored with their verifications as the message store's own
        batch insert stores messages (and wakes the dispatcher once committed)."""
        (stored,) = await self._store._op_insert(conn, [(tuple(news), now)])
        if isinstance(stored, MarconiError):  # only a reused idempotency key, which codes lack
            raise stored
        return stored

    async def set_message(self, verification_id: str, message_id: str, *, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            t = verifications.c
            await conn.execute(
                verifications.update()
                .where(t.id == verification_id)
                .values(message_id=message_id, updated_at=now)
            )

        await self._store._write(run)

    async def get_verification(
        self, account_id: str, service_id: str, verification_id: str
    ) -> Verification:
        async def run(conn: AsyncConnection) -> Verification:
            t = verifications.c
            row = (
                await conn.execute(
                    sa.select(verifications).where(
                        t.id == verification_id,
                        t.service_id == service_id,
                        t.account_id == account_id,
                    )
                )
            ).one_or_none()
            if row is None:
                raise NotFound(f"no verification {verification_id} in this service")
            return verification_of(row._mapping)

        return await self._store._read(run)

    async def update_verification(
        self,
        account_id: str,
        service_id: str,
        *,
        verification_id: str | None = None,
        to_addr: str | None = None,
        now: datetime,
        decide: CheckDecider,
    ) -> Verification:
        """Apply ``decide``'s answer to a verification, with its row locked: the one named, or
        the newest of ``to_addr``. NotFound when there is none."""

        async def run(conn: AsyncConnection) -> Verification:
            t = verifications.c
            query = sa.select(verifications).where(
                t.service_id == service_id, t.account_id == account_id
            )
            if verification_id is not None:
                query = query.where(t.id == verification_id)
            else:
                query = query.where(t.to_addr == to_addr).order_by(t.created_at.desc()).limit(1)
            row = (await conn.execute(query.with_for_update())).one_or_none()
            if row is None:
                what = verification_id or f"for {to_addr}"
                raise NotFound(f"no verification {what} in this service")
            current = verification_of(row._mapping)
            decision = decide(current)
            if decision is None:
                return current
            changed = (
                await conn.execute(
                    verifications.update()
                    .where(t.id == current.id)
                    .values(
                        status=decision.status.value, attempts=decision.attempts, updated_at=now
                    )
                    .returning(*verifications.c)
                )
            ).one()
            return verification_of(changed._mapping)

        return await self._store._write(run)

    # -- blocks ----------------------------------------------------------------------------------

    async def list_blocks(
        self, account_id: str, service_id: str, *, limit: int = 100
    ) -> list[VerifyBlock]:
        async def run(conn: AsyncConnection) -> list[VerifyBlock]:
            t = verify_blocks.c
            rows = await conn.execute(
                sa.select(verify_blocks)
                .where(t.service_id == service_id, t.account_id == account_id)
                .order_by(t.created_at.desc(), t.id.desc())
                .limit(min(limit, _PAGE_MAX))
            )
            return [block_of(r._mapping) for r in rows]

        return await self._store._read(run)


# -- statements ------------------------------------------------------------------------------------


async def _load_service(
    conn: AsyncConnection, account_id: str, service_id: str, *, lock: bool
) -> VerifyService:
    t = verify_services.c
    query = sa.select(verify_services).where(t.id == service_id, t.account_id == account_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"no verify service {service_id} in this account")
    return service_of(row._mapping)


def _conforms(store: SqlVerifyStore) -> VerifyRepository:
    """Never called: mypy checks here that SqlVerifyStore implements VerifyRepository."""
    return store
