"""Bytes to PDUs and back: ``encode``, ``decode`` and the streaming :class:`Decoder`.

Encoding is strict: C-strings must fit the spec's maximum size and hold no NUL, the time fields are
empty or 16 characters, short_message has at most 254 octets, and integers must fit their field;
anything else raises :class:`~marconi.errors.LocalProtocolError` before a byte is produced.

Decoding is lenient where real peers are sloppy and strict where framing is at stake:

* C-strings longer than the spec allows are accepted; text is read as Latin-1, so every octet
  round-trips.
* A response with an empty body (the spec omits it when command_status is not zero, and some
  peers omit it always) decodes with empty fields; a final C-string without its NUL is accepted.
* A frame whose command_length is below 16 or above the configured maximum raises
  :class:`FramingError`: the stream can no longer be trusted and the session must end.
* A well-framed PDU whose command_id is unknown or whose body is malformed raises
  :class:`InvalidPdu`, carrying the sequence number and the command_status to answer with; the
  frame is consumed and decoding goes on with the next one.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

from marconi.errors import LocalProtocolError, RemoteProtocolError
from marconi.smpp.constants import (
    HEADER_LENGTH,
    MAX_SHORT_MESSAGE,
    RESPONSE_MASK,
    TLV_TYPES,
    CommandId,
    CommandStatus,
    DestFlag,
    TlvType,
)
from marconi.smpp.pdu import (
    PDU_CLASSES,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EncodedDeliverSm,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    Response,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)
from marconi.smpp.tlv import _TAGS, NO_TLVS, Tlvs, TlvValue

DEFAULT_MAX_COMMAND_LENGTH: Final = 70_000
"""Room for a 64 KiB message_payload plus every other field."""

_HEADER: Final = struct.Struct(">IIII")
_TLV_HEAD: Final = struct.Struct(">HH")
_U32: Final = struct.Struct(">I")
_INT_SIZES: Final = {TlvType.INT1: 1, TlvType.INT2: 2, TlvType.INT4: 4}
_STATUSES: Final[dict[int, int]] = {int(s): s for s in CommandStatus}
_COMMAND_IDS: Final[dict[int, int]] = {int(c): c for c in CommandId}

_Buffer: TypeAlias = bytes
_BodyDecoder: TypeAlias = Callable[[_Buffer, int, int, int, int], Pdu]
_Encoder: TypeAlias = Callable[[Pdu, int], bytes]


class FramingError(RemoteProtocolError):
    """The byte stream cannot be split into PDUs any more (bad command_length); end the session."""

    status: int = CommandStatus.ESME_RINVCMDLEN

    def __init__(
        self,
        message: str,
        *,
        command_length: int | None = None,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        super().__init__(message)
        self.command_length = command_length
        self.command_id = command_id
        self.sequence_number = sequence_number


class InvalidPdu(RemoteProtocolError):
    """A well-framed PDU that cannot be decoded; ``status`` is the command_status to answer with."""

    def __init__(self, message: str, *, status: int, command_id: int, sequence_number: int) -> None:
        super().__init__(message)
        self.status = status
        self.command_id = command_id
        self.sequence_number = sequence_number


class _BodyError(Exception):
    """Raised inside body decoders; turned into InvalidPdu with the header's data."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- TLVs -------------------------------------------------------------------------------------


def _encode_tlvs(tlvs: Tlvs) -> bytes:
    parts: list[bytes] = []
    for tag, value in tlvs._items:
        if isinstance(value, bytes):
            raw = value
        elif isinstance(value, str):
            if TLV_TYPES.get(tag, TlvType.CSTRING) is not TlvType.CSTRING:
                raise LocalProtocolError(f"TLV 0x{tag:04X} takes octets, not text")
            try:
                raw = value.encode("latin-1") + b"\x00"
            except UnicodeEncodeError as exc:
                raise LocalProtocolError(f"TLV 0x{tag:04X} text is not Latin-1") from exc
        else:
            size = _INT_SIZES.get(TLV_TYPES.get(tag))  # type: ignore[arg-type]
            if size is None:
                raise LocalProtocolError(
                    f"TLV 0x{tag:04X} has no integer type; give its value as bytes"
                )
            try:
                raw = value.to_bytes(size, "big")
            except OverflowError as exc:
                raise LocalProtocolError(
                    f"TLV 0x{tag:04X} value {value} does not fit {size} octet(s)"
                ) from exc
        if len(raw) > 0xFFFF:
            raise LocalProtocolError(f"TLV 0x{tag:04X} value is longer than 65535 octets")
        parts.append(_TLV_HEAD.pack(tag, len(raw)))
        parts.append(raw)
    return b"".join(parts)


# How each known tag reads: (the Tag member, how its value is typed) where the type is
# _READ_CSTRING, _READ_OCTETS, or the size of an integer; one lookup per TLV on the receive path.
_READ_CSTRING: Final = -1
_READ_OCTETS: Final = 0
_TLV_READS: Final[dict[int, tuple[int, int]]] = {
    int(tag): (
        _TAGS.get(tag, tag),
        _READ_CSTRING
        if TLV_TYPES.get(tag) is TlvType.CSTRING
        else _INT_SIZES.get(TLV_TYPES.get(tag), _READ_OCTETS),  # type: ignore[arg-type]
    )
    for tag in {*_TAGS, *TLV_TYPES}
}


def _decode_tlvs(buf: _Buffer, pos: int, end: int) -> Tlvs:
    items: list[tuple[int, TlvValue]] = []
    unpack = _TLV_HEAD.unpack_from
    reads = _TLV_READS
    while pos < end:
        if pos + 4 > end:
            raise _BodyError(CommandStatus.ESME_RINVOPTPARSTREAM, "truncated TLV header")
        tag, length = unpack(buf, pos)
        pos += 4
        value_end = pos + length
        if value_end > end:
            raise _BodyError(CommandStatus.ESME_RINVOPTPARSTREAM, f"TLV 0x{tag:04X} overruns")
        value: TlvValue
        read = reads.get(tag)
        if read is None:
            value = buf[pos:value_end]
        else:
            tag, kind = read
            if kind == length and kind > 0:
                value = int.from_bytes(buf[pos:value_end], "big")
            elif kind == _READ_CSTRING and length and buf.find(0, pos, value_end) == value_end - 1:
                value = buf[pos : value_end - 1].decode("latin-1")
            else:
                value = buf[pos:value_end]  # octets, or a length its type does not allow
        items.append((tag, value))
        pos = value_end
    return Tlvs._trusted(tuple(items))


# --- encoding helpers -------------------------------------------------------------------------


def _text(value: str, maximum: int, name: str) -> bytes:
    """A C-string's octets (without NUL), checked against the spec's size including the NUL."""
    try:
        raw = value.encode("latin-1")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise LocalProtocolError(f"{name} must be Latin-1 text") from exc
    if len(raw) >= maximum:
        raise LocalProtocolError(f"{name} is {len(raw)} octets; at most {maximum - 1} fit")
    if b"\x00" in raw:
        raise LocalProtocolError(f"{name} must not contain NUL")
    return raw


def _time(value: str, name: str) -> bytes:
    raw = _text(value, 17, name)
    if len(raw) not in (0, 16):
        raise LocalProtocolError(f"{name} must be empty or 16 characters (YYMMDDhhmmsstnnp)")
    return raw


def _octet(value: int, name: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} must be an integer 0..255, not {value!r}")
    return bytes((value,))


def _frame(command_id: int, status: int, sequence_number: int, body: bytes) -> bytes:
    try:
        return _HEADER.pack(HEADER_LENGTH + len(body), command_id, status, sequence_number) + body
    except struct.error as exc:
        raise LocalProtocolError(
            f"sequence_number {sequence_number!r} or command_status {status!r} out of range"
        ) from exc


# --- hot path: submit_sm / deliver_sm and their responses, header-only PDUs -------------------


def _encode_sm(pdu: SubmitSm | DeliverSm, seq: int) -> bytes:
    try:
        service_type = pdu.service_type.encode("latin-1")
        source_addr = pdu.source_addr.encode("latin-1")
        destination_addr = pdu.destination_addr.encode("latin-1")
        schedule = pdu.schedule_delivery_time.encode("latin-1")
        validity = pdu.validity_period.encode("latin-1")
        short_message = pdu.short_message
        if (
            len(service_type) > 5
            or len(source_addr) > 20
            or len(destination_addr) > 20
            or (schedule and len(schedule) != 16)
            or (validity and len(validity) != 16)
            or len(short_message) > MAX_SHORT_MESSAGE
            or 0 in service_type
            or 0 in source_addr
            or 0 in destination_addr
            or 0 in schedule
            or 0 in validity
        ):
            _check_sm_fields(pdu)
        body = b"%b\x00%c%c%b\x00%c%c%b\x00%c%c%c%b\x00%b\x00%c%c%c%c%c%b" % (
            service_type,
            pdu.source_addr_ton,
            pdu.source_addr_npi,
            source_addr,
            pdu.dest_addr_ton,
            pdu.dest_addr_npi,
            destination_addr,
            pdu.esm_class,
            pdu.protocol_id,
            pdu.priority_flag,
            schedule,
            validity,
            pdu.registered_delivery,
            pdu.replace_if_present_flag,
            pdu.data_coding,
            pdu.sm_default_msg_id,
            len(short_message),
            short_message,
        )
    except (UnicodeEncodeError, AttributeError, TypeError, ValueError, OverflowError):
        _check_sm_fields(pdu)
        raise
    if pdu.tlvs._items:
        body += _encode_tlvs(pdu.tlvs)
    try:
        return _HEADER.pack(HEADER_LENGTH + len(body), pdu.command_id, 0, seq) + body
    except struct.error:
        return _frame(pdu.command_id, 0, seq, body)


def _check_sm_fields(pdu: SubmitSm | DeliverSm) -> None:
    """Find the offending field of a submit_sm/deliver_sm and raise a precise error."""
    _text(pdu.service_type, 6, "service_type")
    _text(pdu.source_addr, 21, "source_addr")
    _text(pdu.destination_addr, 21, "destination_addr")
    _time(pdu.schedule_delivery_time, "schedule_delivery_time")
    _time(pdu.validity_period, "validity_period")
    for name in (
        "source_addr_ton",
        "source_addr_npi",
        "dest_addr_ton",
        "dest_addr_npi",
        "esm_class",
        "protocol_id",
        "priority_flag",
        "registered_delivery",
        "replace_if_present_flag",
        "data_coding",
        "sm_default_msg_id",
    ):
        _octet(getattr(pdu, name), name)
    _short_message(pdu.short_message)
    raise LocalProtocolError(f"cannot encode {type(pdu).__name__}")  # pragma: no cover


def _short_message(value: bytes) -> bytes:
    if not isinstance(value, bytes):
        raise LocalProtocolError("short_message must be bytes")
    if len(value) > MAX_SHORT_MESSAGE:
        raise LocalProtocolError(
            f"short_message is {len(value)} octets; at most {MAX_SHORT_MESSAGE} fit "
            "(send longer content in the message_payload TLV)"
        )
    return value


def _decode_sm(make: Callable[..., Pdu]) -> _BodyDecoder:
    def decode(buf: _Buffer, pos: int, end: int, status: int, seq: int) -> Pdu:
        z = buf.index(0, pos, end)
        service_type = buf[pos:z].decode("latin-1")
        source_addr_ton = buf[z + 1]
        source_addr_npi = buf[z + 2]
        pos = z + 3
        z = buf.index(0, pos, end)
        source_addr = buf[pos:z].decode("latin-1")
        dest_addr_ton = buf[z + 1]
        dest_addr_npi = buf[z + 2]
        pos = z + 3
        z = buf.index(0, pos, end)
        destination_addr = buf[pos:z].decode("latin-1")
        esm_class = buf[z + 1]
        protocol_id = buf[z + 2]
        priority_flag = buf[z + 3]
        pos = z + 4
        z = buf.index(0, pos, end)
        schedule = buf[pos:z].decode("latin-1") if z > pos else ""
        pos = z + 1
        z = buf.index(0, pos, end)
        validity = buf[pos:z].decode("latin-1") if z > pos else ""
        pos = z + 6
        if pos > end:
            raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "body ends inside the fixed fields")
        sm_length = buf[pos - 1]
        sm_end = pos + sm_length
        if sm_end > end:
            raise _BodyError(CommandStatus.ESME_RINVMSGLEN, "sm_length overruns the PDU")
        return make(
            seq,
            service_type,
            source_addr_ton,
            source_addr_npi,
            source_addr,
            dest_addr_ton,
            dest_addr_npi,
            destination_addr,
            esm_class,
            protocol_id,
            priority_flag,
            schedule,
            validity,
            buf[z + 1],
            buf[z + 2],
            buf[z + 3],
            buf[z + 4],
            buf[pos:sm_end],
            _decode_tlvs(buf, sm_end, end) if sm_end < end else NO_TLVS,
        )

    return decode


def _encode_message_id_resp(maximum: int) -> _Encoder:
    def encode(pdu: Pdu, seq: int) -> bytes:
        assert isinstance(pdu, (SubmitSmResp, DeliverSmResp, DataSmResp))
        message_id = pdu.message_id
        tlvs = pdu.tlvs
        status = pdu.command_status
        if status and not message_id and not tlvs._items:
            body = b""
        else:
            try:
                raw = message_id.encode("latin-1")
            except (UnicodeEncodeError, AttributeError):
                raw = _text(message_id, maximum, "message_id")  # raises the precise error
            if len(raw) >= maximum or 0 in raw:
                raw = _text(message_id, maximum, "message_id")
            body = raw + b"\x00"
            if tlvs._items:
                body += _encode_tlvs(tlvs)
        try:
            return _HEADER.pack(HEADER_LENGTH + len(body), pdu.command_id, status, seq) + body
        except struct.error:
            return _frame(pdu.command_id, status, seq, body)

    return encode


def _decode_message_id_resp(make: Callable[..., Pdu]) -> _BodyDecoder:
    def decode(buf: _Buffer, pos: int, end: int, status: int, seq: int) -> Pdu:
        if pos == end:
            return make(seq, status, "", NO_TLVS)
        z = buf.find(0, pos, end)
        if z < 0:
            return make(seq, status, buf[pos:end].decode("latin-1"), NO_TLVS)
        return make(
            seq,
            status,
            buf[pos:z].decode("latin-1"),
            _decode_tlvs(buf, z + 1, end) if z + 1 < end else NO_TLVS,
        )

    return decode


def _encode_empty(pdu: Pdu, seq: int) -> bytes:
    tlvs: Tlvs = pdu.tlvs  # type: ignore[attr-defined]
    status = pdu.command_status if isinstance(pdu, Response) else 0
    return _frame(pdu.command_id, status, seq, _encode_tlvs(tlvs) if tlvs._items else b"")


def _decode_empty_request(make: Callable[..., Pdu]) -> _BodyDecoder:
    def decode(buf: _Buffer, pos: int, end: int, status: int, seq: int) -> Pdu:
        return make(seq, _decode_tlvs(buf, pos, end) if pos < end else NO_TLVS)

    return decode


def _decode_empty_response(make: Callable[..., Pdu]) -> _BodyDecoder:
    def decode(buf: _Buffer, pos: int, end: int, status: int, seq: int) -> Pdu:
        return make(seq, status, _decode_tlvs(buf, pos, end) if pos < end else NO_TLVS)

    return decode


# --- everything else: driven by a field list per PDU ------------------------------------------

_CSTR, _TIME, _U8, _SM, _DESTS, _UNSUCCESS = range(6)
_Spec: TypeAlias = Sequence[tuple[int, str, int]]

_ADDRESS_21: Final = 21
_BIND: Final[_Spec] = (
    (_CSTR, "system_id", 16),
    (_CSTR, "password", 9),
    (_CSTR, "system_type", 13),
    (_U8, "interface_version", 0),
    (_U8, "addr_ton", 0),
    (_U8, "addr_npi", 0),
    (_CSTR, "address_range", 41),
)
_BIND_RESP: Final[_Spec] = ((_CSTR, "system_id", 16),)
_SPECS: Final[dict[type[Pdu], _Spec]] = {
    BindTransmitter: _BIND,
    BindReceiver: _BIND,
    BindTransceiver: _BIND,
    BindTransmitterResp: _BIND_RESP,
    BindReceiverResp: _BIND_RESP,
    BindTransceiverResp: _BIND_RESP,
    Outbind: ((_CSTR, "system_id", 16), (_CSTR, "password", 9)),
    SubmitMulti: (
        (_CSTR, "service_type", 6),
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", _ADDRESS_21),
        (_DESTS, "dest_address", 0),
        (_U8, "esm_class", 0),
        (_U8, "protocol_id", 0),
        (_U8, "priority_flag", 0),
        (_TIME, "schedule_delivery_time", 0),
        (_TIME, "validity_period", 0),
        (_U8, "registered_delivery", 0),
        (_U8, "replace_if_present_flag", 0),
        (_U8, "data_coding", 0),
        (_U8, "sm_default_msg_id", 0),
        (_SM, "short_message", 0),
    ),
    SubmitMultiResp: ((_CSTR, "message_id", 65), (_UNSUCCESS, "unsuccess_sme", 0)),
    DataSm: (
        (_CSTR, "service_type", 6),
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", 65),
        (_U8, "dest_addr_ton", 0),
        (_U8, "dest_addr_npi", 0),
        (_CSTR, "destination_addr", 65),
        (_U8, "esm_class", 0),
        (_U8, "registered_delivery", 0),
        (_U8, "data_coding", 0),
    ),
    QuerySm: (
        (_CSTR, "message_id", 65),
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", _ADDRESS_21),
    ),
    QuerySmResp: (
        (_CSTR, "message_id", 65),
        (_TIME, "final_date", 0),
        (_U8, "message_state", 0),
        (_U8, "error_code", 0),
    ),
    CancelSm: (
        (_CSTR, "service_type", 6),
        (_CSTR, "message_id", 65),
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", _ADDRESS_21),
        (_U8, "dest_addr_ton", 0),
        (_U8, "dest_addr_npi", 0),
        (_CSTR, "destination_addr", _ADDRESS_21),
    ),
    ReplaceSm: (
        (_CSTR, "message_id", 65),
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", _ADDRESS_21),
        (_TIME, "schedule_delivery_time", 0),
        (_TIME, "validity_period", 0),
        (_U8, "registered_delivery", 0),
        (_U8, "sm_default_msg_id", 0),
        (_SM, "short_message", 0),
    ),
    AlertNotification: (
        (_U8, "source_addr_ton", 0),
        (_U8, "source_addr_npi", 0),
        (_CSTR, "source_addr", 65),
        (_U8, "esme_addr_ton", 0),
        (_U8, "esme_addr_npi", 0),
        (_CSTR, "esme_addr", 65),
    ),
}


def _encode_by_spec(spec: _Spec) -> _Encoder:
    def encode(pdu: Pdu, seq: int) -> bytes:
        status = pdu.command_status if isinstance(pdu, Response) else 0
        tlvs: Tlvs = pdu.tlvs  # type: ignore[attr-defined]
        parts: list[bytes] = []
        if not (status and not tlvs._items and _all_default(pdu, spec)):
            for kind, name, size in spec:
                value = getattr(pdu, name)
                if kind == _CSTR:
                    parts += (_text(value, size, name), b"\x00")
                elif kind == _U8:
                    parts.append(_octet(value, name))
                elif kind == _TIME:
                    parts += (_time(value, name), b"\x00")
                elif kind == _SM:
                    raw = _short_message(value)
                    parts += (bytes((len(raw),)), raw)
                elif kind == _DESTS:
                    parts.append(_encode_dests(value))
                else:
                    parts.append(_encode_unsuccess(value))
            if tlvs._items:
                parts.append(_encode_tlvs(tlvs))
        return _frame(pdu.command_id, status, seq, b"".join(parts))

    return encode


def _all_default(pdu: Pdu, spec: _Spec) -> bool:
    defaults = type(pdu)()
    return all(getattr(pdu, name) == getattr(defaults, name) for _, name, _ in spec)


def _encode_dests(dests: tuple[SmeAddress | DistributionList, ...]) -> bytes:
    if len(dests) > 254:
        raise LocalProtocolError(f"submit_multi takes at most 254 destinations, not {len(dests)}")
    parts = [bytes((len(dests),))]
    for dest in dests:
        if isinstance(dest, SmeAddress):
            parts += (
                b"\x01",
                _octet(dest.dest_addr_ton, "dest_addr_ton"),
                _octet(dest.dest_addr_npi, "dest_addr_npi"),
                _text(dest.destination_addr, _ADDRESS_21, "destination_addr"),
                b"\x00",
            )
        elif isinstance(dest, DistributionList):
            parts += (b"\x02", _text(dest.dl_name, _ADDRESS_21, "dl_name"), b"\x00")
        else:
            raise LocalProtocolError(f"dest_address holds {type(dest).__name__}")
    return b"".join(parts)


def _encode_unsuccess(entries: tuple[UnsuccessSme, ...]) -> bytes:
    if len(entries) > 255:
        raise LocalProtocolError("no_unsuccess cannot exceed 255")
    parts = [bytes((len(entries),))]
    for entry in entries:
        if not isinstance(entry, UnsuccessSme):
            raise LocalProtocolError(f"unsuccess_sme holds {type(entry).__name__}")
        if not isinstance(entry.error_status_code, int) or not (
            0 <= entry.error_status_code <= 0xFFFFFFFF
        ):
            raise LocalProtocolError("error_status_code must fit 4 octets")
        parts += (
            _octet(entry.dest_addr_ton, "dest_addr_ton"),
            _octet(entry.dest_addr_npi, "dest_addr_npi"),
            _text(entry.destination_addr, _ADDRESS_21, "destination_addr"),
            b"\x00",
            _U32.pack(entry.error_status_code),
        )
    return b"".join(parts)


def _cstring_at(buf: _Buffer, pos: int, end: int, last: bool) -> tuple[str, int]:
    z = buf.find(0, pos, end)
    if z < 0:
        if not last or pos > end:
            raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "C-string without its NUL")
        return buf[pos:end].decode("latin-1"), end
    return buf[pos:z].decode("latin-1"), z + 1


def _decode_by_spec(make: Callable[..., Pdu], spec: _Spec, response: bool) -> _BodyDecoder:
    last_index = len(spec) - 1

    def decode(buf: _Buffer, pos: int, end: int, status: int, seq: int) -> Pdu:
        head: list[object] = [seq, status] if response else [seq]
        if response and pos == end:
            return make(*head, *(_EMPTY[kind] for kind, _, _ in spec), NO_TLVS)
        values: list[object] = []
        for index, (kind, _, _) in enumerate(spec):
            if kind == _CSTR:
                text, pos = _cstring_at(buf, pos, end, index == last_index)
                values.append(text)
            elif kind == _U8:
                if pos >= end:
                    raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "body ends early")
                values.append(buf[pos])
                pos += 1
            elif kind == _TIME:
                text, pos = _cstring_at(buf, pos, end, False)
                values.append(text)
            elif kind == _SM:
                if pos >= end:
                    raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "body ends before sm_length")
                sm_end = pos + 1 + buf[pos]
                if sm_end > end:
                    raise _BodyError(CommandStatus.ESME_RINVMSGLEN, "sm_length overruns the PDU")
                values.append(buf[pos + 1 : sm_end])
                pos = sm_end
            elif kind == _DESTS:
                dests, pos = _decode_dests(buf, pos, end)
                values.append(dests)
            else:
                entries, pos = _decode_unsuccess(buf, pos, end)
                values.append(entries)
        tlvs = _decode_tlvs(buf, pos, end) if pos < end else NO_TLVS
        return make(*head, *values, tlvs)

    return decode


_EMPTY: Final[dict[int, object]] = {
    _CSTR: "",
    _TIME: "",
    _U8: 0,
    _SM: b"",
    _DESTS: (),
    _UNSUCCESS: (),
}


def _decode_dests(
    buf: _Buffer, pos: int, end: int
) -> tuple[tuple[SmeAddress | DistributionList, ...], int]:
    if pos >= end:
        raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "body ends before number_of_dests")
    count = buf[pos]
    pos += 1
    dests: list[SmeAddress | DistributionList] = []
    for _ in range(count):
        if pos >= end:
            raise _BodyError(CommandStatus.ESME_RINVNUMDESTS, "fewer destinations than announced")
        flag = buf[pos]
        if flag == DestFlag.SME_ADDRESS:
            if pos + 3 > end:
                raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "truncated SME address")
            ton, npi = buf[pos + 1], buf[pos + 2]
            addr, pos = _cstring_at(buf, pos + 3, end, False)
            dests.append(SmeAddress(dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr))
        elif flag == DestFlag.DISTRIBUTION_LIST:
            name, pos = _cstring_at(buf, pos + 1, end, False)
            dests.append(DistributionList(dl_name=name))
        else:
            raise _BodyError(CommandStatus.ESME_RINVDESTFLAG, f"dest_flag {flag}")
    return tuple(dests), pos


def _decode_unsuccess(buf: _Buffer, pos: int, end: int) -> tuple[tuple[UnsuccessSme, ...], int]:
    if pos >= end:
        # some SMSCs stop after message_id when every destination succeeded
        return (), pos
    count = buf[pos]
    pos += 1
    entries: list[UnsuccessSme] = []
    for _ in range(count):
        if pos + 2 > end:
            raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "truncated unsuccess_sme")
        ton, npi = buf[pos], buf[pos + 1]
        addr, pos = _cstring_at(buf, pos + 2, end, False)
        if pos + 4 > end:
            raise _BodyError(CommandStatus.ESME_RINVCMDLEN, "truncated error_status_code")
        (code,) = _U32.unpack_from(buf, pos)
        pos += 4
        entries.append(
            UnsuccessSme(
                dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr, error_status_code=code
            )
        )
    return tuple(entries), pos


# --- dispatch ---------------------------------------------------------------------------------

_ENCODERS: Final[dict[type[Pdu], _Encoder]] = {
    SubmitSm: _encode_sm,  # type: ignore[dict-item]
    DeliverSm: _encode_sm,  # type: ignore[dict-item]
    SubmitSmResp: _encode_message_id_resp(65),
    DeliverSmResp: _encode_message_id_resp(65),
    DataSmResp: _encode_message_id_resp(65),
}
_DECODERS: Final[dict[int, _BodyDecoder]] = {
    CommandId.SUBMIT_SM: _decode_sm(SubmitSm._make),
    CommandId.DELIVER_SM: _decode_sm(DeliverSm._make),
    CommandId.SUBMIT_SM_RESP: _decode_message_id_resp(SubmitSmResp._make),
    CommandId.DELIVER_SM_RESP: _decode_message_id_resp(DeliverSmResp._make),
    CommandId.DATA_SM_RESP: _decode_message_id_resp(DataSmResp._make),
}
_cls: type[Pdu]
for _cls in (Unbind, EnquireLink):
    _ENCODERS[_cls] = _encode_empty
    _DECODERS[_cls.command_id] = _decode_empty_request(_cls._make)
for _cls in (UnbindResp, EnquireLinkResp, GenericNack, CancelSmResp, ReplaceSmResp):
    _ENCODERS[_cls] = _encode_empty
    _DECODERS[_cls.command_id] = _decode_empty_response(_cls._make)
for _cls, _spec in _SPECS.items():
    _ENCODERS[_cls] = _encode_by_spec(_spec)
    _DECODERS[_cls.command_id] = _decode_by_spec(_cls._make, _spec, issubclass(_cls, Response))
assert set(_DECODERS) == set(PDU_CLASSES), "every PDU has a codec"


def _encode_encoded(pdu: Pdu, seq: int) -> bytes:
    assert isinstance(pdu, EncodedDeliverSm)
    return _frame(pdu.command_id, 0, seq, pdu.body)


_ENCODERS[EncodedDeliverSm] = _encode_encoded


def encode(pdu: Pdu, sequence_number: int | None = None) -> bytes:
    """The wire bytes of ``pdu``; raises LocalProtocolError when a field cannot be encoded.

    ``sequence_number``, when given, goes in the header instead of ``pdu.sequence_number`` (so a
    PDU built once can be sent under the number the connection assigns, without a copy).
    """
    try:
        encoder = _ENCODERS[type(pdu)]
    except KeyError:
        raise LocalProtocolError(f"{type(pdu).__name__} is not an SMPP PDU") from None
    return encoder(pdu, pdu.sequence_number if sequence_number is None else sequence_number)


def _decode_body(buf: _Buffer, start: int, end: int, command_id: int, status: int, seq: int) -> Pdu:
    decoder = _DECODERS.get(command_id)
    if decoder is None:
        raise InvalidPdu(
            f"unknown command_id 0x{command_id:08X}",
            status=CommandStatus.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=seq,
        )
    try:
        return decoder(buf, start + HEADER_LENGTH, end, _STATUSES.get(status, status), seq)
    except _BodyError as exc:
        raise InvalidPdu(
            f"{_name(command_id)}: {exc}",
            status=exc.status,
            command_id=command_id,
            sequence_number=seq,
        ) from None
    except (IndexError, ValueError, struct.error):
        raise InvalidPdu(
            f"{_name(command_id)}: body does not match its command_length",
            status=CommandStatus.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=seq,
        ) from None


def _name(command_id: int) -> str:
    known = _COMMAND_IDS.get(command_id)
    return known.name.lower() if isinstance(known, CommandId) else f"0x{command_id:08X}"


def decode(frame: bytes) -> Pdu:
    """Decode one whole PDU; ``frame`` must be exactly command_length octets."""
    if len(frame) < HEADER_LENGTH:
        raise FramingError(f"{len(frame)} octets cannot hold a PDU header")
    length, command_id, status, seq = _HEADER.unpack_from(frame)
    if length != len(frame):
        raise FramingError(
            f"command_length {length} does not match the {len(frame)} octets given",
            command_length=length,
            command_id=command_id,
            sequence_number=seq,
        )
    return _decode_body(bytes(frame), 0, length, command_id, status, seq)


def is_response(command_id: int) -> bool:
    return bool(command_id & RESPONSE_MASK)


class Decoder:
    """Splits a byte stream into PDUs, whatever the chunk sizes.

    ``feed()`` the bytes as they arrive, then call ``next_pdu()`` until it returns None. It raises
    :class:`InvalidPdu` for a frame it had to skip (call it again to go on) and
    :class:`FramingError` once the stream is beyond repair (every later call raises it again).
    Complete frames are decoded straight from the received chunk; only a partial frame at the end
    of a chunk is copied aside.
    """

    __slots__ = ("_acc", "_broken", "_buf", "_max", "_need", "_pos")

    def __init__(self, *, max_command_length: int = DEFAULT_MAX_COMMAND_LENGTH) -> None:
        if max_command_length < HEADER_LENGTH:
            raise ValueError(f"max_command_length must be at least {HEADER_LENGTH}")
        self._max = max_command_length
        self._buf = b""
        self._pos = 0
        self._acc = bytearray()
        self._need = 0
        self._broken: FramingError | None = None

    @property
    def max_command_length(self) -> int:
        return self._max

    @property
    def buffered(self) -> int:
        """Octets received but not yet returned as PDUs."""
        return len(self._buf) - self._pos + len(self._acc)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes; call ``next_pdu()`` until it returns None before feeding more."""
        if type(data) is not bytes:
            data = bytes(data)
        assert isinstance(data, bytes)
        if self._pos < len(self._buf):
            self._stash(self._buf, self._pos)
        if self._acc:
            self._acc += data
            if len(self._acc) < self._need:
                return
            data = bytes(self._acc)
            self._acc.clear()
        self._buf = data
        self._pos = 0

    def next_pdu(self) -> Pdu | None:
        if self._broken is not None:
            raise self._broken
        buf = self._buf
        pos = self._pos
        available = len(buf) - pos
        if available < HEADER_LENGTH:
            if available:
                self._stash(buf, pos)
            return None
        length, command_id, status, seq = _HEADER.unpack_from(buf, pos)
        if length < HEADER_LENGTH or length > self._max:
            self._broken = FramingError(
                f"command_length {length} is outside {HEADER_LENGTH}..{self._max}",
                command_length=length,
                command_id=command_id,
                sequence_number=seq,
            )
            raise self._broken
        if available < length:
            self._stash(buf, pos)
            return None
        end = pos + length
        self._pos = end
        decoder = _DECODERS.get(command_id)
        if decoder is None:
            return _decode_body(buf, pos, end, command_id, status, seq)  # raises InvalidPdu
        try:
            return decoder(buf, pos + HEADER_LENGTH, end, _STATUSES.get(status, status), seq)
        except (_BodyError, IndexError, ValueError, struct.error):
            # decode again on the slow path, which turns the failure into InvalidPdu
            return _decode_body(buf, pos, end, command_id, status, seq)

    def _stash(self, buf: bytes, pos: int) -> None:
        """Keep the unconsumed tail aside until the frame it starts is complete."""
        self._acc += memoryview(buf)[pos:]
        need = HEADER_LENGTH
        if len(self._acc) >= HEADER_LENGTH:
            need = _U32.unpack_from(self._acc)[0]
            if not HEADER_LENGTH <= need <= self._max:
                # let next_pdu() see the header and refuse it, rather than wait for it
                need = HEADER_LENGTH
        self._need = need
        self._buf = b""
        self._pos = 0
