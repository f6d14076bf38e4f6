"""``marconi serve`` as a process: the README's quickstart, graceful shutdown, and kill -9."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from tests.e2e.harness import free_port
from tests.e2e.process import Proc, admin, key_of, status_counts

from marconi.services import SendRequest, build_services
from marconi.store import open_store


@pytest.mark.slow
async def test_quickstart_serve_then_one_request_is_delivered_within_a_second(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = await Proc.start("serve", "--data-dir", str(tmp_path / "data"), "--port", str(port))
    try:
        await proc.wait_line(r"secret:")
        await proc.wait_line(r"Hello from Marconi")  # the end of the printed curl command
        await proc.wait_line(r"Uvicorn running", err=True)
        key, secret = key_of(proc)
    except BaseException:
        proc.kill()
        raise
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", auth=(key, secret), timeout=5
        ) as client:
            # The curl command the first start prints, run as a newcomer would paste it.
            printed = "".join(proc.stdout).split("Send a message:\n", 1)[1].split("\n\n", 1)[0]
            started = time.monotonic()
            curl = await asyncio.create_subprocess_shell(
                printed + " --silent --show-error", stdout=asyncio.subprocess.PIPE
            )
            answer, _ = await curl.communicate()
            assert curl.returncode == 0
            message_id = json.loads(answer)["id"]
            while True:
                got = (await client.get(f"/v1/messages/{message_id}")).json()
                if got["status"] == "delivered":
                    break
                assert time.monotonic() - started < 1.0, got
                await asyncio.sleep(0.01)
            assert [e["status"] for e in got["events"]] == [
                "queued",
                "sending",
                "sent",
                "delivered",
            ]
            assert (await client.get("/readyz")).status_code == 200
    finally:
        code = await proc.stop(signal.SIGINT)
    assert code == 0, "".join(proc.stderr)[-2000:]
    assert "Marconi stopped." in "".join(proc.stdout)
    # the second start finds the admin account and prints no new key
    again = await Proc.start("serve", "--data-dir", str(tmp_path / "data"), "--port", str(port))
    try:
        await again.wait_line(r"Uvicorn running", err=True)
        assert "secret:" not in "".join(again.stdout)
    finally:
        assert await again.stop() == 0


CRASH_CONFIG = """
[[connectors]]
name = "smsc"
type = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "marconi"
password = "marconi"
window = 64
throughput = {rate}

[[routes]]
connectors = ["smsc"]
"""


async def preload(data: Path, total: int) -> list[str]:
    """Accept ``total`` messages through the message service, as the API would."""
    store = await open_store(f"sqlite:///{data / 'marconi.db'}", migrate=True)
    services = build_services(store)
    try:
        admin_id = (await services.accounts.admin_account()).id
        ids: list[str] = []
        for start in range(0, total, 500):
            sent = await asyncio.gather(
                *(
                    services.messages.send(
                        admin_id, SendRequest(to=f"+1415555{n:04d}", body=f"crash {n}")
                    )
                    for n in range(start, min(start + 500, total))
                )
            )
            ids.extend(m.id for m in sent)
        return ids
    finally:
        await services.aclose()
        await store.aclose()


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_kill_9_with_10000_in_flight_loses_nothing_and_resends_only_unanswered(
    tmp_path: Path,
) -> None:
    total = 10_000
    smpp_port, admin_port, http_port = free_port(), free_port(), free_port()
    smsc = await Proc.start(
        "smsc",
        "--port",
        str(smpp_port),
        "--admin-port",
        str(admin_port),
        "--dlr-latency",
        "fixed:0.2",
        "--no-handsets",
        "--summary-interval",
        "0",
    )
    config = tmp_path / "marconi.toml"
    # A throttled link: 10,000 take ten seconds, so the kill finds them queued, in flight,
    # sent and awaiting receipts, and delivered.
    config.write_text(CRASH_CONFIG.format(port=smpp_port, rate=1000))
    data = tmp_path / "data"
    ids = await preload(data, total)
    assert len(set(ids)) == total
    args = ("serve", "--data-dir", str(data), "--port", str(http_port), "--config", str(config))
    started: list[Proc] = []
    try:
        await smsc.wait_line(r"listening|SMPP", err=True)
        first = await Proc.start(*args)
        started.append(first)
        async with asyncio.timeout(30):
            while status_counts(data / "marconi.db").get("delivered", 0) < 2000:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        first.process.kill()  # SIGKILL: no shutdown at all
        await first.stop()
        before = status_counts(data / "marconi.db")
        stats_at_kill = await admin(admin_port, "stats")
        assert isinstance(stats_at_kill, dict)

        second = await Proc.start(*args)
        started.append(second)
        try:
            await second.wait_line(r"Uvicorn running", err=True)
            found = re.search(r"handed back (\d+) messages", "".join(second.stderr))
            handed_back = int(found.group(1)) if found else 0
            async with asyncio.timeout(90):
                while status_counts(data / "marconi.db").get("delivered", 0) < total:  # noqa: ASYNC110
                    await asyncio.sleep(0.25)
        finally:
            assert await second.stop() == 0
        stats = await admin(admin_port, "stats")
        assert isinstance(stats, dict)
    finally:
        for proc in started:
            proc.kill()
        await smsc.stop()
    counts = status_counts(data / "marconi.db")
    assert counts == {"delivered": total}, counts
    duplicates = int(stats["submits"]) - total
    # The SMSC took these submits before the kill, but their answers were not yet stored: the
    # at-least-once window. Every other message went out exactly once.
    unrecorded = int(stats_at_kill["submits"]) - before.get("sent", 0) - before.get("delivered", 0)
    assert 0 <= duplicates <= unrecorded <= handed_back, (duplicates, unrecorded, before)
    assert before.get("delivered", 0) < total // 2, before  # the kill did find work in flight
    print(
        f"\nkill -9 at {before}; the SMSC had taken {stats_at_kill['submits']} submits; "
        f"{handed_back} handed back from 'sending', {unrecorded} of them submitted without a "
        f"stored answer; {duplicates} sent twice; "
        f"all {total} delivered after the restart"
    )
