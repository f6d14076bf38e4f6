"""Delivery receipts as the simulator sends them: a deliver_sm with the appendix-B text and TLVs.

The text is the de-facto standard that :func:`marconi.smpp.parse_receipt` reads::

    id:1732531234000001 sub:001 dlvrd:001 submit date:2411251200 done date:2411251200
    stat:DELIVRD err:000 text:Hello world

with dates in UTC, and the TLVs receipted_message_id, message_state and (for failures)
network_error_code (GSM network type 3, the rule's error code). ``text:`` echoes the first 20
characters of the message in ASCII (anything else becomes ``?``).

Receipts go out by the tens of thousands per second, so this is written for speed: dates are
formatted once per minute, the common case of an ASCII-safe message skips the full decoder, and
:meth:`ReceiptBuilder.encoded` writes the deliver_sm's octets from a template instead of building a
PDU for the codec to encode (the same octets, for a third of the cost).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Final

from marconi.errors import MarconiError
from marconi.simulator.record import MessageRecord
from marconi.simulator.rule import Fate, Outcome
from marconi.smpp import DeliverSm, EncodedDeliverSm, EsmClass, Tag, Tlvs
from marconi.smpp.tlv import TlvItems
from marconi.text.reassembly import decode_short_message
from marconi.text.udh import UDHI

__all__ = ["ReceiptBuilder", "sample_text"]

GSM_NETWORK: Final = 3
"""network_error_code network type: GSM (the code is then a MAP error)."""

_TEXT_CHARS: Final = 20
_RECEIPTED_MESSAGE_ID: Final = Tag.RECEIPTED_MESSAGE_ID
_RECEIPT_ESM_CLASS: Final = int(EsmClass.SMSC_DELIVERY_RECEIPT)
_TLV_HEAD: Final = struct.Struct(">HH")
_MAX_ADDRESS: Final = 20  # octets of source_addr and destination_addr, without the NUL
_MAX_TEXT: Final = 254
# deliver_sm body from service_type to sm_length: "%c%c%b" are ton, npi, address (twice), then
# esm_class, protocol_id, priority_flag, two empty times, registered_delivery,
# replace_if_present_flag, data_coding, sm_default_msg_id, sm_length, short_message, and the
# receipted_message_id TLV (length, id) before the outcome's TLVs
_BODY: Final = (
    b"\x00%c%c%b\x00%c%c%b\x00" + bytes((_RECEIPT_ESM_CLASS,)) + b"\x00" * 8 + b"%c%b"
    b"\x00\x1e\x00%c%b\x00%b"
)

# Octets that read the same in GSM-7 (one septet per octet), IA5 and Latin-1, and print.
_SAME_IN_GSM: Final = bytes(
    c
    for c in range(0x20, 0x7B)
    if c not in (0x24, 0x40) and not 0x5B <= c <= 0x60  # $ @ [ \ ] ^ _ `
)
_PRINTABLE_ASCII: Final = bytes(range(0x20, 0x7F))
_SAFE: Final = {0: _SAME_IN_GSM, 1: _PRINTABLE_ASCII, 3: _PRINTABLE_ASCII}


def sample_text(body: bytes, esm_class: int, data_coding: int) -> str:
    """The first 20 characters of a message body (UDH skipped), in printable ASCII."""
    if esm_class & UDHI and body:
        body = body[body[0] + 1 :]
    if not body:
        return ""
    safe = _SAFE.get(data_coding)
    if safe is not None:
        head = body[:_TEXT_CHARS]
        if not head.translate(None, safe):
            return head.decode("ascii")
    try:
        text = decode_short_message(
            body[: 2 * _TEXT_CHARS], data_coding=data_coding, errors="replace"
        ).text
    except MarconiError:
        return ""
    if text is None:
        return ""
    text = text[:_TEXT_CHARS]
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


class ReceiptBuilder:
    """Builds receipt PDUs for records; ``clock_offset`` turns record times into epoch seconds."""

    __slots__ = ("_minute", "_minute_text", "_outcomes", "clock_offset")

    def __init__(self, *, clock_offset: float = 0.0) -> None:
        self.clock_offset = clock_offset
        self._minute = -1
        self._minute_text = ""
        # per Outcome object (there are a handful): its fixed text and its TLVs after the id
        self._outcomes: dict[int, tuple[Outcome, str, str, TlvItems, bytes]] = {}

    def date(self, at: float) -> str:
        """``YYMMDDhhmm`` in UTC of a record-clock time."""
        minute = int((at + self.clock_offset) // 60)
        if minute == self._minute:
            return self._minute_text
        text = datetime.fromtimestamp(minute * 60, UTC).strftime("%y%m%d%H%M")
        self._minute = minute
        self._minute_text = text
        return text

    def _outcome(self, outcome: Outcome) -> tuple[Outcome, str, str, TlvItems, bytes]:
        cached = self._outcomes.get(id(outcome))
        if cached is None:
            fate = outcome.fate
            err = outcome.error_code
            # TLV values as the octets they travel as: the encoder then copies them as they are
            octets = [(Tag.MESSAGE_STATE, bytes((fate.message_state,)))]
            if err:
                octets.append((Tag.NETWORK_ERROR_CODE, bytes((GSM_NETWORK, err >> 8, err & 0xFF))))
            cached = (
                outcome,  # held so that its id() is not reused
                f" sub:001 dlvrd:{'001' if fate is Fate.DELIVERED else '000'} submit date:",
                f" stat:{fate.value} err:{err:03d} text:",
                tuple(octets),
                b"".join(_TLV_HEAD.pack(tag, len(value)) + value for tag, value in octets),
            )
            self._outcomes[id(outcome)] = cached
        return cached

    def text(self, record: MessageRecord, now: float) -> str:
        """The receipt text for ``record``, done at ``now``."""
        _, sub_dlvrd, stat, _, _ = self._outcome(record.outcome)
        message = record.message
        return (
            f"id:{record.message_id}{sub_dlvrd}{self.date(record.submitted_at)} done date:"
            f"{self.date(now)}{stat}"
            f"{sample_text(record.body, message.esm_class, message.data_coding)}"
        )

    def pdu(self, record: MessageRecord, now: float) -> DeliverSm:
        """The deliver_sm carrying the receipt of ``record``, from its handset to its sender."""
        _, sub_dlvrd, stat, tail, _ = self._outcome(record.outcome)
        message = record.message
        message_id = record.message_id
        text = (
            f"id:{message_id}{sub_dlvrd}{self.date(record.submitted_at)} done date:"
            f"{self.date(now)}{stat}"
            f"{sample_text(record.body, message.esm_class, message.data_coding)}"
        )
        destination = record.destination
        return DeliverSm(
            source_addr_ton=destination.dest_addr_ton,
            source_addr_npi=destination.dest_addr_npi,
            source_addr=destination.destination_addr,
            dest_addr_ton=message.source_addr_ton,
            dest_addr_npi=message.source_addr_npi,
            destination_addr=message.source_addr,
            esm_class=_RECEIPT_ESM_CLASS,
            short_message=text.encode("ascii", "replace"),
            # the pairs are well-formed by construction: no need to check them again
            tlvs=Tlvs.unchecked(
                ((_RECEIPTED_MESSAGE_ID, message_id.encode("ascii") + b"\x00"), *tail)
            ),
        )

    def encoded(self, record: MessageRecord, now: float) -> EncodedDeliverSm | DeliverSm:
        """What :meth:`pdu` gives, as octets ready to frame (the same octets, cheaper).

        A record whose fields would not encode (an address of more than 20 octets, say) gets
        :meth:`pdu`, so that the connection refuses it with the precise error.
        """
        _, sub_dlvrd, stat, _, tail = self._outcome(record.outcome)
        message = record.message
        message_id = record.message_id
        destination = record.destination
        text = (
            f"id:{message_id}{sub_dlvrd}{self.date(record.submitted_at)} done date:"
            f"{self.date(now)}{stat}"
            f"{sample_text(record.body, message.esm_class, message.data_coding)}"
        ).encode("ascii", "replace")
        try:
            source = destination.destination_addr.encode("latin-1")
            target = message.source_addr.encode("latin-1")
            receipted = message_id.encode("ascii")
            if (
                len(source) > _MAX_ADDRESS
                or len(target) > _MAX_ADDRESS
                or len(text) > _MAX_TEXT
                or 0 in source
                or 0 in target
            ):
                return self.pdu(record, now)
            body = _BODY % (
                destination.dest_addr_ton,
                destination.dest_addr_npi,
                source,
                message.source_addr_ton,
                message.source_addr_npi,
                target,
                len(text),
                text,
                len(receipted) + 1,
                receipted,
                tail,
            )
        except (UnicodeEncodeError, OverflowError, TypeError):
            return self.pdu(record, now)
        return EncodedDeliverSm(body=body)
