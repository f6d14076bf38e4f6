"""The interface every carrier link offers the dispatcher, and the hooks it calls back.

A connector submits batches of ``submit_sm`` and reports two things back: inbound ``deliver_sm``
(receipts and MO messages) through ``on_deliver_sm``, and its link going up or down through
``on_state``, which routing reads to fail over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from marconi.errors import MarconiError
from marconi.smpp import DeliverSm, SubmitSm, SubmitSmResp

__all__ = ["Connector", "InboundHook", "StateHook"]

InboundHook = Callable[[str, DeliverSm], "int | asyncio.Future[int] | Awaitable[int]"]
"""``hook(connector_name, pdu)``: the command_status of the deliver_sm_resp, or a future of it.

A future is resolved once the PDU is safely stored, so the SMSC hears ``ESME_ROK`` only after
the commit; many futures may be pending at once, so receipts are stored in batches."""

StateHook = Callable[[str, bool], None]
"""``hook(connector_name, up)``: the link went up (bound) or down."""


class Connector(Protocol):
    """One carrier link. ``up`` is True while it can take submits."""

    @property
    def name(self) -> str: ...

    @property
    def up(self) -> bool: ...

    @property
    def window(self) -> int:
        """Submits the link keeps in flight at once."""
        ...

    @property
    def last_error(self) -> str | None:
        """Why the link is down (a refused bind, a refused connection), if known."""
        ...

    async def start(self) -> None:
        """Start connecting and binding in the background; returns without waiting for it."""
        ...

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        """One result per PDU, in order: the response, or the error for that PDU."""
        ...

    async def aclose(self) -> None:
        """Wait briefly for answers in flight, unbind, close."""
        ...
