"""Properties of the whole text pipeline: encode → parts → reassemble."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from marconi.text.cost import analyze
from marconi.text.gsm7 import ESC, GSM7_CHARACTERS
from marconi.text.national import NationalLanguage, national_charset
from marconi.text.packing import fill_bits, unpack_septets
from marconi.text.reassembly import Reassembler, ReceivedPart
from marconi.text.segment import Concatenation, EncodedMessage, Unit, encode_message
from marconi.text.udh import UserDataHeader

GSM = sorted(GSM7_CHARACTERS)
TURKISH = sorted(national_charset(NationalLanguage.TURKISH, NationalLanguage.TURKISH).characters)
HINDI = sorted(national_charset(NationalLanguage.HINDI, NationalLanguage.HINDI).characters)

texts = st.one_of(
    st.text(alphabet=st.sampled_from(GSM), max_size=700),
    st.text(alphabet=st.sampled_from("a€{}[]~^|\\"), max_size=700),
    st.text(alphabet=st.sampled_from(TURKISH), max_size=700),
    st.text(alphabet=st.sampled_from(HINDI), max_size=700),
    st.lists(st.sampled_from(["a", "😀", "é", "ж", "👍🏽"]), max_size=200).map("".join),
    st.text(max_size=300),
)
methods = st.sampled_from(list(Concatenation))


def payload_of(message: EncodedMessage, index: int) -> tuple[bytes, int]:
    """The payload units of a part (septets unpacked) and the room its part had."""
    part = message.parts[index]
    data = part.short_message
    header_octets = 0
    if part.udhi:
        _, body = UserDataHeader.parse(data)
        header_octets = len(data) - len(body)
        data = body
    if message.packed:
        data = unpack_septets(data, fill_bits=fill_bits(header_octets), cr_padding=True)
    return data, header_octets


def received(message: EncodedMessage, order: list[int]) -> list[ReceivedPart]:
    return [
        ReceivedPart(
            "src",
            "dst",
            message.parts[index].short_message,
            message.parts[index].data_coding,
            message.parts[index].esm_class_bits,
            message.parts[index].sar,
        )
        for index in order
    ]


@settings(max_examples=150, deadline=None)
@given(texts, methods, st.booleans(), st.randoms(use_true_random=False))
def test_parts_fit_never_split_pairs_and_reassemble(
    text: str, method: Concatenation, packed: bool, rng: object
) -> None:
    message = encode_message(text, concatenation=method, reference=7, packed=packed)
    analysis = analyze(text, concatenation=method)
    assert analysis.encoding == message.encoding
    assert analysis.segments == message.segments

    unit = Unit.UTF16 if message.encoding == "ucs2" else Unit.SEPTET
    for index, part in enumerate(message.parts):
        payload, header_octets = payload_of(message, index)
        room = header_octets
        if method is Concatenation.SAR and message.segments > 1:
            # SAR parts keep the room of an 8-bit concatenation element.
            room = header_octets + 5 if header_octets else 6
        if unit is Unit.SEPTET:
            assert len(payload) <= (140 * 8 - room * 8 - fill_bits(room)) // 7
            assert not payload.endswith(bytes((ESC,)))
            if packed:
                assert len(part.short_message) <= 140
        else:
            assert len(payload) <= 140 - room
            if len(payload) >= 2:
                last = int.from_bytes(payload[-2:], "big")
                assert not 0xD800 <= last <= 0xDBFF
        assert part.units * (2 if unit is Unit.UTF16 else 1) == len(payload)
    assert "".join(part.text or "" for part in message.parts) == message.text

    order = list(range(len(message.parts)))
    rng.shuffle(order)  # type: ignore[attr-defined]
    order += order[: len(order) // 2]
    reassembler = Reassembler(packed=packed)
    done = [m for m in (reassembler.add(p, now=0) for p in received(message, order)) if m]
    assert len(done) == 1
    assert done[0].text == text
    assert reassembler.pending == 0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(GSM), max_size=600))
def test_gsm_text_fills_parts_greedily(text: str) -> None:
    message = encode_message(text, reference=1)
    assert message.encoding == "gsm7"
    for part in message.parts[:-1]:
        # Full, or one short because the next septet pair could not be split.
        assert part.units in (153, 152)
