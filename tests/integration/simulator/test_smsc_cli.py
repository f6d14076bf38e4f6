"""``marconi smsc`` as a process: starts, serves binds, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.simulator.conftest import Inbox

from marconi.smpp import SubmitSm, is_receipt, parse_receipt
from marconi.transport import SmppClient

ROOT = Path(__file__).resolve().parents[3]
BLAST = ROOT.parent / "shared" / "tools" / "smpp_blast.py"
LISTENING = re.compile(r"listening on smpp://[\d.]+:(\d+)")


def marconi(*args: str) -> list[str]:
    return [sys.executable, "-m", "marconi.cli.main", *args]


class Smsc:
    def __init__(self, process: subprocess.Popen[str], port: int, lines: list[str]) -> None:
        self.process = process
        self.port = port
        self.lines = lines

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=10)
        return self.process.returncode, "".join(self.lines) + err


@pytest.fixture
def smsc_process() -> Iterator[Smsc]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        marconi("smsc", "--port", "0", "--summary-interval", "0.2", "--dlr-latency", "0"),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    lines: list[str] = []
    port = None
    while port is None:
        line = process.stderr.readline()
        if not line:
            pytest.fail("marconi smsc exited before listening: " + "".join(lines))
        lines.append(line)
        found = LISTENING.search(line)
        if found:
            port = int(found.group(1))
    try:
        yield Smsc(process, port, lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


async def test_cli_serves_our_client_and_stops_on_sigterm(smsc_process: Smsc) -> None:
    inbox = Inbox()
    async with SmppClient(
        host="127.0.0.1",
        port=smsc_process.port,
        system_id="acme",
        password="any",
        reconnect=False,
        on_deliver_sm=inbox,
    ) as esme:
        resp = await esme.submit(
            SubmitSm(
                source_addr="ACME",
                destination_addr="4477009001",
                short_message=b"hi",
                registered_delivery=1,
            )
        )
        [receipt] = await inbox.wait_for(1)
    assert is_receipt(receipt)
    assert parse_receipt(receipt).message_id == resp.message_id
    await asyncio.sleep(0.3)  # let a summary line go out
    code, log = smsc_process.stop()
    assert code == 0
    assert "bound: system_id='acme' as transceiver" in log
    assert "submit " in log  # the per-interval summary
    assert "stopped after 1 submits, 1 receipts" in log
    assert "Traceback" not in log


def test_cli_accepts_the_independent_blast_client(smsc_process: Smsc) -> None:
    if not BLAST.exists():
        pytest.skip(f"{BLAST} is not here (it ships outside the repository)")
    result = subprocess.run(
        [
            sys.executable,
            str(BLAST),
            "--port",
            str(smsc_process.port),
            "-n",
            "3000",
            "--reg",
            "1",
            "--window",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ok=3000 err=0" in result.stdout
    code, log = smsc_process.stop()
    assert code == 0
    assert "bound: system_id='blast'" in log
    assert "stopped after 3000 submits" in log
