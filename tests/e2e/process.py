"""``marconi serve`` and ``marconi smsc`` as real processes, for the tests that kill them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

MARCONI = [sys.executable, "-m", "marconi.cli.main"]


@dataclass
class Proc:
    process: asyncio.subprocess.Process
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    def kill(self) -> None:
        """SIGKILL, if it still runs (also the cleanup of a failed test)."""
        if self.process.returncode is None:
            self.process.kill()

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> Proc:
        process = await asyncio.create_subprocess_exec(
            *MARCONI,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        proc = cls(process)
        assert process.stdout is not None
        assert process.stderr is not None
        proc._readers = [
            asyncio.create_task(_pump(process.stdout, proc.stdout)),
            asyncio.create_task(_pump(process.stderr, proc.stderr)),
        ]
        return proc

    async def wait_line(self, pattern: str, *, within: float = 15.0, err: bool = False) -> str:
        lines = self.stderr if err else self.stdout
        regex = re.compile(pattern)
        async with asyncio.timeout(within):
            while True:
                for line in lines:
                    if regex.search(line):
                        return line
                if self.process.returncode is not None:
                    raise AssertionError(
                        f"process exited {self.process.returncode}:\n"
                        + "".join(self.stdout + self.stderr)[-3000:]
                    )
                await asyncio.sleep(0.02)

    async def stop(self, sig: int = signal.SIGTERM, *, within: float = 20.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            async with asyncio.timeout(within):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        for reader in self._readers:
            with contextlib.suppress(Exception):
                await reader
        return code


async def _pump(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode(errors="replace"))


def key_of(proc: Proc) -> tuple[str, str]:
    out = "".join(proc.stdout)
    key = re.search(r"key id:\s+(\S+)", out)
    secret = re.search(r"secret:\s+(\S+)", out)
    assert key is not None, out
    assert secret is not None, out
    return key.group(1), secret.group(1)


async def admin(port: int, command: str) -> object:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(command.encode() + b"\n")
    line = await reader.readline()
    writer.close()
    status, _, payload = line.decode().partition(" ")
    assert status == "OK", line
    return json.loads(payload)


def status_counts(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        rows = conn.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall()
    return dict(rows)
