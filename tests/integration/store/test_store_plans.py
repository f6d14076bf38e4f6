"""No statement of the queue's hot paths reads a whole table (SQLite's query plans)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import event
from tests.integration.store.conftest import T0
from tests.integration.store.factory import later, new_message

from marconi.store import open_store
from marconi.store.model import (
    MessageFilter,
    MessageStatus,
    PartStatus,
    Receipt,
    Submitted,
    SubmittedPart,
    WebhookAttemptResult,
)

FULL_SCAN = re.compile(r"^SCAN (\w+)$")  # "SCAN t USING INDEX …" walks an index: fine


async def test_hot_statements_use_indexes(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'plans.db'}")
    seen: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not many and statement.lstrip().upper().startswith(
            ("SELECT", "UPDATE", "DELETE", "WITH")
        ):
            seen.append((statement, params))

    for engine in (store._write_engine, store._read_engine):
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        a = await store.create_account(name="a", now=T0)
        m = await store.insert_message(
            new_message(a.id, status_callback="http://127.0.0.1:9/cb", expires_at=later(600)),
            now=T0,
        )
        await store.insert_message(
            new_message(a.id, status=MessageStatus.SCHEDULED, send_at=later(30)), now=T0
        )
        await store.claim_batch(10, now=later(1), worker_id="w")
        await store.claim_batch(10, now=later(1), worker_id="w", min_priority=1)
        await store.record_submit_results(
            [
                Submitted(
                    message_id=m.id,
                    connector="c",
                    parts=(SubmittedPart(part_number=1, smsc_message_id="r1"),),
                )
            ],
            now=later(2),
        )
        await store.apply_receipts(
            [Receipt(connector="c", smsc_message_id="r1", status=PartStatus.DELIVERED)],
            now=later(3),
        )
        await store.settle_early_receipts(now=later(4), received_after=later(0))
        await store.expire_due(now=later(4))
        await store.requeue_stale(now=later(5), claimed_before=later(4))
        await store.queue_depth()
        hooks = await store.claim_webhooks(10, now=later(6), lease_until=later(60))
        await store.record_webhook_attempts(
            [WebhookAttemptResult(delivery_id=h.id, ok=True) for h in hooks], now=later(7)
        )
        await store.list_messages(a.id, filter=MessageFilter(to_addr=m.to_addr))
        await store.list_messages(a.id, filter=MessageFilter(from_addr=m.from_addr))
        await store.get_message(a.id, m.id)
        await store.list_events(a.id, m.id)
    finally:
        for engine in (store._write_engine, store._read_engine):
            event.remove(engine.sync_engine, "before_cursor_execute", capture)

    scans: list[str] = []
    async with store._read_engine.connect() as conn:
        for statement, params in seen:
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            for row in plan:
                detail = str(row[3])
                found = FULL_SCAN.match(detail)
                if found and found.group(1) not in ("accounts", "due"):
                    scans.append(f"{detail}: {' '.join(statement.split())[:160]}")
    await store.aclose()
    assert len(seen) > 15
    assert scans == []
