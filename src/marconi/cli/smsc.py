"""``marconi smsc``: run the built-in SMSC simulator standalone."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from marconi.errors import ConfigError
from marconi.simulator import (
    BUILTIN_RULES,
    Account,
    DeliveryRules,
    IdFormat,
    OutcomeRatios,
    Simulator,
    SimulatorConfig,
    load_config,
    parse_fault,
    parse_latency,
)
from marconi.transport.loop import install_uvloop, tune_gc

logger = logging.getLogger("marconi.simulator")

_EPILOG = """\
examples:
  marconi smsc                                   any system_id/password binds on 127.0.0.1:2775
  marconi smsc --system-id acme --password secret --id-format hex
  marconi smsc --dlr-latency lognormal:1,0.5,max=30 --delivered-ratio 0.9
  marconi smsc --fault throttle-every=10 --fault slow-receipts=5 --admin-port 2776
  marconi smsc --config smsc.toml -v

magic destinations (always, whatever the ratios):
{magic}

faults: black-hole, reject-binds[=STATUS], throttle-rate=R, throttle-every=N,
  generic-nack-every=N, unbind-after=N, drop-after=N, drop-probability=P,
  slow-receipts=SECONDS (see docs/simulator.md)

admin port (127.0.0.1 only, no authentication; one command per line, e.g. with nc):
  mo SOURCE DESTINATION TEXT | fault SPEC... | faults | handsets | handset NUMBER | stats
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "smsc",
        help="run the built-in SMSC simulator",
        description=(
            "Run the built-in SMSC simulator: an SMPP 3.4 server that accepts binds, answers "
            "submits with message ids, sends delivery receipts by rule (latency, outcome ratios, "
            "magic destinations), injects MO messages, keeps virtual handsets and misbehaves on "
            "demand. Flags override the --config file. Stops cleanly on SIGINT or SIGTERM."
        ),
        epilog=_EPILOG.format(
            magic="\n".join(f"  {rule.number}  {rule.explain()}" for rule in BUILTIN_RULES)
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listen = parser.add_argument_group("listening")
    listen.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    listen.add_argument("--port", type=int, help="SMPP port (default 2775; 0 picks a free one)")
    listen.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve SMPP over TLS")
    listen.add_argument("--tls-key", type=Path, metavar="PEM", help="private key for --tls-cert")
    listen.add_argument(
        "--admin-port",
        type=int,
        metavar="PORT",
        help="serve the admin line protocol on 127.0.0.1:PORT (off by default)",
    )
    auth = parser.add_argument_group("binds")
    auth.add_argument("--system-id", help="the one system_id allowed to bind")
    auth.add_argument("--password", help="its password (wrong: ESME_RINVPASWD)")
    auth.add_argument(
        "--accept-any",
        action="store_true",
        help="accept any system_id and password (the default without --system-id)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "--id-format",
        choices=[f.value for f in IdFormat],
        help="message ids in decimal (default) or hex",
    )
    behaviour.add_argument(
        "--dlr-latency",
        metavar="SPEC",
        help="receipt delay: SECONDS, fixed:S, uniform:LO,HI, normal:MEAN,SD[,min=,max=] or "
        "lognormal:MEDIAN,SIGMA[,min=,max=] (default fixed:0.1)",
    )
    behaviour.add_argument(
        "--delivered-ratio",
        type=float,
        metavar="R",
        help="share of messages delivered (0..1); the rest split between undeliverable and "
        "expired (default 1)",
    )
    behaviour.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="switch a fault mode on (repeatable), e.g. throttle-every=10",
    )
    behaviour.add_argument("--seed", type=int, help="seed the random draws (reproducible runs)")
    behaviour.add_argument(
        "--no-handsets", action="store_true", help="do not keep virtual handsets"
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML file (docs/simulator.md)")
    parser.add_argument(
        "--summary-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="log a traffic summary this often while busy (default 1; 0 turns it off)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log every PDU (-vv: also the transport's debug logs)",
    )
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration the flags ask for, over the --config file, over the defaults."""
    cfg = load_config(args.config) if args.config is not None else SimulatorConfig()
    changes: dict[str, object] = {}
    for name in ("host", "port", "admin_port", "seed", "tls_cert", "tls_key"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.accept_any and (args.system_id is not None or args.password is not None):
        raise ConfigError("--accept-any contradicts --system-id/--password")
    if args.accept_any:
        changes["accounts"] = ()
    elif args.system_id is not None or args.password is not None:
        if args.system_id is None or args.password is None:
            raise ConfigError("--system-id and --password go together")
        changes["accounts"] = (Account(args.system_id, args.password),)
    if args.id_format is not None:
        changes["id_format"] = IdFormat.parse(args.id_format)
    rules = cfg.rules
    if args.dlr_latency is not None or args.delivered_ratio is not None:
        rules = DeliveryRules(
            latency=parse_latency(args.dlr_latency) if args.dlr_latency else rules.latency,
            ratios=(
                OutcomeRatios.with_delivered(args.delivered_ratio)
                if args.delivered_ratio is not None
                else rules.ratios
            ),
            rules=rules.rules,
        )
        changes["rules"] = rules
    faults = cfg.faults
    for spec in args.fault:
        faults = parse_fault(spec, faults)
    changes["faults"] = faults
    if args.no_handsets:
        changes["handsets"] = False
    try:
        return dataclasses.replace(cfg, **changes)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def _describe(cfg: SimulatorConfig, sim: Simulator) -> str:
    scheme = "smpps" if cfg.tls_cert is not None else "smpp"
    binds = (
        "any system_id"
        if cfg.accept_any
        else ", ".join(repr(a.system_id) for a in cfg.accounts) + " only"
    )
    ratios = cfg.rules.ratios
    parts = [
        f"listening on {scheme}://{cfg.host}:{sim.port}",
        f"binds: {binds}",
        f"receipts: {cfg.rules.latency}, delivered {ratios.delivered:.0%}",
        f"ids: {cfg.id_format.value}",
        f"faults: {cfg.faults.describe()}",
    ]
    if sim.admin_port is not None:
        parts.append(f"admin on {cfg.admin_host}:{sim.admin_port}")
    return " · ".join(parts)


async def _serve(cfg: SimulatorConfig, summary_interval: float | None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    simulator = Simulator(cfg, summary_interval=summary_interval)
    await simulator.start()
    try:
        logger.info("%s", _describe(cfg, simulator))
        await stop.wait()
        logger.info("stopping: unbinding %d session(s)", len(simulator.server.sessions))
    finally:
        await simulator.aclose()
        counters = simulator.counters
        logger.info(
            "stopped after %d submits, %d receipts, %d MO",
            counters.submits,
            counters.receipts_sent,
            counters.mo_sent,
        )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.verbose >= 2:
        logging.getLogger("marconi").setLevel(logging.DEBUG)
    elif args.verbose == 1:
        logging.getLogger("marconi.simulator").setLevel(logging.DEBUG)
    else:
        # one line per bind/unbind and a summary per interval, not one per message
        logging.getLogger("marconi.transport").setLevel(logging.WARNING)
    try:
        cfg = build_config(args)
    except ConfigError as exc:
        print(f"marconi smsc: {exc}", file=sys.stderr)
        return 2
    interval = args.summary_interval if args.summary_interval > 0 else None
    install_uvloop()
    tune_gc()  # this process is the simulator: see tune_gc for why
    try:
        asyncio.run(_serve(cfg, interval))
    except OSError as exc:
        print(f"marconi smsc: cannot listen: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"marconi smsc: {exc}", file=sys.stderr)
        return 2
    return 0
