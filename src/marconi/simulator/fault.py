"""Misbehaviour on demand: the simulator's fault modes, as a value and a pure decision.

:class:`Faults` says which faults are on; it is immutable and swapped whole at runtime
(``simulator.faults = Faults(black_hole=True)``). :class:`FaultInjector` turns it into one
:class:`FaultAction` per submit, from the count of submits seen on the session and a clock reading,
so every mode can be tested without a socket.

Fault modes (the spec syntax is what ``--fault`` and the admin ``fault`` command accept):

==========================  =====================================================================
``black-hole``              read everything, answer nothing (binds included)
``reject-binds[=STATUS]``   answer every bind with STATUS (default ESME_RBINDFAIL, 0x0D)
``throttle-rate=R``         above R submits per second (whole simulator), ESME_RTHROTTLED
``throttle-every=N``        every Nth submit of a session gets ESME_RTHROTTLED
``generic-nack-every=N``    every Nth submit of a session gets a generic_nack
``unbind-after=N``          the Nth submit of a session is not answered; an unbind is sent instead
``drop-after=N``            the Nth submit of a session closes the TCP connection, unanswered
``drop-probability=P``      each submit closes the TCP connection with probability P
``slow-receipts=SECONDS``   every receipt waits SECONDS more than its rule says
``none``                    all faults off
==========================  =====================================================================
"""

from __future__ import annotations

import dataclasses
import enum
import math
import random
from dataclasses import dataclass
from typing import Final

from marconi.errors import ConfigError
from marconi.smpp import CommandStatus

__all__ = ["FaultAction", "FaultInjector", "Faults", "parse_fault"]

ESME_RBINDFAIL: Final = int(CommandStatus.ESME_RBINDFAIL)


@dataclass(frozen=True, slots=True)
class Faults:
    """Which faults are on. The default is a well-behaved SMSC."""

    black_hole: bool = False
    reject_binds: int | None = None
    throttle_rate: float | None = None
    throttle_every: int | None = None
    generic_nack_every: int | None = None
    unbind_after: int | None = None
    drop_after: int | None = None
    drop_probability: float = 0.0
    slow_receipts: float = 0.0

    def __post_init__(self) -> None:
        for name in ("throttle_every", "generic_nack_every", "unbind_after", "drop_after"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"fault {name} must be at least 1, got {value}")
        if self.throttle_rate is not None and not (
            math.isfinite(self.throttle_rate) and self.throttle_rate > 0
        ):
            raise ConfigError(f"fault throttle_rate must be positive, got {self.throttle_rate}")
        if not 0.0 <= self.drop_probability <= 1.0:
            raise ConfigError(f"fault drop_probability must be in [0, 1]: {self.drop_probability}")
        if not (math.isfinite(self.slow_receipts) and self.slow_receipts >= 0):
            raise ConfigError(f"fault slow_receipts must be >= 0 seconds: {self.slow_receipts}")
        if self.reject_binds is not None and not 0 < self.reject_binds <= 0xFFFFFFFF:
            raise ConfigError(f"fault reject_binds needs a non-zero status: {self.reject_binds}")

    @property
    def touches_submits(self) -> bool:
        """Whether any fault can change how a submit is answered."""
        return (
            self.black_hole
            or self.throttle_rate is not None
            or self.throttle_every is not None
            or self.generic_nack_every is not None
            or self.unbind_after is not None
            or self.drop_after is not None
            or self.drop_probability > 0.0
        )

    def describe(self) -> str:
        """The active faults as specs, e.g. ``"throttle-every=10 slow-receipts=30"``."""
        parts: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            name = f.name.replace("_", "-")
            if value is True:
                parts.append(name)
            elif f.name == "reject_binds":
                parts.append(f"{name}=0x{value:02X}")
            else:
                parts.append(f"{name}={value:g}")
        return " ".join(parts) or "none"


class FaultAction(enum.Enum):
    """How to treat one submit."""

    RESPOND = "respond"
    SILENT = "silent"
    THROTTLE = "throttle"
    GENERIC_NACK = "generic_nack"
    UNBIND = "unbind"
    DROP = "drop"


class FaultInjector:
    """Decides each submit's :class:`FaultAction` under the current :class:`Faults`.

    ``throttle-rate`` is a token bucket over the whole simulator holding one second of tokens;
    the per-session modes count from the ``count`` the caller passes (1 for a session's first
    submit). Precedence, first match wins: black hole, drop, unbind, generic_nack, throttle.
    """

    __slots__ = ("_faults", "_last", "_rng", "_tokens")

    def __init__(self, faults: Faults | None = None, *, rng: random.Random) -> None:
        self._rng = rng
        self._faults = Faults()
        self._tokens = 0.0
        self._last: float | None = None
        self.faults = faults if faults is not None else Faults()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._tokens = faults.throttle_rate or 0.0
        self._last = None

    def on_submit(self, count: int, now: float) -> FaultAction:
        f = self._faults
        if f.black_hole:
            return FaultAction.SILENT
        if f.drop_after is not None and count == f.drop_after:
            return FaultAction.DROP
        if f.drop_probability > 0.0 and self._rng.random() < f.drop_probability:
            return FaultAction.DROP
        if f.unbind_after is not None and count == f.unbind_after:
            return FaultAction.UNBIND
        if f.generic_nack_every is not None and count % f.generic_nack_every == 0:
            return FaultAction.GENERIC_NACK
        if f.throttle_every is not None and count % f.throttle_every == 0:
            return FaultAction.THROTTLE
        if f.throttle_rate is not None and not self._take_token(f.throttle_rate, now):
            return FaultAction.THROTTLE
        return FaultAction.RESPOND

    def _take_token(self, rate: float, now: float) -> bool:
        last = self._last
        tokens = self._tokens
        if last is not None and now > last:
            tokens = min(rate, tokens + (now - last) * rate)
        self._last = now if last is None else max(last, now)
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return True
        self._tokens = tokens
        return False


_INT_FIELDS: Final = ("throttle_every", "generic_nack_every", "unbind_after", "drop_after")
_FLOAT_FIELDS: Final = ("throttle_rate", "drop_probability", "slow_receipts")


def _set(faults: Faults, key: str, value: object) -> Faults:
    return dataclasses.replace(faults, **{key: value})  # type: ignore[arg-type]


def parse_fault(spec: str, base: Faults | None = None) -> Faults:
    """Apply one fault spec (``"throttle-every=10"``, ``"black-hole"``, ``"none"``) to ``base``."""
    faults = base if base is not None else Faults()
    text = spec.strip().lower()
    name, eq, value = text.partition("=")
    key = name.strip().replace("-", "_")
    value = value.strip()
    if key == "none":
        return Faults()
    try:
        if key == "black_hole":
            enabled = not eq or value in ("1", "true", "on", "yes")
            return dataclasses.replace(faults, black_hole=enabled)
        if key == "reject_binds":
            status = int(value, 0) if eq else ESME_RBINDFAIL
            return dataclasses.replace(faults, reject_binds=status or None)
        if key in _INT_FIELDS and eq:
            number = int(value, 0)
            return _set(faults, key, number if number else None)
        if key in _FLOAT_FIELDS and eq:
            real = float(value)
            if key == "throttle_rate":
                return dataclasses.replace(faults, throttle_rate=real if real else None)
            return _set(faults, key, real)
    except ValueError:
        raise ConfigError(f"fault {spec!r}: {value!r} is not a number") from None
    raise ConfigError(
        f"unknown fault {spec!r}; use black-hole, reject-binds[=STATUS], throttle-rate=R, "
        "throttle-every=N, generic-nack-every=N, unbind-after=N, drop-after=N, "
        "drop-probability=P, slow-receipts=SECONDS or none"
    )
