from __future__ import annotations

from marconi.simulator.stream import FaultStream
from marconi.smpp import EnquireLinkResp, Pdu, SubmitSmResp, Unbind, encode
from marconi.transport.memory import memory_stream_pair


def frames(*pdus: tuple[Pdu, int]) -> bytes:
    return b"".join(encode(pdu, seq) for pdu, seq in pdus)


async def test_passes_everything_through_by_default() -> None:
    ours, theirs = memory_stream_pair()
    stream = FaultStream(ours)
    data = frames((SubmitSmResp(message_id="1"), 5))
    stream.write(data)
    stream.flush()
    assert await theirs.read() == data
    assert not stream.closed


async def test_silent_swallows_every_byte() -> None:
    ours, theirs = memory_stream_pair()
    stream = FaultStream(ours)
    stream.silent = True
    stream.write(frames((EnquireLinkResp(), 1)))
    stream.silent = False
    after = frames((SubmitSmResp(message_id="2"), 2))
    stream.write(after)
    stream.flush()
    assert await theirs.read() == after


async def test_suppress_drops_one_response_once_and_keeps_requests() -> None:
    ours, theirs = memory_stream_pair()
    stream = FaultStream(ours)
    stream.suppress(7)
    batch = frames(
        (SubmitSmResp(message_id="a"), 6),
        (SubmitSmResp(message_id="b"), 7),
        (Unbind(), 7),  # a request with the same number is not a response: kept
        (SubmitSmResp(message_id="c"), 8),
    )
    stream.write(batch)
    stream.write(frames((SubmitSmResp(message_id="b2"), 7)))  # only the first was suppressed
    stream.flush()
    got = await theirs.read()
    expected = frames(
        (SubmitSmResp(message_id="a"), 6),
        (Unbind(), 7),
        (SubmitSmResp(message_id="c"), 8),
        (SubmitSmResp(message_id="b2"), 7),
    )
    assert got == expected


async def test_abort_closes_the_inner_stream() -> None:
    ours, theirs = memory_stream_pair()
    stream = FaultStream(ours)
    stream.abort()
    assert stream.closed
    assert await theirs.read() == b""


async def test_mute_responses_keeps_requests_only() -> None:
    ours, theirs = memory_stream_pair()
    stream = FaultStream(ours)
    stream.mute_responses()
    stream.write(frames((SubmitSmResp(message_id="a"), 6), (Unbind(), 9)))
    stream.write(frames((EnquireLinkResp(), 10)))
    stream.flush()
    assert await theirs.read() == frames((Unbind(), 9))
