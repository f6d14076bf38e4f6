"""SMPP throughput over loopback: submit_sm/s of our client and of our server, receipts off and on.

Scenarios (each side in its own process, so that client and server each have a core):

  client→server   our SmppClient  → our SMSC (the simulator when present, else SmppServer with a
                                     minimal handler)
  client→sink     our SmppClient  → sink_smsc.py (independent, stdlib only)
  blast→server    smpp_blast.py   → our SMSC (independent raw client)

"receipts on" means one deliver_sm receipt per submit_sm; our client counts a message only once its
receipt came back and was matched to the message_id of its submit_sm_resp. Prints one line per
scenario, and peak RSS of our processes; ``--count 1000000`` is the long run for flat memory. Our
server process calls ``tune_gc()`` first, as ``marconi smsc`` does; our client process does not.

  python benchmarks/smpp_throughput.py                 # 200,000 messages per scenario
  python benchmarks/smpp_throughput.py --count 1000000 --only client-sink
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from marconi.smpp import DeliverSm, SubmitSm, SubmitSmResp, Tag, Tlvs
from marconi.transport import BaseHandler, SmppClient, SmppServer, SmppSession, install_uvloop
from marconi.transport.loop import tune_gc

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(os.environ.get("MARCONI_SHARED_TOOLS", ROOT.parent / "shared" / "tools"))
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time used so far by a process (this one by default)."""
    fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int | None = None) -> tuple[int, int]:
    """(current, peak) resident set size in KiB of a process (this one by default)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    now = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return now, peak


# --------------------------------------------------------------------------- our server side


class MinimalSmsc(BaseHandler):
    """Answers every submit_sm with a fresh id and, when asked for, a receipt right away."""

    def __init__(self) -> None:
        self.next_id = 0

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp:
        self.next_id += 1
        message_id = f"{self.next_id:x}"
        if pdu.registered_delivery & 1:
            receiver = session if session.can_receive else None
            if receiver is None and session.system_id is not None:
                receiver = session.server.receiver_for(session.system_id)
            if receiver is not None:
                receiver.deliver_nowait(
                    DeliverSm(
                        source_addr=pdu.destination_addr,
                        destination_addr=pdu.source_addr,
                        esm_class=0x04,
                        short_message=b"id:%s sub:001 dlvrd:001 submit date:2401011200 "
                        b"done date:2401011200 stat:DELIVRD err:000 text:" % message_id.encode(),
                        tlvs=Tlvs({Tag.RECEIPTED_MESSAGE_ID: message_id, Tag.MESSAGE_STATE: 2}),
                    )
                )
        return SubmitSmResp(sequence_number=pdu.sequence_number, message_id=message_id)


class _Closable(Protocol):
    async def aclose(self) -> None: ...


async def serve(port: int, use_simulator: bool) -> None:
    server: _Closable | None = await _start_simulator(port) if use_simulator else None
    kind = "simulator"
    if server is None:
        bare = SmppServer(handler=MinimalSmsc(), port=port, window=256, receive_window=None)
        await bare.start()
        server, kind = bare, "minimal"
    print(f"READY {kind}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await server.aclose()


async def _start_simulator(port: int) -> _Closable | None:
    """The built-in simulator, every message delivered at once, if this checkout has one."""
    try:
        config_module = importlib.import_module("marconi.simulator.config")
        smsc_module = importlib.import_module("marconi.simulator.smsc")
        rule_module = importlib.import_module("marconi.simulator.rule")
        latency_module = importlib.import_module("marconi.simulator.latency")
    except ImportError:
        return None
    # Receipts at once, so that they flow while the submits do (the harder case).
    rules = rule_module.DeliveryRules(latency=latency_module.FixedLatency(0.0))
    config = config_module.SimulatorConfig(host=HOST, port=port, rules=rules)
    simulator: _Closable = smsc_module.Simulator(config)
    await simulator.start()  # type: ignore[attr-defined]
    return simulator


@contextlib.contextmanager
def our_server(use_simulator: bool) -> Iterator[tuple[int, subprocess.Popen[str], str]]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", str(port)]
    if not use_simulator:
        args.append("--minimal")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        process.kill()
        raise RuntimeError("our server did not start")
    try:
        yield port, process, line[1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


@contextlib.contextmanager
def sink(dlr: bool) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    args = [sys.executable, str(TOOLS / "sink_smsc.py"), "--host", HOST, "--port", str(port)]
    if dlr:
        args.append("--dlr-all")
    if "uvloop" in sys.modules:
        args.append("--uvloop")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if not process.stdout.readline().startswith("LISTENING"):
        process.kill()
        raise RuntimeError("sink_smsc.py did not start")
    try:
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


# --------------------------------------------------------------------------- our client side


@dataclass
class ClientResult:
    count: int
    seconds: float
    errors: int
    receipts: int
    rss_kib_mid: int
    rss_kib_end: int
    rss_kib_peak: int
    cpu: float


class Correlator:
    """Matches receipts to submit responses by message_id, whichever arrives first."""

    def __init__(self) -> None:
        self.awaiting: set[str] = set()
        self.early: set[str] = set()
        self.matched = 0
        self.done = asyncio.Event()
        self.target = 0

    def submitted(self, message_id: str) -> None:
        if message_id in self.early:
            self.early.discard(message_id)
            self._match()
        else:
            self.awaiting.add(message_id)

    def on_deliver_sm(self, pdu: DeliverSm) -> int:
        message_id = pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
        if message_id is None:
            return 0
        if message_id in self.awaiting:
            self.awaiting.discard(message_id)
            self._match()
        else:
            self.early.add(message_id)
        return 0

    def _match(self) -> None:
        self.matched += 1
        if self.matched >= self.target:
            self.done.set()


async def run_client(port: int, count: int, receipts: bool, window: int) -> ClientResult:
    correlator = Correlator()
    correlator.target = count
    client = SmppClient(
        host=HOST,
        port=port,
        system_id="bench",
        password="bench",
        window=window,
        reconnect=False,
        on_deliver_sm=correlator.on_deliver_sm if receipts else None,
    )
    chunk = 2000
    registered = 1 if receipts else 0
    errors = 0
    next_index = 0
    rss_mid = 0

    def take() -> range | None:
        nonlocal next_index
        if next_index >= count:
            return None
        start = next_index
        next_index = min(count, start + chunk)
        return range(start, next_index)

    async def worker() -> None:
        nonlocal errors, rss_mid
        while (indices := take()) is not None:
            pdus = [
                SubmitSm(
                    source_addr="Bench",
                    source_addr_ton=5,
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr=f"4912345{i % 100000:05d}",
                    registered_delivery=registered,
                    short_message=b"load test message %d" % i,
                )
                for i in indices
            ]
            for result in await client.submit_many(pdus):
                if isinstance(result, SubmitSmResp):
                    if receipts:
                        correlator.submitted(result.message_id)
                else:
                    errors += 1
                    correlator.target -= 1
            if not rss_mid and indices.start >= count // 2:
                rss_mid = rss_kib()[0]

    cpu_start = cpu_seconds()
    async with client:
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(3)))
        if receipts and correlator.target > 0:
            await asyncio.wait_for(correlator.done.wait(), 60)
        seconds = time.perf_counter() - start
    now, peak = rss_kib()
    return ClientResult(
        count=count,
        seconds=seconds,
        errors=errors,
        receipts=correlator.matched,
        rss_kib_mid=rss_mid,
        rss_kib_end=now,
        rss_kib_peak=peak,
        cpu=cpu_seconds() - cpu_start,
    )


def blast(port: int, count: int, receipts: bool, window: int) -> tuple[float, str]:
    args = [
        sys.executable,
        str(TOOLS / "smpp_blast.py"),
        "--host",
        HOST,
        "--port",
        str(port),
        "-n",
        str(count),
        "--window",
        str(window),
    ]
    if receipts:
        args += ["--reg", "1"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True).stdout
    match = re.search(r"rate=(\d+)/s", out)
    return (float(match.group(1)) if match else 0.0), out.strip()


# --------------------------------------------------------------------------- driver

SCENARIOS = ("client-server", "client-sink", "blast-server")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="messages per scenario")
    parser.add_argument("--window", type=int, default=64, help="our client's window")
    parser.add_argument("--blast-window", type=int, default=200, help="smpp_blast.py's window")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only these")
    parser.add_argument("--receipts", choices=("off", "on", "both"), default="both")
    parser.add_argument("--no-uvloop", action="store_true", help="use the asyncio event loop")
    parser.add_argument("--minimal", action="store_true", help="our bare server, not the simulator")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.no_uvloop:
        install_uvloop()
    if args.serve:
        tune_gc()  # as `marconi smsc` does
        asyncio.run(serve(args.serve, use_simulator=not args.minimal))
        return 0

    loop_name = "uvloop" if "uvloop" in sys.modules else "asyncio"
    print(f"# {args.count:,} messages per run, client window {args.window}, {loop_name}")
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.receipts]
    results: list[dict[str, object]] = []
    for scenario in args.only or SCENARIOS:
        for receipts in modes:
            label = f"{scenario:<14} receipts {'on ' if receipts else 'off'}"
            row: dict[str, object] = {"scenario": scenario, "receipts": receipts}
            if scenario == "client-sink":
                with sink(receipts) as (port, process):
                    before = cpu_seconds(process.pid)
                    res = asyncio.run(run_client(port, args.count, receipts, args.window))
                    row["peer_cpu_us"] = _per_message(cpu_seconds(process.pid) - before, args.count)
                row.update(_client_row(res), target="sink")
            elif scenario == "client-server":
                with our_server(not args.minimal) as (port, process, kind):
                    before = cpu_seconds(process.pid)
                    res = asyncio.run(run_client(port, args.count, receipts, args.window))
                    row["server_cpu_us"] = _per_message(
                        cpu_seconds(process.pid) - before, args.count
                    )
                    row["server_rss_kib_peak"] = rss_kib(process.pid)[1]
                row.update(_client_row(res), target=kind)
            else:
                with our_server(not args.minimal) as (port, process, kind):
                    before = cpu_seconds(process.pid)
                    rate, out = blast(port, args.count, receipts, args.blast_window)
                    row["server_cpu_us"] = _per_message(
                        cpu_seconds(process.pid) - before, args.count
                    )
                    row["server_rss_kib_peak"] = rss_kib(process.pid)[1]
                row.update(rate=round(rate), target=kind, blast=out)
            results.append(row)
            print(_line(label, row), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _per_message(seconds: float, count: int) -> float:
    return round(seconds / count * 1e6, 1)


def _client_row(res: ClientResult) -> dict[str, object]:
    return {
        "client_cpu_us": _per_message(res.cpu, res.count),
        "rate": round(res.count / res.seconds),
        "seconds": round(res.seconds, 2),
        "errors": res.errors,
        "receipts_matched": res.receipts,
        "client_rss_kib_mid": res.rss_kib_mid,
        "client_rss_kib_end": res.rss_kib_end,
        "client_rss_kib_peak": res.rss_kib_peak,
    }


def _line(label: str, row: dict[str, object]) -> str:
    parts = [f"{label}  {row['rate']:>7,} submit_sm/s"]
    cpu = [
        f"{who} {row[key]} µs"
        for who, key in (
            ("client", "client_cpu_us"),
            ("server", "server_cpu_us"),
            ("sink", "peer_cpu_us"),
        )
        if key in row
    ]
    parts.append("CPU/msg: " + ", ".join(cpu))
    if "receipts_matched" in row:
        parts.append(f"matched={row['receipts_matched']} errors={row['errors']}")
        parts.append(
            f"client RSS mid/end/peak {_mib(row['client_rss_kib_mid'])}/"
            f"{_mib(row['client_rss_kib_end'])}/{_mib(row['client_rss_kib_peak'])} MiB"
        )
    if "server_rss_kib_peak" in row:
        parts.append(f"server({row['target']}) peak RSS {_mib(row['server_rss_kib_peak'])} MiB")
    if "blast" in row:
        parts.append(str(row["blast"]).split(" wall_s")[0])
    return "  ".join(parts)


def _mib(kib: object) -> str:
    return f"{int(kib) / 1024:.0f}"  # type: ignore[call-overload]


if __name__ == "__main__":
    sys.exit(main())
