"""Starting verifications in batches: every start waiting for the writer is decided in one pass.

A start reads its service, the number's pending verification and the fraud guard's three window
counts, then writes a send, a verification or a block. Done one start at a time that is a dozen
statements each; here the starts of one group-commit batch share them: one read of the services
(locked on PostgreSQL, in id order), one of the pending verifications and one of the numbers'
send counts per service, one limited count per number range and per country, then one insert
per table. Each start is still decided in turn, seeing the sends and verifications of the starts
before it in the batch, so the outcome is the one of running them one at a time.

The starts of a batch happen at one time, the latest of their clocks: each is recorded then (a
few milliseconds after its request at most), so they share one window and one count per key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import MarconiError, NotFound
from marconi.store import ids
from marconi.store.model import Message, NewMessage
from marconi.store.schema import verifications, verify_blocks, verify_sends, verify_services
from marconi.store.verify_model import (
    Destination,
    Issue,
    Refuse,
    SendCounts,
    StartDecider,
    StartResult,
    Verification,
    VerificationStatus,
    VerifyService,
)
from marconi.store.verify_rows import block_of, service_of, verification_of

__all__ = ["BLOCK_ID", "InsertMessages", "StartItem", "start_batch"]

InsertMessages = Callable[
    [AsyncConnection, Sequence[NewMessage], datetime], Awaitable[list[Message]]
]
"""Stores messages in the transaction of ``conn``, as the message store does."""

BLOCK_ID: Final = "VB"


@dataclass(frozen=True, slots=True)
class StartItem:
    account_id: str
    service_id: str
    destination: Destination
    now: datetime
    decide: StartDecider


async def start_batch(
    conn: AsyncConnection, items: Sequence[StartItem], *, pg: bool, insert_messages: InsertMessages
) -> list[StartResult | MarconiError]:
    services = await _services(conn, {item.service_id for item in items}, lock=pg)
    results: list[StartResult | MarconiError | None] = [None] * len(items)
    live: dict[str, list[int]] = {}  # service id -> the indexes of its starts
    for i, item in enumerate(items):
        service = services.get(item.service_id)
        if service is None or service.account_id != item.account_id:
            results[i] = NotFound(f"no verify service {item.service_id} in this account")
        else:
            live.setdefault(service.id, []).append(i)

    new_rows: dict[str, dict[str, Any]] = {}  # verifications issued in this batch, by id
    send_rows: list[dict[str, Any]] = []
    block_rows: list[dict[str, Any]] = []
    messages: dict[int, NewMessage] = {}  # the prepared messages of issues, by start
    now = max(item.now for item in items)
    for service_id, indexes in live.items():
        service = services[service_id]
        batch = [items[i] for i in indexes]
        since = now - timedelta(seconds=service.send_window)
        to_addrs = {item.destination.to_addr for item in batch}
        pending = await _pending(conn, service_id, to_addrs)
        counts: dict[tuple[str, str], int] = await _number_counts(conn, service_id, to_addrs, since)
        wanted = [
            (column, key, limit)
            for column, limit in (
                ("prefix", service.prefix_limit),
                ("country", service.country_limit),
            )
            for key in sorted({getattr(item.destination, column) for item in batch})
        ]
        counts.update(await _limited_counts(conn, service_id, since, wanted))
        for i, item in zip(indexes, batch, strict=True):
            dest = item.destination
            current = pending.get(dest.to_addr)
            if current is not None and (
                current.status is not VerificationStatus.PENDING or current.expires_at <= now
            ):
                current = None
            keys = (("to_addr", dest.to_addr), ("prefix", dest.prefix), ("country", dest.country))
            seen = SendCounts(
                destination=counts[keys[0]], prefix=counts[keys[1]], country=counts[keys[2]]
            )
            decision = item.decide(service, current, seen, now)
            if isinstance(decision, Refuse):
                row = _block_row(service, dest, decision, now)
                block_rows.append(row)
                results[i] = StartResult(
                    service=service, verification=None, block=block_of(row), at=now
                )
                continue
            send_rows.append(
                {
                    "service_id": service_id,
                    "to_addr": dest.to_addr,
                    "prefix": dest.prefix,
                    "country": dest.country,
                    "at": now,
                }
            )
            for key in keys:
                counts[key] += 1
            if isinstance(decision, Issue):
                if current is not None:  # a new code replaces the old one
                    if current.id in new_rows:
                        new_rows[current.id]["status"] = VerificationStatus.CANCELED.value
                    else:
                        await _cancel(conn, current.id, now)
                row = _verification_row(service, dest, decision, now)
                new_rows[row["id"]] = row
                if decision.message is not None:
                    messages[i] = decision.message
                issued = pending[dest.to_addr] = verification_of(row)
                results[i] = StartResult(service=service, verification=issued, block=None, at=now)
                continue
            assert current is not None, "a resend needs a pending verification"
            if current.id in new_rows:
                row = new_rows[current.id]
                row["sends"] += 1
                row["updated_at"] = now
                resent = verification_of(row)
            else:
                resent = await _count_resend(conn, current.id, now)
            pending[dest.to_addr] = resent
            results[i] = StartResult(
                service=service, verification=resent, block=None, resent=True, at=now
            )

    if new_rows:
        await conn.execute(verifications.insert(), list(new_rows.values()))
    if send_rows:
        await conn.execute(verify_sends.insert(), send_rows)
    if block_rows:
        await conn.execute(verify_blocks.insert(), block_rows)
    if messages:
        stored = await insert_messages(conn, list(messages.values()), now)
        for i, message in zip(messages, stored, strict=True):
            result = results[i]
            assert isinstance(result, StartResult)
            results[i] = dataclasses.replace(result, message=message)
    done: list[StartResult | MarconiError] = []
    for result in results:
        assert result is not None
        done.append(result)
    return done


# -- reads -----------------------------------------------------------------------------------------


async def _services(
    conn: AsyncConnection, service_ids: Iterable[str], *, lock: bool
) -> dict[str, VerifyService]:
    t = verify_services.c
    # In id order, so batches on several connections lock them without deadlocking.
    query = sa.select(verify_services).where(t.id.in_(sorted(service_ids))).order_by(t.id)
    if lock:
        query = query.with_for_update()
    return {r.id: service_of(r._mapping) for r in await conn.execute(query)}


async def _pending(
    conn: AsyncConnection, service_id: str, to_addrs: set[str]
) -> dict[str, Verification]:
    """Each number's newest pending verification (a start cancels the one it replaces, so
    there is at most one)."""
    t = verifications.c
    rows = await conn.execute(
        sa.select(verifications)
        .where(
            t.service_id == service_id,
            t.to_addr.in_(sorted(to_addrs)),
            t.status == VerificationStatus.PENDING.value,
        )
        .order_by(t.created_at)
    )
    return {r.to_addr: verification_of(r._mapping) for r in rows}  # the newest wins


async def _number_counts(
    conn: AsyncConnection, service_id: str, to_addrs: set[str], since: datetime
) -> dict[tuple[str, str], int]:
    """Each number's sends since ``since``, in one statement (a number has few: refused starts
    are not counted, so at most ``max_sends``)."""
    t = verify_sends.c
    counts = dict.fromkeys((("to_addr", to_addr) for to_addr in to_addrs), 0)
    rows = await conn.execute(
        sa.select(t.to_addr, sa.func.count())
        .where(t.service_id == service_id, t.to_addr.in_(sorted(to_addrs)), t.at > since)
        .group_by(t.to_addr)
    )
    for to_addr, count in rows:
        counts["to_addr", to_addr] = int(count)
    return counts


async def _limited_counts(
    conn: AsyncConnection,
    service_id: str,
    since: datetime,
    wanted: Sequence[tuple[str, str, int]],
) -> dict[tuple[str, str], int]:
    """Sends since ``since`` of each ``(column, value, limit)``, counted up to ``limit + 1``
    only (a burst costs the guard no more than its limit), all in one statement."""
    t = verify_sends.c
    columns = []
    for column, value, limit in wanted:
        hits = (
            sa.select(sa.literal(1))
            .where(t.service_id == service_id, t[column] == value, t.at > since)
            .limit(limit + 1)
            .subquery()
        )
        columns.append(sa.select(sa.func.count()).select_from(hits).scalar_subquery())
    row = (await conn.execute(sa.select(*columns))).one()
    return {(column, value): int(n) for (column, value, _), n in zip(wanted, row, strict=True)}


# -- writes ----------------------------------------------------------------------------------------


async def _cancel(conn: AsyncConnection, verification_id: str, now: datetime) -> None:
    t = verifications.c
    await conn.execute(
        verifications.update()
        .where(t.id == verification_id)
        .values(status=VerificationStatus.CANCELED.value, updated_at=now)
    )


async def _count_resend(conn: AsyncConnection, verification_id: str, now: datetime) -> Verification:
    t = verifications.c
    row = (
        await conn.execute(
            verifications.update()
            .where(t.id == verification_id)
            .values(sends=t.sends + 1, updated_at=now)
            .returning(*verifications.c)
        )
    ).one()
    return verification_of(row._mapping)


def _verification_row(
    service: VerifyService, destination: Destination, issue: Issue, now: datetime
) -> dict[str, Any]:
    return {
        "id": issue.id,
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


def _block_row(
    service: VerifyService, destination: Destination, refuse: Refuse, now: datetime
) -> dict[str, Any]:
    return {
        "id": ids.new_id(BLOCK_ID),
        "service_id": service.id,
        "account_id": service.account_id,
        "to_addr": destination.to_addr,
        "country": destination.country,
        "reason": refuse.reason.value,
        "detail": refuse.detail,
        "created_at": now,
    }
