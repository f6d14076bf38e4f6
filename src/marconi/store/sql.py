"""The SQL store: one implementation of :class:`~marconi.store.protocols.Store` for SQLite and
PostgreSQL, on SQLAlchemy Core. Where the dialects differ (claims, upserts, locking) it says so.

Every write goes through a :class:`~marconi.store.batch.GroupCommitter`; reads use their own
connections. On SQLite the committer has the only writing connection; on PostgreSQL several
committers' transactions run at once and claims skip each other's locked rows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from marconi.errors import Conflict, MarconiError, NotFound, StoreError
from marconi.store import ids
from marconi.store.batch import AFTER_COMMIT, GroupCommitter, after_commit
from marconi.store.bulk import bulk_insert, bulk_update
from marconi.store.cursor import decode_cursor, encode_cursor
from marconi.store.engine import Dialect
from marconi.store.model import (
    FINAL_STATUSES,
    Account,
    AccountStatus,
    ApiKey,
    Direction,
    DispatchOutcome,
    Failed,
    JsonValue,
    Message,
    MessageEvent,
    MessageFilter,
    MessagePart,
    MessageStatus,
    NewMessage,
    NewWebhook,
    Number,
    NumberKind,
    Page,
    PartStatus,
    Receipt,
    ReceiptOutcome,
    RetryLater,
    StatusChange,
    StoredConnector,
    Submitted,
    Unset,
    WebhookAttempt,
    WebhookAttemptResult,
    WebhookDelivery,
    WebhookStatus,
)
from marconi.store.protocols import Store
from marconi.store.schema import (
    UtcDateTime,
    accounts,
    api_keys,
    connectors,
    early_receipts,
    idempotency_keys,
    message_events,
    message_parts,
    messages,
    numbers,
    to_micros,
    webhook_attempts,
    webhook_outbox,
)
from marconi.store.schema import routes as routes_table
from marconi.store.transition import ALLOWED, FINAL_PART_STATUSES, aggregate_parts

__all__ = ["DEFAULT_CALLBACK_STATUSES", "SqlStore", "StatusPayload", "default_status_payload"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Row = dict[str, Any]
RowLike = Mapping[Any, Any]

StatusPayload = Callable[[StatusChange], str]
"""Renders the body of a status callback."""

# Every status a message can reach after it was accepted, except ``sending``: it lasts the
# milliseconds between a claim and the SMSC's answer, and reporting it would add half again to
# the webhook traffic. Pass ``callback_statuses`` to include it.
DEFAULT_CALLBACK_STATUSES: Final = frozenset(MessageStatus) - {
    MessageStatus.QUEUED,
    MessageStatus.SCHEDULED,
    MessageStatus.RECEIVED,
    MessageStatus.SENDING,
}
STATUS_EVENT_TYPE: Final = "message.status"

# What a transition needs back to write its event and status callback.
_CHANGE_COLUMNS: Final = tuple(
    messages.c[name]
    for name in (
        "id",
        "account_id",
        "status",
        "event_seq",
        "status_callback",
        "to_addr",
        "from_addr",
        "segments",
        "connector",
        "error_code",
        "error_message",
    )
)
_MAX_PAGE: Final = 500
_CHECKPOINT_EVERY: Final = 0.5  # seconds
_MESSAGES_CHANNEL: Final = "marconi_messages"
_WEBHOOKS_CHANNEL: Final = "marconi_webhooks"


def _channel(name: str, schema: str | None) -> str:
    """NOTIFY channels are per database, not per schema: deployments that share a database in
    schemas of their own get channels of their own (short: a channel name has 63 bytes)."""
    if schema is None:
        return name
    return f"{name}_{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


# For each target status, the statuses a message may move to it from.
_MOVES_TO: Final = {
    target: sorted(source.value for source, targets in ALLOWED.items() if target in targets)
    for target in MessageStatus
}


def default_status_payload(change: StatusChange) -> str:
    body: dict[str, JsonValue] = {
        "type": STATUS_EVENT_TYPE,
        "message_id": change.message_id,
        "account_id": change.account_id,
        "status": change.status.value,
        "sequence": change.sequence,
        "timestamp": change.at.isoformat().replace("+00:00", "Z"),
        "to": change.to_addr,
        "from": change.from_addr,
        "segments": change.segments,
        "connector": change.connector,
        "error_code": change.error_code,
        "error_message": change.error_message,
        "details": dict(change.details),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


_STATUS: Final = {s.value: s for s in MessageStatus}
_DIRECTION: Final = {d.value: d for d in Direction}


def _message(row: RowLike) -> Message:
    return Message(
        id=row["id"],
        account_id=row["account_id"],
        direction=_DIRECTION[row["direction"]],
        from_addr=row["from_addr"],
        to_addr=row["to_addr"],
        body=row["body"],
        status=_STATUS[row["status"]],
        encoding=row["encoding"],
        segments=row["segments"],
        data_coding=row["data_coding"],
        priority=row["priority"],
        send_at=row["send_at"],
        expires_at=row["expires_at"],
        next_attempt_at=row["next_attempt_at"],
        attempts=row["attempts"],
        connector=row["connector"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        status_callback=row["status_callback"],
        metadata=row["metadata"],
        event_seq=row["event_seq"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        sent_at=row["sent_at"],
        done_at=row["done_at"],
        redacted_at=row["redacted_at"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        price=row["price"],
        price_unit=row["price_unit"],
    )


def _account(row: RowLike) -> Account:
    return Account(
        id=row["id"],
        parent_id=row["parent_id"],
        name=row["name"],
        status=AccountStatus(row["status"]),
        auth_token_hash=row["auth_token_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _api_key(row: RowLike) -> ApiKey:
    return ApiKey(**{c.name: row[c.name] for c in api_keys.columns})


def _number(row: RowLike) -> Number:
    values = {c.name: row[c.name] for c in numbers.columns}
    values["kind"] = NumberKind(values["kind"])
    return Number(**values)


def _part(row: RowLike) -> MessagePart:
    values = {c.name: row[c.name] for c in message_parts.columns}
    values["status"] = PartStatus(values["status"])
    return MessagePart(**values)


def _delivery(row: RowLike) -> WebhookDelivery:
    values = {c.name: row[c.name] for c in webhook_outbox.columns}
    values["status"] = WebhookStatus(values["status"])
    return WebhookDelivery(**values)


@dataclass(slots=True)
class _Change:
    """A requested status move of one message, applied only if the transition table allows it."""

    message_id: str
    status: MessageStatus
    fields: dict[str, Any] = field(default_factory=dict)
    details: dict[str, JsonValue] = field(default_factory=dict)


class SqlStore:
    """The store over SQLAlchemy Core. Build it with :func:`marconi.store.open_store`."""

    def __init__(
        self,
        *,
        dialect: Dialect,
        write_engine: AsyncEngine,
        read_engine: AsyncEngine,
        writers: int | None = None,
        callback_statuses: frozenset[MessageStatus] = DEFAULT_CALLBACK_STATUSES,
        status_payload: StatusPayload = default_status_payload,
        schema: str | None = None,
    ) -> None:
        self.dialect = dialect
        self._messages_channel = _channel(_MESSAGES_CHANNEL, schema)
        self._webhooks_channel = _channel(_WEBHOOKS_CHANNEL, schema)
        self._write_engine = write_engine
        self._read_engine = read_engine
        if writers is None:
            writers = 1 if dialect is Dialect.SQLITE else 4
        if dialect is Dialect.SQLITE and writers != 1:
            raise ValueError("SQLite has a single writer")
        self.committer = GroupCommitter(begin=write_engine.begin, workers=writers)
        self._callback_statuses = callback_statuses
        self._status_payload = status_payload
        self._pg = dialect is Dialect.POSTGRESQL
        self._closed = False
        # Set after a commit that made work: dispatchers and webhook senders sleep on these
        # instead of polling. On PostgreSQL, NOTIFY carries the news to the other nodes.
        self._messages_ready = asyncio.Event()
        self._webhooks_ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        # Our own NOTIFYs carry this, so the listener can skip news the process already has.
        self._node_token = secrets.token_hex(8)
        self._checkpointer: asyncio.Task[None] | None = None
        if not self._pg:
            path = write_engine.url.database
            assert path is not None
            self._checkpointer = asyncio.create_task(
                self._checkpoint_loop(path), name="store-checkpointer"
            )
        pg = self._pg
        self._insert_messages = bulk_insert(messages, pg=pg)
        self._insert_event_rows = bulk_insert(message_events, pg=pg)
        self._insert_webhooks = bulk_insert(webhook_outbox, pg=pg)
        self._insert_attempts = bulk_insert(webhook_attempts, pg=pg)
        self._upsert_parts = bulk_insert(
            message_parts,
            pg=pg,
            suffix="ON CONFLICT (message_id, part_number) DO UPDATE SET "
            + ", ".join(
                f"{name} = excluded.{name}"
                for name in (
                    "connector",
                    "smsc_message_id",
                    "status",
                    "error_code",
                    "submitted_at",
                    "receipt_stat",
                    "receipt_err",
                    "receipt_raw",
                    "receipt_at",
                    "updated_at",
                )
            ),
        )
        self._update_parts = bulk_update(
            message_parts,
            ["status", "receipt_stat", "receipt_err", "receipt_raw", "receipt_at", "updated_at"],
            ["message_id", "part_number"],
            pg=pg,
        )
        self._time: Callable[[datetime | None], object] = _same if self._pg else _micros_or_none

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in (self._listener, self._checkpointer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.committer.aclose()
        await self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            await self._read_engine.dispose()

    async def analyze(self) -> None:
        """Refresh the query planner's statistics (PostgreSQL ANALYZE, SQLite PRAGMA optimize)."""
        async with self._write_engine.connect() as conn:
            if self._pg:
                await conn.exec_driver_sql("ANALYZE")
            else:
                await conn.exec_driver_sql("PRAGMA optimize")
            await conn.commit()

    # -- wakeups -------------------------------------------------------------------------------

    async def wait_for_messages(self) -> None:
        await self._wait(self._messages_ready)

    async def wait_for_webhooks(self) -> None:
        await self._wait(self._webhooks_ready)

    async def _wait(self, ready: asyncio.Event) -> None:
        if self._pg and self._listener is None and not self._closed:
            self._listener = asyncio.create_task(self._listen(), name="store-listener")
        await ready.wait()
        ready.clear()

    async def _wake(self, conn: AsyncConnection, ready: asyncio.Event, channel: str) -> None:
        """Set ``ready`` once this transaction commits (and NOTIFY the other nodes)."""
        if ready.set in conn.info[AFTER_COMMIT]:
            return
        after_commit(conn, ready.set)
        if self._pg:
            await conn.exec_driver_sql(f"SELECT pg_notify('{channel}', '{self._node_token}')")

    async def _listen(self) -> None:
        dsn = self._write_engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while not self._closed:
            try:
                conn = await asyncpg.connect(dsn, timeout=10)
            except (OSError, TimeoutError, asyncpg.PostgresError):
                await asyncio.sleep(1.0)
                continue
            lost = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(self._messages_channel, self._news(self._messages_ready))
                await conn.add_listener(self._webhooks_channel, self._news(self._webhooks_ready))
                # Whatever was committed while nobody listened.
                self._messages_ready.set()
                self._webhooks_ready.set()
                await lost.wait()
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)

    async def _checkpoint_loop(self, path: str) -> None:
        """Copy the WAL back into the database file every little while, off the writer.

        PASSIVE never waits for readers or the writer; what it cannot copy yet it copies the
        next time. The writer then starts the WAL over from its beginning.
        """
        # One thread owns the connection, so a checkpoint still running when we are cancelled
        # finishes before the connection closes.
        loop = asyncio.get_running_loop()
        thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        conn = await loop.run_in_executor(
            thread, functools.partial(sqlite3.connect, path, check_same_thread=False)
        )
        try:
            while True:
                await asyncio.sleep(_CHECKPOINT_EVERY)
                try:
                    await loop.run_in_executor(
                        thread, conn.execute, "PRAGMA wal_checkpoint(PASSIVE)"
                    )
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            await asyncio.shield(loop.run_in_executor(thread, conn.close))
            thread.shutdown(wait=True)

    def _news(self, ready: asyncio.Event) -> Callable[[object, int, str, str], None]:
        def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            if payload != self._node_token:
                ready.set()

        return on_notify

    # -- plumbing ------------------------------------------------------------------------------

    async def _read(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        try:
            async with self._read_engine.connect() as conn:
                return await fn(conn)
        except MarconiError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(f"the database failed the read: {type(exc).__name__}: {exc}") from exc

    async def _write(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """A one-off write, in a transaction it may share with others."""
        result: T = await self.committer.submit(self._op_call, fn)
        return result

    async def _op_call(
        self, conn: AsyncConnection, items: Sequence[Callable[[AsyncConnection], Awaitable[Any]]]
    ) -> list[Any]:
        results: list[Any] = []
        for fn in items:
            try:
                results.append(await fn(conn))
            except (NotFound, Conflict) as exc:  # refused before writing anything
                results.append(exc)
        return results

    def _claimable(
        self, id_column: sa.ColumnElement[str], due: sa.Select[tuple[str]]
    ) -> sa.ColumnElement[bool]:
        """The rows ``due`` selects, as an UPDATE's condition. PostgreSQL: a CTE that locks
        them and skips rows another claimer holds (a CTE runs once, whatever the plan)."""
        if self._pg:
            locked = due.with_for_update(skip_locked=True).cte("due")
            return id_column == locked.c.id
        return id_column.in_(due)

    def _lock(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update() if self._pg else query

    # -- accounts ------------------------------------------------------------------------------

    async def create_account(
        self,
        *,
        name: str,
        now: datetime,
        parent_id: str | None = None,
        auth_token_hash: str | None = None,
        account_id: str | None = None,
    ) -> Account:
        row: Row = {
            "id": account_id or ids.new_id(ids.ACCOUNT),
            "parent_id": parent_id,
            "name": name,
            "status": AccountStatus.ACTIVE.value,
            "auth_token_hash": auth_token_hash,
            "created_at": now,
            "updated_at": now,
        }

        async def run(conn: AsyncConnection) -> Account:
            if parent_id is not None:
                found = await conn.scalar(
                    sa.select(accounts.c.id).where(accounts.c.id == parent_id)
                )
                if found is None:
                    raise NotFound(f"parent account {parent_id} not found")
            if await conn.scalar(sa.select(accounts.c.id).where(accounts.c.id == row["id"])):
                raise Conflict(f"account {row['id']} exists already")
            await conn.execute(accounts.insert(), row)
            return _account(row)

        return await self._write(run)

    async def get_account(self, account_id: str) -> Account:
        async def run(conn: AsyncConnection) -> Account:
            row = (await conn.execute(accounts.select().where(accounts.c.id == account_id))).first()
            if row is None:
                raise NotFound(f"account {account_id} not found")
            return _account(row._mapping)

        return await self._read(run)

    async def list_subaccounts(self, parent_id: str) -> list[Account]:
        async def run(conn: AsyncConnection) -> list[Account]:
            rows = await conn.execute(
                accounts.select()
                .where(accounts.c.parent_id == parent_id)
                .order_by(accounts.c.created_at, accounts.c.id)
            )
            return [_account(r._mapping) for r in rows]

        return await self._read(run)

    async def count_accounts(self) -> int:
        async def run(conn: AsyncConnection) -> int:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(accounts)) or 0)

        return await self._read(run)

    async def set_auth_token_hash(
        self, account_id: str, auth_token_hash: str, *, now: datetime
    ) -> Account:
        async def run(conn: AsyncConnection) -> Account:
            row = (
                await conn.execute(
                    accounts.update()
                    .where(accounts.c.id == account_id)
                    .values(auth_token_hash=auth_token_hash, updated_at=now)
                    .returning(*accounts.c)
                )
            ).first()
            if row is None:
                raise NotFound(f"account {account_id} not found")
            return _account(row._mapping)

        return await self._write(run)

    # -- API keys ------------------------------------------------------------------------------

    async def create_api_key(
        self,
        *,
        account_id: str,
        secret_hash: str,
        now: datetime,
        name: str = "",
        key_id: str | None = None,
    ) -> ApiKey:
        row: Row = {
            "id": key_id or ids.new_id(ids.API_KEY),
            "account_id": account_id,
            "name": name,
            "secret_hash": secret_hash,
            "created_at": now,
            "revoked_at": None,
            "last_used_at": None,
        }

        async def run(conn: AsyncConnection) -> ApiKey:
            found = await conn.scalar(sa.select(accounts.c.id).where(accounts.c.id == account_id))
            if found is None:
                raise NotFound(f"account {account_id} not found")
            await conn.execute(api_keys.insert(), row)
            return _api_key(row)

        return await self._write(run)

    async def get_api_key(self, key_id: str) -> ApiKey:
        async def run(conn: AsyncConnection) -> ApiKey:
            row = (await conn.execute(api_keys.select().where(api_keys.c.id == key_id))).first()
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            return _api_key(row._mapping)

        return await self._read(run)

    async def list_api_keys(self, account_id: str) -> list[ApiKey]:
        async def run(conn: AsyncConnection) -> list[ApiKey]:
            rows = await conn.execute(
                api_keys.select()
                .where(api_keys.c.account_id == account_id)
                .order_by(api_keys.c.created_at, api_keys.c.id)
            )
            return [_api_key(r._mapping) for r in rows]

        return await self._read(run)

    async def revoke_api_key(self, account_id: str, key_id: str, *, now: datetime) -> ApiKey:
        async def run(conn: AsyncConnection) -> ApiKey:
            where = sa.and_(api_keys.c.id == key_id, api_keys.c.account_id == account_id)
            await conn.execute(
                api_keys.update()
                .where(where, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = (await conn.execute(api_keys.select().where(where))).first()
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            return _api_key(row._mapping)

        return await self._write(run)

    async def touch_api_key(self, key_id: str, *, now: datetime) -> None:
        await self.committer.submit(self._op_touch, (key_id, now))

    async def _op_touch(
        self, conn: AsyncConnection, items: Sequence[tuple[str, datetime]]
    ) -> list[None]:
        latest: dict[str, datetime] = {}
        for key_id, now in items:
            if key_id not in latest or latest[key_id] < now:
                latest[key_id] = now
        await conn.execute(
            api_keys.update()
            .where(
                api_keys.c.id == sa.bindparam("b_id"),
                sa.or_(
                    api_keys.c.last_used_at.is_(None),
                    api_keys.c.last_used_at < sa.bindparam("b_now"),
                ),
            )
            .values(last_used_at=sa.bindparam("b_now")),
            [{"b_id": k, "b_now": t} for k, t in sorted(latest.items())],
        )
        return [None] * len(items)

    # -- numbers -------------------------------------------------------------------------------

    async def create_number(
        self,
        *,
        account_id: str,
        value: str,
        kind: NumberKind,
        now: datetime,
        inbound_webhook_url: str | None = None,
        inbound_webhook_method: str = "POST",
        status_callback_url: str | None = None,
    ) -> Number:
        row: Row = {
            "id": ids.new_id(ids.NUMBER),
            "account_id": account_id,
            "value": value,
            "kind": kind.value,
            "inbound_webhook_url": inbound_webhook_url,
            "inbound_webhook_method": inbound_webhook_method,
            "status_callback_url": status_callback_url,
            "created_at": now,
            "updated_at": now,
        }

        async def run(conn: AsyncConnection) -> Number:
            if await conn.scalar(sa.select(numbers.c.id).where(numbers.c.value == value)):
                raise Conflict(f"the sender {value} is registered already")
            await conn.execute(numbers.insert(), row)
            return _number(row)

        return await self._write(run)

    async def get_number(self, account_id: str, number_id: str) -> Number:
        async def run(conn: AsyncConnection) -> Number:
            row = (
                await conn.execute(
                    numbers.select().where(
                        numbers.c.id == number_id, numbers.c.account_id == account_id
                    )
                )
            ).first()
            if row is None:
                raise NotFound(f"number {number_id} not found")
            return _number(row._mapping)

        return await self._read(run)

    async def find_number(self, value: str) -> Number | None:
        async def run(conn: AsyncConnection) -> Number | None:
            row = (await conn.execute(numbers.select().where(numbers.c.value == value))).first()
            return None if row is None else _number(row._mapping)

        return await self._read(run)

    async def list_numbers(self, account_id: str) -> list[Number]:
        async def run(conn: AsyncConnection) -> list[Number]:
            rows = await conn.execute(
                numbers.select()
                .where(numbers.c.account_id == account_id)
                .order_by(numbers.c.created_at, numbers.c.id)
            )
            return [_number(r._mapping) for r in rows]

        return await self._read(run)

    async def update_number(
        self,
        account_id: str,
        number_id: str,
        *,
        now: datetime,
        inbound_webhook_url: str | Unset | None = Unset.UNSET,
        inbound_webhook_method: str | Unset = Unset.UNSET,
        status_callback_url: str | Unset | None = Unset.UNSET,
    ) -> Number:
        changes: Row = {"updated_at": now}
        if not isinstance(inbound_webhook_url, Unset):
            changes["inbound_webhook_url"] = inbound_webhook_url
        if not isinstance(inbound_webhook_method, Unset):
            changes["inbound_webhook_method"] = inbound_webhook_method
        if not isinstance(status_callback_url, Unset):
            changes["status_callback_url"] = status_callback_url

        async def run(conn: AsyncConnection) -> Number:
            row = (
                await conn.execute(
                    numbers.update()
                    .where(numbers.c.id == number_id, numbers.c.account_id == account_id)
                    .values(**changes)
                    .returning(*numbers.c)
                )
            ).first()
            if row is None:
                raise NotFound(f"number {number_id} not found")
            return _number(row._mapping)

        return await self._write(run)

    async def delete_number(self, account_id: str, number_id: str) -> None:
        async def run(conn: AsyncConnection) -> None:
            result = await conn.execute(
                numbers.delete().where(
                    numbers.c.id == number_id, numbers.c.account_id == account_id
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"number {number_id} not found")

        await self._write(run)

    # -- messages: accept ----------------------------------------------------------------------

    async def insert_message(self, new: NewMessage, *, now: datetime) -> Message:
        _check_new(new)
        result: list[Message] = await self.committer.submit(self._op_insert, ((new,), now))
        return result[0]

    async def insert_messages(self, news: Sequence[NewMessage], *, now: datetime) -> list[Message]:
        for new in news:
            _check_new(new)
        if not news:
            return []
        result: list[Message] = await self.committer.submit(self._op_insert, (tuple(news), now))
        return result

    async def _op_insert(
        self,
        conn: AsyncConnection,
        items: Sequence[tuple[tuple[NewMessage, ...], datetime]],
    ) -> list[list[Message] | MarconiError]:
        keys = {
            (new.account_id, new.idempotency_key)
            for news, _ in items
            for new in news
            if new.idempotency_key is not None
        }
        known: dict[tuple[str, str], tuple[str, Message]] = {}
        if keys:
            found = (
                await conn.execute(
                    sa.select(
                        idempotency_keys.c.account_id,
                        idempotency_keys.c.key,
                        idempotency_keys.c.request_hash,
                        messages,
                    )
                    .join(messages, messages.c.id == idempotency_keys.c.message_id)
                    .where(_pairs_in(idempotency_keys.c.account_id, idempotency_keys.c.key, keys))
                )
            ).all()
            for r in found:
                m = r._mapping
                known[(m["account_id"], m["key"])] = (m["request_hash"], _message(m))

        message_rows: list[Message] = []
        key_rows: list[Row] = []
        hook_rows: list[Row] = []
        results: list[list[Message] | MarconiError] = []
        for news, now in items:
            staged_messages: list[Message] = []
            staged_keys: list[Row] = []
            staged_hooks: list[Row] = []
            staged_known: dict[tuple[str, str], tuple[str, Message]] = {}
            out: list[Message] = []
            error: MarconiError | None = None
            for new in news:
                key = None
                if new.idempotency_key is not None:
                    key = (new.account_id, new.idempotency_key)
                    earlier = known.get(key) or staged_known.get(key)
                    if earlier is not None:
                        if earlier[0] != (new.request_hash or ""):
                            error = Conflict(
                                f"Idempotency-Key {new.idempotency_key!r} was used for a "
                                "different request"
                            )
                            break
                        out.append(earlier[1])
                        continue
                message = _new_message(new, now)
                staged_messages.append(message)
                if key is not None:
                    staged_keys.append(
                        {
                            "account_id": key[0],
                            "key": key[1],
                            "request_hash": new.request_hash or "",
                            "message_id": message.id,
                            "created_at": now,
                        }
                    )
                    staged_known[key] = (new.request_hash or "", message)
                if new.webhook is not None:
                    staged_hooks.append(_webhook_row(new.webhook, now, message_id=message.id))
                out.append(message)
            if error is not None:
                results.append(error)
                continue
            known.update(staged_known)
            message_rows += staged_messages
            key_rows += staged_keys
            hook_rows += staged_hooks
            results.append(out)
        if message_rows:
            # The hot path: positional parameters straight to the driver, no per-row compiling.
            time = self._time
            await self._insert_messages.run(conn, [_message_params(m, time) for m in message_rows])
            await self._insert_event_rows.run(
                conn, [(m.id, 1, m.status.value, time(m.created_at), "{}") for m in message_rows]
            )
        if key_rows:
            await conn.execute(idempotency_keys.insert(), key_rows)
        if hook_rows:
            await conn.execute(webhook_outbox.insert(), hook_rows)
            await self._wake(conn, self._webhooks_ready, self._webhooks_channel)
        if any(m.status is MessageStatus.QUEUED for m in message_rows):
            await self._wake(conn, self._messages_ready, self._messages_channel)
        return results

    # -- messages: read ------------------------------------------------------------------------

    async def get_message(self, account_id: str, message_id: str) -> Message:
        async def run(conn: AsyncConnection) -> Message:
            return await self._get_message(conn, account_id, message_id)

        return await self._read(run)

    async def _get_message(
        self, conn: AsyncConnection, account_id: str, message_id: str
    ) -> Message:
        row = (
            await conn.execute(
                messages.select().where(
                    messages.c.id == message_id, messages.c.account_id == account_id
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"message {message_id} not found")
        return _message(row._mapping)

    async def list_messages(
        self,
        account_id: str,
        *,
        filter: MessageFilter | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Message]:
        limit = max(1, min(limit, _MAX_PAGE))
        f = filter or MessageFilter()
        m = messages.c
        query = messages.select().where(m.account_id == account_id)
        if f.to_addr is not None:
            query = query.where(m.to_addr == f.to_addr)
        if f.from_addr is not None:
            query = query.where(m.from_addr == f.from_addr)
        if f.statuses:
            query = query.where(m.status.in_(sorted(s.value for s in f.statuses)))
        if f.direction is not None:
            query = query.where(m.direction == f.direction.value)
        if f.created_after is not None:
            query = query.where(m.created_at >= f.created_after)
        if f.created_before is not None:
            query = query.where(m.created_at < f.created_before)
        if cursor is not None:
            at, last_id = decode_cursor(cursor)
            query = query.where(
                sa.or_(m.created_at < at, sa.and_(m.created_at == at, m.id < last_id))
            )
        query = query.order_by(m.created_at.desc(), m.id.desc()).limit(limit + 1)

        async def run(conn: AsyncConnection) -> Page[Message]:
            rows = [_message(r._mapping) for r in await conn.execute(query)]
            next_cursor = None
            if len(rows) > limit:
                rows = rows[:limit]
                next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
            return Page(items=rows, next_cursor=next_cursor)

        return await self._read(run)

    async def list_events(self, account_id: str, message_id: str) -> list[MessageEvent]:
        async def run(conn: AsyncConnection) -> list[MessageEvent]:
            rows = (
                await conn.execute(
                    sa.select(message_events)
                    .join(messages, messages.c.id == message_events.c.message_id)
                    .where(messages.c.id == message_id, messages.c.account_id == account_id)
                    .order_by(message_events.c.seq)
                )
            ).all()
            if not rows:
                raise NotFound(f"message {message_id} not found")
            return [
                MessageEvent(
                    message_id=r.message_id,
                    seq=r.seq,
                    status=MessageStatus(r.status),
                    at=r.at,
                    details=r.details,
                )
                for r in rows
            ]

        return await self._read(run)

    async def list_parts(self, account_id: str, message_id: str) -> list[MessagePart]:
        async def run(conn: AsyncConnection) -> list[MessagePart]:
            await self._get_message(conn, account_id, message_id)
            rows = await conn.execute(
                message_parts.select()
                .where(message_parts.c.message_id == message_id)
                .order_by(message_parts.c.part_number)
            )
            return [_part(r._mapping) for r in rows]

        return await self._read(run)

    # -- messages: account-side changes --------------------------------------------------------

    async def cancel_message(self, account_id: str, message_id: str, *, now: datetime) -> Message:
        async def run(conn: AsyncConnection) -> Message:
            current = await self._get_message(conn, account_id, message_id)
            if current.status not in (MessageStatus.SCHEDULED, MessageStatus.QUEUED):
                raise Conflict(f"message {message_id} is {current.status} and cannot be canceled")
            changed = await self._apply_changes(
                conn, [_Change(message_id, MessageStatus.CANCELED)], now, want=True
            )
            if message_id not in changed:
                raise Conflict(f"message {message_id} was taken for sending")
            return changed[message_id]

        return await self._write(run)

    async def redact_message(self, account_id: str, message_id: str, *, now: datetime) -> Message:
        async def run(conn: AsyncConnection) -> Message:
            current = await self._get_message(conn, account_id, message_id)
            if current.status in (
                MessageStatus.SCHEDULED,
                MessageStatus.QUEUED,
                MessageStatus.SENDING,
            ):
                raise Conflict(
                    f"message {message_id} is {current.status}; cancel it or wait until it is sent"
                )
            row = (
                await conn.execute(
                    messages.update()
                    .where(messages.c.id == message_id, messages.c.account_id == account_id)
                    .values(
                        body=None,
                        redacted_at=sa.func.coalesce(
                            messages.c.redacted_at, sa.literal(now, UtcDateTime())
                        ),
                    )
                    .returning(*messages.c)
                )
            ).one()
            return _message(row._mapping)

        return await self._write(run)

    # -- the queue -----------------------------------------------------------------------------

    async def claim_batch(
        self, limit: int, *, now: datetime, worker_id: str, min_priority: int | None = None
    ) -> list[Message]:
        if limit <= 0:
            return []
        result: list[Message] = await self.committer.submit(
            self._op_claim, (limit, now, worker_id, min_priority)
        )
        return result

    async def _op_claim(
        self, conn: AsyncConnection, items: Sequence[tuple[int, datetime, str, int | None]]
    ) -> list[list[Message]]:
        results: list[list[Message]] = []
        for limit, now, worker_id, min_priority in items:
            await self._release_scheduled(conn, now)
            m = messages.c
            due = (
                sa.select(m.id)
                .where(_is(m.status, MessageStatus.QUEUED), m.next_attempt_at <= now)
                .order_by(m.priority.desc(), m.next_attempt_at, m.id)
                .limit(limit)
            )
            if min_priority is not None:  # the head of ix_messages_queue: a short range
                due = due.where(m.priority >= min_priority)
            rows = (
                await conn.execute(
                    messages.update()
                    .where(self._claimable(m.id, due))
                    .values(
                        status=MessageStatus.SENDING.value,
                        claimed_by=worker_id,
                        claimed_at=now,
                        updated_at=now,
                        attempts=m.attempts + 1,
                        event_seq=m.event_seq + 1,
                    )
                    .returning(*messages.c)
                )
            ).all()
            claimed = [r._mapping for r in rows]
            claimed.sort(key=lambda r: (-r["priority"], r["next_attempt_at"], r["id"]))
            details: dict[str, JsonValue] = {"worker": worker_id}
            await self._insert_events(conn, [(r, details) for r in claimed], now)
            results.append([_message(r) for r in claimed])
        return results

    async def _release_scheduled(self, conn: AsyncConnection, now: datetime) -> None:
        m = messages.c
        due = await conn.scalars(
            sa.select(m.id)
            .where(_is(m.status, MessageStatus.SCHEDULED), m.send_at <= now)
            .order_by(m.send_at)
            .limit(1000)
        )
        changes = [_Change(i, MessageStatus.QUEUED, {}, {"reason": "send_at reached"}) for i in due]
        if changes:
            await self._apply_changes(conn, changes, now)

    async def requeue_stale(self, *, now: datetime, claimed_before: datetime) -> int:
        async def run(conn: AsyncConnection) -> int:
            m = messages.c
            stale = await conn.scalars(
                sa.select(m.id).where(
                    _is(m.status, MessageStatus.SENDING), m.claimed_at < claimed_before
                )
            )
            changes = [
                _Change(
                    i,
                    MessageStatus.QUEUED,
                    {"claimed_by": None, "claimed_at": None, "next_attempt_at": now},
                    {"reason": "requeued after the worker stopped answering"},
                )
                for i in stale
            ]
            if not changes:
                return 0
            await self._wake(conn, self._messages_ready, self._messages_channel)
            return len(await self._apply_changes(conn, changes, now, want=True))

        return await self._write(run)

    async def expire_due(self, *, now: datetime, limit: int = 1000) -> int:
        async def run(conn: AsyncConnection) -> int:
            m = messages.c
            due = await conn.scalars(
                sa.select(m.id)
                .where(
                    # the exact terms of ix_messages_expiry's WHERE, so SQLite uses it
                    sa.text("messages.status IN ('queued', 'scheduled')"),
                    m.expires_at.is_not(None),
                    m.expires_at <= now,
                )
                .order_by(m.expires_at)
                .limit(limit)
            )
            details: dict[str, JsonValue] = {"reason": "the validity period passed"}
            changes = [_Change(i, MessageStatus.EXPIRED, {}, details) for i in due]
            if not changes:
                return 0
            return len(await self._apply_changes(conn, changes, now, want=True))

        return await self._write(run)

    async def purge_idempotency_keys(self, *, created_before: datetime) -> int:
        async def run(conn: AsyncConnection) -> int:
            result = await conn.execute(
                idempotency_keys.delete().where(idempotency_keys.c.created_at < created_before)
            )
            return int(result.rowcount)

        return await self._write(run)

    async def queue_depth(self) -> int:
        async def run(conn: AsyncConnection) -> int:
            queued = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(messages)
                .where(_is(messages.c.status, MessageStatus.QUEUED))
            )
            sending = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(messages)
                .where(_is(messages.c.status, MessageStatus.SENDING))
            )
            return int(queued or 0) + int(sending or 0)

        return await self._read(run)

    async def record_submit_results(
        self, outcomes: Sequence[DispatchOutcome], *, now: datetime
    ) -> None:
        if outcomes:
            await self.committer.submit(self._op_submit_results, (tuple(outcomes), now))

    async def _op_submit_results(
        self,
        conn: AsyncConnection,
        items: Sequence[tuple[tuple[DispatchOutcome, ...], datetime]],
    ) -> list[None]:
        for outcomes, now in items:
            await self._submit_results(conn, outcomes, now)
        return [None] * len(items)

    async def _submit_results(
        self, conn: AsyncConnection, outcomes: Sequence[DispatchOutcome], now: datetime
    ) -> None:
        changes: list[_Change] = []
        part_rows: list[Row] = []
        for outcome in outcomes:
            if isinstance(outcome, Submitted):
                taken = [sp for sp in outcome.parts if sp.smsc_message_id is not None]
                for sp in outcome.parts:
                    part_rows.append(
                        {
                            "message_id": outcome.message_id,
                            "part_number": sp.part_number,
                            "connector": outcome.connector,
                            "smsc_message_id": sp.smsc_message_id,
                            "status": (
                                PartStatus.SUBMITTED if sp.smsc_message_id else PartStatus.FAILED
                            ).value,
                            "error_code": sp.error_code,
                            "submitted_at": now,
                            "receipt_stat": None,
                            "receipt_err": None,
                            "receipt_raw": None,
                            "receipt_at": None,
                            "updated_at": now,
                        }
                    )
                if taken:
                    changes.append(
                        _Change(
                            outcome.message_id,
                            MessageStatus.SENT,
                            {
                                "connector": outcome.connector,
                                "sent_at": now,
                                "claimed_by": None,
                                "error_code": None,  # an earlier try's error is history now
                                "error_message": None,
                            },
                            {"connector": outcome.connector, "parts": len(outcome.parts)},
                        )
                    )
                else:
                    code = next((sp.error_code for sp in outcome.parts if sp.error_code), None)
                    changes.append(
                        _Change(
                            outcome.message_id,
                            MessageStatus.FAILED,
                            {
                                "connector": outcome.connector,
                                "error_code": code,
                                "error_message": outcome.error_message,
                                "claimed_by": None,
                            },
                            {"connector": outcome.connector, "error_code": code},
                        )
                    )
            elif isinstance(outcome, RetryLater):
                changes.append(
                    _Change(
                        outcome.message_id,
                        MessageStatus.QUEUED,
                        {
                            "next_attempt_at": outcome.next_attempt_at,
                            "error_code": outcome.error_code,
                            "error_message": outcome.error_message,
                            "claimed_by": None,
                            "claimed_at": None,
                        },
                        {"retry": True, "error_code": outcome.error_code},
                    )
                )
            elif isinstance(outcome, Failed):
                if outcome.status not in FINAL_STATUSES:
                    raise ValueError(f"Failed takes a final status, not {outcome.status}")
                changes.append(
                    _Change(
                        outcome.message_id,
                        outcome.status,
                        {
                            "error_code": outcome.error_code,
                            "error_message": outcome.error_message,
                            "claimed_by": None,
                        },
                        {"error_code": outcome.error_code},
                    )
                )
        await self._apply_changes(conn, changes, now)
        if not part_rows:
            return
        # One row per part: the newest outcome wins (an upsert may touch a row only once).
        part_rows = list({(r["message_id"], r["part_number"]): r for r in part_rows}.values())
        pairs = sorted(
            {(r["connector"], r["smsc_message_id"]) for r in part_rows if r["smsc_message_id"]}
        )
        mine = {(r["message_id"], r["part_number"]) for r in part_rows}
        if pairs:
            # An SMSC that recycles ids: the newest submit owns the id from now on.
            p = message_parts.c
            holders = await conn.execute(
                sa.select(p.message_id, p.part_number).where(
                    _pairs_in(p.connector, p.smsc_message_id, pairs)
                )
            )
            stale = [
                {"b_mid": h.message_id, "b_pn": h.part_number}
                for h in holders
                if (h.message_id, h.part_number) not in mine
            ]
            if stale:
                await conn.execute(
                    message_parts.update()
                    .where(
                        p.message_id == sa.bindparam("b_mid"), p.part_number == sa.bindparam("b_pn")
                    )
                    .values(smsc_message_id=None),
                    stale,
                )
        t = self._time
        await self._upsert_parts.run(
            conn,
            [
                (
                    r["message_id"],
                    r["part_number"],
                    r["connector"],
                    r["smsc_message_id"],
                    r["status"],
                    r["error_code"],
                    t(now),
                    None,
                    None,
                    None,
                    None,
                    t(now),
                )
                for r in part_rows
            ],
        )
        if pairs:
            e = early_receipts.c
            early = (
                await conn.execute(
                    early_receipts.select()
                    .where(_pairs_in(e.connector, e.smsc_message_id, pairs))
                    .order_by(e.id)
                )
            ).all()
            if early:
                receipts = [
                    Receipt(
                        connector=r.connector,
                        smsc_message_id=r.smsc_message_id,
                        status=PartStatus(r.status),
                        stat=r.stat,
                        err=r.err,
                        raw=r.raw,
                    )
                    for r in early
                ]
                await self._apply_receipts(conn, receipts, now)
                await conn.execute(early_receipts.delete().where(e.id.in_([r.id for r in early])))

    async def apply_receipts(
        self, receipts: Sequence[Receipt], *, now: datetime
    ) -> list[ReceiptOutcome]:
        if not receipts:
            return []
        result: list[ReceiptOutcome] = await self.committer.submit(
            self._op_receipts, (tuple(receipts), now)
        )
        return result

    async def _op_receipts(
        self,
        conn: AsyncConnection,
        items: Sequence[tuple[tuple[Receipt, ...], datetime]],
    ) -> list[list[ReceiptOutcome]]:
        return [await self._apply_receipts(conn, receipts, now) for receipts, now in items]

    async def _apply_receipts(
        self, conn: AsyncConnection, receipts: Sequence[Receipt], now: datetime
    ) -> list[ReceiptOutcome]:
        p = message_parts.c
        pairs = sorted({(r.connector, r.smsc_message_id) for r in receipts})
        query = sa.select(
            p.message_id, p.part_number, p.connector, p.smsc_message_id, p.status
        ).where(_pairs_in(p.connector, p.smsc_message_id, pairs))
        found = {
            (r.connector, r.smsc_message_id): dict(r._mapping)
            for r in await conn.execute(self._lock(query))
        }
        outcomes: list[ReceiptOutcome] = []
        early_rows: list[Row] = []
        touched: dict[tuple[str, int], Row] = {}
        last_err: dict[str, str | None] = {}
        for receipt in receipts:
            part = found.get((receipt.connector, receipt.smsc_message_id))
            if part is None:
                early_rows.append(
                    {
                        "connector": receipt.connector,
                        "smsc_message_id": receipt.smsc_message_id,
                        "status": receipt.status.value,
                        "stat": receipt.stat,
                        "err": receipt.err,
                        "raw": receipt.raw,
                        "received_at": now,
                    }
                )
                outcomes.append(ReceiptOutcome.EARLY)
                continue
            if PartStatus(part["status"]) in FINAL_PART_STATUSES:
                outcomes.append(ReceiptOutcome.DUPLICATE)
                continue
            if receipt.status is not PartStatus.SUBMITTED:
                part["status"] = receipt.status.value
                last_err[part["message_id"]] = receipt.err
            part["receipt_stat"] = receipt.stat
            part["receipt_err"] = receipt.err
            part["receipt_raw"] = receipt.raw
            part["receipt_at"] = now
            part["updated_at"] = now
            touched[(part["message_id"], part["part_number"])] = part
            outcomes.append(ReceiptOutcome.APPLIED)
        if early_rows:
            await conn.execute(early_receipts.insert(), early_rows)
        if not touched:
            return outcomes
        at = self._time(now)
        await self._update_parts.run(
            conn,
            [
                (
                    r["status"],
                    r["receipt_stat"],
                    r["receipt_err"],
                    r["receipt_raw"],
                    at,
                    at,
                    r["message_id"],
                    r["part_number"],
                )
                for _, r in sorted(touched.items())
            ],
        )
        decided = sorted(last_err)
        if not decided:
            return outcomes
        statuses: dict[str, list[PartStatus]] = {}
        for r in await conn.execute(
            sa.select(p.message_id, p.status).where(p.message_id.in_(decided))
        ):
            statuses.setdefault(r.message_id, []).append(PartStatus(r.status))
        changes: list[_Change] = []
        for message_id in decided:
            parts = statuses.get(message_id, [])
            target = aggregate_parts(parts, segments=len(parts))
            if target is None:
                continue
            fields: dict[str, Any] = {}
            if target is not MessageStatus.DELIVERED and last_err[message_id]:
                fields["error_code"] = last_err[message_id]
            changes.append(
                _Change(
                    message_id,
                    target,
                    fields,
                    {
                        "parts": len(parts),
                        "delivered_parts": sum(1 for s in parts if s is PartStatus.DELIVERED),
                    },
                )
            )
        if changes:
            await self._apply_changes(conn, changes, now)
        return outcomes

    async def purge_early_receipts(self, *, received_before: datetime) -> int:
        async def run(conn: AsyncConnection) -> int:
            result = await conn.execute(
                early_receipts.delete().where(early_receipts.c.received_at < received_before)
            )
            return int(result.rowcount)

        return await self._write(run)

    async def settle_early_receipts(self, *, now: datetime, received_after: datetime) -> int:
        e = early_receipts.c
        p = message_parts.c
        query = (
            sa.select(early_receipts)
            .where(
                e.received_at > received_after,
                sa.exists().where(
                    p.connector == e.connector, p.smsc_message_id == e.smsc_message_id
                ),
            )
            .order_by(e.received_at, e.id)
            .limit(1000)
        )

        async def run(conn: AsyncConnection) -> int:
            early = (await conn.execute(query)).all()
            if not early:
                return 0
            receipts = [
                Receipt(
                    connector=r.connector,
                    smsc_message_id=r.smsc_message_id,
                    status=PartStatus(r.status),
                    stat=r.stat,
                    err=r.err,
                    raw=r.raw,
                )
                for r in early
            ]
            await self._apply_receipts(conn, receipts, now)
            await conn.execute(early_receipts.delete().where(e.id.in_([r.id for r in early])))
            return len(early)

        return await self._write(run)

    # -- transitions ---------------------------------------------------------------------------

    async def _apply_changes(
        self,
        conn: AsyncConnection,
        changes: Sequence[_Change],
        now: datetime,
        *,
        want: bool = False,
    ) -> dict[str, Message]:
        """Apply the allowed ones, each with an event row (and a status callback).

        Changes with the same target and fields run as one set-based UPDATE whose WHERE clause
        holds the transition table, so a change that is not allowed (any more) simply matches
        nothing; on PostgreSQL the UPDATE's row locks make that check safe between nodes.
        Returns the changed messages when ``want``, else only their ids (mapped to nothing).
        """
        groups: dict[tuple[MessageStatus, tuple[tuple[str, Any], ...]], dict[str, _Change]] = {}
        for change in changes:
            key = (change.status, tuple(sorted(change.fields.items())))
            groups.setdefault(key, {})[change.message_id] = change
        events: list[tuple[RowLike, dict[str, JsonValue]]] = []
        changed: dict[str, Message] = {}
        m = messages.c
        for (status, fields), group in groups.items():
            values: dict[str, Any] = dict(fields)
            values.update(status=status.value, event_seq=m.event_seq + 1, updated_at=now)
            if status in FINAL_STATUSES:
                values.update(done_at=now, claimed_by=None)
            returning = tuple(messages.c) if want else _CHANGE_COLUMNS
            for chunk in _chunks(sorted(group), 500):
                rows = await conn.execute(
                    messages.update()
                    .where(m.id.in_(chunk), m.status.in_(_MOVES_TO[status]))
                    .values(values)
                    .returning(*returning)
                )
                for r in rows:
                    row = r._mapping
                    events.append((row, group[row["id"]].details))
                    if want:
                        changed[row["id"]] = _message(row)
        await self._insert_events(conn, events, now)
        return changed

    async def _insert_events(
        self,
        conn: AsyncConnection,
        events: Sequence[tuple[RowLike, dict[str, JsonValue]]],
        now: datetime,
    ) -> int:
        if not events:
            return 0
        at = self._time(now)
        event_params: list[tuple[object, ...]] = []
        hook_params: list[tuple[object, ...]] = []
        encoded: dict[int, str] = {}  # many events share one details dict: encode it once
        for row, details in events:
            status = _STATUS[row["status"]]
            text = encoded.get(id(details))
            if text is None:
                text = encoded[id(details)] = (
                    json.dumps(details, separators=(",", ":")) if details else "{}"
                )
            event_params.append((row["id"], row["event_seq"], status.value, at, text))
            if row["status_callback"] and status in self._callback_statuses:
                change = StatusChange(
                    message_id=row["id"],
                    account_id=row["account_id"],
                    status=status,
                    sequence=row["event_seq"],
                    at=now,
                    to_addr=row["to_addr"],
                    from_addr=row["from_addr"],
                    segments=row["segments"],
                    connector=row["connector"],
                    error_code=row["error_code"],
                    error_message=row["error_message"],
                    details=details,
                )
                # A webhook_outbox row, in column order: pending and due now.
                hook_params.append(
                    (
                        ids.new_id(ids.WEBHOOK_DELIVERY),
                        row["account_id"],
                        row["id"],
                        row["status_callback"],
                        STATUS_EVENT_TYPE,
                        self._status_payload(change),
                        row["event_seq"],
                        WebhookStatus.PENDING.value,
                        0,
                        at,
                        None,
                        at,
                        at,
                        None,
                    )
                )
        await self._insert_event_rows.run(conn, event_params)
        if hook_params:
            await self._insert_webhooks.run(conn, hook_params)
            await self._wake(conn, self._webhooks_ready, self._webhooks_channel)
        return len(event_params)

    def _webhook_params(self, row: Row) -> tuple[object, ...]:
        t = self._time
        return (
            row["id"],
            row["account_id"],
            row["message_id"],
            row["url"],
            row["event_type"],
            row["payload"],
            row["sequence"],
            row["status"],
            row["attempts"],
            t(row["next_attempt_at"]),
            row["last_error"],
            t(row["created_at"]),
            t(row["updated_at"]),
            t(row["delivered_at"]),
        )

    # -- connectors and routes ----------------------------------------------------------------

    async def put_connector(
        self,
        *,
        name: str,
        kind: str,
        settings: Mapping[str, JsonValue],
        now: datetime,
        enabled: bool = True,
    ) -> StoredConnector:
        async def run(conn: AsyncConnection) -> StoredConnector:
            c = connectors.c
            created = await conn.scalar(sa.select(c.created_at).where(c.name == name))
            row: Row = {
                "name": name,
                "kind": kind,
                "settings": dict(settings),
                "enabled": enabled,
                "created_at": created or now,
                "updated_at": now,
            }
            if created is None:
                await conn.execute(connectors.insert(), row)
            else:
                await conn.execute(connectors.update().where(c.name == name).values(row))
            return StoredConnector(**row)

        return await self._write(run)

    async def get_connector(self, name: str) -> StoredConnector:
        async def run(conn: AsyncConnection) -> StoredConnector:
            row = (await conn.execute(connectors.select().where(connectors.c.name == name))).first()
            if row is None:
                raise NotFound(f"connector {name!r} not found")
            return StoredConnector(**row._mapping)

        return await self._read(run)

    async def list_connectors(self) -> list[StoredConnector]:
        async def run(conn: AsyncConnection) -> list[StoredConnector]:
            rows = await conn.execute(connectors.select().order_by(connectors.c.name))
            return [StoredConnector(**r._mapping) for r in rows]

        return await self._read(run)

    async def delete_connector(self, name: str) -> None:
        async def run(conn: AsyncConnection) -> None:
            result = await conn.execute(connectors.delete().where(connectors.c.name == name))
            if result.rowcount == 0:
                raise NotFound(f"connector {name!r} not found")

        await self._write(run)

    async def replace_routes(
        self, routes: Sequence[Mapping[str, JsonValue]], *, now: datetime
    ) -> None:
        rows = [
            {"position": i, "settings": dict(route), "updated_at": now}
            for i, route in enumerate(routes)
        ]

        async def run(conn: AsyncConnection) -> None:
            await conn.execute(sa.delete(routes_table))
            if rows:
                await conn.execute(routes_table.insert(), rows)

        await self._write(run)

    async def list_routes(self) -> list[Mapping[str, JsonValue]]:
        async def run(conn: AsyncConnection) -> list[Mapping[str, JsonValue]]:
            rows = await conn.execute(
                sa.select(routes_table.c.settings).order_by(routes_table.c.position)
            )
            return [r.settings for r in rows]

        return await self._read(run)

    # -- webhook outbox ------------------------------------------------------------------------

    async def enqueue_webhook(self, new: NewWebhook, *, now: datetime) -> WebhookDelivery:
        row = _webhook_row(new, now)

        async def run(conn: AsyncConnection) -> WebhookDelivery:
            await conn.execute(webhook_outbox.insert(), row)
            await self._wake(conn, self._webhooks_ready, self._webhooks_channel)
            return _delivery(row)

        return await self._write(run)

    async def claim_webhooks(
        self, limit: int, *, now: datetime, lease_until: datetime
    ) -> list[WebhookDelivery]:
        if limit <= 0:
            return []
        result: list[WebhookDelivery] = await self.committer.submit(
            self._op_claim_webhooks, (limit, now, lease_until)
        )
        return result

    async def _op_claim_webhooks(
        self, conn: AsyncConnection, items: Sequence[tuple[int, datetime, datetime]]
    ) -> list[list[WebhookDelivery]]:
        w = webhook_outbox.c
        results: list[list[WebhookDelivery]] = []
        for limit, now, lease_until in items:
            due = (
                sa.select(w.id)
                .where(_is(w.status, WebhookStatus.PENDING), w.next_attempt_at <= now)
                .order_by(w.next_attempt_at, w.id)
                .limit(limit)
            )
            rows = await conn.execute(
                webhook_outbox.update()
                .where(self._claimable(w.id, due))
                .values(next_attempt_at=lease_until, updated_at=now)
                .returning(*webhook_outbox.c)
            )
            claimed = [_delivery(r._mapping) for r in rows]
            claimed.sort(key=lambda d: (d.created_at, d.id))
            results.append(claimed)
        return results

    async def record_webhook_attempts(
        self, results: Sequence[WebhookAttemptResult], *, now: datetime
    ) -> None:
        if results:
            await self.committer.submit(self._op_webhook_attempts, (tuple(results), now))

    async def _op_webhook_attempts(
        self,
        conn: AsyncConnection,
        items: Sequence[tuple[tuple[WebhookAttemptResult, ...], datetime]],
    ) -> list[None]:
        for results, now in items:
            await self._webhook_attempts(conn, results, now)
        return [None] * len(items)

    async def _webhook_attempts(
        self, conn: AsyncConnection, results: Sequence[WebhookAttemptResult], now: datetime
    ) -> None:
        w = webhook_outbox.c
        by_id = {r.delivery_id: r for r in results}  # one attempt per delivery and call
        delivered = sorted(i for i, r in by_id.items() if r.ok)
        attempt_numbers: dict[str, int] = {}
        for chunk in _chunks(delivered, 500):
            # The common case, set-based: every delivered row gets the same values.
            rows = await conn.execute(
                webhook_outbox.update()
                .where(w.id.in_(chunk))
                .values(
                    status=WebhookStatus.DELIVERED.value,
                    attempts=w.attempts + 1,
                    next_attempt_at=None,
                    last_error=None,
                    delivered_at=now,
                    updated_at=now,
                )
                .returning(w.id, w.attempts)
            )
            attempt_numbers.update((r.id, r.attempts) for r in rows)
        for delivery_id, result in sorted(by_id.items()):
            if result.ok:
                continue
            retry = result.next_attempt_at is not None
            row = (
                await conn.execute(
                    webhook_outbox.update()
                    .where(w.id == delivery_id)
                    .values(
                        status=(WebhookStatus.PENDING if retry else WebhookStatus.DEAD).value,
                        attempts=w.attempts + 1,
                        next_attempt_at=result.next_attempt_at,
                        last_error=result.error,
                        delivered_at=None,
                        updated_at=now,
                    )
                    .returning(w.id, w.attempts)
                )
            ).first()
            if row is not None:
                attempt_numbers[row.id] = row.attempts
        at = self._time(now)
        params = [
            (i, n, at, by_id[i].status_code, by_id[i].error, by_id[i].duration_ms)
            for i, n in sorted(attempt_numbers.items())
        ]
        if params:
            await self._insert_attempts.run(conn, params)

    async def get_webhook_delivery(self, account_id: str, delivery_id: str) -> WebhookDelivery:
        async def run(conn: AsyncConnection) -> WebhookDelivery:
            return await self._get_delivery(conn, account_id, delivery_id)

        return await self._read(run)

    async def _get_delivery(
        self, conn: AsyncConnection, account_id: str, delivery_id: str
    ) -> WebhookDelivery:
        row = (
            await conn.execute(
                webhook_outbox.select().where(
                    webhook_outbox.c.id == delivery_id, webhook_outbox.c.account_id == account_id
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"webhook delivery {delivery_id} not found")
        return _delivery(row._mapping)

    async def list_webhook_deliveries(
        self,
        account_id: str,
        *,
        status: WebhookStatus | None = None,
        message_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]:
        limit = max(1, min(limit, _MAX_PAGE))
        w = webhook_outbox.c
        query = webhook_outbox.select().where(w.account_id == account_id)
        if status is not None:
            query = query.where(w.status == status.value)
        if message_id is not None:
            query = query.where(w.message_id == message_id)
        if cursor is not None:
            at, last_id = decode_cursor(cursor)
            query = query.where(
                sa.or_(w.created_at < at, sa.and_(w.created_at == at, w.id < last_id))
            )
        query = query.order_by(w.created_at.desc(), w.id.desc()).limit(limit + 1)

        async def run(conn: AsyncConnection) -> Page[WebhookDelivery]:
            rows = [_delivery(r._mapping) for r in await conn.execute(query)]
            next_cursor = None
            if len(rows) > limit:
                rows = rows[:limit]
                next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
            return Page(items=rows, next_cursor=next_cursor)

        return await self._read(run)

    async def list_webhook_attempts(
        self, account_id: str, delivery_id: str
    ) -> list[WebhookAttempt]:
        async def run(conn: AsyncConnection) -> list[WebhookAttempt]:
            await self._get_delivery(conn, account_id, delivery_id)
            rows = await conn.execute(
                webhook_attempts.select()
                .where(webhook_attempts.c.delivery_id == delivery_id)
                .order_by(webhook_attempts.c.number)
            )
            return [WebhookAttempt(**dict(r._mapping)) for r in rows]

        return await self._read(run)

    async def replay_webhook(
        self, account_id: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery:
        async def run(conn: AsyncConnection) -> WebhookDelivery:
            row = (
                await conn.execute(
                    webhook_outbox.update()
                    .where(
                        webhook_outbox.c.id == delivery_id,
                        webhook_outbox.c.account_id == account_id,
                    )
                    .values(
                        status=WebhookStatus.PENDING.value,
                        next_attempt_at=now,
                        delivered_at=None,
                        updated_at=now,
                    )
                    .returning(*webhook_outbox.c)
                )
            ).first()
            if row is None:
                raise NotFound(f"webhook delivery {delivery_id} not found")
            await self._wake(conn, self._webhooks_ready, self._webhooks_channel)
            return _delivery(row._mapping)

        return await self._write(run)


def _check_new(new: NewMessage) -> None:
    if new.status not in (MessageStatus.QUEUED, MessageStatus.SCHEDULED, MessageStatus.RECEIVED):
        raise ValueError(f"a new message is queued, scheduled or received, not {new.status}")
    if new.status is MessageStatus.SCHEDULED and new.send_at is None:
        raise ValueError("a scheduled message needs send_at")
    if (new.status is MessageStatus.RECEIVED) != (new.direction is Direction.INBOUND):
        raise ValueError("received messages, and only they, are inbound")
    if new.idempotency_key is not None and new.request_hash is None:
        raise ValueError("an idempotency key needs a request hash")


def _new_message(new: NewMessage, now: datetime) -> Message:
    if new.status is MessageStatus.SCHEDULED:
        next_attempt_at: datetime | None = new.send_at
    elif new.status is MessageStatus.QUEUED:
        next_attempt_at = now
    else:
        next_attempt_at = None
    return Message(
        id=new.id or ids.new_id(ids.MESSAGE),
        account_id=new.account_id,
        direction=new.direction,
        from_addr=new.from_addr,
        to_addr=new.to_addr,
        body=new.body,
        status=new.status,
        encoding=new.encoding,
        segments=new.segments,
        data_coding=new.data_coding,
        priority=new.priority,
        send_at=new.send_at,
        expires_at=new.expires_at,
        next_attempt_at=next_attempt_at,
        attempts=0,
        connector=new.connector,
        error_code=None,
        error_message=None,
        status_callback=new.status_callback,
        metadata=dict(new.metadata),
        event_seq=1,
        created_at=now,
        updated_at=now,
        sent_at=None,
        done_at=now if new.status is MessageStatus.RECEIVED else None,
        redacted_at=None,
        claimed_by=None,
        claimed_at=None,
        price=new.price,
        price_unit=new.price_unit,
    )


def _same(value: datetime | None) -> datetime | None:
    return value


def _micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _message_params(m: Message, time: Callable[[datetime | None], object]) -> tuple[object, ...]:
    """A message as driver parameters, in the column order of the messages table."""
    return (
        m.id,
        m.account_id,
        m.direction.value,
        m.from_addr,
        m.to_addr,
        m.body,
        m.status.value,
        m.encoding,
        m.segments,
        m.data_coding,
        m.priority,
        time(m.send_at),
        time(m.expires_at),
        time(m.next_attempt_at),
        m.attempts,
        m.connector,
        m.error_code,
        m.error_message,
        m.status_callback,
        json.dumps(m.metadata, separators=(",", ":")) if m.metadata else "{}",
        m.event_seq,
        time(m.created_at),
        time(m.updated_at),
        time(m.sent_at),
        time(m.done_at),
        time(m.redacted_at),
        m.claimed_by,
        time(m.claimed_at),
        m.price,
        m.price_unit,
    )


def _webhook_row(new: NewWebhook, now: datetime, *, message_id: str | None = None) -> Row:
    return {
        "id": ids.new_id(ids.WEBHOOK_DELIVERY),
        "account_id": new.account_id,
        "message_id": message_id or new.message_id,
        "url": new.url,
        "event_type": new.event_type,
        "payload": new.payload,
        "sequence": new.sequence,
        "status": WebhookStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "delivered_at": None,
    }


def _is(
    column: sa.ColumnElement[str], status: MessageStatus | WebhookStatus
) -> sa.ColumnElement[bool]:
    """``column = 'status'`` with the value written into the SQL, not bound: a partial index
    (``WHERE status = 'queued'``) can only serve a query whose terms match it literally."""
    return column == sa.literal_column(f"'{status.value}'")


def _pairs_in(
    first: sa.ColumnElement[str], second: sa.ColumnElement[Any], pairs: Iterable[tuple[str, Any]]
) -> sa.ColumnElement[bool]:
    """``(first, second) IN pairs``, written as one IN list per value of ``first`` so that
    both databases use the two-column index (a row-value IN list defeats PostgreSQL's)."""
    grouped: dict[str, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    return sa.or_(
        *(sa.and_(first == a, second.in_(sorted(bs))) for a, bs in sorted(grouped.items()))
    )


def _chunks(values: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _conforms(store: SqlStore) -> Store:
    """Never called: mypy checks here that SqlStore implements every Protocol of the store."""
    return store
