"""How long a simulated handset takes to answer: latency distributions for delivery receipts.

Each distribution is a frozen value object with ``sample(rng) -> float`` (seconds, never negative,
always inside ``[minimum, maximum]``). The random source is injected, so a seeded
:class:`random.Random` makes every draw reproducible.

A distribution can be written as a short spec, on the command line and in TOML files::

    0.5                      fixed, half a second
    fixed:0.5
    uniform:0.1,2            uniform between 0.1 and 2 seconds
    normal:1,0.3             mean 1, standard deviation 0.3, clamped to [0, mean + 6 sd]
    normal:1,0.3,min=0.2,max=3
    lognormal:1,0.5          median 1 s, sigma 0.5 (a long right tail, like real networks)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, Protocol

from marconi.errors import ConfigError

__all__ = [
    "FixedLatency",
    "Latency",
    "LogNormalLatency",
    "NormalLatency",
    "UniformLatency",
    "parse_latency",
]

# With no explicit maximum, normal and lognormal draws are clamped this many spreads above the
# centre, so that a freak draw cannot park a receipt for hours.
_DEFAULT_SPREADS: Final = 6.0


class Latency(Protocol):
    """A distribution of delays, in seconds."""

    @property
    def minimum(self) -> float: ...

    @property
    def maximum(self) -> float: ...

    def sample(self, rng: random.Random) -> float: ...


def _check_bounds(minimum: float, maximum: float) -> None:
    if not (math.isfinite(minimum) and math.isfinite(maximum)):
        raise ConfigError(f"latency bounds must be finite, got [{minimum}, {maximum}]")
    if minimum < 0:
        raise ConfigError(f"latency minimum must not be negative, got {minimum}")
    if maximum < minimum:
        raise ConfigError(f"latency maximum {maximum} is below its minimum {minimum}")


@dataclass(frozen=True, slots=True)
class FixedLatency:
    """Always the same delay."""

    seconds: float

    def __post_init__(self) -> None:
        _check_bounds(self.seconds, self.seconds)

    @property
    def minimum(self) -> float:
        return self.seconds

    @property
    def maximum(self) -> float:
        return self.seconds

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def __str__(self) -> str:
        return f"fixed:{self.seconds:g}"


@dataclass(frozen=True, slots=True)
class UniformLatency:
    """Any delay between ``low`` and ``high``, all equally likely."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high)

    @property
    def minimum(self) -> float:
        return self.low

    @property
    def maximum(self) -> float:
        return self.high

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return f"uniform:{self.low:g},{self.high:g}"


@dataclass(frozen=True, slots=True)
class NormalLatency:
    """A bell around ``mean``; draws outside ``[minimum, maximum]`` are clamped to the bounds."""

    mean: float
    stddev: float
    minimum: float = 0.0
    maximum: float = -1.0  # replaced by mean + 6 sd when left negative

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.stddev)) or self.stddev < 0:
            raise ConfigError(f"normal latency needs a finite mean and sd >= 0, got {self}")
        if self.maximum < 0:
            object.__setattr__(
                self, "maximum", max(self.minimum, self.mean + _DEFAULT_SPREADS * self.stddev)
            )
        _check_bounds(self.minimum, self.maximum)

    def sample(self, rng: random.Random) -> float:
        value = rng.gauss(self.mean, self.stddev)
        return min(max(value, self.minimum), self.maximum)

    def __str__(self) -> str:
        return f"normal:{self.mean:g},{self.stddev:g},min={self.minimum:g},max={self.maximum:g}"


@dataclass(frozen=True, slots=True)
class LogNormalLatency:
    """A long right tail: ``median * exp(N(0, sigma))``, clamped to ``[minimum, maximum]``."""

    median: float
    sigma: float
    minimum: float = 0.0
    maximum: float = -1.0  # replaced by median * e^(6 sigma) when left negative

    def __post_init__(self) -> None:
        if not (math.isfinite(self.median) and math.isfinite(self.sigma)):
            raise ConfigError(f"lognormal latency needs finite parameters, got {self}")
        if self.median <= 0 or self.sigma < 0:
            raise ConfigError(f"lognormal latency needs median > 0 and sigma >= 0, got {self}")
        if self.maximum < 0:
            ceiling = self.median * math.exp(_DEFAULT_SPREADS * self.sigma)
            object.__setattr__(self, "maximum", max(self.minimum, ceiling))
        _check_bounds(self.minimum, self.maximum)

    def sample(self, rng: random.Random) -> float:
        value = self.median * math.exp(rng.gauss(0.0, self.sigma))
        return min(max(value, self.minimum), self.maximum)

    def __str__(self) -> str:
        return f"lognormal:{self.median:g},{self.sigma:g},min={self.minimum:g},max={self.maximum:g}"


_ARITY: Final[dict[str, tuple[str, ...]]] = {
    "fixed": ("seconds",),
    "uniform": ("low", "high"),
    "normal": ("mean", "stddev"),
    "lognormal": ("median", "sigma"),
}


def parse_latency(spec: str) -> Latency:
    """Read a latency spec such as ``"uniform:0.1,2"`` (see the module docstring)."""
    text = spec.strip().lower()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = "fixed", text
    if kind not in _ARITY:
        raise ConfigError(f"unknown latency kind {kind!r} in {spec!r}; use {', '.join(_ARITY)}")
    positional: list[float] = []
    named: dict[str, float] = {}
    for raw in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = raw.partition("=")
        try:
            number = float(value if eq else key)
        except ValueError:
            raise ConfigError(f"latency {spec!r}: {raw!r} is not a number") from None
        if eq:
            if key not in ("min", "max"):
                raise ConfigError(f"latency {spec!r}: unknown option {key!r} (min, max)")
            named[key] = number
        else:
            positional.append(number)
    needed = _ARITY[kind]
    if len(positional) != len(needed):
        raise ConfigError(f"latency {spec!r}: {kind} takes {len(needed)} value(s): {needed}")
    if kind == "fixed":
        if named:
            raise ConfigError(f"latency {spec!r}: fixed takes no min/max")
        return FixedLatency(positional[0])
    if kind == "uniform":
        if named:
            raise ConfigError(f"latency {spec!r}: uniform is bounded by its own two values")
        return UniformLatency(positional[0], positional[1])
    minimum = named.get("min", 0.0)
    maximum = named.get("max", -1.0)
    if kind == "normal":
        return NormalLatency(positional[0], positional[1], minimum, maximum)
    return LogNormalLatency(positional[0], positional[1], minimum, maximum)
