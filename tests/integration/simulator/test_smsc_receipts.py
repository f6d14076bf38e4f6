"""Submits and receipts through our client over loopback TCP."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.integration.simulator.conftest import Inbox, client, config, eventually

from marconi.errors import CommandStatusError, ConnectError
from marconi.simulator import (
    Account,
    DeliveryRules,
    DestinationRule,
    Fate,
    FixedLatency,
    IdFormat,
    Outcome,
    OutcomeRatios,
    Simulator,
)
from marconi.smpp import (
    CancelSm,
    CommandStatus,
    DataSm,
    MessageState,
    QuerySm,
    ReceiptStatus,
    ReplaceSm,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Tag,
    Tlvs,
    is_receipt,
    parse_receipt,
)
from marconi.text.segment import encode_message
from marconi.transport import BindType


def sm(destination: str = "447700900123", text: bytes = b"Hello", reg: int = 1) -> SubmitSm:
    return SubmitSm(
        source_addr="ACME",
        source_addr_ton=5,
        destination_addr=destination,
        dest_addr_ton=1,
        dest_addr_npi=1,
        short_message=text,
        registered_delivery=reg,
    )


async def test_submit_then_delivered_receipt(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        resp = await esme.submit(sm())
        [pdu] = await inbox.wait_for(1)
    assert resp.message_id
    assert is_receipt(pdu)
    receipt = parse_receipt(pdu)
    assert receipt.message_id == resp.message_id
    assert receipt.stat is ReceiptStatus.DELIVRD
    assert receipt.err == "000"
    assert receipt.text == "Hello"
    assert pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == resp.message_id
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert pdu.source_addr == "447700900123"
    assert pdu.destination_addr == "ACME"
    assert smsc.counters.receipts_sent == 1


@pytest.mark.parametrize(
    ("number", "stat", "err"),
    [
        ("447700900002", ReceiptStatus.UNDELIV, 1),
        ("+447700900003", ReceiptStatus.EXPIRED, 27),
        ("447700900004", ReceiptStatus.REJECTD, 13),
        ("447700900005", ReceiptStatus.UNDELIV, 31),
        ("447700900006", ReceiptStatus.UNDELIV, 11),
    ],
)
async def test_magic_numbers_fail_with_their_stat_and_err(
    smsc: Simulator, number: str, stat: ReceiptStatus, err: int
) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        resp = await esme.submit(sm(number))
        [pdu] = await inbox.wait_for(1)
    receipt = parse_receipt(pdu)
    assert receipt.message_id == resp.message_id
    assert receipt.stat is stat
    assert receipt.error_code == err
    assert receipt.network_error_code == (3, err)
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == stat.message_state


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("447700900001", CommandStatus.ESME_RINVDSTADR),
        ("447700900007", CommandStatus.ESME_RSUBMITFAIL),
    ],
)
async def test_magic_numbers_refuse_the_submit(
    smsc: Simulator, number: str, status: CommandStatus
) -> None:
    async with client(smsc) as esme:
        with pytest.raises(CommandStatusError) as caught:
            await esme.submit(sm(number))
    assert caught.value.status == status
    assert smsc.counters.submit_errors == 1


async def test_never_receipted_number_and_no_receipt_requested(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        await esme.submit(sm("447700900009"))
        await esme.submit(sm("447700900123", reg=0))
        await esme.submit(sm("447700900124"))
        await inbox.wait_for(1)
        await asyncio.sleep(0.1)
    assert [p.source_addr for p in inbox.pdus] == ["447700900124"]


async def test_failure_only_receipts() -> None:
    async with Simulator(config()) as sim:
        inbox = Inbox()
        async with client(sim, inbox) as esme:
            await esme.submit(sm("447700900123", reg=2))
            failed = await esme.submit(sm("447700900002", reg=2))
            await inbox.wait_for(1)
            await asyncio.sleep(0.1)
    assert len(inbox.pdus) == 1
    assert parse_receipt(inbox.pdus[0]).message_id == failed.message_id


async def test_ratios_and_custom_rules_over_the_wire() -> None:
    rules = DeliveryRules(
        latency=FixedLatency(0.0),
        ratios=OutcomeRatios(delivered=0.0, rejected=1.0),
        rules=(DestinationRule("4915", prefix=True, outcome=Outcome(Fate.EXPIRED, 9)),),
    )
    async with Simulator(config(rules=rules)) as sim:
        inbox = Inbox()
        async with client(sim, inbox) as esme:
            await esme.submit(sm("33600000000"))
            await inbox.wait_for(1)
            await esme.submit(sm("4915112345678"))
            await inbox.wait_for(2)
    first, second = (parse_receipt(p) for p in inbox.pdus)
    assert first.stat is ReceiptStatus.REJECTD
    assert (second.stat, second.err) == (ReceiptStatus.EXPIRED, "009")


async def test_hex_ids_in_response_and_receipt() -> None:
    async with Simulator(config(id_format=IdFormat.HEX, id_start=0xABC0)) as sim:
        inbox = Inbox()
        async with client(sim, inbox) as esme:
            first = await esme.submit(sm())
            second = await esme.submit(sm())
            await inbox.wait_for(2)
    assert (first.message_id, second.message_id) == ("ABC0", "ABC1")
    assert {parse_receipt(p).message_id for p in inbox.pdus} == {"ABC0", "ABC1"}


async def test_receipt_latency_is_respected() -> None:
    async with Simulator(config(rules=DeliveryRules(latency=FixedLatency(0.3)))) as sim:
        inbox = Inbox()
        async with client(sim, inbox) as esme:
            started = time.monotonic()
            await esme.submit(sm())
            await inbox.wait_for(1)
            elapsed = time.monotonic() - started
    assert 0.28 <= elapsed < 1.5


async def test_receipts_go_to_a_receiver_of_the_same_system_id(smsc: Simulator) -> None:
    mine, theirs = Inbox(), Inbox()
    async with (
        client(smsc, bind_type=BindType.TRANSMITTER) as tx,
        client(smsc, mine, bind_type=BindType.RECEIVER) as _rx,
        client(smsc, theirs, system_id="other", bind_type=BindType.RECEIVER) as _other,
    ):
        resp = await tx.submit(sm())
        [pdu] = await mine.wait_for(1)
        await asyncio.sleep(0.05)
    assert parse_receipt(pdu).message_id == resp.message_id
    assert theirs.pdus == []


async def test_receipts_wait_for_a_receiver_to_bind(smsc: Simulator) -> None:
    async with client(smsc, bind_type=BindType.TRANSMITTER) as tx:
        ids = [(await tx.submit(sm())).message_id for _ in range(3)]
        await eventually(lambda: smsc.counters.receipts_queued == 3)
    assert smsc.pending_receipts == 3
    inbox = Inbox()
    async with client(smsc, inbox, bind_type=BindType.RECEIVER):
        await inbox.wait_for(3)
    assert sorted(parse_receipt(p).message_id for p in inbox.pdus) == sorted(ids)
    assert smsc.pending_receipts == 0


async def test_receipt_queue_is_bounded() -> None:
    async with Simulator(config(queue_per_system_id=2)) as sim:
        async with client(sim, bind_type=BindType.TRANSMITTER) as tx:
            ids = [(await tx.submit(sm())).message_id for _ in range(5)]
            await eventually(lambda: sim.counters.receipts_dropped == 3)
        inbox = Inbox()
        async with client(sim, inbox, bind_type=BindType.RECEIVER):
            await inbox.wait_for(2)
            await asyncio.sleep(0.05)
    # the oldest are dropped first
    assert [parse_receipt(p).message_id for p in inbox.pdus] == ids[-2:]


async def test_query_then_cancel_then_query(smsc: Simulator) -> None:
    smsc.rules = DeliveryRules(latency=FixedLatency(30.0))
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        resp = await esme.submit(sm())
        query = await esme.query_sm(QuerySm(message_id=resp.message_id, source_addr="ACME"))
        assert query.message_state == MessageState.ENROUTE
        assert query.final_date == ""
        await esme.cancel_sm(CancelSm(message_id=resp.message_id, source_addr="ACME"))
        query = await esme.query_sm(QuerySm(message_id=resp.message_id, source_addr="ACME"))
        assert query.message_state == MessageState.DELETED
        assert len(query.final_date) == 16
        with pytest.raises(CommandStatusError) as caught:
            await esme.cancel_sm(CancelSm(message_id=resp.message_id))
        assert caught.value.status == CommandStatus.ESME_RCANCELFAIL
        with pytest.raises(CommandStatusError) as unknown:
            await esme.query_sm(QuerySm(message_id="nope"))
        assert unknown.value.status == CommandStatus.ESME_RQUERYFAIL
    assert inbox.pdus == []


async def test_query_after_delivery_and_cancel_by_addresses(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        failed = await esme.submit(sm("447700900002"))
        await inbox.wait_for(1)
        query = await esme.query_sm(QuerySm(message_id=failed.message_id))
        assert query.message_state == MessageState.UNDELIVERABLE
        assert query.error_code == 1
        smsc.rules = DeliveryRules(latency=FixedLatency(30.0))
        pending = [await esme.submit(sm("4930111")) for _ in range(2)]
        await esme.cancel_sm(CancelSm(source_addr="ACME", destination_addr="4930111"))
        for resp in pending:
            record = smsc.message(resp.message_id)
            assert record is not None
            assert record.outcome.fate is Fate.DELETED


async def test_replace_sm_changes_the_text_of_a_pending_message(smsc: Simulator) -> None:
    smsc.rules = DeliveryRules(latency=FixedLatency(30.0))
    async with client(smsc) as esme:
        resp = await esme.submit(sm(text=b"old"))
        await esme.replace_sm(ReplaceSm(message_id=resp.message_id, short_message=b"new text"))
        with pytest.raises(CommandStatusError):
            await esme.replace_sm(ReplaceSm(message_id="unknown", short_message=b"x"))
    assert [m.text for m in smsc.handset("447700900123")] == ["new text"]


async def test_data_sm_is_accepted_and_receipted(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        resp = await esme.data_sm(
            DataSm(
                source_addr="ACME",
                destination_addr="447700900555",
                registered_delivery=1,
                tlvs=Tlvs({Tag.MESSAGE_PAYLOAD: b"payload text"}),
            )
        )
        [pdu] = await inbox.wait_for(1)
    assert parse_receipt(pdu).message_id == resp.message_id
    assert parse_receipt(pdu).text == "payload text"
    assert smsc.handset("447700900555")[0].text == "payload text"


async def test_submit_multi_refuses_magic_destinations_only(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox) as esme:
        resp = await esme.submit_multi(
            SubmitMulti(
                source_addr="ACME",
                dest_address=(
                    SmeAddress(destination_addr="447700900123"),
                    SmeAddress(destination_addr="447700900001"),
                    SmeAddress(destination_addr="447700900124"),
                ),
                registered_delivery=1,
                short_message=b"to many",
            )
        )
        await inbox.wait_for(2)
    assert [u.destination_addr for u in resp.unsuccess_sme] == ["447700900001"]
    assert resp.unsuccess_sme[0].error_status_code == CommandStatus.ESME_RINVDSTADR
    assert {p.source_addr for p in inbox.pdus} == {"447700900123", "447700900124"}
    assert {parse_receipt(p).message_id for p in inbox.pdus} == {resp.message_id}


async def test_accounts_table() -> None:
    cfg = config(accounts=(Account("acme", "secret"),))
    async with Simulator(cfg) as sim:
        async with client(sim) as esme:
            await esme.submit(sm())
        for system_id, password, status in [
            ("acme", "wrong", CommandStatus.ESME_RINVPASWD),
            ("stranger", "secret", CommandStatus.ESME_RINVSYSID),
        ]:
            with pytest.raises(ConnectError) as caught:
                async with client(sim, system_id=system_id, password=password):
                    pass
            assert isinstance(caught.value.__cause__, CommandStatusError)
            assert caught.value.__cause__.status == status
        assert sim.counters.bind_failures == 2
        assert sim.counters.binds == 1


async def test_long_ucs2_message_reaches_its_handset_intact(smsc: Simulator) -> None:
    text = "Grüße aus Köln — 你好，世界! 🎉 " * 6
    encoded = encode_message(text, national_languages=())
    assert encoded.data_coding == 8
    assert len(encoded.parts) > 2
    async with client(smsc) as esme:
        ids = []
        for part in encoded.parts:
            pdu = SubmitSm(
                source_addr="ACME",
                destination_addr="+447700900777",
                esm_class=part.esm_class_bits,
                data_coding=part.data_coding,
                short_message=part.short_message,
            )
            ids.append((await esme.submit(pdu)).message_id)
    [message] = smsc.handset("447700900777")
    assert message.text == text
    assert message.complete
    assert message.message_ids == tuple(ids)
    assert message.peer == "ACME"
    assert smsc.handset_numbers() == ["447700900777"]


async def test_a_receipt_the_esme_refuses_is_counted(smsc: Simulator) -> None:
    inbox = Inbox()
    inbox.status = CommandStatus.ESME_RX_T_APPN
    async with client(smsc, inbox) as esme:
        await esme.submit(sm())
        await inbox.wait_for(1)
        await eventually(lambda: smsc.counters.receipts_refused == 1)
    assert smsc.stats()["receipts_refused"] == 1
