"""Reading what a peer recorded, with codecs that are neither Marconi's nor the peer's.

GSM 03.38 goes through the PyPI ``gsm0338`` codec (unpacked septets), UCS-2 through Python's
UTF-16BE. Concatenated parts are joined as octets before decoding, so a surrogate pair or an
escape pair that a sender split across two parts still comes out whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

UDHI: int = 0x40


def decode_octets(data_coding: int, octets: bytes) -> str:
    """Decode short_message octets (without UDH) the way an SMSC does for data_coding."""
    if data_coding in (0x00, 0x01) or (data_coding & 0xF0 == 0xF0 and not data_coding & 0x04):
        # 0 = SMSC default alphabet, taken as GSM 03.38; node-smpp also labels GSM as 0x01
        return octets.decode("gsm03.38")
    if data_coding == 0x03:
        return octets.decode("latin-1")
    if data_coding < 0xC0 and data_coding & 0x0C == 0x08:
        return octets.decode("utf-16-be")
    raise ValueError(f"no text decoding for data_coding {data_coding:#04x}")


@dataclass(frozen=True, slots=True)
class Part:
    source_addr: str
    destination_addr: str
    data_coding: int
    reference: int | None
    total: int
    seqnum: int
    udh: bytes
    body: bytes


def split_udh(esm_class: int, octets: bytes) -> tuple[bytes, bytes]:
    if esm_class & UDHI and octets:
        length = octets[0]
        return octets[: 1 + length], octets[1 + length :]
    return b"", octets


def concatenation(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, seqnum) from a UDH's 8- or 16-bit concatenation element."""
    at = 1
    while at + 2 <= len(udh):
        iei, length = udh[at], udh[at + 1]
        value = udh[at + 2 : at + 2 + length]
        if iei == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        at += 2 + length
    return None


def part_from_octets(
    *,
    source_addr: str,
    destination_addr: str,
    data_coding: int,
    esm_class: int,
    short_message: bytes,
    sar: tuple[int, int, int] | None = None,
) -> Part:
    """One short_message as it travelled; ``sar`` is (reference, total, seqnum) from SAR TLVs."""
    udh, body = split_udh(esm_class, short_message)
    concat = concatenation(udh) if udh else None
    if concat is None:
        concat = sar
    reference, total, seqnum = concat if concat else (None, 1, 1)
    return Part(
        source_addr=source_addr,
        destination_addr=destination_addr,
        data_coding=data_coding,
        reference=reference,
        total=total,
        seqnum=seqnum,
        udh=udh,
        body=body,
    )


def part_from_node_event(event: Mapping[str, Any]) -> Part:
    """A submit_sm / deliver_sm recorded by the node-smpp scripts."""
    payload = event.get("message_payload")
    message = payload if payload and payload.get("raw_hex") else event["short_message"]
    sar = None
    if event.get("sar_msg_ref_num") is not None:
        sar = (
            int(event["sar_msg_ref_num"]),
            int(event["sar_total_segments"]),
            int(event["sar_segment_seqnum"]),
        )
    return part_from_octets(
        source_addr=str(event.get("source_addr", "")),
        destination_addr=str(event.get("destination_addr", "")),
        data_coding=int(event.get("data_coding") or 0),
        esm_class=int(event.get("esm_class", 0)),
        short_message=bytes.fromhex(message["raw_hex"] or ""),
        sar=sar,
    )


@dataclass(frozen=True, slots=True)
class Message:
    source_addr: str
    destination_addr: str
    data_coding: int
    parts: tuple[Part, ...]
    text: str


def reassemble(parts: Iterable[Part]) -> list[Message]:
    """Group parts by (source, destination, reference) and join them in seqnum order.

    Raises if a concatenated message is missing a part.
    """
    groups: dict[tuple[str, str, int | None, int], list[Part]] = {}
    order: list[tuple[str, str, int | None, int]] = []
    single = 0
    for part in parts:
        key: tuple[str, str, int | None, int]
        if part.reference is None:
            single += 1
            key = (part.source_addr, part.destination_addr, None, single)
        else:
            key = (part.source_addr, part.destination_addr, part.reference, 0)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(part)
    messages = []
    for key in order:
        group = sorted(groups[key], key=lambda p: p.seqnum)
        total = group[0].total
        seqnums = sorted({p.seqnum for p in group})
        if seqnums != list(range(1, total + 1)):
            raise AssertionError(f"parts {seqnums} of {total} for {key}")
        unique = {p.seqnum: p for p in group}
        octets = b"".join(unique[n].body for n in range(1, total + 1))
        messages.append(
            Message(
                source_addr=group[0].source_addr,
                destination_addr=group[0].destination_addr,
                data_coding=group[0].data_coding,
                parts=tuple(unique[n] for n in range(1, total + 1)),
                text=decode_octets(group[0].data_coding, octets),
            )
        )
    return messages


def node_messages(
    events: Iterable[Mapping[str, Any]], *, by: str = "destination_addr"
) -> dict[str, Message]:
    """Reassembled messages from node-smpp events, keyed by destination (or source) address."""
    messages = reassemble(part_from_node_event(e) for e in events)
    return {getattr(m, by): m for m in messages}


def receipt_fields(text: str) -> dict[str, str]:
    """The key:value fields of a de-facto delivery receipt text ("submit date" included)."""
    fields: dict[str, str] = {}
    normalized = text.replace("submit date:", "submit_date:").replace("done date:", "done_date:")
    head, _, rest = normalized.partition(" text:")
    for token in head.split():
        key, sep, value = token.partition(":")
        if sep:
            fields[key.lower()] = value
    if _:
        fields["text"] = rest
    return fields
