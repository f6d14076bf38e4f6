"""What to do when a submit fails: retry later, try the next connector, or give up. Pure.

* **Retry later** (``RetryLater`` with backoff): the SMSC was busy or unreachable — throttled or
  queue full after the client's own retries, a response timeout, the link down or dropped.
* **Fail over**: the link refused the message in a way that says *this link* cannot carry it
  (bind state, system error, submit failed, a sender it does not allow); the next connector of
  the route may. With no next connector it is retried later, like a down link.
* **Fail**: the message itself is wrong for any SMSC (bad destination, too long, bad data coding).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from marconi.errors import CommandStatusError, MarconiError, ResponseTimeout, TransportError
from marconi.smpp import CommandStatus

__all__ = ["Disposition", "RetryPolicy", "classify", "error_code"]


class Disposition(enum.Enum):
    RETRY = "retry"
    FAILOVER = "failover"
    FAIL = "fail"


_TRANSIENT: Final = frozenset(
    {
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RX_T_APPN,
    }
)
_LINK: Final = frozenset(
    {
        CommandStatus.ESME_RINVBNDSTS,
        CommandStatus.ESME_RSYSERR,
        CommandStatus.ESME_RSUBMITFAIL,
        CommandStatus.ESME_RINVSRCADR,
        CommandStatus.ESME_RINVSYSID,
        CommandStatus.ESME_RINVPASWD,
        CommandStatus.ESME_RBINDFAIL,
        CommandStatus.ESME_RINVCMDID,
        CommandStatus.ESME_RX_R_APPN,
        CommandStatus.ESME_RINVSERTYP,
    }
)


def classify(error: MarconiError) -> Disposition:
    if isinstance(error, CommandStatusError):
        if error.status in _TRANSIENT:
            return Disposition.RETRY
        if error.status in _LINK:
            return Disposition.FAILOVER
        return Disposition.FAIL
    if isinstance(error, ResponseTimeout | TransportError):
        return Disposition.RETRY
    return Disposition.FAIL


def error_code(error: MarconiError) -> str:
    """A stable code for the error: the SMPP status name, or the kind of failure."""
    if isinstance(error, CommandStatusError):
        try:
            return CommandStatus(error.status).name
        except ValueError:
            return f"0x{error.status:08X}"
    if isinstance(error, ResponseTimeout):
        return "response_timeout"
    if isinstance(error, TransportError):
        return "link_down"
    return type(error).__name__


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter between ``initial`` and ``maximum`` seconds.

    After ``max_attempts`` claims a message fails for good (``max_attempts_exceeded``); a
    message with a validity period expires first if that comes sooner.
    """

    initial: float = 1.0
    maximum: float = 300.0
    max_attempts: int = 50
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts: int) -> float:
        ceiling = min(self.maximum, self.initial * (2.0 ** max(attempts - 1, 0)))
        return ceiling / 2 + self.rng.random() * ceiling / 2

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        return now + timedelta(seconds=self.delay(attempts))

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
