"""Test doubles for the dispatcher: a queue in memory and a scripted connector."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from marconi.errors import MarconiError
from marconi.smpp import SubmitSm, SubmitSmResp
from marconi.store.model import (
    Direction,
    DispatchOutcome,
    Message,
    MessageStatus,
    Receipt,
    ReceiptOutcome,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def message(
    n: int = 1,
    *,
    to: str = "+447700900123",
    sender: str = "Marconi",
    body: str = "hello",
    segments: int = 1,
    encoding: str = "gsm7",
    attempts: int = 1,
    expires_at: datetime | None = None,
) -> Message:
    fields: dict[str, object] = {
        "id": f"SM{n:032x}",
        "account_id": "AC1",
        "direction": Direction.OUTBOUND,
        "from_addr": sender,
        "to_addr": to,
        "body": body,
        "status": MessageStatus.QUEUED,
        "encoding": encoding,
        "segments": segments,
        "data_coding": 0,
        "priority": 0,
        "send_at": None,
        "expires_at": expires_at,
        "next_attempt_at": T0,
        "attempts": attempts,
        "connector": None,
        "error_code": None,
        "error_message": None,
        "status_callback": None,
        "metadata": {},
        "event_seq": 1,
        "created_at": T0,
        "updated_at": T0,
        "sent_at": None,
        "done_at": None,
        "redacted_at": None,
        "claimed_by": None,
        "claimed_at": None,
    }
    # Columns added later default to empty.
    for f in dataclasses.fields(Message):
        fields.setdefault(f.name, None)
    return Message(**fields)  # type: ignore[arg-type]


class FakeQueue:
    """Just enough of MessageQueue: claims hand out queued messages once."""

    def __init__(self, messages: Sequence[Message] = ()) -> None:
        self.queued = list(messages)
        self.outcomes: list[DispatchOutcome] = []
        self.receipts: list[Receipt] = []
        self.requeued_before: datetime | None = None
        self.expire_calls = 0
        self.settle_calls = 0
        self.receipt_outcome = ReceiptOutcome.APPLIED
        self.recorded = asyncio.Event()
        self.fail_records = 0
        self._wake = asyncio.Event()

    def add(self, *messages: Message) -> None:
        self.queued.extend(messages)
        self._wake.set()

    async def claim_batch(
        self, limit: int, *, now: datetime, worker_id: str, min_priority: int | None = None
    ) -> list[Message]:
        if min_priority is not None:
            taken = [m for m in self.queued if m.priority >= min_priority][:limit]
            self.queued = [m for m in self.queued if m not in taken]
            return [replace(m, status=MessageStatus.SENDING, claimed_by=worker_id) for m in taken]
        taken, self.queued = self.queued[:limit], self.queued[limit:]
        return [replace(m, status=MessageStatus.SENDING, claimed_by=worker_id) for m in taken]

    async def requeue_stale(self, *, now: datetime, claimed_before: datetime) -> int:
        self.requeued_before = claimed_before
        return 0

    async def record_submit_results(
        self, outcomes: Sequence[DispatchOutcome], *, now: datetime
    ) -> None:
        if self.fail_records:
            self.fail_records -= 1
            from marconi.errors import StoreError

            raise StoreError("database is down")
        self.outcomes.extend(outcomes)
        self.recorded.set()

    async def apply_receipts(
        self, receipts: Sequence[Receipt], *, now: datetime
    ) -> list[ReceiptOutcome]:
        self.receipts.extend(receipts)
        return [self.receipt_outcome for _ in receipts]

    async def expire_due(self, *, now: datetime, limit: int = 1000) -> int:
        self.expire_calls += 1
        return 0

    async def wait_for_messages(self) -> None:
        self._wake.clear()
        await self._wake.wait()

    async def queue_depth(self) -> int:
        return len(self.queued)

    async def purge_early_receipts(self, *, received_before: datetime) -> int:
        return 0

    async def settle_early_receipts(self, *, now: datetime, received_after: datetime) -> int:
        self.settle_calls += 1
        return 0


Answer = Callable[[SubmitSm], SubmitSmResp | MarconiError]


class FakeConnector:
    """A link that answers each submit with ``answer(pdu)``; ``up`` is settable."""

    def __init__(self, name: str, *, up: bool = True, answer: Answer | None = None) -> None:
        self._name = name
        self.is_up = up
        self.submitted: list[SubmitSm] = []
        self._answer = answer
        self._next = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def up(self) -> bool:
        return self.is_up

    @property
    def window(self) -> int:
        return 10

    @property
    def last_error(self) -> str | None:
        return None if self.is_up else "bind refused"

    async def start(self) -> None:
        return None

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        results: list[SubmitSmResp | MarconiError] = []
        for pdu in pdus:
            self.submitted.append(pdu)
            if self._answer is not None:
                results.append(self._answer(pdu))
            else:
                self._next += 1
                results.append(SubmitSmResp(message_id=f"{self._name}-{self._next}"))
        return results

    async def aclose(self) -> None:
        return None


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
