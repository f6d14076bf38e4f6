"""No statement of Verify reads a whole table (SQLite's query plans)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.integration.verify.conftest import FakeClock, make_account

from marconi.services import build_services
from marconi.store import open_store
from marconi.store.verify import SqlVerifyStore
from marconi.verify import ServiceSettings, VerificationBlocked, VerificationService

FULL_SCAN = re.compile(r"^SCAN (\w+)$")  # "SCAN t USING INDEX …" walks an index: fine
VERIFY_TABLES = ("verify_services", "verifications", "verify_sends", "verify_blocks")


async def test_verify_statements_use_indexes(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'plans.db'}")
    clock = FakeClock()
    services = build_services(store, clock=clock)
    verify = VerificationService(
        store=SqlVerifyStore(store), messages=services.messages, clock=clock
    )
    account = await make_account(store, services, "acme", "+15550000001")
    a = account.id
    seen: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        text = statement.lower()
        if not many and any(t in text for t in VERIFY_TABLES):
            seen.append((statement, params))

    for engine in (store._write_engine, store._read_engine):
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        svc = await verify.create_service(a, ServiceSettings(name="Acme", max_sends=2))
        first = await verify.start(a, svc.id, "+447700900123")
        await verify.start(a, svc.id, "+447700900123")  # a resend
        with pytest.raises(VerificationBlocked):
            await verify.start(a, svc.id, "+447700900123")
        await verify.check(a, svc.id, "000000", verification_id=first.verification.id)
        await verify.check(a, svc.id, "000000", to="+447700900123")
        await verify.get(a, svc.id, first.verification.id)
        await verify.cancel(a, svc.id, first.verification.id)
        await verify.list_blocks(a, svc.id)
        await verify.list_services(a)
    finally:
        for engine in (store._write_engine, store._read_engine):
            event.remove(engine.sync_engine, "before_cursor_execute", capture)

    scans: list[str] = []
    details: list[str] = []
    async with store._read_engine.connect() as conn:
        for statement, params in seen:
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
                continue
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            for row in plan:
                detail = str(row[3])
                details.append(detail)
                found = FULL_SCAN.match(detail)
                if found and found.group(1) in VERIFY_TABLES:
                    scans.append(f"{detail}: {' '.join(statement.split())[:160]}")
    await services.aclose()
    await store.aclose()
    assert len(seen) > 15
    assert scans == []
    # the guard's counts walk their own indexes
    for index in (
        "ix_verify_sends_destination",
        "ix_verify_sends_prefix",
        "ix_verify_sends_country",
    ):
        assert any(index in d for d in details), index
