from __future__ import annotations

import asyncio
import time

import pytest
from tests.unit.transport.conftest import Rig, eventually, submit_pdu

from marconi.errors import CommandStatusError, ConnectError, ResponseTimeout, TransportError
from marconi.smpp import (
    CommandStatus,
    DeliverSm,
    EsmClass,
    QuerySm,
    SubmitSmResp,
)
from marconi.transport.backoff import Backoff
from marconi.transport.client import BindType, SmppClient
from marconi.transport.memory import MemoryConnector


@pytest.mark.parametrize("bind_type", list(BindType))
async def test_binds_each_type_and_the_server_registers_it(rig: Rig, bind_type: BindType) -> None:
    client = rig.client(bind_type=bind_type, system_type="test")
    await client.connect()
    assert client.bound
    assert client.peer_system_id == "marconi"
    [session] = rig.server.bound_sessions("acme")
    assert session.bind_type is bind_type
    assert session.system_type == "test"
    assert (rig.server.receiver_for("acme") is session) == (bind_type is not BindType.TRANSMITTER)


async def test_submit_returns_the_response(rig: Rig) -> None:
    async with rig.client() as client:
        resp = await client.submit(submit_pdu(1))
        assert isinstance(resp, SubmitSmResp)
        assert resp.message_id == "M1"
        assert rig.smsc.submits[0].destination_addr == "491500000001"
        assert rig.smsc.submits[0].sequence_number == resp.sequence_number


async def test_nonzero_status_raises_with_the_status(rig: Rig) -> None:
    rig.smsc.statuses = [CommandStatus.ESME_RINVDSTADR]
    async with rig.client() as client:
        with pytest.raises(CommandStatusError) as caught:
            await client.submit(submit_pdu())
        assert caught.value.status == CommandStatus.ESME_RINVDSTADR
        assert (await client.submit(submit_pdu())).message_id == "M1"


async def test_unsupported_operation_is_refused_by_the_default_handler(rig: Rig) -> None:
    async with rig.client() as client:
        with pytest.raises(CommandStatusError) as caught:
            await client.query_sm(QuerySm(message_id="M1"))
        assert caught.value.status == CommandStatus.ESME_RINVCMDID


async def test_wrong_password_is_a_connect_error(rig: Rig) -> None:
    client = rig.client(password="wrong", reconnect=False)
    with pytest.raises(ConnectError, match="ESME_RINVPASWD"):
        await client.connect()
    assert not client.bound
    with pytest.raises(TransportError, match="not bound"):
        await client.submit(submit_pdu())


async def test_full_window_makes_callers_wait_not_fail(rig: Rig) -> None:
    rig.smsc.gate = asyncio.Event()
    async with rig.client(window=4) as client:
        tasks = [asyncio.create_task(client.submit(submit_pdu(i))) for i in range(10)]
        await eventually(lambda: len(rig.smsc.submits) == 1)
        await asyncio.sleep(0.02)
        assert client.outstanding == 4
        assert not any(task.done() for task in tasks)
        rig.smsc.gate.set()
        results = await asyncio.gather(*tasks)
        assert [r.message_id for r in results] == [f"M{i}" for i in range(1, 11)]
        assert len(rig.smsc.submits) == 10


async def test_submit_many_pipelines_and_reports_per_message(rig: Rig) -> None:
    rig.smsc.statuses = [0, CommandStatus.ESME_RINVDSTADR]
    async with rig.client(window=8) as client:
        results = await client.submit_many([submit_pdu(i) for i in range(50)])
    assert len(results) == 50
    assert isinstance(results[1], CommandStatusError)
    assert results[1].status == CommandStatus.ESME_RINVDSTADR
    ok = [r for r in results if isinstance(r, SubmitSmResp)]
    assert len(ok) == 49
    assert len({r.message_id for r in ok}) == 49


async def test_throughput_spaces_submits_evenly(rig: Rig) -> None:
    async with rig.client(throughput=100) as client:
        start = time.monotonic()
        await client.submit_many([submit_pdu(i) for i in range(21)])
        elapsed = time.monotonic() - start
    # 21 messages at 100/s: 20 gaps of 10 ms, no burst at the start
    assert 0.18 <= elapsed < 0.6


async def test_throttled_answers_are_retried_after_a_pause(rig: Rig) -> None:
    rig.smsc.statuses = [CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL]
    pause = Backoff(initial=0.05, maximum=0.05, jitter=0.0)
    async with rig.client(throttle_backoff=pause, throughput=1000) as client:
        start = time.monotonic()
        resp = await client.submit(submit_pdu())
        elapsed = time.monotonic() - start
        assert resp.message_id == "M1"
        assert len(rig.smsc.submits) == 3
        assert elapsed >= 0.1  # two pauses
        assert client.throttle.rate is not None
        assert client.throttle.rate < 1000  # slowed down, recovering


async def test_throttling_that_persists_is_raised(rig: Rig) -> None:
    rig.smsc.statuses = [CommandStatus.ESME_RTHROTTLED] * 3
    pause = Backoff(initial=0.001, maximum=0.001, jitter=0.0)
    async with rig.client(throttle_backoff=pause, throttle_retries=2) as client:
        with pytest.raises(CommandStatusError) as caught:
            await client.submit(submit_pdu())
        assert caught.value.status == CommandStatus.ESME_RTHROTTLED
        assert len(rig.smsc.submits) == 3


async def test_no_response_is_a_response_timeout(rig: Rig) -> None:
    rig.smsc.gate = asyncio.Event()
    async with rig.client(response_timeout=0.05) as client:
        with pytest.raises(ResponseTimeout):
            await client.submit(submit_pdu())
        assert client.outstanding == 0
        rig.smsc.gate.set()


async def test_drop_mid_window_fails_in_flight_then_reconnects_and_rebinds(rig: Rig) -> None:
    rig.smsc.gate = asyncio.Event()
    states: list[str] = []
    client = rig.client(
        window=5,
        on_bound=lambda c: states.append("up"),
        on_unbound=lambda c: states.append("down"),
    )
    await client.connect()
    tasks = [asyncio.create_task(client.submit(submit_pdu(i))) for i in range(8)]
    await eventually(lambda: client.outstanding == 5)
    rig.server.bound_sessions("acme")[0].close("cable cut")
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, TransportError) for r in results)
    rig.smsc.gate.set()
    await asyncio.wait_for(client.wait_bound(), 2)
    assert states == ["up", "down", "up"]
    assert rig.network.attempts == 2
    assert (await client.submit(submit_pdu())).message_id.startswith("M")


async def test_start_retries_until_the_smsc_accepts(rig: Rig) -> None:
    rig.network.refuse = 3
    client = rig.client()
    client.start()
    await asyncio.wait_for(client.wait_bound(), 2)
    assert rig.network.attempts == 4
    assert client.connects == 4


async def test_without_reconnect_a_drop_is_final(rig: Rig) -> None:
    client = rig.client(reconnect=False)
    await client.connect()
    rig.server.bound_sessions("acme")[0].close()
    await eventually(lambda: not client.bound)
    await asyncio.sleep(0.05)
    assert rig.network.attempts == 1
    with pytest.raises(TransportError):
        await client.submit(submit_pdu())


async def test_receipts_reach_the_hook_and_its_status_is_answered(rig: Rig) -> None:
    received: list[DeliverSm] = []

    async def on_deliver_sm(pdu: DeliverSm) -> int:
        received.append(pdu)
        return CommandStatus.ESME_ROK if len(received) == 1 else CommandStatus.ESME_RX_T_APPN

    async with rig.client(on_deliver_sm=on_deliver_sm) as client:
        session = rig.server.receiver_for(client.system_id)
        assert session is not None
        receipt = DeliverSm(
            source_addr="491500000001",
            destination_addr="Marconi",
            esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
            short_message=b"id:M1 sub:001 dlvrd:001 submit date:2401011200 "
            b"done date:2401011201 stat:DELIVRD err:000 text:hello",
        )
        resp = await session.deliver(receipt)
        assert resp.command_status == CommandStatus.ESME_ROK
        with pytest.raises(CommandStatusError) as caught:
            await session.deliver(receipt)
        assert caught.value.status == CommandStatus.ESME_RX_T_APPN
    assert [r.short_message for r in received] == [receipt.short_message] * 2


async def test_a_failing_hook_answers_a_temporary_error(rig: Rig) -> None:
    async def on_deliver_sm(pdu: DeliverSm) -> int:
        raise RuntimeError("database down")

    async with rig.client(on_deliver_sm=on_deliver_sm) as client:
        session = rig.server.receiver_for(client.system_id)
        assert session is not None
        with pytest.raises(CommandStatusError) as caught:
            await session.deliver(DeliverSm(source_addr="1", destination_addr="2"))
        assert caught.value.status == CommandStatus.ESME_RX_T_APPN


async def test_without_hook_receipts_are_acknowledged(rig: Rig) -> None:
    async with rig.client() as client:
        session = rig.server.receiver_for(client.system_id)
        assert session is not None
        resp = await session.deliver(DeliverSm(source_addr="1", destination_addr="2"))
        assert resp.command_status == CommandStatus.ESME_ROK


async def test_aclose_waits_for_answers_then_unbinds(rig: Rig) -> None:
    rig.smsc.gate = asyncio.Event()
    client = rig.client()
    await client.connect()
    pending = asyncio.create_task(client.submit(submit_pdu()))
    await eventually(lambda: client.outstanding == 1)
    asyncio.get_running_loop().call_later(0.02, rig.smsc.gate.set)
    await client.aclose()
    assert (await pending).message_id == "M1"
    assert len(rig.smsc.unbinds) == 1
    await eventually(lambda: len(rig.smsc.closed) == 1)
    assert not client.bound
    with pytest.raises(TransportError, match="closed"):
        await client.submit(submit_pdu())
    await client.aclose()  # twice is fine


async def test_server_unbind_is_seen_as_a_drop(rig: Rig) -> None:
    states: list[str] = []
    client = rig.client(reconnect=False, on_unbound=lambda c: states.append("down"))
    await client.connect()
    await rig.server.bound_sessions("acme")[0].unbind()
    await eventually(lambda: states == ["down"])
    assert not client.bound


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="window"):
        SmppClient(host="h", port=1, system_id="s", password="p", window=0)
    with pytest.raises(ValueError, match="throttle_retries"):
        SmppClient(host="h", port=1, system_id="s", password="p", throttle_retries=-1)
    with pytest.raises(ValueError, match="response_timeout"):
        SmppClient(host="h", port=1, system_id="s", password="p", response_timeout=0)


async def test_a_plain_function_hook_is_answered_at_once(rig: Rig) -> None:
    seen: list[bytes] = []

    def on_deliver_sm(pdu: DeliverSm) -> int:
        seen.append(pdu.short_message)
        if pdu.short_message == b"boom":
            raise RuntimeError("bad receipt")
        return CommandStatus.ESME_RX_P_APPN if pdu.short_message == b"no" else 0

    async with rig.client(on_deliver_sm=on_deliver_sm) as client:
        session = rig.server.receiver_for(client.system_id)
        assert session is not None
        futures = [
            session.deliver_nowait(
                DeliverSm(source_addr="1", destination_addr="2", short_message=m)
            )
            for m in (b"yes", b"no", b"boom")
        ]
        statuses = [(await f).command_status for f in futures]
    assert statuses == [0, CommandStatus.ESME_RX_P_APPN, CommandStatus.ESME_RX_T_APPN]
    assert seen == [b"yes", b"no", b"boom"]


async def test_aclose_during_a_bind_leaves_nothing_running(rig: Rig) -> None:
    network = MemoryConnector()  # accepts, but nobody answers the bind
    client = SmppClient(host="smsc", port=2775, system_id="acme", password="x", connector=network)
    client.start()
    server_end = await network.accepted.get()
    await client.aclose()
    assert await asyncio.wait_for(server_end.read(), 1) != b""  # the bind went out
    assert await asyncio.wait_for(server_end.read(), 1) == b""  # then the connection closed
    assert not client.bound


async def test_a_hook_that_never_returns_does_not_hold_up_aclose(rig: Rig) -> None:
    forever = asyncio.Event()

    async def on_deliver_sm(pdu: DeliverSm) -> int:
        await forever.wait()
        return 0

    client = rig.client(on_deliver_sm=on_deliver_sm, unbind_timeout=0.05)
    await client.connect()
    session = rig.server.receiver_for(client.system_id)
    assert session is not None
    pending = session.deliver_nowait(DeliverSm(source_addr="1", destination_addr="2"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(client.aclose(), 2)
    with pytest.raises(TransportError):
        await pending


async def test_a_submit_with_a_priority_flag_goes_ahead_of_the_queue(rig: Rig) -> None:
    async with rig.client(throughput=200) as client:
        bulk = asyncio.create_task(client.submit_many([submit_pdu(i) for i in range(60)]))
        await eventually(lambda: len(rig.smsc.submits) >= 3)
        urgent = [submit_pdu(1000 + i, priority_flag=1) for i in range(2)]
        started = time.monotonic()
        answers = await client.submit_many(urgent)
        waited = time.monotonic() - started
        assert all(isinstance(a, SubmitSmResp) for a in answers)
        await bulk
    order = [p.destination_addr for p in rig.smsc.submits]
    first, second = order.index(urgent[0].destination_addr), order.index(urgent[1].destination_addr)
    assert first < second <= 8  # ahead of some 50 bulk submits, in their own order
    assert waited < 0.1  # not the 0.3 s the bulk still needed
