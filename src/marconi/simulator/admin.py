"""The admin line protocol: drive a running simulator from a shell (``nc``) or a script.

One command per line, one answer line per command: ``OK`` followed by a JSON value, or ``ERR`` and a
reason. Commands::

    mo SOURCE DESTINATION TEXT...     inject a mobile-originated message (TEXT is the rest of the
                                      line; write it as a JSON string to use escapes: "a\\nb")
    fault SPEC [SPEC...]              switch faults on or off (see marconi.simulator.fault)
    faults                            the active faults
    handsets                          handset numbers, most recently active first
    handset NUMBER                    the messages of one handset
    stats                             counters
    help                              this list
    quit                              close the admin connection

A line that starts with ``{`` is a JSON object instead, e.g. ``{"cmd": "mo", "source": "4477009001",
"destination": "12345", "text": "hi", "system_id": "acme"}`` (``system_id`` picks the ESME).

The admin port listens on loopback only unless told otherwise; it has no authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from marconi.errors import ConfigError, MarconiError
from marconi.simulator.fault import Faults, parse_fault
from marconi.simulator.handset import HandsetMessage

__all__ = [
    "AdminCommand",
    "AdminServer",
    "AdminTarget",
    "FaultCommand",
    "HandsetCommand",
    "MoCommand",
    "SimpleCommand",
    "handle_line",
    "parse_command",
]

logger = logging.getLogger("marconi.simulator.admin")

MAX_LINE: Final = 64 * 1024

HELP: Final = (
    "mo SOURCE DESTINATION TEXT | fault SPEC... | faults | handsets | handset NUMBER | "
    "stats | help | quit"
)


@dataclass(frozen=True, slots=True)
class MoCommand:
    source: str
    destination: str
    text: str
    system_id: str | None = None


@dataclass(frozen=True, slots=True)
class FaultCommand:
    specs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HandsetCommand:
    number: str


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    name: str  # faults, handsets, stats, help, quit


AdminCommand = MoCommand | FaultCommand | HandsetCommand | SimpleCommand

_SIMPLE: Final = frozenset({"faults", "handsets", "stats", "help", "quit"})


class AdminTarget(Protocol):
    """What the admin protocol drives; :class:`~marconi.simulator.Simulator` is one."""

    @property
    def faults(self) -> Faults: ...

    @faults.setter
    def faults(self, faults: Faults) -> None: ...

    async def inject_mo(
        self, *, source: str, destination: str, text: str, system_id: str | None = None
    ) -> tuple[str, ...]: ...

    def handset(self, number: str) -> list[HandsetMessage]: ...

    def handset_numbers(self) -> list[str]: ...

    def stats(self) -> Mapping[str, int | float]: ...


def _text(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"bad JSON string: {exc.msg}") from None
        if not isinstance(value, str):
            raise ConfigError("the text must be a JSON string")
        return value
    return raw


def _json_command(line: str) -> AdminCommand:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"bad JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cmd"), str):
        raise ConfigError('a JSON command is an object with a "cmd" string')
    cmd = data["cmd"].lower()

    def field(name: str) -> str:
        value = data.get(name)
        if not isinstance(value, str):
            raise ConfigError(f"{cmd}: {name!r} must be a string")
        return value

    if cmd == "mo":
        system_id = data.get("system_id")
        if system_id is not None and not isinstance(system_id, str):
            raise ConfigError("mo: 'system_id' must be a string")
        return MoCommand(field("source"), field("destination"), field("text"), system_id)
    if cmd == "fault":
        specs = data.get("specs")
        if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
            raise ConfigError("fault: 'specs' must be a list of strings")
        return FaultCommand(tuple(specs))
    if cmd == "handset":
        return HandsetCommand(field("number"))
    if cmd in _SIMPLE:
        return SimpleCommand(cmd)
    raise ConfigError(f"unknown command {cmd!r}; {HELP}")


def parse_command(line: str) -> AdminCommand:
    """Read one admin line; raises :class:`~marconi.errors.ConfigError` when it makes no sense."""
    line = line.strip()
    if not line:
        raise ConfigError(f"empty command; {HELP}")
    if line.startswith("{"):
        return _json_command(line)
    name, _, rest = line.partition(" ")
    name = name.lower()
    if name == "mo":
        parts = rest.strip().split(None, 2)
        if len(parts) < 3:
            raise ConfigError("usage: mo SOURCE DESTINATION TEXT")
        return MoCommand(parts[0], parts[1], _text(parts[2]))
    if name == "fault":
        try:
            specs = tuple(shlex.split(rest))
        except ValueError as exc:
            raise ConfigError(f"fault: {exc}") from None
        if not specs:
            raise ConfigError("usage: fault SPEC [SPEC...]; e.g. fault throttle-every=10")
        return FaultCommand(specs)
    if name == "handset":
        number = rest.strip()
        if not number or " " in number:
            raise ConfigError("usage: handset NUMBER")
        return HandsetCommand(number)
    if name in _SIMPLE and not rest.strip():
        return SimpleCommand(name)
    raise ConfigError(f"unknown command {line[:40]!r}; {HELP}")


def _message_json(message: HandsetMessage) -> dict[str, object]:
    return {
        "number": message.number,
        "direction": str(message.direction),
        "peer": message.peer,
        "text": message.text,
        "message_ids": list(message.message_ids),
        "at": message.at,
        "parts": message.parts,
        "total_parts": message.total_parts,
        "state": message.fate.value if message.fate is not None else "ENROUTE",
    }


def _ok(value: object) -> str:
    return "OK " + json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def handle_line(target: AdminTarget, line: str) -> str | None:
    """Run one admin line against ``target``; the answer line, or ``None`` for ``quit``."""
    try:
        command = parse_command(line)
        if isinstance(command, MoCommand):
            ids = await target.inject_mo(
                source=command.source,
                destination=command.destination,
                text=command.text,
                system_id=command.system_id,
            )
            return _ok({"message_ids": list(ids), "parts": len(ids)})
        if isinstance(command, FaultCommand):
            faults = target.faults
            for spec in command.specs:
                faults = parse_fault(spec, faults)
            target.faults = faults
            return _ok(faults.describe())
        if isinstance(command, HandsetCommand):
            return _ok([_message_json(m) for m in target.handset(command.number)])
        name = command.name
        if name == "quit":
            return None
        if name == "faults":
            return _ok(target.faults.describe())
        if name == "handsets":
            return _ok(target.handset_numbers())
        if name == "stats":
            return _ok(dict(target.stats()))
        return _ok(HELP)
    except MarconiError as exc:
        return f"ERR {exc}"


class AdminServer:
    """Serves the admin line protocol on a TCP port (loopback by default)."""

    def __init__(self, target: AdminTarget, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._target = target
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the admin server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_LINE
        )

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            for task in list(self._clients):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    raw = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(b"ERR line too long\n")
                    break
                if not raw:
                    break
                answer = await handle_line(self._target, raw.decode("utf-8", "replace"))
                if answer is None:
                    writer.write(b"OK bye\n")
                    break
                writer.write(answer.encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
