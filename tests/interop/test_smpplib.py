"""PyPI smpplib as an ESME of Marconi's SMSC simulator.

smpplib encodes and splits every text itself (``smpplib.gsm.make_parts``); the simulator's
virtual handsets must show exactly the texts smpplib was given, and smpplib must get a message id
for each part and a receipt carrying that id.
"""

from __future__ import annotations

import asyncio

import pytest

from marconi.simulator.message_id import IdFormat
from marconi.text import encode_message
from tests.interop import pdus, peers
from tests.interop.peers import SmpplibMessage
from tests.interop.simulated import REFUSED, UNDELIVERABLE, simulator

pytestmark = pytest.mark.interop

GSM_SHORT = "Hello @ world {€} [ok] ~ £$¥ èé ÄÖÜ"
# smpplib splits GSM by octets: no escape pair may straddle its 153-octet boundaries.
GSM_LONG = "smpplib sends a long message, one part after the other. " * 6
UCS2_SHORT = "Привет, мир! 😀 日本語"
UCS2_LONG = "Ответ 😀 Ελληνικά ✓ " * 6 + "终"
ESME_RINVPASWD = 0x0E
ESME_RINVDSTADR = 0x0B


async def test_smpplib_submits_to_the_simulator_and_gets_receipts() -> None:
    messages = [
        SmpplibMessage(destination_addr="4915550001", text=GSM_SHORT),
        SmpplibMessage(destination_addr="4915550002", text=GSM_LONG),
        SmpplibMessage(destination_addr="4915550003", text=UCS2_SHORT, ucs2=True),
        SmpplibMessage(destination_addr="4915550004", text=UCS2_LONG, ucs2=True),
        SmpplibMessage(destination_addr=UNDELIVERABLE, text="never arrives"),
    ]
    async with simulator(accounts={"smpplib": "secret"}, id_format=IdFormat.HEX) as smsc:
        result = await asyncio.to_thread(
            peers.run_smpplib_client, port=smsc.port, messages=messages, expect_deliver=8
        )
        handsets = {m.destination_addr: smsc.handset(m.destination_addr) for m in messages}

    assert result.error is None, result
    assert result.bind_status == 0
    parts = [len(result.message_ids(i)) for i in range(len(messages))]
    assert parts == [1, 3, 1, 2, 1]
    # what smpplib put on the wire, read independently, is what it was given
    sent = pdus.reassemble(
        pdus.part_from_octets(
            source_addr="smpplib",
            destination_addr=str(index),
            data_coding=data_coding,
            esm_class=esm_class,
            short_message=short_message,
        )
        for index, esm_class, data_coding, short_message in result.sent
    )
    assert [m.text for m in sent] == [m.text for m in messages]

    for index, message in enumerate(messages):
        [shown] = handsets[message.destination_addr]
        assert shown.text == message.text
        assert shown.complete
        assert list(shown.message_ids) == result.message_ids(index)

    receipts = {d["receipted_message_id"]: d for d in result.receipts()}
    all_ids = [mid for i in range(len(messages)) for mid in result.message_ids(i)]
    assert sorted(receipts) == sorted(all_ids)
    for index, message in enumerate(messages):
        for mid in result.message_ids(index):
            receipt = receipts[mid]
            fields = pdus.receipt_fields(receipt["short_message"].decode("ascii"))
            assert fields["id"] == mid
            assert receipt["source_addr"] == message.destination_addr
            if message.destination_addr == UNDELIVERABLE:
                assert (fields["stat"], fields["err"], receipt["message_state"]) == (
                    "UNDELIV",
                    "001",
                    5,
                )
            else:
                assert (fields["stat"], receipt["message_state"]) == ("DELIVRD", 2)


async def test_smpplib_receives_mo_from_the_simulator() -> None:
    texts = {"4915550011": GSM_SHORT, "4915550012": UCS2_LONG, "4915550013": GSM_LONG * 2}
    async with simulator() as smsc:
        parts = sum(encode_message(text).segments for text in texts.values())
        client = asyncio.create_task(
            asyncio.to_thread(peers.run_smpplib_client, port=smsc.port, expect_deliver=parts)
        )
        for _ in range(500):
            if smsc.server.bound_sessions():
                break
            await asyncio.sleep(0.02)
        for source, text in texts.items():
            await smsc.inject_mo(source=source, destination="15550000000", text=text)
        result = await client

    assert result.error is None, result
    received = [
        pdus.part_from_octets(
            source_addr=d["source_addr"],
            destination_addr=d["destination_addr"],
            data_coding=d["data_coding"],
            esm_class=d["esm_class"],
            short_message=d["short_message"],
        )
        for d in result.mobile_originated()
    ]
    assert len(received) == parts
    assert {m.source_addr: m.text for m in pdus.reassemble(received)} == texts


async def test_simulator_refuses_smpplib_bad_password_and_bad_destination() -> None:
    async with simulator(accounts={"smpplib": "secret"}) as smsc:
        refused = await asyncio.to_thread(
            peers.run_smpplib_client, port=smsc.port, password="wrong", timeout=5
        )
        result = await asyncio.to_thread(
            peers.run_smpplib_client,
            port=smsc.port,
            messages=[SmpplibMessage(destination_addr=REFUSED, text="refused")],
            timeout=5,
        )
    assert refused.bind_status == ESME_RINVPASWD
    assert result.responses == [(0, 1, ESME_RINVDSTADR, "")]
    assert result.receipts() == []
