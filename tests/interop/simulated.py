"""Marconi's SMSC simulator for the interop tests: in-process, or ``marconi smsc`` as a child."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from marconi.simulator.config import Account, SimulatorConfig
from marconi.simulator.latency import FixedLatency
from marconi.simulator.message_id import IdFormat
from marconi.simulator.rule import DeliveryRules
from marconi.simulator.smsc import Simulator
from tests.interop import peers

UNDELIVERABLE = "447700900002"  # built-in rule: receipt stat UNDELIV, err 001
REFUSED = "447700900001"  # built-in rule: submit_sm answered ESME_RINVDSTADR


def simulator(
    *,
    accounts: Mapping[str, str] | None = None,
    id_format: IdFormat = IdFormat.DECIMAL,
    latency: float = 0.05,
) -> Simulator:
    """A simulator on 127.0.0.1 and a free port; every message is delivered unless a built-in
    magic number says otherwise, with its receipt ``latency`` seconds later."""
    return Simulator(
        SimulatorConfig(
            host="127.0.0.1",
            port=0,
            accounts=tuple(Account(s, p) for s, p in (accounts or {}).items()),
            id_format=id_format,
            rules=DeliveryRules(latency=FixedLatency(latency)),
            seed=7,
        )
    )


@dataclass
class SmscProcess:
    """``marconi smsc`` running as a child process, driven through its admin port."""

    port: int
    admin_port: int
    process: asyncio.subprocess.Process
    log: Path

    async def admin(self, command: str | Mapping[str, object]) -> object:
        """Send one admin line; return the JSON value of the ``OK`` answer (raise on ``ERR``)."""
        line = command if isinstance(command, str) else json.dumps(command)
        reader, writer = await asyncio.open_connection(peers.LOOPBACK, self.admin_port)
        try:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answer = (await asyncio.wait_for(reader.readline(), 10)).decode().strip()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        status, _, value = answer.partition(" ")
        if status != "OK":
            raise AssertionError(f"admin {line!r}: {answer}")
        return json.loads(value)


@contextlib.asynccontextmanager
async def marconi_smsc(*args: str, workdir: Path) -> AsyncIterator[SmscProcess]:
    """Run ``marconi smsc`` (the standalone simulator) on free loopback ports."""
    port, admin_port = peers.free_port(), peers.free_port()
    log = workdir / "marconi-smsc.log"
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "marconi.cli.main",
            "smsc",
            "--port",
            str(port),
            "--admin-port",
            str(admin_port),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    smsc = SmscProcess(port, admin_port, process, log)
    try:
        try:
            await peers.wait_port(admin_port, within=20, process=process)
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{log.read_text('utf-8', 'replace')[-8000:]}") from None
        try:
            yield smsc
        except BaseException:
            print(log.read_text("utf-8", "replace")[-8000:])
            raise
    finally:
        # it unbinds its ESMEs before it exits; give that time on a busy machine
        await peers.stop_process(process, grace=15.0)
