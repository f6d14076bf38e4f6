"""Message ids the simulator hands out in submit_sm_resp: unique, in decimal or in hex.

Real SMSCs do both, and some answer in hex but write decimal into receipts; clients must cope, so
the simulator can be told which to use. Ids count up from a start that defaults to the wall clock in
microseconds, so a restarted simulator does not reuse the ids of its previous run (as long as it
handed out fewer than a million ids a second) and an ESME correlating receipts is not fooled.
"""

from __future__ import annotations

import enum
import itertools
import time
from collections.abc import Callable
from typing import Final

from marconi.errors import ConfigError

__all__ = ["IdFormat", "MessageIdFactory"]

# message_id is a C-Octet String of at most 65 octets including its NUL.
MAX_MESSAGE_ID_LENGTH: Final = 64


class IdFormat(enum.StrEnum):
    DECIMAL = "dec"
    HEX = "hex"

    @classmethod
    def parse(cls, text: str) -> IdFormat:
        key = text.strip().lower()
        if key in ("dec", "decimal"):
            return cls.DECIMAL
        if key in ("hex", "hexadecimal"):
            return cls.HEX
        raise ConfigError(f"unknown message id format {text!r}; use dec or hex")


class MessageIdFactory:
    """Hands out ``str`` message ids: ``next_id()`` never repeats within one factory."""

    __slots__ = ("_counter", "_text", "id_format")

    def __init__(self, *, id_format: IdFormat = IdFormat.DECIMAL, start: int | None = None) -> None:
        if start is None:
            start = time.time_ns() // 1000
        if start < 0:
            raise ConfigError("message ids start at zero or above")
        self.id_format = id_format
        self._counter = itertools.count(start)
        self._text: Callable[[int], str] = "{:X}".format if id_format is IdFormat.HEX else str

    def next_id(self) -> str:
        return self._text(next(self._counter))

    def canonical(self, message_id: str) -> str:
        """The spelling this factory uses for an id a client may have re-cased (hex)."""
        text = message_id.strip()
        return text.upper() if self.id_format is IdFormat.HEX else text
