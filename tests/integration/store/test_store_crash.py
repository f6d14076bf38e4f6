"""kill -9 in the middle of a write storm loses no message whose insert had returned."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from marconi.store import open_store

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from marconi.store import open_store
    from marconi.store.model import NewMessage

    async def main(url):
        store = await open_store(url)
        now = datetime.now(UTC)
        account = await store.create_account(name="crash", now=now)
        print("account", account.id, flush=True)

        async def writer(n):
            i = 0
            while True:
                new = NewMessage(
                    account_id=account.id, from_addr="ACME", to_addr=f"+1555{n:03d}{i:04d}",
                    body="x", encoding="gsm7", segments=1,
                )
                m = await store.insert_message(new, now=now)
                print(m.id, flush=True)  # acknowledged: the insert has returned
                i += 1

        await asyncio.gather(*(writer(n) for n in range(64)))

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.slow
async def test_acknowledged_inserts_survive_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, url, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    account_id = ""
    try:
        async with asyncio.timeout(60):
            while len(acknowledged) < 3000:
                line = (await child.stdout.readline()).decode().split()
                assert line, "the writer stopped early"
                if line[0] == "account":
                    account_id = line[1]
                else:
                    acknowledged.append(line[0])
    finally:
        os.kill(child.pid, signal.SIGKILL)
        await child.wait()

    store = await open_store(url)
    try:
        async with store._read_engine.connect() as conn:
            check = await conn.exec_driver_sql("PRAGMA integrity_check")
            assert check.scalar() == "ok"
            stored = {
                row[0]
                for row in await conn.exec_driver_sql(
                    "SELECT m.id FROM messages m JOIN message_events e ON e.message_id = m.id "
                    "WHERE m.status = 'queued' AND e.seq = 1"
                )
            }
        assert set(acknowledged) <= stored
        sample = await store.get_message(account_id, acknowledged[-1])
        assert sample.account_id == account_id
    finally:
        await store.aclose()
