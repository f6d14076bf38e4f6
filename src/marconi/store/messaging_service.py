"""Messaging services: pools of an account's numbers to send from, with defaults (status
callback, inbound URL, validity period, sticky sender) for the messages sent through them.

Every read and write takes the account id; another account's service is NotFound, exactly as
one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import Conflict, NotFound
from marconi.store import ids
from marconi.store.engine import Dialect
from marconi.store.schema import messaging_service_numbers, messaging_services, numbers

if TYPE_CHECKING:  # services import this module; they must not load a backend
    from marconi.store.sql import SqlStore

__all__ = [
    "MESSAGING_SERVICE",
    "MessagingService",
    "MessagingServiceRepository",
    "SqlMessagingServiceRepository",
    "messaging_service_repository_for",
]

MESSAGING_SERVICE = "MG"
_FIELDS = (
    "friendly_name",
    "status_callback",
    "inbound_request_url",
    "inbound_method",
    "use_inbound_webhook_on_number",
    "sticky_sender",
    "validity_period",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagingService:
    id: str
    account_id: str
    friendly_name: str
    status_callback: str | None
    inbound_request_url: str | None
    inbound_method: str
    use_inbound_webhook_on_number: bool
    sticky_sender: bool
    validity_period: int | None  # seconds
    created_at: datetime
    updated_at: datetime


class MessagingServiceRepository(Protocol):
    async def create_service(
        self, account_id: str, *, now: datetime, **fields: Any
    ) -> MessagingService: ...

    async def get_service(self, account_id: str, service_id: str) -> MessagingService: ...

    async def list_services(self, account_id: str) -> list[MessagingService]: ...

    async def update_service(
        self, account_id: str, service_id: str, *, now: datetime, **fields: Any
    ) -> MessagingService: ...

    async def delete_service(self, account_id: str, service_id: str) -> None: ...

    async def add_service_number(
        self, account_id: str, service_id: str, number_id: str, *, now: datetime
    ) -> datetime:
        """Put the account's number in the pool; Conflict when it is in a pool already."""
        ...

    async def remove_service_number(
        self, account_id: str, service_id: str, number_id: str
    ) -> None: ...

    async def list_service_numbers(
        self, account_id: str, service_id: str
    ) -> list[tuple[str, datetime]]:
        """(number id, when it joined) of the pool, oldest first."""
        ...


def _service(row: Mapping[Any, Any]) -> MessagingService:
    return MessagingService(**{c.name: row[c.name] for c in messaging_services.columns})


class SqlMessagingServiceRepository:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def _one(self, conn: AsyncConnection, account_id: str, service_id: str) -> Any:
        row = (
            await conn.execute(
                messaging_services.select().where(
                    messaging_services.c.id == service_id,
                    messaging_services.c.account_id == account_id,
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"messaging service {service_id} not found")
        return row._mapping

    async def create_service(
        self, account_id: str, *, now: datetime, **fields: Any
    ) -> MessagingService:
        values = {
            "id": ids.new_id(MESSAGING_SERVICE),
            "account_id": account_id,
            "created_at": now,
            "updated_at": now,
            **{name: fields[name] for name in _FIELDS},
        }

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(messaging_services.insert().values(values))

        await self._store._write(write)  # the store package's own plumbing
        return _service(values)

    async def get_service(self, account_id: str, service_id: str) -> MessagingService:
        async def read(conn: AsyncConnection) -> MessagingService:
            return _service(await self._one(conn, account_id, service_id))

        return await self._store._read(read)  # the store package's own plumbing

    async def list_services(self, account_id: str) -> list[MessagingService]:
        query = (
            messaging_services.select()
            .where(messaging_services.c.account_id == account_id)
            .order_by(messaging_services.c.created_at.desc(), messaging_services.c.id.desc())
        )

        async def read(conn: AsyncConnection) -> list[MessagingService]:
            return [_service(r._mapping) for r in await conn.execute(query)]

        return await self._store._read(read)  # the store package's own plumbing

    async def update_service(
        self, account_id: str, service_id: str, *, now: datetime, **fields: Any
    ) -> MessagingService:
        changes = {name: value for name, value in fields.items() if name in _FIELDS}

        async def write(conn: AsyncConnection) -> MessagingService:
            await self._one(conn, account_id, service_id)
            await conn.execute(
                messaging_services.update()
                .where(messaging_services.c.id == service_id)
                .values(**changes, updated_at=now)
            )
            return _service(await self._one(conn, account_id, service_id))

        result: MessagingService = await self._store._write(write)  # the store's plumbing
        return result

    async def delete_service(self, account_id: str, service_id: str) -> None:
        async def write(conn: AsyncConnection) -> None:
            await self._one(conn, account_id, service_id)
            await conn.execute(
                messaging_service_numbers.delete().where(
                    messaging_service_numbers.c.service_id == service_id
                )
            )
            await conn.execute(
                messaging_services.delete().where(messaging_services.c.id == service_id)
            )

        await self._store._write(write)  # the store package's own plumbing

    async def add_service_number(
        self, account_id: str, service_id: str, number_id: str, *, now: datetime
    ) -> datetime:
        async def write(conn: AsyncConnection) -> datetime:
            await self._one(conn, account_id, service_id)
            owned = (
                await conn.execute(
                    sa.select(numbers.c.id).where(
                        numbers.c.id == number_id, numbers.c.account_id == account_id
                    )
                )
            ).first()
            if owned is None:
                raise NotFound(f"number {number_id} not found")
            taken = (
                await conn.execute(
                    sa.select(messaging_service_numbers.c.service_id).where(
                        messaging_service_numbers.c.number_id == number_id
                    )
                )
            ).first()
            if taken is not None:
                raise Conflict(f"number {number_id} is in messaging service {taken[0]} already")
            await conn.execute(
                messaging_service_numbers.insert().values(
                    service_id=service_id, number_id=number_id, created_at=now
                )
            )
            return now

        result: datetime = await self._store._write(write)  # the store's plumbing
        return result

    async def remove_service_number(self, account_id: str, service_id: str, number_id: str) -> None:
        async def write(conn: AsyncConnection) -> None:
            await self._one(conn, account_id, service_id)
            removed = await conn.execute(
                messaging_service_numbers.delete().where(
                    messaging_service_numbers.c.service_id == service_id,
                    messaging_service_numbers.c.number_id == number_id,
                )
            )
            if removed.rowcount == 0:
                raise NotFound(f"number {number_id} is not in messaging service {service_id}")

        await self._store._write(write)  # the store package's own plumbing

    async def list_service_numbers(
        self, account_id: str, service_id: str
    ) -> list[tuple[str, datetime]]:
        m = messaging_service_numbers.c
        query = (
            sa.select(m.number_id, m.created_at)
            .where(m.service_id == service_id)
            .order_by(m.created_at, m.number_id)
        )

        async def read(conn: AsyncConnection) -> list[tuple[str, datetime]]:
            await self._one(conn, account_id, service_id)
            return [(r[0], r[1]) for r in await conn.execute(query)]

        return await self._store._read(read)  # the store package's own plumbing


def messaging_service_repository_for(store: object) -> MessagingServiceRepository | None:
    """Where ``store`` keeps messaging services: its database for a SQL store; None otherwise."""
    if isinstance(getattr(store, "dialect", None), Dialect) and hasattr(store, "committer"):
        return SqlMessagingServiceRepository(cast("SqlStore", store))
    return None
