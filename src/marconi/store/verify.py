"""The SQL side of Verify, beside :class:`~marconi.store.sql.SqlStore` and over its connections.

A start and a check each run in one write transaction with the rows they decide on locked
(``FOR UPDATE`` on PostgreSQL; SQLite has a single writer), so two concurrent requests can never
both pass a limit or both approve a code. The decision itself is the service's: it is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import NotFound
from marconi.store import ids
from marconi.store.schema import verifications, verify_blocks, verify_sends, verify_services
from marconi.store.verify_model import (
    BlockReason,
    CheckDecider,
    Destination,
    Issue,
    NewVerifyService,
    Refuse,
    SendCounts,
    StartDecider,
    StartResult,
    Verification,
    VerificationStatus,
    VerifyBlock,
    VerifyRepository,
    VerifyService,
    VerifyServicePatch,
)

if TYPE_CHECKING:  # services may import this module; they must not load a backend
    from marconi.store.sql import SqlStore

__all__ = ["SERVICE_ID", "VERIFICATION_ID", "SqlVerifyStore"]

SERVICE_ID: Final = "VA"
VERIFICATION_ID: Final = "VE"
BLOCK_ID: Final = "VB"
_PAGE_MAX: Final = 500


class SqlVerifyStore:
    """Verify's tables, read and written through ``store``'s engines and group committer.
    Implements :class:`~marconi.store.verify_model.VerifyRepository`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

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
            return _service(row)

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
            return [_service(r._mapping) for r in rows]

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
            return _service(row._mapping)

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
        send; or record the block it chose. The service's row is locked meanwhile."""

        async def run(conn: AsyncConnection) -> StartResult:
            service = await _load_service(conn, account_id, service_id, lock=True)
            pending = await _pending(conn, service_id, destination.to_addr, now)
            since = now - timedelta(seconds=service.send_window)
            counts = SendCounts(
                destination=await _count(
                    conn, "to_addr", destination.to_addr, service_id, since, service.max_sends
                ),
                prefix=await _count(
                    conn, "prefix", destination.prefix, service_id, since, service.prefix_limit
                ),
                country=await _count(
                    conn, "country", destination.country, service_id, since, service.country_limit
                ),
            )
            decision = decide(service, pending, counts)
            if isinstance(decision, Refuse):
                return StartResult(
                    service=service,
                    verification=None,
                    block=await _insert_block(conn, service, destination, decision, now),
                )
            await conn.execute(
                verify_sends.insert().values(
                    service_id=service_id,
                    to_addr=destination.to_addr,
                    prefix=destination.prefix,
                    country=destination.country,
                    at=now,
                )
            )
            if isinstance(decision, Issue):
                if pending is not None:  # a new code replaces the old one
                    await _set_status(conn, pending.id, VerificationStatus.CANCELED, now)
                return StartResult(
                    service=service,
                    verification=await _insert_verification(
                        conn, service, destination, decision, now
                    ),
                    block=None,
                )
            assert pending is not None, "a resend needs a pending verification"
            t = verifications.c
            row = (
                await conn.execute(
                    verifications.update()
                    .where(t.id == pending.id)
                    .values(sends=t.sends + 1, updated_at=now)
                    .returning(*verifications.c)
                )
            ).one()
            return StartResult(
                service=service,
                verification=_verification(row._mapping),
                block=None,
                resent=True,
            )

        return await self._store._write(run)

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
            return _verification(row._mapping)

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
            current = _verification(row._mapping)
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
            return _verification(changed._mapping)

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
            return [_block(r._mapping) for r in rows]

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
    return _service(row._mapping)


async def _pending(
    conn: AsyncConnection, service_id: str, to_addr: str, now: datetime
) -> Verification | None:
    t = verifications.c
    row = (
        await conn.execute(
            sa.select(verifications)
            .where(t.service_id == service_id, t.to_addr == to_addr)
            .order_by(t.created_at.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    found = _verification(row._mapping)
    if found.status is not VerificationStatus.PENDING or found.expires_at <= now:
        return None
    return found


async def _count(
    conn: AsyncConnection, column: str, value: str, service_id: str, since: datetime, limit: int
) -> int:
    """Sends of ``column = value`` since ``since``, counted up to ``limit + 1`` only: a burst
    costs the guard no more than its limit."""
    t = verify_sends.c
    hits = (
        sa.select(sa.literal(1))
        .where(t.service_id == service_id, t[column] == value, t.at > since)
        .limit(limit + 1)
        .subquery()
    )
    return int((await conn.execute(sa.select(sa.func.count()).select_from(hits))).scalar_one())


async def _set_status(
    conn: AsyncConnection, verification_id: str, status: VerificationStatus, now: datetime
) -> None:
    t = verifications.c
    await conn.execute(
        verifications.update()
        .where(t.id == verification_id)
        .values(status=status.value, updated_at=now)
    )


async def _insert_verification(
    conn: AsyncConnection,
    service: VerifyService,
    destination: Destination,
    issue: Issue,
    now: datetime,
) -> Verification:
    row = {
        "id": ids.new_id(VERIFICATION_ID),
        "service_id": service.id,
        "account_id": service.account_id,
        "to_addr": destination.to_addr,
        "country": destination.country,
        "status": VerificationStatus.PENDING.value,
        "code_hash": issue.code_hash,
        "attempts": 0,
        "sends": 1,
        "message_id": issue.message_id,
        "created_at": now,
        "updated_at": now,
        "expires_at": issue.expires_at,
    }
    await conn.execute(verifications.insert().values(row))
    return _verification(row)


async def _insert_block(
    conn: AsyncConnection,
    service: VerifyService,
    destination: Destination,
    refuse: Refuse,
    now: datetime,
) -> VerifyBlock:
    row = {
        "id": ids.new_id(BLOCK_ID),
        "service_id": service.id,
        "account_id": service.account_id,
        "to_addr": destination.to_addr,
        "country": destination.country,
        "reason": refuse.reason.value,
        "detail": refuse.detail,
        "created_at": now,
    }
    await conn.execute(verify_blocks.insert().values(row))
    return _block(row)


# -- rows to values --------------------------------------------------------------------------------


def _service(row: Mapping[Any, Any]) -> VerifyService:
    return VerifyService(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        code_length=row["code_length"],
        ttl=row["ttl"],
        max_attempts=row["max_attempts"],
        max_sends=row["max_sends"],
        send_window=row["send_window"],
        prefix_limit=row["prefix_limit"],
        country_limit=row["country_limit"],
        allowed_countries=tuple(row["allowed_countries"]),
        template=row["template"],
        locale=row["locale"],
        from_addr=row["from_addr"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _verification(row: Mapping[Any, Any]) -> Verification:
    return Verification(
        id=row["id"],
        service_id=row["service_id"],
        account_id=row["account_id"],
        to_addr=row["to_addr"],
        country=row["country"],
        status=VerificationStatus(row["status"]),
        code_hash=row["code_hash"],
        attempts=row["attempts"],
        sends=row["sends"],
        message_id=row["message_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
    )


def _block(row: Mapping[Any, Any]) -> VerifyBlock:
    return VerifyBlock(
        id=row["id"],
        service_id=row["service_id"],
        account_id=row["account_id"],
        to_addr=row["to_addr"],
        country=row["country"],
        reason=BlockReason(row["reason"]),
        detail=row["detail"],
        created_at=row["created_at"],
    )


def _conforms(store: SqlVerifyStore) -> VerifyRepository:
    """Never called: mypy checks here that SqlVerifyStore implements VerifyRepository."""
    return store
