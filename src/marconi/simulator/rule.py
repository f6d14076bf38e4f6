"""What happens to a submitted message: the simulator's delivery rules, pure and seedable.

A message's fate is decided once, when it is submitted, by :meth:`DeliveryRules.decide`:

1. a :class:`DestinationRule` whose number or prefix matches the destination wins, always
   (the "magic numbers": a number that always fails with a chosen stat and error, or is refused at
   submit time, or never gets a receipt);
2. otherwise the :class:`OutcomeRatios` draw one of delivered / undeliverable / expired / rejected
   with the configured probabilities;
3. the delay comes from the matching rule's latency if it has one, else the default latency.

Nothing here touches the network or a clock; the random source is passed in.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from marconi.errors import ConfigError
from marconi.simulator.latency import FixedLatency, Latency
from marconi.smpp import CommandStatus, MessageState, ReceiptStatus

__all__ = [
    "BUILTIN_RULES",
    "Decision",
    "DeliveryRules",
    "DestinationRule",
    "Fate",
    "Outcome",
    "OutcomeRatios",
    "normalize_number",
]


class Fate(enum.StrEnum):
    """The final state of a message, spelled as the ``stat:`` field of a receipt."""

    DELIVERED = "DELIVRD"
    UNDELIVERABLE = "UNDELIV"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTD"
    DELETED = "DELETED"

    @property
    def message_state(self) -> int:
        """The SMPP 3.4 ``message_state`` value (section 5.2.28) of this fate."""
        return _MESSAGE_STATE[self]

    @property
    def receipt_status(self) -> ReceiptStatus:
        return ReceiptStatus(self.value)

    @classmethod
    def parse(cls, text: str) -> Fate:
        """Accept ``DELIVRD`` or ``delivered`` (any case)."""
        key = text.strip().upper()
        for fate in cls:
            if key in (fate.value, fate.name):
                return fate
        names = ", ".join(f.value for f in cls)
        raise ConfigError(f"unknown receipt stat {text!r}; use one of {names}")


_MESSAGE_STATE: Final[Mapping[Fate, int]] = {
    fate: int(ReceiptStatus(fate.value).message_state) for fate in Fate
}

ENROUTE: Final = int(MessageState.ENROUTE)
"""``message_state`` of a message that is neither final nor deleted yet."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The final state a message reaches and the network error code its receipt carries.

    ``error_code`` goes into the receipt text (``err:001``) and into the ``network_error_code`` TLV
    (as a GSM MAP error, network type 3).
    """

    fate: Fate
    error_code: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.error_code <= 0xFFFF:
            raise ConfigError(f"error code {self.error_code} does not fit in 16 bits")


DELIVERED: Final = Outcome(Fate.DELIVERED)

# Default error codes per fate when a ratio draws it (GSM MAP error values).
_DEFAULT_ERROR: Final[Mapping[Fate, int]] = {
    Fate.DELIVERED: 0,
    Fate.UNDELIVERABLE: 1,  # unknown subscriber
    Fate.EXPIRED: 27,  # absent subscriber
    Fate.REJECTED: 13,  # call barred
    Fate.DELETED: 0,
}


def normalize_number(number: str) -> str:
    """The form rules are matched on: surrounding blanks and a leading ``+`` or ``00`` removed."""
    text = number.strip()
    if text.startswith("+"):
        return text[1:]
    if text.startswith("00"):
        return text[2:]
    return text


@dataclass(frozen=True, slots=True)
class DestinationRule:
    """A destination (exact number, or prefix) with a deterministic outcome.

    Exactly one effect applies: ``submit_status`` refuses the submit_sm itself with that
    command_status (no message id, no receipt); otherwise the message is accepted and ends in
    ``outcome``, after ``latency`` when given. ``receipt=False`` accepts the message and never sends
    a receipt, to test receipt timeouts.
    """

    number: str
    prefix: bool = False
    outcome: Outcome = DELIVERED
    submit_status: int | None = None
    latency: Latency | None = None
    receipt: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        normalized = normalize_number(self.number)
        if not normalized:
            raise ConfigError("a destination rule needs a number or a prefix")
        object.__setattr__(self, "number", normalized)
        if self.submit_status is not None and not 0 < self.submit_status <= 0xFFFFFFFF:
            raise ConfigError(f"submit_status must be a non-zero command_status: {self}")

    def explain(self) -> str:
        """One line for people: ``UNDELIV err:001 (unknown subscriber)``."""
        if self.submit_status is not None:
            try:
                name = CommandStatus(self.submit_status).name
            except ValueError:
                name = f"0x{self.submit_status:08X}"
            effect = f"submit_sm refused with {name}"
        elif not self.receipt:
            effect = "accepted, never receipted"
        else:
            effect = f"{self.outcome.fate.value} err:{self.outcome.error_code:03d}"
            if self.latency is not None:
                effect += f" after {self.latency}"
        return f"{effect} ({self.description})" if self.description else effect


@dataclass(frozen=True, slots=True)
class OutcomeRatios:
    """Probabilities of each fate for destinations no rule matches; they must sum to 1."""

    delivered: float = 1.0
    undeliverable: float = 0.0
    expired: float = 0.0
    rejected: float = 0.0

    def __post_init__(self) -> None:
        values = (self.delivered, self.undeliverable, self.expired, self.rejected)
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise ConfigError(f"outcome ratios must be finite and non-negative: {self}")
        if not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ConfigError(f"outcome ratios must sum to 1, they sum to {sum(values):g}")

    @classmethod
    def with_delivered(cls, delivered: float) -> OutcomeRatios:
        """``delivered`` as given; the rest split evenly between undeliverable and expired.

        This is what ``--delivered-ratio`` means on the command line.
        """
        if not 0.0 <= delivered <= 1.0:
            raise ConfigError(f"delivered ratio must be within [0, 1], got {delivered}")
        rest = (1.0 - delivered) / 2
        return cls(delivered=delivered, undeliverable=rest, expired=1.0 - delivered - rest)


@dataclass(frozen=True, slots=True)
class Decision:
    """What :meth:`DeliveryRules.decide` chose for one message."""

    outcome: Outcome
    delay: float
    submit_status: int = 0
    receipt: bool = True


# Drama numbers: Ofcom keeps +44 7700 900000-900999 out of service for fiction, so no real
# handset can ever be hit by a simulator rule.
_MAGIC: Final = "447700900"

BUILTIN_RULES: Final[tuple[DestinationRule, ...]] = (
    DestinationRule(_MAGIC + "000", description="always delivered"),
    DestinationRule(
        _MAGIC + "001",
        submit_status=CommandStatus.ESME_RINVDSTADR,
        description="invalid destination",
    ),
    DestinationRule(
        _MAGIC + "002",
        outcome=Outcome(Fate.UNDELIVERABLE, 1),
        description="unknown subscriber",
    ),
    DestinationRule(
        _MAGIC + "003",
        outcome=Outcome(Fate.EXPIRED, 27),
        description="absent subscriber: handset off",
    ),
    DestinationRule(
        _MAGIC + "004",
        outcome=Outcome(Fate.REJECTED, 13),
        description="call barred",
    ),
    DestinationRule(
        _MAGIC + "005",
        outcome=Outcome(Fate.UNDELIVERABLE, 31),
        description="subscriber busy",
    ),
    DestinationRule(
        _MAGIC + "006",
        outcome=Outcome(Fate.UNDELIVERABLE, 11),
        description="cannot receive SMS: teleservice not provisioned",
    ),
    DestinationRule(
        _MAGIC + "007",
        submit_status=CommandStatus.ESME_RSUBMITFAIL,
        description="submit failed",
    ),
    DestinationRule(
        _MAGIC + "008",
        latency=FixedLatency(30.0),
        description="slow handset",
    ),
    DestinationRule(
        _MAGIC + "009",
        receipt=False,
        description="lost receipt",
    ),
)


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """The whole rule set: destination rules first, then ratios, with a default latency."""

    latency: Latency = field(default_factory=lambda: FixedLatency(0.1))
    ratios: OutcomeRatios = field(default_factory=OutcomeRatios)
    rules: tuple[DestinationRule, ...] = BUILTIN_RULES
    _exact: dict[str, DestinationRule] = field(init=False, repr=False, compare=False)
    _prefixes: dict[str, DestinationRule] = field(init=False, repr=False, compare=False)
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _thresholds: tuple[float, float, float] = field(init=False, repr=False, compare=False)
    _any: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, DestinationRule] = {}
        prefixes: dict[str, DestinationRule] = {}
        # Later rules win, so user rules appended after the built-ins override them.
        for rule in self.rules:
            if rule.prefix:
                prefixes[rule.number] = rule
            else:
                # every spelling, so that matching needs no normalization
                for spelling in (rule.number, "+" + rule.number, "00" + rule.number):
                    exact[spelling] = rule
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_prefixes", prefixes)
        # Longest prefix first: the most specific rule wins.
        lengths = tuple(sorted({len(p) for p in prefixes}, reverse=True))
        object.__setattr__(self, "_prefix_lengths", lengths)
        object.__setattr__(self, "_any", bool(exact or prefixes))
        r = self.ratios
        first = r.delivered
        second = first + r.undeliverable
        third = second + r.expired
        object.__setattr__(self, "_thresholds", (first, second, third))

    def with_rules(self, extra: Iterable[DestinationRule]) -> DeliveryRules:
        """A copy with ``extra`` rules added after (and so overriding) the current ones."""
        return DeliveryRules(latency=self.latency, ratios=self.ratios, rules=(*self.rules, *extra))

    def match(self, destination: str) -> DestinationRule | None:
        """The rule for ``destination``: an exact number first, then the longest prefix."""
        if not self._any:
            return None
        rule = self._exact.get(destination)
        if rule is not None:
            return rule
        if self._prefix_lengths:
            number = destination
            if number[:1] == "+":
                number = number[1:]
            elif number[:2] == "00":
                number = number[2:]
            prefixes = self._prefixes
            for length in self._prefix_lengths:
                rule = prefixes.get(number[:length])
                if rule is not None:
                    return rule
        return None

    def draw_outcome(self, rng: random.Random) -> Outcome:
        """One outcome drawn from the ratios."""
        delivered, undeliverable, expired = self._thresholds
        if delivered >= 1.0:
            return DELIVERED
        x = rng.random()
        if x < delivered:
            return DELIVERED
        if x < undeliverable:
            return _RATIO_OUTCOME[Fate.UNDELIVERABLE]
        if x < expired:
            return _RATIO_OUTCOME[Fate.EXPIRED]
        return _RATIO_OUTCOME[Fate.REJECTED]

    def decide(self, destination: str, rng: random.Random) -> Decision:
        """The fate and the delay of one message to ``destination``."""
        rule = self.match(destination)
        if rule is None:
            return Decision(self.draw_outcome(rng), self.latency.sample(rng))
        if rule.submit_status is not None:
            return Decision(rule.outcome, 0.0, submit_status=rule.submit_status, receipt=False)
        latency = rule.latency if rule.latency is not None else self.latency
        return Decision(rule.outcome, latency.sample(rng), receipt=rule.receipt)


_RATIO_OUTCOME: Final[Mapping[Fate, Outcome]] = {
    fate: Outcome(fate, code) for fate, code in _DEFAULT_ERROR.items()
}
