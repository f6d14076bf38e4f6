from __future__ import annotations

import contextlib
import itertools
import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marconi.errors import LocalProtocolError, RemoteProtocolError
from marconi.smpp import (
    PDU_CLASSES,
    BindTransmitter,
    CommandStatus,
    DataSm,
    Decoder,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EsmClass,
    FramingError,
    GenericNack,
    InvalidPdu,
    Pdu,
    QuerySmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlvs,
    UnsuccessSme,
    decode,
    encode,
)

from .strategies import any_pdu, pdu_of

# --- byte-exact vectors, computed by hand from the SMPP 3.4 layouts ------------------------------

VECTORS: list[tuple[Pdu, str]] = [
    (EnquireLink(sequence_number=1), "00000010 00000015 00000000 00000001"),
    (
        GenericNack(sequence_number=7, command_status=CommandStatus.ESME_RINVCMDID),
        "00000010 80000000 00000003 00000007",
    ),
    (
        BindTransmitter(
            sequence_number=1,
            system_id="SMPP3TEST",
            password="secret08",
            system_type="SUBMIT1",
            addr_ton=1,
            addr_npi=1,
        ),
        "0000002f 00000002 00000000 00000001"
        "534d5050335445535400"  # SMPP3TEST
        "7365637265743038 00"  # secret08
        "5355424d495431 00"  # SUBMIT1
        "34 01 01 00",  # interface_version, addr_ton, addr_npi, address_range
    ),
    (
        SubmitSm(
            sequence_number=2,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="1234",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="5678",
            registered_delivery=1,
            short_message=b"Hi",
        ),
        "0000002b 00000004 00000000 00000002"
        "00"  # service_type
        "01 01 3132333400"  # source
        "01 01 3536373800"  # destination
        "00 00 00"  # esm_class, protocol_id, priority_flag
        "00 00"  # schedule_delivery_time, validity_period
        "01 00 00 00"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        "02 4869",  # sm_length, short_message
    ),
    (
        SubmitSmResp(sequence_number=2, message_id="abc"),
        "00000014 80000004 00000000 00000002 61626300",
    ),
    # an error response travels without a body
    (
        SubmitSmResp(sequence_number=3, command_status=CommandStatus.ESME_RTHROTTLED),
        "00000010 80000004 00000058 00000003",
    ),
    (DeliverSmResp(sequence_number=9), "00000011 80000005 00000000 00000009 00"),
    (
        DeliverSm(
            sequence_number=0x0102,
            destination_addr="1",
            esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
            tlvs=Tlvs({Tag.RECEIPTED_MESSAGE_ID: "abc", Tag.MESSAGE_STATE: 2}),
        ),
        "0000002f 00000005 00000000 00000102"
        "00 0000 00 0000 3100 04 00 00 00 00 00 00 00 00 00"
        "001e 0004 61626300"  # receipted_message_id "abc"
        "0427 0001 02",  # message_state DELIVERED
    ),
    (
        SubmitMulti(
            sequence_number=5,
            source_addr="S",
            dest_address=(
                SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="12"),
                DistributionList(dl_name="dl"),
            ),
            short_message=b"x",
        ),
        "0000002b 00000021 00000000 00000005"
        "00 00 00 5300"  # service_type, source ton/npi/addr
        "02"  # number_of_dests
        "01 01 01 313200"  # SME address
        "02 646c00"  # distribution list
        "00 00 00 00 00 00 00 00 00"  # esm .. sm_default_msg_id
        "01 78",
    ),
    (
        SubmitMultiResp(
            sequence_number=5,
            message_id="m",
            unsuccess_sme=(
                UnsuccessSme(
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr="9", error_status_code=0x0B
                ),
            ),
        ),
        "0000001b 80000021 00000000 00000005 6d00 01 01 01 3900 0000000b",
    ),
    (
        QuerySmResp(
            sequence_number=4,
            message_id="q",
            final_date="240101120000000+",
            message_state=2,
            error_code=0,
        ),
        "00000025 80000003 00000000 00000004 71003234303130313132303030303030302b00 02 00",
    ),
]


@pytest.mark.parametrize(("pdu", "wire"), VECTORS, ids=lambda v: type(v).__name__)
def test_vectors_encode_and_decode_exactly(pdu: Pdu, wire: str) -> None:
    expected = bytes.fromhex(wire)
    assert encode(pdu) == expected
    assert decode(expected) == pdu


def test_command_status_decodes_to_the_enum_when_known() -> None:
    pdu = decode(bytes.fromhex("00000010 80000004 00000058 00000003"))
    assert isinstance(pdu, SubmitSmResp)
    assert pdu.command_status is CommandStatus.ESME_RTHROTTLED
    odd = decode(bytes.fromhex("00000010 80000004 00000499 00000003"))
    assert isinstance(odd, SubmitSmResp)
    assert odd.command_status == 0x499


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(PDU_CLASSES.values()), ids=lambda c: c.__name__)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_every_pdu_type(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(pdu_of(cls))
    assert decode(encode(pdu)) == pdu


@given(pdu=any_pdu)
def test_unknown_tlvs_are_kept_byte_for_byte(pdu: Pdu) -> None:
    wire = encode(pdu)
    again = encode(decode(wire))
    assert again == wire


def test_known_tlv_with_an_odd_length_is_kept_raw() -> None:
    # message_state should be one octet; this peer sends two
    frame = encode(DeliverSm(sequence_number=1)) + bytes.fromhex("0427 0002 0002")
    frame = struct.pack(">I", len(frame)) + frame[4:]
    pdu = decode(frame)
    assert isinstance(pdu, DeliverSm)
    assert pdu.tlvs[Tag.MESSAGE_STATE] == b"\x00\x02"
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == 2
    assert encode(pdu) == frame


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("0427 0001 02", 2),  # integer of its size
        ("0427 0000", b""),  # empty where an integer belongs: kept raw, not 0
        ("0424 0000", b""),  # empty octets
        ("001e 0004 61620000", b"ab\x00\x00"),  # a C-string with a NUL inside: raw
        ("001e 0003 616263", b"abc"),  # unterminated C-string: raw
        ("001e 0004 61626300", "abc"),  # terminated C-string: text
        ("1401 0001 05", b"\x05"),  # unknown tag: raw, its number kept
    ],
)
def test_tlv_values_are_typed_by_tag_and_length(wire: str, value: object) -> None:
    frame = encode(DeliverSm(sequence_number=1)) + bytes.fromhex(wire)
    frame = struct.pack(">I", len(frame)) + frame[4:]
    pdu = decode(frame)
    assert isinstance(pdu, DeliverSm)
    ((tag, got),) = pdu.tlvs.items()
    assert tag == int(wire[:4], 16)
    assert got == value
    assert type(got) is type(value)
    assert encode(pdu) == frame


def test_tlv_accessors() -> None:
    tlvs = Tlvs({Tag.RECEIPTED_MESSAGE_ID: "abc", Tag.SAR_MSG_REF_NUM: 7, 0x1401: b"\x01"})
    assert tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "abc"
    assert tlvs.get_int(Tag.SAR_MSG_REF_NUM) == 7
    assert tlvs.get_bytes(Tag.SAR_MSG_REF_NUM) == b"\x00\x07"
    assert tlvs.get_bytes(0x1401) == b"\x01"
    assert tlvs.get(Tag.MESSAGE_PAYLOAD) is None
    assert Tag.SAR_MSG_REF_NUM in tlvs
    assert list(tlvs) == [Tag.RECEIPTED_MESSAGE_ID, Tag.SAR_MSG_REF_NUM, 0x1401]
    changed = tlvs.set(Tag.SAR_MSG_REF_NUM, 8).remove(0x1401)
    assert changed.items() == ((Tag.RECEIPTED_MESSAGE_ID, "abc"), (Tag.SAR_MSG_REF_NUM, 8))
    with pytest.raises(KeyError):
        tlvs[Tag.MESSAGE_STATE]
    with pytest.raises(TypeError):
        tlvs.get_int(Tag.RECEIPTED_MESSAGE_ID)


def test_tlvs_take_pairs_in_any_container_and_check_them() -> None:
    pairs = [(0x0427, 2), (Tag.RECEIPTED_MESSAGE_ID, b"7\x00")]
    expected = ((Tag.MESSAGE_STATE, 2), (Tag.RECEIPTED_MESSAGE_ID, b"7\x00"))
    for given_as in (pairs, tuple(pairs), dict(pairs), iter(pairs)):
        assert Tlvs(given_as).items() == expected
    with pytest.raises(ValueError, match="an integer"):
        Tlvs([(0x10000, 1)])
    with pytest.raises(TypeError, match="int, str or bytes"):
        Tlvs(((Tag.MESSAGE_STATE, 2.0),))


def test_unchecked_tlvs_encode_like_checked_ones() -> None:
    items = ((Tag.RECEIPTED_MESSAGE_ID, b"7\x00"), (Tag.MESSAGE_STATE, b"\x02"))
    fast = DeliverSm(sequence_number=1, tlvs=Tlvs.unchecked(items))
    assert fast.tlvs == Tlvs(items)
    assert encode(fast) == encode(DeliverSm(sequence_number=1, tlvs=Tlvs(items)))
    back = decode(encode(fast))
    assert isinstance(back, DeliverSm)
    assert back.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "7"
    with pytest.raises(LocalProtocolError, match="does not fit"):
        encode(SubmitSm(sequence_number=1, tlvs=Tlvs.unchecked(((Tag.SAR_MSG_REF_NUM, 70000),))))


def test_unterminated_cstring_tlv_reads_as_text() -> None:
    frame = encode(DeliverSm(sequence_number=1)) + bytes.fromhex("001e 0003 616263")
    frame = struct.pack(">I", len(frame)) + frame[4:]
    pdu = decode(frame)
    assert isinstance(pdu, DeliverSm)
    assert pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "abc"


def test_lenient_response_bodies() -> None:
    # no body at all on success, and a message_id missing its NUL
    empty = decode(bytes.fromhex("00000010 80000005 00000000 00000001"))
    assert empty == DeliverSmResp(sequence_number=1)
    unterminated = decode(bytes.fromhex("00000013 80000004 00000000 00000001 616263"))
    assert unterminated == SubmitSmResp(sequence_number=1, message_id="abc")
    # submit_multi_resp without the no_unsuccess octet
    multi = decode(bytes.fromhex("00000012 80000021 00000000 00000001 6d00"))
    assert multi == SubmitMultiResp(sequence_number=1, message_id="m")


def test_oversize_cstrings_are_accepted_on_decode_refused_on_encode() -> None:
    long_source = "A" * 30
    body = b"\x00\x05\x00" + long_source.encode() + b"\x00\x01\x01123\x00" + bytes(10)
    frame = struct.pack(">IIII", 16 + len(body), 4, 0, 1) + body
    pdu = decode(frame)
    assert isinstance(pdu, SubmitSm)
    assert pdu.source_addr == long_source
    with pytest.raises(LocalProtocolError, match="source_addr"):
        encode(pdu)


# --- strict encoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pdu", "field"),
    [
        (SubmitSm(short_message=b"x" * 255), "short_message"),
        (SubmitSm(destination_addr="1" * 21), "destination_addr"),
        (SubmitSm(source_addr="a\x00b"), "source_addr"),
        (SubmitSm(service_type="\u20ac"), "service_type"),
        (SubmitSm(validity_period="000001"), "validity_period"),
        (SubmitSm(esm_class=256), "esm_class"),
        (DeliverSm(data_coding=-1), "data_coding"),
        (BindTransmitter(password="123456789"), "password"),
        (DataSm(source_addr="1" * 65), "source_addr"),
        (SubmitMulti(dest_address=(SmeAddress(),) * 255), "254 destinations"),
        (SubmitSm(tlvs=Tlvs({0x1401: 5})), "integer type"),
        (SubmitSm(tlvs=Tlvs({Tag.SAR_MSG_REF_NUM: 70000})), "does not fit"),
        (SubmitSm(tlvs=Tlvs({Tag.MESSAGE_PAYLOAD: "text"})), "octets"),
        (SubmitSm(sequence_number=2**32), "sequence_number"),
    ],
)
def test_encode_refuses_what_the_spec_forbids(pdu: Pdu, field: str) -> None:
    with pytest.raises(LocalProtocolError, match=field):
        encode(pdu)


def test_encode_refuses_non_pdus() -> None:
    with pytest.raises(LocalProtocolError):
        encode(object())  # type: ignore[arg-type]


def test_message_payload_carries_long_content() -> None:
    payload = bytes(range(256)) * 4
    pdu = SubmitSm(sequence_number=1, tlvs=Tlvs({Tag.MESSAGE_PAYLOAD: payload}))
    again = decode(encode(pdu))
    assert isinstance(again, SubmitSm)
    assert again.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) == payload


# --- body errors and framing errors --------------------------------------------------------------


def test_unknown_command_id_is_a_body_error_with_sequence_number() -> None:
    with pytest.raises(InvalidPdu) as info:
        decode(bytes.fromhex("00000010 00000099 00000000 0000002a"))
    assert info.value.status == CommandStatus.ESME_RINVCMDID
    assert info.value.sequence_number == 42
    assert info.value.command_id == 0x99
    assert isinstance(info.value, RemoteProtocolError)


def test_sm_length_overrun_is_invalid_message_length() -> None:
    good = encode(SubmitSm(sequence_number=3, short_message=b"abc"))
    bad = good[:-4] + b"\x09" + good[-3:]
    with pytest.raises(InvalidPdu) as info:
        decode(bad)
    assert info.value.status == CommandStatus.ESME_RINVMSGLEN
    assert info.value.sequence_number == 3


def test_truncated_body_is_invalid_command_length() -> None:
    frame = bytes.fromhex("00000014 00000004 00000000 00000008 00010100")
    with pytest.raises(InvalidPdu) as info:
        decode(frame)
    assert info.value.status == CommandStatus.ESME_RINVCMDLEN
    assert info.value.sequence_number == 8


def test_bad_dest_flag() -> None:
    good = encode(SubmitMulti(sequence_number=1, dest_address=(DistributionList(dl_name="x"),)))
    bad = good.replace(b"\x01\x02x\x00", b"\x01\x07x\x00")
    with pytest.raises(InvalidPdu) as info:
        decode(bad)
    assert info.value.status == CommandStatus.ESME_RINVDESTFLAG


def test_broken_tlv_stream() -> None:
    frame = encode(EnquireLink(sequence_number=4)) + b"\x14\x01\x00\x09ab"
    frame = struct.pack(">I", len(frame)) + frame[4:]
    with pytest.raises(InvalidPdu) as info:
        decode(frame)
    assert info.value.status == CommandStatus.ESME_RINVOPTPARSTREAM


def test_decode_checks_the_frame_length() -> None:
    with pytest.raises(FramingError):
        decode(b"\x00\x00\x00")
    with pytest.raises(FramingError):
        decode(bytes.fromhex("00000011 00000015 00000000 00000001"))


# --- the streaming decoder -----------------------------------------------------------------------

STREAM = [
    SubmitSm(sequence_number=1, destination_addr="123", short_message=b"hello"),
    SubmitSmResp(sequence_number=1, message_id="id-1"),
    EnquireLink(sequence_number=2),
    DeliverSm(sequence_number=3, short_message=b"x" * 200, tlvs=Tlvs({0x1401: b"\x00" * 300})),
    GenericNack(sequence_number=4, command_status=3),
]
STREAM_BYTES = b"".join(encode(p) for p in STREAM)


def _drain(decoder: Decoder) -> list[Pdu]:
    out = []
    while (pdu := decoder.next_pdu()) is not None:
        out.append(pdu)
    return out


def test_stream_whole() -> None:
    decoder = Decoder()
    decoder.feed(STREAM_BYTES)
    assert _drain(decoder) == STREAM
    assert decoder.buffered == 0


def test_stream_byte_by_byte() -> None:
    decoder = Decoder()
    out: list[Pdu] = []
    for i in range(len(STREAM_BYTES)):
        decoder.feed(STREAM_BYTES[i : i + 1])
        out += _drain(decoder)
    assert out == STREAM


def test_stream_byte_by_byte_without_draining() -> None:
    decoder = Decoder()
    for i in range(len(STREAM_BYTES)):
        decoder.feed(STREAM_BYTES[i : i + 1])
    assert _drain(decoder) == STREAM


@given(cuts=st.lists(st.integers(1, len(STREAM_BYTES)), max_size=20), data=st.data())
def test_stream_random_chunks(cuts: list[int], data: st.DataObject) -> None:
    bounds = sorted({0, len(STREAM_BYTES), *cuts})
    decoder = Decoder()
    out: list[Pdu] = []
    drain_each = data.draw(st.booleans())
    for start, end in itertools.pairwise(bounds):
        decoder.feed(bytearray(STREAM_BYTES[start:end]))
        if drain_each:
            out += _drain(decoder)
    out += _drain(decoder)
    assert out == STREAM


def test_stream_with_trailing_partial_frame() -> None:
    decoder = Decoder()
    trailing = encode(EnquireLink(sequence_number=9))
    decoder.feed(STREAM_BYTES + trailing[:5])
    assert _drain(decoder) == STREAM
    assert decoder.buffered == 5
    decoder.feed(trailing[5:])
    assert _drain(decoder) == [EnquireLink(sequence_number=9)]


def test_stream_goes_on_after_a_body_error() -> None:
    unknown = bytes.fromhex("00000014 00000099 00000000 00000005 deadbeef")
    decoder = Decoder()
    decoder.feed(unknown + encode(EnquireLink(sequence_number=6)))
    with pytest.raises(InvalidPdu) as info:
        decoder.next_pdu()
    assert info.value.sequence_number == 5
    assert decoder.next_pdu() == EnquireLink(sequence_number=6)


@pytest.mark.parametrize("length", [0, 15, 1025])
def test_stream_refuses_bad_command_length_for_good(length: int) -> None:
    decoder = Decoder(max_command_length=1024)
    decoder.feed(struct.pack(">IIII", length, 4, 0, 77) + bytes(64))
    with pytest.raises(FramingError) as info:
        decoder.next_pdu()
    assert info.value.command_length == length
    assert info.value.sequence_number == 77
    assert info.value.status == CommandStatus.ESME_RINVCMDLEN
    decoder.feed(encode(EnquireLink(sequence_number=1)))
    with pytest.raises(FramingError):
        decoder.next_pdu()


def test_a_huge_command_length_is_refused_without_buffering_it() -> None:
    decoder = Decoder(max_command_length=1024)
    header = struct.pack(">IIII", 0xFFFFFFF0, 4, 0, 1)
    for i in range(0, 16, 3):
        decoder.feed(header[i : i + 3])
    for _ in range(100):
        decoder.feed(bytes(100))
    with pytest.raises(FramingError):
        decoder.next_pdu()


def test_max_command_length_must_hold_a_header() -> None:
    with pytest.raises(ValueError, match="at least"):
        Decoder(max_command_length=8)


# --- fuzz: nothing but our own errors ------------------------------------------------------------


def _feed_all(data: bytes, chunk: int) -> None:
    decoder = Decoder(max_command_length=4096)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
        while True:
            try:
                if decoder.next_pdu() is None:
                    break
            except InvalidPdu:
                continue
            except FramingError:
                return


@given(data=st.binary(max_size=600), chunk=st.integers(1, 64))
def test_random_bytes_raise_only_our_errors(data: bytes, chunk: int) -> None:
    _feed_all(data, chunk)


@given(pdu=any_pdu, seed=st.integers(0, 2**32), flips=st.integers(1, 8))
def test_mutated_frames_raise_only_our_errors(pdu: Pdu, seed: int, flips: int) -> None:
    wire = bytearray(encode(pdu))
    rng = random.Random(seed)
    for _ in range(flips):
        index = rng.randrange(len(wire))
        wire[index] = rng.randrange(256)
    # keep the length sane half of the time so that body decoders get exercised
    if seed % 2:
        wire[:4] = struct.pack(">I", len(wire))
    _feed_all(bytes(wire), 1 + seed % 40)
    with contextlib.suppress(InvalidPdu, FramingError):
        decode(bytes(wire))


@given(pdu=any_pdu, cut=st.integers(0, 400))
def test_truncated_bodies_raise_only_our_errors(pdu: Pdu, cut: int) -> None:
    wire = encode(pdu)
    body = wire[16 : 16 + cut]
    frame = struct.pack(">I", 16 + len(body)) + wire[4:16] + body
    try:
        decode(frame)
    except InvalidPdu as exc:
        error: InvalidPdu | None = exc
    else:
        error = None
    if error is not None:
        assert error.sequence_number == pdu.sequence_number
