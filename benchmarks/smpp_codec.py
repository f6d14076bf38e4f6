"""Per-operation cost of the sans-IO SMPP core, in microseconds (timeit, best of 5 runs).

Run: ``python benchmarks/smpp_codec.py``. The client side of a submit is
``SubmitSm(...)`` + ``encode`` + ``decode(SubmitSmResp)``; the server side is the mirror image.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable

from marconi.smpp import (
    BindTransceiver,
    BindTransceiverResp,
    Decoder,
    DeliverSm,
    DeliverSmResp,
    EsmClass,
    Role,
    SmppConnection,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlvs,
    decode,
    encode,
)

SUBMIT = SubmitSm(
    sequence_number=123456,
    source_addr_ton=5,
    source_addr_npi=0,
    source_addr="Marconi",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="447700900123",
    registered_delivery=1,
    short_message=b"Your verification code is 123456. It expires in 10 minutes.",
)
SUBMIT_RESP = SubmitSmResp(sequence_number=123456, message_id="9f8e7d6c5b4a39281706")
RECEIPT = DeliverSm(
    sequence_number=77,
    source_addr_ton=1,
    source_addr_npi=1,
    source_addr="447700900123",
    destination_addr="Marconi",
    esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
    short_message=(
        b"id:9f8e7d6c5b4a39281706 sub:001 dlvrd:001 submit date:2401011200 "
        b"done date:2401011201 stat:DELIVRD err:000 text:Your verification"
    ),
    tlvs=Tlvs({Tag.RECEIPTED_MESSAGE_ID: "9f8e7d6c5b4a39281706", Tag.MESSAGE_STATE: 2}),
)
DELIVER_RESP = DeliverSmResp(sequence_number=77)


def _measure(label: str, func: Callable[[], object], number: int = 100_000) -> float:
    per_op = min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6
    print(f"{label:<48} {per_op:7.2f} µs")
    return per_op


def _stream_decode(frames: bytes, count: int) -> Callable[[], object]:
    def run() -> object:
        decoder = Decoder()
        decoder.feed(frames)
        pdu = None
        for _ in range(count):
            pdu = decoder.next_pdu()
        return pdu

    return run


def _bound_pair() -> tuple[SmppConnection, SmppConnection]:
    esme = SmppConnection(role=Role.ESME, window=64)
    smsc = SmppConnection(role=Role.SMSC, window=64)
    smsc.receive_data(esme.send(BindTransceiver(sequence_number=1, system_id="bench")))
    esme.receive_data(smsc.send(BindTransceiverResp(sequence_number=1)))
    esme.events()
    smsc.events()
    return esme, smsc


def _client_round(batch: int) -> Callable[[], object]:
    """ESME: send a window of submits, then take their responses from one chunk."""
    esme, _ = _bound_pair()

    def run() -> object:
        seqs = [esme.next_sequence_number() for _ in range(batch)]
        for seq in seqs:
            esme.send(SUBMIT, sequence_number=seq)
        esme.receive_data(
            b"".join(encode(SubmitSmResp(sequence_number=s, message_id="9f8e7d6c")) for s in seqs)
        )
        return esme.events()

    return run


def _client_round_overhead(batch: int) -> Callable[[], object]:
    """The part of ``_client_round`` that only builds the simulated responses."""
    esme, _ = _bound_pair()

    def run() -> object:
        seqs = [esme.next_sequence_number() for _ in range(batch)]
        return b"".join(
            encode(SubmitSmResp(sequence_number=s, message_id="9f8e7d6c")) for s in seqs
        )

    return run


def _server_round(batch: int) -> Callable[[], object]:
    """SMSC: take a window of submits from one chunk and answer each."""
    _, smsc = _bound_pair()
    counter = iter(range(2, 2**31))

    def run() -> object:
        chunk = b"".join(encode(SUBMIT, next(counter)) for _ in range(batch))
        smsc.receive_data(chunk)
        out = []
        for event in smsc.events():
            out.append(
                smsc.send(SubmitSmResp(sequence_number=event.sequence_number, message_id="m1"))  # type: ignore[union-attr]
            )
        return out

    return run


def _server_round_overhead(batch: int) -> Callable[[], object]:
    counter = iter(range(2, 2**31))

    def run() -> object:
        return b"".join(encode(SUBMIT, next(counter)) for _ in range(batch))

    return run


def main() -> int:
    submit_bytes = encode(SUBMIT)
    submit_resp_bytes = encode(SUBMIT_RESP)
    receipt_bytes = encode(RECEIPT)
    deliver_resp_bytes = encode(DELIVER_RESP)
    print(f"Python {sys.version.split()[0]}")
    _measure(
        "build SubmitSm (8 keywords)",
        lambda: SubmitSm(
            sequence_number=1,
            source_addr_ton=5,
            source_addr="Marconi",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900123",
            registered_delivery=1,
            short_message=b"hello",
        ),
    )
    _measure("encode(SubmitSm)", lambda: encode(SUBMIT))
    _measure("decode(SubmitSm)", lambda: decode(submit_bytes))
    _measure("encode(SubmitSmResp)", lambda: encode(SUBMIT_RESP))
    _measure("decode(SubmitSmResp)", lambda: decode(submit_resp_bytes))
    _measure("encode(DeliverSm receipt, 2 TLVs)", lambda: encode(RECEIPT))
    _measure("decode(DeliverSm receipt, 2 TLVs)", lambda: decode(receipt_bytes))
    _measure("encode(DeliverSmResp)", lambda: encode(DELIVER_RESP))
    _measure("decode(DeliverSmResp)", lambda: decode(deliver_resp_bytes))
    batch = 64
    per_batch = _measure(
        f"Decoder: {batch} SubmitSmResp from one chunk (per batch)",
        _stream_decode(submit_resp_bytes * batch, batch),
        number=5_000,
    )
    print(f"{'  … per PDU':<48} {per_batch / batch:7.2f} µs")
    per_batch = _measure(
        f"Decoder: {batch} SubmitSm from one chunk (per batch)",
        _stream_decode(submit_bytes * batch, batch),
        number=5_000,
    )
    print(f"{'  … per PDU':<48} {per_batch / batch:7.2f} µs")
    total = _measure(f"ESME: {batch} x send(SubmitSm) + their resps", _client_round(batch), 2_000)
    overhead = _measure("  (building the resps, subtracted)", _client_round_overhead(batch), 2_000)
    print(f"{'  … per submit, client side':<48} {(total - overhead) / batch:7.2f} µs")
    total = _measure(f"SMSC: {batch} submits in + send(SubmitSmResp)", _server_round(batch), 2_000)
    overhead = _measure(
        "  (building the submits, subtracted)", _server_round_overhead(batch), 2_000
    )
    print(f"{'  … per submit, server side':<48} {(total - overhead) / batch:7.2f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
