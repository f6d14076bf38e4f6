"""Each fault mode, seen from a raw socket peer (and from our client where it matters)."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.integration.simulator.conftest import Inbox, RawPeer, client, config, eventually

from marconi.errors import CommandStatusError, ConnectError
from marconi.simulator import DeliveryRules, Faults, FixedLatency, Simulator
from marconi.smpp import (
    BindTransceiver,
    CommandStatus,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    response_to,
)


def sm(reg: int = 0) -> SubmitSm:
    return SubmitSm(
        source_addr="ACME",
        destination_addr="447700900123",
        short_message=b"x",
        registered_delivery=reg,
    )


async def test_black_hole_answers_nothing_not_even_binds_or_enquire_link() -> None:
    async with Simulator(config(faults=Faults(black_hole=True))) as sim:
        peer = await RawPeer.connect(sim.port)
        peer.send(BindTransceiver(system_id="raw", password="pw"), 1)
        peer.send(EnquireLink(), 2)
        with pytest.raises(TimeoutError):
            await peer.read(within=0.3)
        peer.close()


async def test_black_hole_switched_on_and_off_on_a_live_session(smsc: Simulator) -> None:
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    smsc.faults = Faults(black_hole=True)
    peer.send(sm(), 2)
    peer.send(EnquireLink(), 3)
    with pytest.raises(TimeoutError):
        await peer.read(within=0.3)
    smsc.faults = Faults()
    resp = await peer.request(sm(), 4)
    assert isinstance(resp, SubmitSmResp)
    assert resp.command_status == 0
    assert isinstance(await peer.request(EnquireLink(), 5), EnquireLinkResp)
    peer.close()


async def test_throttle_every_nth_submit(smsc: Simulator) -> None:
    smsc.faults = Faults(throttle_every=3)
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    statuses = [(await peer.request(sm(), seq)).command_status for seq in range(2, 9)]
    assert statuses == [0, 0, CommandStatus.ESME_RTHROTTLED, 0, 0, CommandStatus.ESME_RTHROTTLED, 0]
    assert smsc.counters.faults == 2
    peer.close()


async def test_throttle_rate_refuses_above_the_rate(smsc: Simulator) -> None:
    smsc.faults = Faults(throttle_rate=5)
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    for seq in range(2, 22):
        peer.send(sm(), seq)
    statuses: list[int] = []
    while len(statuses) < 20:
        pdu = await peer.read()
        assert isinstance(pdu, SubmitSmResp)
        statuses.append(pdu.command_status)
    accepted = statuses.count(0)
    assert 5 <= accepted <= 7  # one second of burst, plus what trickled in meanwhile
    assert statuses.count(CommandStatus.ESME_RTHROTTLED) == 20 - accepted
    peer.close()


async def test_our_client_backs_off_and_retries_when_throttled(smsc: Simulator) -> None:
    smsc.faults = Faults(throttle_every=2)
    async with client(smsc, throttle_retries=3) as esme:
        responses = [await esme.submit(sm()) for _ in range(3)]
    assert all(r.message_id for r in responses)
    assert smsc.counters.faults >= 1


async def test_generic_nack_every_nth(smsc: Simulator) -> None:
    smsc.faults = Faults(generic_nack_every=2)
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    first = await peer.request(sm(), 10)
    second = await peer.request(sm(), 11)
    third = await peer.request(sm(), 12)
    assert isinstance(first, SubmitSmResp)
    assert isinstance(second, GenericNack)
    assert second.sequence_number == 11
    assert second.command_status == CommandStatus.ESME_RSYSERR
    assert isinstance(third, SubmitSmResp)
    peer.close()


async def test_unbind_mid_window(smsc: Simulator) -> None:
    smsc.faults = Faults(unbind_after=3)
    peer = await RawPeer.connect(smsc.port)
    peer.auto_answer = False
    await peer.bind()
    for seq in range(2, 7):  # a window of five submits
        peer.send(sm(), seq)
    answered: dict[int, int] = {}
    unbind = None
    while unbind is None:
        pdu = await peer.read()
        assert pdu is not None
        if isinstance(pdu, Unbind):
            unbind = pdu
        elif isinstance(pdu, SubmitSmResp):
            answered[pdu.sequence_number] = pdu.command_status
    # the first two are answered, the rest are not: the simulator unbinds instead
    assert answered == {2: 0, 3: 0}
    peer.send(response_to(unbind), unbind.sequence_number)
    assert await peer.closed()
    assert smsc.counters.faults == 1


async def test_unbind_mid_window_seen_by_our_client(smsc: Simulator) -> None:
    smsc.faults = Faults(unbind_after=2)
    esme = client(smsc)
    await esme.connect()
    results = await asyncio.gather(*(esme.submit(sm()) for _ in range(4)), return_exceptions=True)
    await eventually(lambda: not esme.bound)
    await esme.aclose()
    assert isinstance(results[0], SubmitSmResp)
    assert all(isinstance(r, Exception) for r in results[1:])


async def test_drop_after_n_submits(smsc: Simulator) -> None:
    smsc.faults = Faults(drop_after=2)
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    assert (await peer.request(sm(), 2)).command_status == 0
    peer.send(sm(), 3)
    assert await peer.closed()
    # a new connection gets its own count
    again = await RawPeer.connect(smsc.port)
    await again.bind()
    assert (await again.request(sm(), 2)).command_status == 0
    again.close()


async def test_drop_at_a_random_point() -> None:
    async with Simulator(config(faults=Faults(drop_probability=1.0))) as sim:
        peer = await RawPeer.connect(sim.port)
        await peer.bind()
        peer.send(sm(), 2)
        assert await peer.closed()


async def test_reject_binds() -> None:
    async with Simulator(config(faults=Faults(reject_binds=CommandStatus.ESME_RBINDFAIL))) as sim:
        peer = await RawPeer.connect(sim.port)
        resp = await peer.request(BindTransceiver(system_id="raw", password="pw"), 1)
        assert resp.command_status == CommandStatus.ESME_RBINDFAIL
        peer.close()
        with pytest.raises(ConnectError):
            async with client(sim):
                pass
        sim.faults = Faults()
        async with client(sim) as esme:
            assert esme.bound


async def test_slow_receipts_wait_longer() -> None:
    cfg = config(rules=DeliveryRules(latency=FixedLatency(0.0)), faults=Faults(slow_receipts=0.4))
    async with Simulator(cfg) as sim:
        inbox = Inbox()
        async with client(sim, inbox) as esme:
            started = time.monotonic()
            await esme.submit(sm(reg=1))
            await inbox.wait_for(1)
            assert time.monotonic() - started >= 0.38
            sim.faults = Faults()
            started = time.monotonic()
            await esme.submit(sm(reg=1))
            await inbox.wait_for(2)
            assert time.monotonic() - started < 0.3


async def test_receipt_in_flight_on_a_dropped_connection_is_sent_again() -> None:
    async with Simulator(config(rules=DeliveryRules(latency=FixedLatency(0.0)))) as sim:
        peer = await RawPeer.connect(sim.port)
        peer.auto_answer = False  # hold the receipt unanswered, then vanish
        await peer.bind(system_id="acme")
        await peer.request(sm(reg=1), 2)
        receipt = await peer.read()
        assert receipt is not None
        peer.writer.transport.abort()
        await eventually(lambda: sim.pending_receipts == 1)
        inbox = Inbox()
        async with client(sim, inbox):
            [again] = await inbox.wait_for(1)
        assert again.short_message == receipt.short_message  # type: ignore[attr-defined]


async def test_faults_do_not_touch_other_pdus(smsc: Simulator) -> None:
    smsc.faults = Faults(throttle_every=1)
    peer = await RawPeer.connect(smsc.port)
    await peer.bind()
    assert isinstance(await peer.request(EnquireLink(), 2), EnquireLinkResp)
    resp = await peer.request(sm(), 3)
    assert resp.command_status == CommandStatus.ESME_RTHROTTLED
    unbind_resp = await peer.request(Unbind(), 4)
    assert isinstance(unbind_resp, UnbindResp)
    peer.close()


async def test_throttled_submits_raise_for_our_client_without_retries(smsc: Simulator) -> None:
    smsc.faults = Faults(throttle_every=1)
    async with client(smsc, throttle_retries=0) as esme:
        with pytest.raises(CommandStatusError) as caught:
            await esme.submit(sm())
    assert caught.value.status == CommandStatus.ESME_RTHROTTLED
