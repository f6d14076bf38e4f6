"""The messages table as the queue: claims, stale claims, submit results and receipts."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from tests.integration.store.conftest import T0, OpenStore
from tests.integration.store.factory import account, later, new_message, queued

from marconi.errors import Conflict
from marconi.store.model import (
    Failed,
    Message,
    MessageStatus,
    PartStatus,
    Receipt,
    ReceiptOutcome,
    RetryLater,
    StatusChange,
    Submitted,
    SubmittedPart,
)
from marconi.store.schema import early_receipts
from marconi.store.sql import SqlStore

S = MessageStatus


def submitted(message: Message, *smsc_ids: str | None, connector: str = "c") -> Submitted:
    return Submitted(
        message_id=message.id,
        connector=connector,
        parts=tuple(
            SubmittedPart(
                part_number=i + 1,
                smsc_message_id=smsc_id,
                error_code=None if smsc_id else "0x00000045",
            )
            for i, smsc_id in enumerate(smsc_ids)
        ),
    )


def receipt(smsc_id: str, status: PartStatus, *, connector: str = "c", err: str = "000") -> Receipt:
    stat = {
        PartStatus.DELIVERED: "DELIVRD",
        PartStatus.UNDELIVERED: "UNDELIV",
        PartStatus.FAILED: "REJECTD",
        PartStatus.SUBMITTED: "ENROUTE",
    }[status]
    return Receipt(
        connector=connector,
        smsc_message_id=smsc_id,
        status=status,
        stat=stat,
        err=err,
        raw=f"id:{smsc_id} stat:{stat} err:{err}",
    )


async def status_of(store: SqlStore, message: Message) -> MessageStatus:
    return (await store.get_message(message.account_id, message.id)).status


async def test_claim_takes_priority_first_then_age(store: SqlStore) -> None:
    a = await account(store)
    old_low = await queued(store, a.id, at=later(1))
    new_high = await queued(store, a.id, at=later(3), priority=5)
    old_high = await queued(store, a.id, at=later(2), priority=5)
    newer_low = await queued(store, a.id, at=later(4))
    first = await store.claim_batch(3, now=later(10), worker_id="w1")
    assert [m.id for m in first] == [old_high.id, new_high.id, old_low.id]
    assert all(m.status is S.SENDING and m.claimed_by == "w1" for m in first)
    assert all(m.attempts == 1 and m.claimed_at == later(10) for m in first)
    second = await store.claim_batch(3, now=later(11), worker_id="w2")
    assert [m.id for m in second] == [newer_low.id]
    assert await store.claim_batch(3, now=later(12), worker_id="w2") == []
    events = await store.list_events(a.id, old_high.id)
    assert [(e.seq, e.status) for e in events] == [(1, S.QUEUED), (2, S.SENDING)]
    assert events[1].details == {"worker": "w1"}


async def test_claim_skips_what_is_not_due(store: SqlStore) -> None:
    a = await account(store)
    scheduled = await queued(store, a.id, status=S.SCHEDULED, send_at=later(60))
    assert await store.claim_batch(10, now=later(59), worker_id="w") == []
    assert await store.queue_depth() == 0
    claimed = await store.claim_batch(10, now=later(60), worker_id="w")
    assert [m.id for m in claimed] == [scheduled.id]
    assert [e.status for e in await store.list_events(a.id, scheduled.id)] == [
        S.SCHEDULED,
        S.QUEUED,
        S.SENDING,
    ]
    assert await store.queue_depth() == 1


async def test_concurrent_claimers_never_share_a_row(open_stores: OpenStore) -> None:
    # Two stores over one database stand for two dispatcher nodes.
    node_a = await open_stores()
    node_b = await open_stores()
    acc = await account(node_a)
    made = await node_a.insert_messages(
        [new_message(acc.id, to_addr=f"+1555222{i:04d}") for i in range(300)], now=T0
    )
    claims = await asyncio.gather(
        *(
            node.claim_batch(7, now=later(1), worker_id=f"{name}{i}")
            for i in range(30)
            for name, node in (("a", node_a), ("b", node_b))
        )
    )
    ids = [m.id for batch in claims for m in batch]
    assert len(ids) == len(set(ids))
    rest = await node_a.claim_batch(1000, now=later(2), worker_id="sweep")
    assert sorted(ids + [m.id for m in rest]) == sorted(m.id for m in made)


async def test_expire_due(store: SqlStore) -> None:
    a = await account(store)
    short = await queued(store, a.id, expires_at=later(10))
    scheduled = await queued(
        store, a.id, status=S.SCHEDULED, send_at=later(30), expires_at=later(20)
    )
    lasting = await queued(store, a.id, expires_at=later(3600))
    forever = await queued(store, a.id)
    assert await store.expire_due(now=later(5)) == 0
    assert await store.expire_due(now=later(25)) == 2
    assert await status_of(store, short) is S.EXPIRED
    assert await status_of(store, scheduled) is S.EXPIRED
    last = (await store.list_events(a.id, short.id))[-1]
    assert last.details == {"reason": "the validity period passed"}
    claimed = await store.claim_batch(10, now=later(40), worker_id="w")
    assert {m.id for m in claimed} == {lasting.id, forever.id}
    assert await store.expire_due(now=later(7200)) == 0  # sending is the dispatcher's to expire


async def test_requeue_stale_hands_back_old_claims_only(store: SqlStore) -> None:
    a = await account(store)
    m1 = await queued(store, a.id)
    m2 = await queued(store, a.id)
    await store.claim_batch(1, now=later(10), worker_id="dead")
    await store.claim_batch(1, now=later(100), worker_id="alive")
    assert await store.requeue_stale(now=later(120), claimed_before=later(50)) == 1
    back = await store.get_message(a.id, m1.id)
    assert back.status is S.QUEUED
    assert back.claimed_by is None
    assert back.attempts == 1
    assert back.next_attempt_at == later(120)
    assert await status_of(store, m2) is S.SENDING
    again = await store.claim_batch(5, now=later(121), worker_id="new")
    assert [m.id for m in again] == [m1.id]
    assert again[0].attempts == 2


async def test_a_late_submit_result_still_counts_after_a_requeue(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id)
    await store.claim_batch(1, now=later(1), worker_id="slow")
    assert await store.requeue_stale(now=later(60), claimed_before=later(30)) == 1
    await store.record_submit_results([submitted(m, "late")], now=later(61))
    assert await status_of(store, m) is S.SENT
    assert await store.claim_batch(5, now=later(62), worker_id="w") == []  # not sent twice


async def test_submit_outcomes(store: SqlStore) -> None:
    a = await account(store)
    ok, retry, dead, late = [await queued(store, a.id) for _ in range(4)]
    await store.claim_batch(10, now=later(1), worker_id="w")
    await store.record_submit_results(
        [
            submitted(ok, "s1", "s2"),
            RetryLater(message_id=retry.id, next_attempt_at=later(30), error_code="0x58"),
            Failed(message_id=dead.id, error_code="0x0B", error_message="invalid destination"),
            Failed(message_id=late.id, status=S.EXPIRED, error_code="expired"),
        ],
        now=later(2),
    )
    sent = await store.get_message(a.id, ok.id)
    assert sent.status is S.SENT
    assert sent.connector == "c"
    assert sent.sent_at == later(2)
    parts = await store.list_parts(a.id, ok.id)
    assert [(p.part_number, p.smsc_message_id, p.status) for p in parts] == [
        (1, "s1", PartStatus.SUBMITTED),
        (2, "s2", PartStatus.SUBMITTED),
    ]
    waiting = await store.get_message(a.id, retry.id)
    assert waiting.status is S.QUEUED
    assert waiting.error_code == "0x58"
    assert await store.claim_batch(10, now=later(29), worker_id="w") == []
    assert [m.id for m in await store.claim_batch(10, now=later(30), worker_id="w")] == [retry.id]
    await store.record_submit_results([submitted(retry, "s3")], now=later(31))
    retried = await store.get_message(a.id, retry.id)
    assert retried.status is S.SENT
    assert retried.error_code is None  # the earlier try's error does not stick
    assert retried.attempts == 2
    failed = await store.get_message(a.id, dead.id)
    assert failed.status is S.FAILED
    assert failed.error_message == "invalid destination"
    assert failed.done_at == later(2)
    assert await status_of(store, late) is S.EXPIRED

    # An outcome for a message that is final already changes nothing.
    await store.record_submit_results(
        [RetryLater(message_id=dead.id, next_attempt_at=later(5))], now=later(6)
    )
    assert await status_of(store, dead) is S.FAILED


async def test_a_message_of_an_unknown_account_is_a_conflict_of_its_own(store: SqlStore) -> None:
    a = await account(store)
    results = await asyncio.gather(
        queued(store, a.id),
        queued(store, "AC" + "9" * 32),
        queued(store, a.id),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert not isinstance(results[0], BaseException)
    assert not isinstance(results[2], BaseException)


async def test_every_part_refused_fails_the_message(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id, segments=2)
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(m, None, None)], now=later(2))
    failed = await store.get_message(a.id, m.id)
    assert failed.status is S.FAILED
    assert failed.error_code == "0x00000045"


async def test_receipts_deliver_and_are_idempotent(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id)
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(m, "r1")], now=later(2))
    intermediate = await store.apply_receipts([receipt("r1", PartStatus.SUBMITTED)], now=later(3))
    assert intermediate == [ReceiptOutcome.APPLIED]
    assert await status_of(store, m) is S.SENT
    assert await store.apply_receipts([receipt("r1", PartStatus.DELIVERED)], now=later(4)) == [
        ReceiptOutcome.APPLIED
    ]
    delivered = await store.get_message(a.id, m.id)
    assert delivered.status is S.DELIVERED
    assert delivered.done_at == later(4)
    # a repeated or contradicting receipt does not move a final message
    again = await store.apply_receipts(
        [receipt("r1", PartStatus.DELIVERED), receipt("r1", PartStatus.UNDELIVERED)], now=later(5)
    )
    assert again == [ReceiptOutcome.DUPLICATE, ReceiptOutcome.DUPLICATE]
    assert await status_of(store, m) is S.DELIVERED
    part = (await store.list_parts(a.id, m.id))[0]
    assert part.receipt_stat == "DELIVRD"
    assert part.receipt_raw == "id:r1 stat:DELIVRD err:000"
    assert part.receipt_at == later(4)
    events = await store.list_events(a.id, m.id)
    assert [e.status for e in events] == [S.QUEUED, S.SENDING, S.SENT, S.DELIVERED]
    assert [e.seq for e in events] == [1, 2, 3, 4]


async def test_receipt_before_submit_result_is_matched_later(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id)
    other = await queued(store, a.id)
    await store.claim_batch(2, now=later(1), worker_id="w")
    early = await store.apply_receipts([receipt("r9", PartStatus.DELIVERED)], now=later(2))
    assert early == [ReceiptOutcome.EARLY]
    # same SMSC id on another connector is another message
    await store.record_submit_results([submitted(other, "r9", connector="other")], now=later(3))
    assert await status_of(store, other) is S.SENT
    await store.record_submit_results([submitted(m, "r9")], now=later(3))
    assert await status_of(store, m) is S.DELIVERED
    part = (await store.list_parts(a.id, m.id))[0]
    assert part.status is PartStatus.DELIVERED
    assert part.receipt_stat == "DELIVRD"
    # the early receipt was consumed: it does not match anything a second time
    assert await store.purge_early_receipts(received_before=later(100)) == 0


async def test_an_early_receipt_that_missed_its_part_is_settled_later(store: SqlStore) -> None:
    """The race of two connections: the receipt's transaction looked for the part before the
    submit result's committed, which looked for early receipts before the receipt's committed."""
    a = await account(store)
    m = await queued(store, a.id)
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(m, "r5")], now=later(2))
    async with store._write_engine.begin() as conn:
        await conn.execute(
            early_receipts.insert(),
            {
                "connector": "c",
                "smsc_message_id": "r5",
                "status": PartStatus.DELIVERED.value,
                "stat": "DELIVRD",
                "err": "000",
                "raw": "id:r5 stat:DELIVRD err:000",
                "received_at": later(2),
            },
        )
    await store.apply_receipts([receipt("r6", PartStatus.DELIVERED)], now=later(2))  # no part
    assert await status_of(store, m) is S.SENT
    # Only receipts received after the bound are looked at.
    assert await store.settle_early_receipts(now=later(3), received_after=later(2)) == 0
    assert await store.settle_early_receipts(now=later(3), received_after=later(1)) == 1
    assert await status_of(store, m) is S.DELIVERED
    assert (await store.list_parts(a.id, m.id))[0].receipt_stat == "DELIVRD"
    assert await store.settle_early_receipts(now=later(4), received_after=later(1)) == 0
    # The receipt without a part stays for its submit result (or the purge).
    assert await store.purge_early_receipts(received_before=later(100)) == 1


async def test_purge_early_receipts(store: SqlStore) -> None:
    await store.apply_receipts([receipt("x1", PartStatus.DELIVERED)], now=later(1))
    await store.apply_receipts([receipt("x2", PartStatus.DELIVERED)], now=later(10))
    assert await store.purge_early_receipts(received_before=later(5)) == 1
    assert await store.purge_early_receipts(received_before=later(50)) == 1


async def test_multipart_aggregation(store: SqlStore) -> None:
    a = await account(store)
    whole, partial, none = [await queued(store, a.id, segments=3) for _ in range(3)]
    await store.claim_batch(3, now=later(1), worker_id="w")
    await store.record_submit_results(
        [
            submitted(whole, "w1", "w2", "w3"),
            submitted(partial, "p1", "p2", "p3"),
            submitted(none, "n1", "n2", "n3"),
        ],
        now=later(2),
    )
    await store.apply_receipts(
        [
            receipt("w1", PartStatus.DELIVERED),
            receipt("p1", PartStatus.DELIVERED),
            receipt("p2", PartStatus.UNDELIVERED, err="011"),
            receipt("n1", PartStatus.UNDELIVERED),
        ],
        now=later(3),
    )
    # not every part has answered yet: still sent
    assert {await status_of(store, m) for m in (whole, partial, none)} == {S.SENT}
    await store.apply_receipts(
        [
            receipt("w2", PartStatus.DELIVERED),
            receipt("w3", PartStatus.DELIVERED),
            receipt("p3", PartStatus.DELIVERED),
            receipt("n2", PartStatus.UNDELIVERED, err="011"),
            receipt("n3", PartStatus.FAILED),
        ],
        now=later(4),
    )
    assert await status_of(store, whole) is S.DELIVERED
    result = await store.get_message(a.id, partial.id)
    assert result.status is S.PARTIALLY_DELIVERED
    assert await status_of(store, none) is S.UNDELIVERED
    last = (await store.list_events(a.id, partial.id))[-1]
    assert last.details == {"parts": 3, "delivered_parts": 2}


async def test_status_callbacks_follow_every_event(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id, status_callback="http://127.0.0.1:9/cb")
    silent = await queued(store, a.id)
    await store.claim_batch(2, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(m, "r1"), submitted(silent, "r2")], now=later(2))
    await store.apply_receipts(
        [receipt("r1", PartStatus.DELIVERED), receipt("r2", PartStatus.DELIVERED)], now=later(3)
    )
    deliveries = await store.claim_webhooks(
        10, now=later(3), lease_until=later(3) + timedelta(minutes=1)
    )
    assert [d.message_id for d in deliveries] == [m.id] * 2
    assert [d.sequence for d in deliveries] == [3, 4]  # the event seqs of sent and delivered
    bodies = [json.loads(d.payload) for d in deliveries]
    assert [b["status"] for b in bodies] == ["sent", "delivered"]
    assert [b["sequence"] for b in bodies] == [3, 4]
    assert {b["message_id"] for b in bodies} == {m.id}
    assert bodies[0]["connector"] == "c"
    assert all(d.url == "http://127.0.0.1:9/cb" for d in deliveries)
    assert all(d.account_id == a.id and d.event_type == "message.status" for d in deliveries)
    assert [d.created_at for d in deliveries] == [later(2), later(3)]
    assert all(d.attempts == 0 and d.last_error is None for d in deliveries)
    assert [d.id for d in (await store.list_webhook_deliveries(a.id)).items] == [
        d.id for d in reversed(deliveries)
    ]


async def test_callback_statuses_and_payload_are_the_callers_choice(
    open_stores: OpenStore,
) -> None:
    def payload(change: StatusChange) -> str:
        return f"{change.message_id}:{change.status}:{change.sequence}"

    store = await open_stores(
        callback_statuses=frozenset({S.SENDING, S.FAILED}), status_payload=payload
    )
    a = await account(store)
    m = await queued(store, a.id, status_callback="http://127.0.0.1:9/cb")
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(m, None)], now=later(2))
    deliveries = await store.claim_webhooks(10, now=later(3), lease_until=later(60))
    assert [d.payload for d in deliveries] == [f"{m.id}:sending:2", f"{m.id}:failed:3"]


async def test_recycled_smsc_ids_belong_to_the_newest_submit(store: SqlStore) -> None:
    a = await account(store)
    old = await queued(store, a.id)
    new = await queued(store, a.id)
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results([submitted(old, "same")], now=later(2))
    await store.claim_batch(1, now=later(3), worker_id="w")
    await store.record_submit_results([submitted(new, "same")], now=later(4))
    await store.apply_receipts([receipt("same", PartStatus.DELIVERED)], now=later(5))
    assert await status_of(store, new) is S.DELIVERED
    assert await status_of(store, old) is S.SENT
