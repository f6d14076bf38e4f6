"""The repository interfaces that services depend on. Backends live behind them.

Rules every backend keeps:

- Every read or write by id on an account's data takes the account id, and a row of another account
  is :class:`~marconi.errors.NotFound`, exactly as a row that does not exist.
- A write returns only after it is committed. Concurrent writes may share one transaction (group
  commit); each caller still gets its own result or its own error.
- Message status only moves forward (see :data:`marconi.store.transition.ALLOWED`); a late or
  repeated receipt or outcome that would move a message backwards is ignored, and every move that
  does happen is recorded as a :class:`~marconi.store.model.MessageEvent` in the same transaction.
- Times are timezone-aware; ``now`` is always passed in, the store reads no clock of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from marconi.store.model import (
    Account,
    ApiKey,
    DispatchOutcome,
    JsonValue,
    Message,
    MessageEvent,
    MessageFilter,
    MessagePart,
    NewMessage,
    NewWebhook,
    Number,
    NumberKind,
    Page,
    Receipt,
    ReceiptOutcome,
    StoredConnector,
    Unset,
    WebhookAttempt,
    WebhookAttemptResult,
    WebhookDelivery,
    WebhookStatus,
)

__all__ = [
    "AccountRepository",
    "ApiKeyRepository",
    "ConnectorRepository",
    "MessageQueue",
    "MessageRepository",
    "NumberRepository",
    "Store",
    "WebhookOutbox",
]


class AccountRepository(Protocol):
    async def create_account(
        self,
        *,
        name: str,
        now: datetime,
        parent_id: str | None = None,
        auth_token_hash: str | None = None,
        account_id: str | None = None,
    ) -> Account: ...

    async def get_account(self, account_id: str) -> Account: ...

    async def list_subaccounts(self, parent_id: str) -> list[Account]: ...

    async def count_accounts(self) -> int: ...

    async def set_auth_token_hash(
        self, account_id: str, auth_token_hash: str, *, now: datetime
    ) -> Account: ...


class ApiKeyRepository(Protocol):
    async def create_api_key(
        self,
        *,
        account_id: str,
        secret_hash: str,
        now: datetime,
        name: str = "",
        key_id: str | None = None,
    ) -> ApiKey: ...

    async def get_api_key(self, key_id: str) -> ApiKey:
        """Look a key up by its public id, for authentication (any account)."""
        ...

    async def list_api_keys(self, account_id: str) -> list[ApiKey]: ...

    async def revoke_api_key(self, account_id: str, key_id: str, *, now: datetime) -> ApiKey: ...

    async def touch_api_key(self, key_id: str, *, now: datetime) -> None:
        """Record use; concurrent touches share a transaction and never move the time back."""
        ...


class NumberRepository(Protocol):
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
        """Raises Conflict when ``value`` is already registered (by any account)."""
        ...

    async def get_number(self, account_id: str, number_id: str) -> Number: ...

    async def find_number(self, value: str) -> Number | None:
        """The number that owns ``value``, for matching inbound messages (any account)."""
        ...

    async def list_numbers(self, account_id: str) -> list[Number]: ...

    async def update_number(
        self,
        account_id: str,
        number_id: str,
        *,
        now: datetime,
        inbound_webhook_url: str | Unset | None = Unset.UNSET,
        inbound_webhook_method: str | Unset = Unset.UNSET,
        status_callback_url: str | Unset | None = Unset.UNSET,
    ) -> Number: ...

    async def delete_number(self, account_id: str, number_id: str) -> None: ...


class MessageRepository(Protocol):
    async def insert_message(self, new: NewMessage, *, now: datetime) -> Message:
        """Store a message (queued, scheduled or received) and its first event, durably.

        With an idempotency key already used by the account, returns the first message when
        ``request_hash`` matches and raises Conflict when it does not.
        """
        ...

    async def insert_messages(self, news: Sequence[NewMessage], *, now: datetime) -> list[Message]:
        """Like insert_message for many at once, all or nothing."""
        ...

    async def get_message(self, account_id: str, message_id: str) -> Message: ...

    async def list_messages(
        self,
        account_id: str,
        *,
        filter: MessageFilter | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Message]:
        """Newest first. Raises ValidationError for a cursor that is not one we made."""
        ...

    async def list_events(self, account_id: str, message_id: str) -> list[MessageEvent]: ...

    async def list_parts(self, account_id: str, message_id: str) -> list[MessagePart]: ...

    async def cancel_message(self, account_id: str, message_id: str, *, now: datetime) -> Message:
        """Cancel a scheduled or queued message; Conflict once the dispatcher has it."""
        ...

    async def redact_message(self, account_id: str, message_id: str, *, now: datetime) -> Message:
        """Erase the body; Conflict while the message still has to be sent."""
        ...

    async def purge_idempotency_keys(self, *, created_before: datetime) -> int:
        """Forget idempotency keys older than the retry window; returns how many."""
        ...


class MessageQueue(Protocol):
    """The dispatcher's side of the messages table."""

    async def claim_batch(
        self, limit: int, *, now: datetime, worker_id: str, min_priority: int | None = None
    ) -> list[Message]:
        """Move up to ``limit`` due messages from ``queued`` to ``sending`` and return them.

        Scheduled messages whose ``send_at`` has come are queued first. Higher priority goes
        first, then the oldest due. No row is ever handed to two claimers. ``min_priority``
        claims only messages of at least that priority (the priority class, while ordinary
        ones fill the dispatcher).
        """
        ...

    async def requeue_stale(self, *, now: datetime, claimed_before: datetime) -> int:
        """Hand back ``sending`` rows claimed before ``claimed_before`` (a crashed worker's)."""
        ...

    async def record_submit_results(
        self, outcomes: Sequence[DispatchOutcome], *, now: datetime
    ) -> None:
        """Store what the SMSC answered for claimed messages, with receipts that came early."""
        ...

    async def apply_receipts(
        self, receipts: Sequence[Receipt], *, now: datetime
    ) -> list[ReceiptOutcome]: ...

    async def expire_due(self, *, now: datetime, limit: int = 1000) -> int:
        """Move scheduled and queued messages whose ``expires_at`` has passed to ``expired``."""
        ...

    async def wait_for_messages(self) -> None:
        """Return once messages may be ready to claim.

        Woken by commits that queue messages, on this node or, on PostgreSQL, any other.
        Scheduled messages and retries come due by the clock, so wait under
        ``asyncio.timeout(…)`` and claim when it runs out too.
        """
        ...

    async def queue_depth(self) -> int:
        """Messages waiting to be sent: queued or sending."""
        ...

    async def purge_early_receipts(self, *, received_before: datetime) -> int: ...

    async def settle_early_receipts(self, *, now: datetime, received_after: datetime) -> int:
        """Apply the early receipts received after ``received_after`` whose part is stored by
        now; returns how many. On PostgreSQL a receipt and its submit result can commit at the
        same moment on two connections, each missing the other: this picks such receipts up."""
        ...


class WebhookOutbox(Protocol):
    async def enqueue_webhook(self, new: NewWebhook, *, now: datetime) -> WebhookDelivery: ...

    async def wait_for_webhooks(self) -> None:
        """Like wait_for_messages, for new or replayed webhook deliveries."""
        ...

    async def claim_webhooks(
        self, limit: int, *, now: datetime, lease_until: datetime
    ) -> list[WebhookDelivery]:
        """Take up to ``limit`` due pending deliveries; each is due again at ``lease_until``
        unless an attempt is recorded first, so a crashed sender's work comes back."""
        ...

    async def record_webhook_attempts(
        self, results: Sequence[WebhookAttemptResult], *, now: datetime
    ) -> None: ...

    async def get_webhook_delivery(self, account_id: str, delivery_id: str) -> WebhookDelivery: ...

    async def list_webhook_deliveries(
        self,
        account_id: str,
        *,
        status: WebhookStatus | None = None,
        message_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]: ...

    async def list_webhook_attempts(
        self, account_id: str, delivery_id: str
    ) -> list[WebhookAttempt]: ...

    async def replay_webhook(
        self, account_id: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery:
        """Send a delivery again (pending, due now), whatever its status."""
        ...


class ConnectorRepository(Protocol):
    """Connectors and routes added through the API, beside those of the config file."""

    async def put_connector(
        self,
        *,
        name: str,
        kind: str,
        settings: Mapping[str, JsonValue],
        now: datetime,
        enabled: bool = True,
    ) -> StoredConnector:
        """Create the connector, or replace the one of that name (keeping its created_at)."""
        ...

    async def get_connector(self, name: str) -> StoredConnector: ...

    async def list_connectors(self) -> list[StoredConnector]: ...

    async def delete_connector(self, name: str) -> None: ...

    async def replace_routes(
        self, routes: Sequence[Mapping[str, JsonValue]], *, now: datetime
    ) -> None:
        """The whole ordered route list at once: routes are tried in order."""
        ...

    async def list_routes(self) -> list[Mapping[str, JsonValue]]: ...


class Store(
    AccountRepository,
    ConnectorRepository,
    ApiKeyRepository,
    NumberRepository,
    MessageRepository,
    MessageQueue,
    WebhookOutbox,
    Protocol,
):
    """Everything, over one database."""

    async def aclose(self) -> None: ...
