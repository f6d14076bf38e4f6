"""Launchers for the independent SMPP peers the interop tests talk to.

Every peer runs as a child process on loopback, on ports picked free at start, and is stopped
(SIGTERM, then SIGKILL) when its ``async with`` block ends, whatever happened inside it.

- ``node_smpp_server(...)``: node-smpp as an SMSC (``node/server.js``); records what it received.
- ``run_node_smpp_client(...)``: node-smpp as an ESME (``node/client.js``); runs to completion.
- ``kannel(...)``: Kannel's bearerbox + smsbox with a generated ``kannel.conf`` whose SMPP smsc
  group binds to a given host and port; submits through sendsms, captures DLR and MO callbacks.
- ``sink_smsc(...)``: the minimal independent SMSC from the shared tools directory.
- ``HttpCapture``: a tiny HTTP server recording the requests Kannel makes to its callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
NODE_DIR: Final = HERE / "node"
SHARED_TOOLS: Final = Path(
    os.environ.get("MARCONI_SHARED_TOOLS", HERE.parents[2] / "shared" / "tools")
)
LOOPBACK: Final = "127.0.0.1"

Event = dict[str, Any]


# ----------------------------------------------------------------------------- availability


def node_smpp_available() -> bool:
    return shutil.which("node") is not None and (NODE_DIR / "node_modules" / "smpp").is_dir()


def _sbin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidate = Path("/usr/sbin") / name
    return str(candidate) if candidate.exists() else None


def kannel_available() -> bool:
    return _sbin("bearerbox") is not None and _sbin("smsbox") is not None


def sink_smsc_available() -> bool:
    return (SHARED_TOOLS / "sink_smsc.py").is_file()


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_port(
    port: int,
    *,
    within: float,
    host: str = LOOPBACK,
    process: asyncio.subprocess.Process | None = None,
) -> None:
    """Wait until something accepts TCP connections on host:port (and ``process`` still runs)."""
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if process is not None and process.returncode is not None:
                raise TimeoutError(
                    f"the process meant to listen on {host}:{port} exited "
                    f"with status {process.returncode}"
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {within}s") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return


async def stop_process(process: asyncio.subprocess.Process, *, grace: float = 3.0) -> None:
    """Terminate one child we started; kill it if it does not go in time."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


# ----------------------------------------------------------------------------- JSON-line peers


class JsonLineProcess:
    """A child process that prints one JSON object per line; keeps them as events."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.events: list[Event] = []
        self.stderr = bytearray()
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            text = line.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                event = json.loads(text)
            except ValueError:
                event = {"event": "unparsed", "line": text}
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.stderr += line

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.get("event") == kind]

    async def wait_for(
        self, predicate: Callable[[list[Event]], bool], *, within: float, what: str = ""
    ) -> None:
        """Wait until predicate(events) holds; on timeout, say what was seen."""

        async def waiting() -> None:
            async with self._changed:
                while not predicate(self.events):
                    if self._readers[0].done():
                        raise AssertionError(f"{self.name} exited while waiting for {what}")
                    await self._changed.wait()

        try:
            await asyncio.wait_for(waiting(), within)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no {what or 'expected events'} within {within}s\n{self.report()}"
            ) from None

    async def wait_count(self, kind: str, count: int, *, within: float) -> list[Event]:
        await self.wait_for(
            lambda events: sum(e.get("event") == kind for e in events) >= count,
            within=within,
            what=f"{count} {kind!r} events",
        )
        return self.of(kind)

    def report(self, limit: int = 60) -> str:
        lines = [json.dumps(e, ensure_ascii=False)[:400] for e in self.events[-limit:]]
        stderr = self.stderr.decode("utf-8", "replace")[-4000:]
        return (
            f"--- {self.name} events (last {limit}) ---\n"
            + "\n".join(lines)
            + f"\n--- {self.name} stderr ---\n{stderr}"
        )

    async def aclose(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 2.0)
        except TimeoutError:
            await stop_process(self.process)
        for reader in self._readers:
            try:
                await asyncio.wait_for(reader, 2.0)
            except (TimeoutError, asyncio.CancelledError):
                reader.cancel()


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One text a node-smpp peer sends (submit_sm from the client, deliver_sm from the server).

    mode: "single" (one PDU, must fit), "udh" / "udh16" (concatenated with an 8-/16-bit
    reference), "sar" (SAR TLVs), "payload" (whole text in message_payload, one PDU).
    Texts that fit one PDU are sent as one whatever the mode, except "payload".
    """

    destination_addr: str
    text: str
    coding: str = "gsm"
    mode: str = "udh"
    source_addr: str = "15550000000"
    registered_delivery: int = 0
    ref: int | str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "destination_addr": self.destination_addr,
            "source_addr": self.source_addr,
            "text": self.text,
            "coding": self.coding,
            "mode": self.mode,
            "registered_delivery": self.registered_delivery,
        }
        if self.ref is not None:
            data["ref"] = self.ref
        return data


async def _spawn_node(script: str, config: Mapping[str, Any], name: str) -> JsonLineProcess:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / script),
        json.dumps(config),
        cwd=NODE_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return JsonLineProcess(process, name)


class NodeSmppServer:
    """node-smpp in the SMSC role; ``events`` holds what it saw and did."""

    def __init__(self, proc: JsonLineProcess, port: int) -> None:
        self.proc = proc
        self.port = port

    @property
    def events(self) -> list[Event]:
        return self.proc.events

    def of(self, kind: str) -> list[Event]:
        return self.proc.of(kind)

    async def wait_count(self, kind: str, count: int, *, within: float = 10.0) -> list[Event]:
        return await self.proc.wait_count(kind, count, within=within)

    async def wait_for(
        self, predicate: Callable[[list[Event]], bool], *, within: float = 10.0, what: str = ""
    ) -> None:
        await self.proc.wait_for(predicate, within=within, what=what)

    async def deliver(self, messages: Sequence[OutboundMessage]) -> None:
        """Send mobile-originated messages to the newest receiver/transceiver bind."""
        await self._command({"op": "deliver", "messages": [m.as_json() for m in messages]})

    async def unbind_all(self) -> None:
        await self._command({"op": "unbind"})

    async def _command(self, command: Mapping[str, Any]) -> None:
        stdin = self.proc.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(command).encode() + b"\n")
        await stdin.drain()

    def report(self) -> str:
        return self.proc.report()


@contextlib.asynccontextmanager
async def node_smpp_server(
    *,
    system_id: str = "nodesmsc",
    credentials: Mapping[str, str] | None = None,
    receipts: str = "requested",
    receipt_stat: str = "DELIVRD",
    receipt_delay_ms: int = 0,
    receipt_tlvs: bool = True,
    id_format: str = "dec",
    mo_on_bind: Sequence[OutboundMessage] = (),
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    start_timeout: float = 10.0,
) -> AsyncIterator[NodeSmppServer]:
    """Run node-smpp as an SMSC on a free loopback port (TLS only, with ``tls_cert``)."""
    config: dict[str, Any] = {
        "host": LOOPBACK,
        "port": 0,
        "system_id": system_id,
        "receipts": receipts,
        "receipt_stat": receipt_stat,
        "receipt_delay_ms": receipt_delay_ms,
        "receipt_tlvs": receipt_tlvs,
        "id_format": id_format,
        "mo_on_bind": [m.as_json() for m in mo_on_bind],
    }
    if credentials is not None:
        config["credentials"] = dict(credentials)
    if tls_cert is not None:
        config["tls"] = {"cert_file": str(tls_cert), "key_file": str(tls_key or tls_cert)}
    proc = await _spawn_node("server.js", config, "node-smpp server")
    try:
        listening = await proc.wait_count("listening", 1, within=start_timeout)
        server = NodeSmppServer(proc, int(listening[0]["port"]))
        try:
            yield server
        except BaseException:
            print(server.report())
            raise
    finally:
        await proc.aclose()


@dataclass(frozen=True, slots=True)
class NodeClientResult:
    events: list[Event]
    returncode: int | None
    stderr: str

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.get("event") == kind]

    @property
    def bind_status(self) -> int | None:
        binds = self.of("bind_resp")
        return int(binds[0]["command_status"]) if binds else None

    @property
    def finished(self) -> bool:
        return self.returncode == 0 and bool(self.of("done"))

    def responses(self, ref: int | str) -> list[Event]:
        return sorted(
            (e for e in self.of("submit_sm_resp") if e["ref"] == ref), key=lambda e: e["part"]
        )

    def receipts(self) -> list[Event]:
        return [e for e in self.of("deliver_sm") if int(e.get("esm_class", 0)) & 0x3C == 0x04]

    def mobile_originated(self) -> list[Event]:
        return [e for e in self.of("deliver_sm") if int(e.get("esm_class", 0)) & 0x3C == 0]

    def report(self) -> str:
        lines = [json.dumps(e, ensure_ascii=False)[:400] for e in self.events]
        return (
            f"--- node-smpp client (exit {self.returncode}) ---\n"
            + "\n".join(lines)
            + f"\n--- stderr ---\n{self.stderr[-4000:]}"
        )


async def run_node_smpp_client(
    *,
    port: int,
    messages: Sequence[OutboundMessage] = (),
    host: str = LOOPBACK,
    system_id: str = "nodeclient",
    password: str = "secret",
    system_type: str = "",
    bind: str = "transceiver",
    expect_deliver: int = 0,
    linger_ms: int = 0,
    tls_ca: Path | None = None,
    within: float = 20.0,
) -> NodeClientResult:
    """Run node-smpp as an ESME until it has its responses and ``expect_deliver`` deliver_sm.

    With ``tls_ca`` it connects over TLS and verifies the server's certificate against that CA.
    """
    config: dict[str, Any] = {
        "host": host,
        "port": port,
        "system_id": system_id,
        "password": password,
        "system_type": system_type,
        "bind": bind,
        "messages": [m.as_json() for m in messages],
        "expect_deliver": expect_deliver,
        "linger_ms": linger_ms,
        "timeout_ms": int(within * 1000),
    }
    if tls_ca is not None:
        config["tls"] = {"ca_file": str(tls_ca)}
    proc = await _spawn_node("client.js", config, "node-smpp client")
    try:
        await asyncio.wait_for(proc.process.wait(), within + 5.0)
    finally:
        await proc.aclose()
    return NodeClientResult(
        events=list(proc.events),
        returncode=proc.process.returncode,
        stderr=proc.stderr.decode("utf-8", "replace"),
    )


# ----------------------------------------------------------------------------- HTTP capture


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    raw_query: str
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """Query parameters decoded as UTF-8 (what Kannel sends for UTF-8 texts)."""
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.raw_query).items()}

    def raw_param(self, name: str) -> bytes:
        """A query parameter's exact octets, for texts that are not UTF-8 (UCS-2 MO)."""
        values = urllib.parse.parse_qs(self.raw_query, encoding="latin-1")
        return values[name][-1].encode("latin-1") if name in values else b""


class HttpCapture:
    """Records every request made to it and answers 200 "OK"."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            async with self._changed:
                self.requests.append(HttpRequest(method, path, query, body))
                self._changed.notify_all()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\nOK"
            )
            await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()

    def on(self, path: str) -> list[HttpRequest]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(
        self, predicate: Callable[[list[HttpRequest]], bool], *, within: float, what: str
    ) -> None:
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.requests))

        try:
            await asyncio.wait_for(waiting(), within)
        except TimeoutError:
            seen = "\n".join(f"{r.method} {r.path}?{r.raw_query}" for r in self.requests)
            raise AssertionError(f"no {what} within {within}s; requests seen:\n{seen}") from None


# ----------------------------------------------------------------------------- Kannel


@dataclass(frozen=True, slots=True)
class SendSmsReply:
    status: int
    body: str

    @property
    def accepted(self) -> bool:
        return self.status in (200, 202) and self.body.startswith("0:")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One call Kannel made to a dlr-url set by ``KannelInstance.sendsms``."""

    tag: str
    type: int  # Kannel's DLR type: 1 delivered, 2 failed, 4 buffered, 8 SMSC ack, 16 SMSC reject
    smsc_message_id: str  # %F: the id the SMSC gave (receipted_message_id / submit_sm_resp)
    receipt_text: str  # %A: the receipt text the SMSC sent (for types 1, 2, 4)
    receiver: str
    request: HttpRequest


@dataclass(frozen=True, slots=True)
class MobileOriginated:
    """One call Kannel made to the sms-service get-url for a received message."""

    sender: str
    receiver: str
    coding: int
    charset: str
    udh: bytes
    raw_text: bytes

    @property
    def text(self) -> str:
        charset = self.charset or "UTF-8"
        if charset.upper() in ("UTF-16BE", "UCS-2", "UCS2"):
            return self.raw_text.decode("utf-16-be")
        return self.raw_text.decode(charset)


@dataclass
class KannelInstance:
    workdir: Path
    admin_port: int
    smsbox_port: int
    sendsms_port: int
    smsc_id: str
    username: str
    password: str
    capture: HttpCapture
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def sendsms_url(self) -> str:
        return f"http://{LOOPBACK}:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_password(self) -> str:
        return "kannel-admin"

    def dlr_url(self, tag: str) -> str:
        escapes = "type=%d&smsc_id=%F&reply=%A&to=%p&from=%P"
        return f"{self.capture.base_url}/dlr?tag={urllib.parse.quote(tag)}&{escapes}"

    async def sendsms(
        self,
        *,
        to: str,
        text: str,
        sender: str = "12345",
        coding: int | None = None,
        charset: str | None = None,
        dlr_mask: int | None = None,
        tag: str | None = None,
        extra: Mapping[str, str] | None = None,
        within: float = 10.0,
    ) -> SendSmsReply:
        """Submit one message through smsbox's sendsms HTTP interface.

        With ``tag``, a dlr-url pointing at the capture server is added; the reports come
        back in ``delivery_reports(tag)``.
        """
        params: dict[str, str] = {
            "username": self.username,
            "password": self.password,
            "from": sender,
            "to": to,
            "text": text,
        }
        if coding is not None:
            params["coding"] = str(coding)
        if charset is not None:
            params["charset"] = charset
        if tag is not None:
            params["dlr-mask"] = str(dlr_mask if dlr_mask is not None else 31)
            params["dlr-url"] = self.dlr_url(tag)
        elif dlr_mask is not None:
            params["dlr-mask"] = str(dlr_mask)
        params.update(extra or {})
        url = self.sendsms_url + "?" + urllib.parse.urlencode(params)
        return await asyncio.to_thread(_http_get, url, within)

    def delivery_reports(self, tag: str | None = None) -> list[DeliveryReport]:
        reports = []
        for request in self.capture.on("/dlr"):
            query = request.query
            if tag is not None and query.get("tag") != tag:
                continue
            reports.append(
                DeliveryReport(
                    tag=query.get("tag", ""),
                    type=int(query.get("type", "0") or 0),
                    smsc_message_id=query.get("smsc_id", ""),
                    receipt_text=query.get("reply", ""),
                    receiver=query.get("to", ""),
                    request=request,
                )
            )
        return reports

    async def wait_delivery_reports(
        self, tag: str, predicate: Callable[[list[DeliveryReport]], bool], *, within: float = 15
    ) -> list[DeliveryReport]:
        try:
            await self.capture.wait_for(
                lambda _: predicate(self.delivery_reports(tag)),
                within=within,
                what=f"delivery reports for {tag!r}",
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.logs()}") from None
        return self.delivery_reports(tag)

    def mobile_originated(self) -> list[MobileOriginated]:
        found = []
        for request in self.capture.on("/mo"):
            query = request.query
            found.append(
                MobileOriginated(
                    sender=query.get("from", ""),
                    receiver=query.get("to", ""),
                    coding=int(query.get("coding", "0") or 0),
                    charset=query.get("charset", ""),
                    udh=request.raw_param("udh"),
                    raw_text=request.raw_param("text"),
                )
            )
        return found

    async def wait_mobile_originated(
        self, count: int, *, within: float = 15
    ) -> list[MobileOriginated]:
        try:
            await self.capture.wait_for(
                lambda _: len(self.mobile_originated()) >= count,
                within=within,
                what=f"{count} MO callbacks",
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.logs()}") from None
        return self.mobile_originated()

    async def status(self) -> str:
        url = f"http://{LOOPBACK}:{self.admin_port}/status.txt?password={self.admin_password}"
        reply = await asyncio.to_thread(_http_get, url, 5.0)
        return reply.body

    async def wait_online(self, *, within: float = 15.0) -> None:
        """Wait until the smsc group is bound and smsbox is connected."""
        deadline = time.monotonic() + within
        last = ""
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                last = await self.status()
                if _smsc_online(last, self.smsc_id) and "smsbox" in last:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"Kannel's smsc did not come online in {within}s\n{last}\n{self.logs()}"
        )

    def logs(self, tail: int = 120) -> str:
        out = []
        for path in sorted(self.workdir.glob("*.log")):
            lines = path.read_text("utf-8", "replace").splitlines()
            out.append(f"--- {path.name} (last {tail} lines) ---")
            out.extend(lines[-tail:])
        return "\n".join(out)


def _smsc_online(status: str, smsc_id: str) -> bool:
    return any(
        line.strip().startswith(smsc_id) and "(online" in line for line in status.splitlines()
    )


def _http_get(url: str, timeout: float) -> SendSmsReply:
    # Loopback only: never through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return SendSmsReply(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return SendSmsReply(error.code, error.read().decode("utf-8", "replace"))


def kannel_config(
    *,
    workdir: Path,
    admin_port: int,
    smsbox_port: int,
    sendsms_port: int,
    smsc_host: str,
    smsc_port: int,
    smsc_id: str,
    system_id: str,
    password: str,
    username: str,
    user_password: str,
    mo_url: str,
    transceiver: bool = True,
    smsc_extra: Mapping[str, str] | None = None,
    log_level: int = 0,
) -> str:
    """The text of a kannel.conf: one SMPP smsc group, one smsbox, one sendsms user."""

    def group(name: str, values: Mapping[str, str | int]) -> str:
        body = "\n".join(f"{k} = {_conf_value(v)}" for k, v in values.items())
        return f"group = {name}\n{body}\n"

    core: dict[str, str | int] = {
        "admin-port": admin_port,
        "admin-interface": LOOPBACK,
        "admin-password": "kannel-admin",
        "status-password": "kannel-admin",
        "admin-allow-ip": LOOPBACK,
        "smsbox-port": smsbox_port,
        "smsbox-interface": LOOPBACK,
        "box-allow-ip": LOOPBACK,
        "log-file": str(workdir / "bearerbox.log"),
        "log-level": log_level,
        "access-log": str(workdir / "bearerbox-access.log"),
        "dlr-storage": "internal",
        "store-type": "file",
        "store-location": str(workdir / "store"),
        "sms-combine-concatenated-mo": "true",
        "sms-resend-freq": 1,
    }
    smsc: dict[str, str | int] = {
        "smsc": "smpp",
        "smsc-id": smsc_id,
        "host": smsc_host,
        "port": smsc_port,
        # transceiver: one bind; otherwise a transmitter and a receiver bind to the same port
        "receive-port": 0 if transceiver else smsc_port,
        "transceiver-mode": "true" if transceiver else "false",
        "smsc-username": system_id,
        "smsc-password": password,
        "system-type": "",
        "interface-version": 34,
        "enquire-link-interval": 30,
        "reconnect-delay": 1,
        "max-pending-submits": 10,
        "log-file": str(workdir / "smsc.log"),
        "log-level": log_level,
    }
    smsc.update(smsc_extra or {})
    smsbox: dict[str, str | int] = {
        "bearerbox-host": LOOPBACK,
        "bearerbox-port": smsbox_port,
        "sendsms-port": sendsms_port,
        "sendsms-interface": LOOPBACK,
        "log-file": str(workdir / "smsbox.log"),
        "log-level": log_level,
        "access-log": str(workdir / "smsbox-access.log"),
        "http-request-retry": 0,
    }
    user: dict[str, str | int] = {
        "username": username,
        "password": user_password,
        "max-messages": 10,
        "concatenation": "true",
        "user-allow-ip": LOOPBACK,
    }
    service: dict[str, str | int] = {
        "keyword": "default",
        "catch-all": "true",
        "max-messages": 0,
        "get-url": mo_url + "?from=%p&to=%P&text=%b&coding=%c&charset=%C&udh=%u&smsc=%i",
        "accept-x-kannel-headers": "false",
    }
    return "\n".join(
        [
            group("core", core),
            group("smsc", smsc),
            group("smsbox", smsbox),
            group("sendsms-user", user),
            group("sms-service", service),
        ]
    )


def _conf_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    if value in ("true", "false"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.asynccontextmanager
async def kannel(
    *,
    smsc_port: int,
    workdir: Path,
    smsc_host: str = LOOPBACK,
    system_id: str = "kannel",
    password: str = "secret",
    transceiver: bool = True,
    smsc_extra: Mapping[str, str] | None = None,
    wait_online: bool = True,
    start_timeout: float = 15.0,
) -> AsyncIterator[KannelInstance]:
    """Run bearerbox + smsbox whose SMPP smsc binds to smsc_host:smsc_port.

    Logs and the generated kannel.conf stay in ``workdir``; if the block fails, the logs are
    printed so the failure report says what Kannel saw.
    """
    bearerbox, smsbox = _sbin("bearerbox"), _sbin("smsbox")
    assert bearerbox is not None, "Kannel's bearerbox is not installed"
    assert smsbox is not None, "Kannel's smsbox is not installed"
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    capture = HttpCapture()
    await capture.start()
    instance = KannelInstance(
        workdir=workdir,
        admin_port=free_port(),
        smsbox_port=free_port(),
        sendsms_port=free_port(),
        smsc_id="marconi",
        username="tester",
        password="tester-pw",
        capture=capture,
    )
    conf = workdir / "kannel.conf"
    conf.write_text(
        kannel_config(
            workdir=workdir,
            admin_port=instance.admin_port,
            smsbox_port=instance.smsbox_port,
            sendsms_port=instance.sendsms_port,
            smsc_host=smsc_host,
            smsc_port=smsc_port,
            smsc_id=instance.smsc_id,
            system_id=system_id,
            password=password,
            username=instance.username,
            user_password=instance.password,
            mo_url=f"{capture.base_url}/mo",
            transceiver=transceiver,
            smsc_extra=smsc_extra,
        )
    )
    try:
        for binary, ready_port in (
            (bearerbox, instance.admin_port),
            (smsbox, instance.sendsms_port),
        ):
            name = Path(binary).name
            with (workdir / f"{name}.out").open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    binary,
                    "-v",
                    "4",
                    str(conf),
                    cwd=workdir,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            instance.processes.append(process)
            try:
                await wait_port(ready_port, within=start_timeout, process=process)
            except TimeoutError as error:
                raise AssertionError(f"{name} did not start: {error}\n{instance.logs()}") from None
        if wait_online:
            await instance.wait_online(within=start_timeout)
        try:
            yield instance
        except BaseException:
            print(instance.logs(), file=sys.stdout)
            raise
    finally:
        for process in reversed(instance.processes):
            await stop_process(process, grace=5.0)
        await capture.aclose()


# ----------------------------------------------------------------------------- sink_smsc.py


@dataclass
class SinkSmsc:
    port: int
    process: asyncio.subprocess.Process
    output: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, str]:
        for line in self.output:
            if line.startswith("SUMMARY "):
                return dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
        return {}


@contextlib.asynccontextmanager
async def sink_smsc(*args: str, start_timeout: float = 10.0) -> AsyncIterator[SinkSmsc]:
    """Run the shared minimal SMSC on a free port; its SUMMARY is read after the block."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SHARED_TOOLS / "sink_smsc.py"),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    sink = SinkSmsc(port, process)
    try:
        await wait_port(port, within=start_timeout, process=process)
        yield sink
    finally:
        await stop_process(process)
        assert process.stdout is not None
        sink.output.extend((await process.stdout.read()).decode("utf-8", "replace").splitlines())


# ----------------------------------------------------------------------------- smpplib


@dataclass(frozen=True, slots=True)
class SmpplibMessage:
    """One text smpplib sends; smpplib encodes and splits it itself (``smpplib.gsm.make_parts``)."""

    destination_addr: str
    text: str
    ucs2: bool = False
    source_addr: str = "15550000000"
    registered_delivery: bool = True


@dataclass
class SmpplibResult:
    bind_status: int | None = None
    # (message index, part number, command_status, message_id)
    responses: list[tuple[int, int, int, str]] = field(default_factory=list)
    # what each submit_sm carried: (message index, esm_class, data_coding, short_message)
    sent: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def message_ids(self, index: int) -> list[str]:
        return [mid for i, _, status, mid in self.responses if i == index and status == 0]

    def receipts(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries if d["esm_class"] & 0x3C == 0x04]

    def mobile_originated(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries if d["esm_class"] & 0x3C == 0]


def run_smpplib_client(
    *,
    port: int,
    messages: Sequence[SmpplibMessage] = (),
    host: str = LOOPBACK,
    system_id: str = "smpplib",
    password: str = "secret",
    expect_deliver: int = 0,
    timeout: float = 15.0,
) -> SmpplibResult:
    """Blocking: bind transceiver, submit, read until every response and expect_deliver
    deliver_sm arrived (or timeout), unbind. Run it with ``asyncio.to_thread``."""
    import smpplib.client
    import smpplib.consts
    import smpplib.exceptions
    import smpplib.gsm

    result = SmpplibResult()
    client = smpplib.client.Client(host, port, timeout=0.5, allow_unknown_opt_params=True)
    by_sequence: dict[int, tuple[int, int]] = {}

    def on_sent(pdu: Any, **_: Any) -> None:
        if pdu.is_error():  # smpplib hands error responses to both handlers; on_error has it
            return
        index, part = by_sequence.get(pdu.sequence, (-1, 0))
        message_id = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else ""
        result.responses.append((index, part, int(pdu.status), message_id))

    def on_received(pdu: Any, **_: Any) -> int:
        def text(value: Any) -> str:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value or "")

        receipted = getattr(pdu, "receipted_message_id", None)
        result.deliveries.append(
            {
                "source_addr": text(pdu.source_addr),
                "destination_addr": text(pdu.destination_addr),
                "esm_class": int(pdu.esm_class or 0),
                "data_coding": int(pdu.data_coding or 0),
                "short_message": bytes(pdu.short_message or b""),
                "receipted_message_id": text(receipted) if receipted else None,
                "message_state": getattr(pdu, "message_state", None),
            }
        )
        return 0

    def on_error(pdu: Any) -> None:
        index, part = by_sequence.get(pdu.sequence, (-1, 0))
        result.responses.append((index, part, int(pdu.status), ""))

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_received)
    client.set_error_pdu_handler(on_error)
    deadline = time.monotonic() + timeout
    try:
        client.connect()
        try:
            client.bind_transceiver(system_id=system_id, password=password)
        except smpplib.exceptions.PDUError as error:
            result.bind_status = int(error.args[1]) if len(error.args) > 1 else -1
            return result
        result.bind_status = 0
        submitted = 0
        for index, message in enumerate(messages):
            encoding = (
                smpplib.consts.SMPP_ENCODING_ISO10646
                if message.ucs2
                else smpplib.consts.SMPP_ENCODING_DEFAULT
            )
            parts, data_coding, esm_class = smpplib.gsm.make_parts(message.text, encoding)
            for number, part in enumerate(parts, start=1):
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    source_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    source_addr=message.source_addr,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=message.destination_addr,
                    short_message=part,
                    data_coding=data_coding,
                    esm_class=esm_class,
                    registered_delivery=message.registered_delivery,
                )
                by_sequence[pdu.sequence] = (index, number)
                result.sent.append((index, esm_class, data_coding, part))
                submitted += 1
        while time.monotonic() < deadline and (
            len(result.responses) < submitted or len(result.deliveries) < expect_deliver
        ):
            client.read_once()
        if len(result.responses) < submitted or len(result.deliveries) < expect_deliver:
            result.error = (
                f"timed out: {len(result.responses)}/{submitted} responses, "
                f"{len(result.deliveries)}/{expect_deliver} deliver_sm"
            )
        with contextlib.suppress(smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
            client.unbind()
    except (smpplib.exceptions.ConnectionError, OSError) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        client.disconnect()
    return result
