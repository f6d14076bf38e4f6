"""Inbound (MO) messages: parts reassembled, stored as ``received``, matched to the number they
were sent to, and pushed to that number's webhook; the webhook's reply goes back as a message.

:meth:`InboundService.receive` takes one received part as the carrier link read it and answers
with the command_status for the SMSC, or a future of it that resolves once the whole message is
committed (received messages are stored in batches). Parts of a concatenated message are kept in
memory until the last one arrives (``reassembly_timeout`` seconds at most since the latest part;
then what arrived is stored, marked incomplete). A part acknowledged but still waiting for its
siblings when the process dies is lost with them: the SMSC does not resend acknowledged parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from marconi.errors import MarconiError, ValidationError
from marconi.services.account import ADMIN_ACCOUNT_ID
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.keyword import KeywordMatch
from marconi.services.message import MessageService, SendRequest
from marconi.services.optout import OptOutService
from marconi.store.ids import MESSAGE, new_id
from marconi.store.model import Direction, Message, MessageStatus, NewMessage, NewWebhook, Number
from marconi.store.protocols import MessageRepository, NumberRepository
from marconi.text import IncompleteMessage, ReassembledMessage, Reassembler, ReceivedPart
from marconi.webhooks.payload import INBOUND_EVENT_TYPE, inbound_payload

__all__ = ["InboundMessage", "InboundService", "phone_or_code"]

log = logging.getLogger(__name__)

_OK: Final = 0x00000000
_RETRY: Final = 0x00000064  # ESME_RX_T_APPN: store it later, SMSC


def phone_or_code(address: str) -> str:
    """An address as an SMSC writes it, in the form numbers are stored: international numbers
    get their ``+``; short codes and alphanumeric senders stay as they are."""
    value = address.strip()
    if value.startswith("+"):
        return value
    if value.startswith("00") and value[2:].isdigit():
        return "+" + value[2:]
    if value.isdigit() and len(value) > 8:
        return "+" + value
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A whole inbound message, as stored."""

    connector: str
    source: str
    destination: str
    text: str
    encoding: str
    segments: int
    complete: bool = True


class InboundService:
    def __init__(
        self,
        *,
        messages: MessageRepository,
        numbers: NumberRepository,
        sender: MessageService | None = None,
        optouts: OptOutService | None = None,
        clock: Clock = utc_now,
        monotonic_clock: Monotonic = monotonic,
        reassembly_timeout: float = 300.0,
        on_stored: Callable[[Message], None] | None = None,
        max_batch: int = 500,
    ) -> None:
        self._messages = messages
        self._numbers = numbers
        self._sender = sender
        self._optouts = optouts
        self._clock = clock
        self._monotonic = monotonic_clock
        self._reassembler = Reassembler(timeout=reassembly_timeout)
        self._timeout = reassembly_timeout
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._pending: list[InboundMessage] = []
        self._futures: list[asyncio.Future[int]] = []
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self.stored = 0

    @property
    def waiting_parts(self) -> int:
        """Messages whose parts are not all in yet."""
        return self._reassembler.pending

    def receive(self, connector: str, part: ReceivedPart) -> int | asyncio.Future[int]:
        """Take one part; ``ESME_ROK`` at once for a part held for its siblings, else a future
        resolving to ``ESME_ROK`` once stored (``ESME_RX_T_APPN`` when the store failed)."""
        now = self._monotonic()
        whole = self._reassembler.add(part, now=now)
        self._arm_sweep()
        if whole is None:
            return _OK
        return self._enqueue(_from_whole(connector, whole))

    def _enqueue(self, message: InboundMessage) -> asyncio.Future[int]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append(message)
        self._futures.append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._flush(), name="inbound")
        return future

    def _arm_sweep(self) -> None:
        if self._sweeper is None and self._reassembler.pending:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(min(self._timeout, 5.0), self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        for incomplete in self._reassembler.expire(self._monotonic()):
            # The SMSC was answered for these parts long ago; store what arrived.
            self._enqueue(_from_incomplete(incomplete))
        self._arm_sweep()

    async def _flush(self) -> None:
        await asyncio.sleep(0)
        while self._pending:
            batch = self._pending[: self._max_batch]
            futures = self._futures[: self._max_batch]
            del self._pending[: self._max_batch]
            del self._futures[: self._max_batch]
            status = _OK
            try:
                await self.store(batch)
            except MarconiError as exc:
                log.warning("inbound: storing %d messages failed (%s)", len(batch), exc)
                status = _RETRY
            for future in futures:
                if not future.done():
                    future.set_result(status)

    async def store(self, batch: Sequence[InboundMessage]) -> list[Message]:
        """Store whole inbound messages as ``received``, each with its webhook when the number
        it was sent to has one. Messages to no known number go to the admin account."""
        now = self._clock()
        prepared = [await self._new_message(m, now) for m in batch]
        # Keywords act before their messages (and webhooks) are stored, so an application that
        # answers the webhook already finds the destination opted out. A failure fails the batch
        # and the SMSC delivers it again; acting twice changes nothing.
        for new, match in prepared:
            if match is not None:
                assert self._optouts is not None
                await self._optouts.apply(
                    new.account_id, match, from_addr=new.from_addr, number=new.to_addr
                )
        stored = await asyncio.gather(
            *(self._messages.insert_message(n, now=now) for n, _ in prepared)
        )
        for message, (_, match) in zip(stored, prepared, strict=True):
            if match is not None:
                await self._answer(message, match)
        self.stored += len(stored)
        if self._on_stored is not None:
            for message in stored:
                self._on_stored(message)
        return list(stored)

    async def _number_for(self, destination: str) -> Number | None:
        for candidate in dict.fromkeys((phone_or_code(destination), destination)):
            number = await self._numbers.find_number(candidate)
            if number is not None:
                return number
        return None

    async def _new_message(
        self, message: InboundMessage, now: datetime
    ) -> tuple[NewMessage, KeywordMatch | None]:
        number = await self._number_for(message.destination)
        to_addr = number.value if number is not None else phone_or_code(message.destination)
        from_addr = phone_or_code(message.source)
        account_id = number.account_id if number is not None else ADMIN_ACCOUNT_ID
        if number is None:
            log.info("inbound to %s matches no number; kept in the admin account", to_addr)
        message_id = new_id(MESSAGE)
        match = None
        if number is not None and self._optouts is not None and message.complete:
            match = await self._optouts.match(account_id, message.text)
        webhook = None
        if number is not None and number.inbound_webhook_url:
            webhook = NewWebhook(
                account_id=account_id,
                url=number.inbound_webhook_url,
                event_type=INBOUND_EVENT_TYPE,
                payload=inbound_payload(
                    message_id=message_id,
                    account_id=account_id,
                    from_addr=from_addr,
                    to_addr=to_addr,
                    body=message.text,
                    encoding=message.encoding,
                    segments=message.segments,
                    received_at=now,
                    connector=message.connector,
                    number_id=number.id,
                    keyword=None if match is None else match.to_json(),
                ),
            )
        metadata: dict[str, str | bool] = {}
        if not message.complete:
            metadata["incomplete"] = True
        if match is not None:
            metadata["keyword"] = match.keyword
        new = NewMessage(
            id=message_id,
            account_id=account_id,
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            from_addr=from_addr,
            to_addr=to_addr,
            body=message.text,
            encoding=message.encoding,
            segments=message.segments,
            connector=message.connector,
            metadata=metadata,
            webhook=webhook,
        )
        return new, match

    async def _answer(self, message: Message, match: KeywordMatch) -> None:
        """Send a keyword's reply text; it goes out even to a destination that just opted out
        (it confirms that), and at most once per inbound message."""
        if match.reply is None or self._sender is None:
            return
        try:
            await self._sender.send(
                message.account_id,
                SendRequest(
                    to=message.from_addr,
                    from_=message.to_addr,
                    body=match.reply,
                    opt_out_exempt=True,
                    idempotency_key=f"keyword-reply:{message.id}",
                ),
            )
        except MarconiError as exc:
            log.warning("inbound %s: the %s reply was not sent (%s)", message.id, match.action, exc)

    async def reply(self, account_id: str, *, number: str, to: str, body: str) -> Message | None:
        """Send ``body`` from the account's ``number`` back to ``to`` (a webhook's reply); None
        when ``to`` has opted out (as it has just done, when the message was STOP)."""
        if self._sender is None:
            raise RuntimeError("InboundService was built without a MessageService for replies")
        try:
            return await self._sender.send(account_id, SendRequest(to=to, from_=number, body=body))
        except ValidationError as exc:
            if exc.code != "destination_opted_out":
                raise
            log.info("the webhook's reply to %s was not sent: it opted out of %s", to, number)
            return None

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


def _from_whole(connector: str, whole: ReassembledMessage) -> InboundMessage:
    return InboundMessage(
        connector=connector,
        source=whole.source,
        destination=whole.destination,
        text=whole.text if whole.text is not None else whole.payload.hex(),
        encoding=whole.encoding if whole.text is not None else "binary",
        segments=len(whole.parts),
    )


def _from_incomplete(incomplete: IncompleteMessage) -> InboundMessage:
    return InboundMessage(
        connector="",
        source=incomplete.source,
        destination=incomplete.destination,
        text=incomplete.text or "",
        encoding="incomplete",
        segments=len(incomplete.parts),
        complete=False,
    )
