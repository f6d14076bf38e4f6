from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.dispatch.fakes import T0, FakeConnector, FakeQueue, message

from marconi.config import RouteConfig
from marconi.dispatch import Dispatcher, RetryPolicy, Router
from marconi.errors import CommandStatusError, LocalProtocolError, MarconiError, TransportError
from marconi.metrics import Metrics
from marconi.smpp import CommandStatus, DeliverSm, SubmitSm, SubmitSmResp
from marconi.smpp.receipt import ReceiptStatus, format_receipt
from marconi.store.model import (
    DispatchOutcome,
    Failed,
    MessageStatus,
    PartStatus,
    ReceiptOutcome,
    RetryLater,
    Submitted,
)


def make(
    queue: FakeQueue,
    connectors: Sequence[FakeConnector],
    routes: Sequence[RouteConfig] | None = None,
    **kwargs: object,
) -> Dispatcher:
    names = tuple(c.name for c in connectors)
    return Dispatcher(
        queue=queue,
        connectors={c.name: c for c in connectors},
        router=Router(routes if routes is not None else [RouteConfig(connectors=names)]),
        worker_id="w1",
        clock=lambda: T0,
        retry=RetryPolicy(initial=2.0, maximum=60.0, max_attempts=5),
        poll_interval=0.01,
        **kwargs,  # type: ignore[arg-type]
    )


async def dispatch_all(
    dispatcher: Dispatcher, queue: FakeQueue, count: int
) -> list[DispatchOutcome]:
    task = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(5):
            while len(queue.outcomes) < count:
                queue.recorded.clear()
                await queue.recorded.wait()
    finally:
        await dispatcher.stop(grace=1)
        await task
    return queue.outcomes


async def test_start_hands_back_stale_claims() -> None:
    queue = FakeQueue()
    dispatcher = make(queue, [FakeConnector("a")], stale_after=30.0)
    await dispatcher.start()
    assert queue.requeued_before == T0 - timedelta(seconds=30)


async def test_submits_every_part_and_records_smsc_ids() -> None:
    queue = FakeQueue([message(1), message(2, body="y" * 200, segments=2)])
    link = FakeConnector("a")
    metrics = Metrics()
    outcomes = await dispatch_all(make(queue, [link], metrics=metrics), queue, 2)
    by_id = {o.message_id: o for o in outcomes}
    first = by_id[message(1).id]
    assert isinstance(first, Submitted)
    assert first.connector == "a"
    assert [p.smsc_message_id for p in first.parts] == ["a-1"]
    second = by_id[message(2).id]
    assert isinstance(second, Submitted)
    assert [p.part_number for p in second.parts] == [1, 2]
    assert len(link.submitted) == 3
    assert b'marconi_messages_submitted_total{connector="a"} 2.0' in metrics.render()


async def test_fails_over_to_the_next_connector_when_the_first_is_down() -> None:
    queue = FakeQueue([message(1)])
    down = FakeConnector("a", up=False)
    spare = FakeConnector("b")
    outcomes = await dispatch_all(make(queue, [down, spare]), queue, 1)
    assert isinstance(outcomes[0], Submitted)
    assert outcomes[0].connector == "b"
    assert down.submitted == []


async def test_fails_over_when_the_link_refuses_the_submit() -> None:
    def refuse(pdu: SubmitSm) -> SubmitSmResp | MarconiError:
        return CommandStatusError(CommandStatus.ESME_RINVBNDSTS)

    queue = FakeQueue([message(1)])
    refusing = FakeConnector("a", answer=refuse)
    spare = FakeConnector("b")
    outcomes = await dispatch_all(make(queue, [refusing, spare]), queue, 1)
    assert isinstance(outcomes[0], Submitted)
    assert outcomes[0].connector == "b"
    assert len(refusing.submitted) == 1


async def test_every_link_down_retries_later_without_submitting() -> None:
    queue = FakeQueue([message(1)])
    down = FakeConnector("a", up=False)
    up_elsewhere = FakeConnector("other")
    routes = [RouteConfig(connectors=("a",))]
    outcomes = await dispatch_all(make(queue, [down, up_elsewhere], routes), queue, 1)
    assert isinstance(outcomes[0], RetryLater)
    assert outcomes[0].error_code == "link_down"
    assert outcomes[0].next_attempt_at > T0


async def test_a_link_closing_under_a_submit_fails_over_and_does_not_fail_the_message() -> None:
    queue = FakeQueue([message(1)])

    def closing(pdu: SubmitSm) -> SubmitSmResp | MarconiError:
        link.is_up = False  # the session unbinds between the routing and the submit
        return LocalProtocolError("ESME cannot send submit_sm in state UNBOUND")

    link = FakeConnector("a", answer=closing)
    spare = FakeConnector("b")
    outcomes = await dispatch_all(make(queue, [link, spare]), queue, 1)
    assert isinstance(outcomes[0], Submitted)
    assert outcomes[0].connector == "b"
    # With nowhere else to go it waits for the link instead.
    queue = FakeQueue([message(2)])
    link = FakeConnector("a", answer=closing)
    outcomes = await dispatch_all(make(queue, [link]), queue, 1)
    assert isinstance(outcomes[0], RetryLater)
    assert outcomes[0].error_code == "LocalProtocolError"


async def test_a_local_protocol_error_on_a_link_that_stays_up_fails_the_message() -> None:
    queue = FakeQueue([message(1)])
    link = FakeConnector("a", answer=lambda pdu: LocalProtocolError("field too long"))
    outcomes = await dispatch_all(make(queue, [link]), queue, 1)
    assert isinstance(outcomes[0], Failed)


async def test_transient_errors_retry_with_backoff_and_permanent_ones_fail() -> None:
    answers: dict[str, SubmitSmResp | MarconiError] = {
        "447700900001": CommandStatusError(CommandStatus.ESME_RTHROTTLED),
        "447700900002": TransportError("connection lost"),
        "447700900003": CommandStatusError(CommandStatus.ESME_RINVDSTADR),
    }
    queue = FakeQueue([message(n, to=f"+44770090000{n}", attempts=3) for n in (1, 2, 3)])
    link = FakeConnector("a", answer=lambda pdu: answers[pdu.destination_addr])
    outcomes = {o.message_id: o for o in await dispatch_all(make(queue, [link]), queue, 3)}
    throttled = outcomes[message(1).id]
    assert isinstance(throttled, RetryLater)
    assert throttled.error_code == "ESME_RTHROTTLED"
    # attempt 3 with initial 2 s: between 4 and 8 s from now
    assert T0 + timedelta(seconds=4) <= throttled.next_attempt_at <= T0 + timedelta(seconds=8)
    lost = outcomes[message(2).id]
    assert isinstance(lost, RetryLater)
    assert lost.error_code == "link_down"
    refused = outcomes[message(3).id]
    assert isinstance(refused, Failed)
    assert refused.status is MessageStatus.FAILED
    assert refused.error_code == "ESME_RINVDSTADR"


async def test_gives_up_after_max_attempts() -> None:
    queue = FakeQueue([message(1, attempts=5)])
    link = FakeConnector("a", answer=lambda pdu: CommandStatusError(CommandStatus.ESME_RMSGQFUL))
    outcomes = await dispatch_all(make(queue, [link]), queue, 1)
    assert isinstance(outcomes[0], Failed)
    assert outcomes[0].error_code == "ESME_RMSGQFUL"


async def test_expired_messages_are_not_submitted() -> None:
    queue = FakeQueue([message(1, expires_at=T0 - timedelta(seconds=1))])
    link = FakeConnector("a")
    outcomes = await dispatch_all(make(queue, [link]), queue, 1)
    assert isinstance(outcomes[0], Failed)
    assert outcomes[0].status is MessageStatus.EXPIRED
    assert link.submitted == []


async def test_retry_that_would_outlive_the_validity_expires_now() -> None:
    queue = FakeQueue([message(1, attempts=4, expires_at=T0 + timedelta(seconds=2))])
    link = FakeConnector("a", answer=lambda pdu: CommandStatusError(CommandStatus.ESME_RTHROTTLED))
    outcomes = await dispatch_all(make(queue, [link]), queue, 1)
    assert isinstance(outcomes[0], Failed)
    assert outcomes[0].status is MessageStatus.EXPIRED


async def test_no_route_fails_the_message() -> None:
    queue = FakeQueue([message(1, to="+14155550100")])
    routes = [RouteConfig(prefixes=("+44",), connectors=("a",))]
    outcomes = await dispatch_all(make(queue, [FakeConnector("a")], routes), queue, 1)
    assert isinstance(outcomes[0], Failed)
    assert outcomes[0].error_code == "no_route"


async def test_results_are_kept_until_the_store_takes_them() -> None:
    queue = FakeQueue([message(1)])
    queue.fail_records = 2
    outcomes = await dispatch_all(make(queue, [FakeConnector("a")]), queue, 1)
    assert isinstance(outcomes[0], Submitted)


def receipt_pdu(message_id: str, stat: ReceiptStatus) -> DeliverSm:
    text = format_receipt(message_id=message_id, stat=stat)
    return DeliverSm(esm_class=0x04, short_message=text.encode())


async def test_receipts_are_stored_in_a_batch_and_answered_after_the_commit() -> None:
    queue = FakeQueue([message(1)])
    link = FakeConnector("a", answer=lambda pdu: SubmitSmResp(message_id="0000ff"))
    dispatcher = make(queue, [link])
    await dispatch_all(dispatcher, queue, 1)
    assert isinstance(queue.outcomes[0], Submitted)
    assert queue.outcomes[0].parts[0].smsc_message_id == "ff"
    # the SMSC writes the id in decimal in its receipt: 255 == 0xff
    first = dispatcher.on_deliver_sm("a", receipt_pdu("255", ReceiptStatus.DELIVRD))
    second = dispatcher.on_deliver_sm("a", receipt_pdu("77", ReceiptStatus.UNDELIV))
    assert isinstance(first, asyncio.Future)
    assert isinstance(second, asyncio.Future)
    assert not first.done()
    assert await first == CommandStatus.ESME_ROK
    assert await second == CommandStatus.ESME_ROK
    assert [(r.smsc_message_id, r.status) for r in queue.receipts] == [
        ("ff", PartStatus.DELIVERED),
        ("77", PartStatus.UNDELIVERED),
    ]
    assert queue.receipts[0].stat == "DELIVRD"


async def test_after_an_early_receipt_the_dispatcher_settles_early_receipts() -> None:
    queue = FakeQueue()
    dispatcher = make(queue, [FakeConnector("a")])
    task = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.sleep(0.05)
        assert queue.settle_calls == 0  # nothing came early: no query
        queue.receipt_outcome = ReceiptOutcome.EARLY
        answer = dispatcher.on_deliver_sm("a", receipt_pdu("12", ReceiptStatus.DELIVRD))
        assert isinstance(answer, asyncio.Future)
        await answer
        dispatcher.wake()
        async with asyncio.timeout(5):
            while queue.settle_calls == 0:  # noqa: ASYNC110 - the fake has no event for it
                await asyncio.sleep(0.01)
    finally:
        await dispatcher.stop(grace=1)
        await task


async def test_mo_goes_to_the_inbound_hook_and_bad_receipts_are_acknowledged() -> None:
    seen: list[tuple[str, DeliverSm]] = []

    def inbound(connector: str, pdu: DeliverSm) -> int:
        seen.append((connector, pdu))
        return CommandStatus.ESME_ROK

    dispatcher = make(FakeQueue(), [FakeConnector("a")], on_inbound=inbound)
    mo = DeliverSm(source_addr="447700900123", destination_addr="12345", short_message=b"hi")
    assert dispatcher.on_deliver_sm("a", mo) == CommandStatus.ESME_ROK
    assert seen == [("a", mo)]
    garbage = DeliverSm(esm_class=0x04, short_message=b"no id here")
    assert dispatcher.on_deliver_sm("a", garbage) == CommandStatus.ESME_ROK


@pytest.mark.parametrize("up", [True, False])
async def test_link_state_is_a_metric(up: bool) -> None:
    metrics = Metrics()
    dispatcher = make(FakeQueue(), [FakeConnector("a")], metrics=metrics)
    dispatcher.link_changed("a", up)
    line = f'marconi_link_up{{connector="a"}} {1.0 if up else 0.0}'.encode()
    assert line in metrics.render()


class GatedConnector(FakeConnector):
    """Holds every submit without a priority_flag until ``gate`` opens: a link saturated with
    bulk traffic."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.gate = asyncio.Event()

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        if not all(p.priority_flag for p in pdus):
            await self.gate.wait()
        return await super().submit_many(pdus)


async def test_the_priority_class_is_claimed_and_sent_while_bulk_fills_the_dispatcher() -> None:
    queue = FakeQueue([message(n) for n in range(1, 101)])
    link = GatedConnector("a")
    dispatcher = make(queue, [link], batch_size=8, max_in_flight=16)
    task = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(5):
            while dispatcher.in_flight < 16:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            queue.add(replace(message(500), priority=10))
            while not queue.outcomes:
                queue.recorded.clear()
                await queue.recorded.wait()
        assert [o.message_id for o in queue.outcomes] == [message(500).id]
        assert [p.priority_flag for p in link.submitted] == [1]
        assert len(queue.queued) == 100 - 16  # no ordinary message was claimed past the limit
    finally:
        link.gate.set()
        await dispatcher.stop(grace=1)
        await task
