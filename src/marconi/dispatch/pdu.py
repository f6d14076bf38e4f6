"""A stored message to the ``submit_sm`` PDUs of its parts. Pure.

The text is encoded again with the encoding chosen when it was accepted (so the segment count
the API answered is the one sent), and the parts of one message share a concatenation reference
drawn from a counter per destination, so two long messages to the same handset in flight at once
never mix their parts.
"""

from __future__ import annotations

from typing import Final

from marconi.errors import EncodingError
from marconi.smpp import DeliverSm, SubmitSm, Tag, Tlvs
from marconi.store.model import Message
from marconi.text import EncodingMode, ReceivedPart, SarInfo, encode_message

__all__ = ["PduBuilder", "address_kind", "received_part"]

_MODES: Final = {"ucs2": EncodingMode.UCS2, "latin1": EncodingMode.LATIN1}
_REFERENCES_KEPT: Final = 100_000


def address_kind(address: str) -> tuple[str, int, int]:
    """The address as SMPP carries it, with its TON and NPI.

    E.164 numbers go without ``+`` as international (1/1), short codes as network specific (3/1),
    alphanumeric senders as alphanumeric (5/0).
    """
    if address.startswith("+") and address[1:].isdigit():
        return address[1:], 1, 1
    if address.isdigit():
        return address, (1 if len(address) > 8 else 3), 1
    return address, 5, 0


class PduBuilder:
    """Builds the PDUs of messages; keeps the next concatenation reference per destination."""

    def __init__(self, *, registered_delivery: int = 1) -> None:
        self._registered_delivery = registered_delivery
        self._references: dict[str, int] = {}

    def _reference(self, to_addr: str) -> int:
        refs = self._references
        reference = (refs.get(to_addr, -1) + 1) & 0xFF
        if len(refs) >= _REFERENCES_KEPT and to_addr not in refs:
            refs.clear()
        refs[to_addr] = reference
        return reference

    def build(self, message: Message) -> list[SubmitSm]:
        """The PDUs of ``message``, one per part. Raises EncodingError for a body that cannot be
        encoded (a redacted body, or one the stored encoding cannot carry)."""
        if message.body is None:
            raise EncodingError("the message body was redacted before it could be sent")
        mode = _MODES.get(message.encoding, EncodingMode.AUTO)
        if mode is EncodingMode.AUTO and message.encoding != "ucs2" and message.data_coding == 8:
            mode = EncodingMode.UCS2
        reference = self._reference(message.to_addr) if message.segments > 1 else None
        try:
            encoded = encode_message(message.body, encoding=mode, reference=reference)
        except EncodingError:
            if mode is EncodingMode.AUTO:
                raise
            encoded = encode_message(message.body, reference=reference)
        source, source_ton, source_npi = address_kind(message.from_addr)
        destination, dest_ton, dest_npi = address_kind(message.to_addr)
        pdus: list[SubmitSm] = []
        for part in encoded.parts:
            tlvs = Tlvs()
            if part.sar is not None:
                tlvs = Tlvs(
                    [
                        (Tag.SAR_MSG_REF_NUM, part.sar.sar_msg_ref_num),
                        (Tag.SAR_TOTAL_SEGMENTS, part.sar.sar_total_segments),
                        (Tag.SAR_SEGMENT_SEQNUM, part.sar.sar_segment_seqnum),
                    ]
                )
            pdus.append(
                SubmitSm(
                    source_addr_ton=source_ton,
                    source_addr_npi=source_npi,
                    source_addr=source,
                    dest_addr_ton=dest_ton,
                    dest_addr_npi=dest_npi,
                    destination_addr=destination,
                    esm_class=part.esm_class_bits,
                    registered_delivery=self._registered_delivery,
                    # the priority class: the link sends it ahead of queued submits
                    priority_flag=1 if message.priority > 0 else 0,
                    data_coding=part.data_coding,
                    short_message=part.short_message,
                    tlvs=tlvs,
                )
            )
        return pdus


def received_part(pdu: DeliverSm) -> ReceivedPart:
    """An MO deliver_sm as the reassembler takes it (text in short_message or message_payload,
    concatenation by UDH or by SAR TLVs)."""
    tlvs = pdu.tlvs
    body = pdu.short_message or (tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b"" if tlvs else b"")
    sar = None
    if tlvs:
        ref = tlvs.get_int(Tag.SAR_MSG_REF_NUM)
        total = tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS)
        seq = tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM)
        if ref is not None and total is not None and seq is not None:
            sar = SarInfo(sar_msg_ref_num=ref, sar_total_segments=total, sar_segment_seqnum=seq)
    return ReceivedPart(
        source=pdu.source_addr,
        destination=pdu.destination_addr,
        short_message=body,
        data_coding=pdu.data_coding,
        esm_class=pdu.esm_class,
        sar=sar,
    )
