"""Mobile-originated messages injected into a bound ESME, and the admin port."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.integration.simulator.conftest import Inbox, RawPeer, client, config

from marconi.errors import CommandStatusError, LocalProtocolError
from marconi.simulator import Direction, Fate, Faults, Simulator
from marconi.smpp import CommandStatus, DeliverSm, Tag, is_receipt
from marconi.text.reassembly import Reassembler, ReceivedPart, decode_short_message
from marconi.text.segment import SarInfo
from marconi.text.udh import UserDataHeader
from marconi.transport import BindType


def reassemble(pdus: list[DeliverSm]) -> str | None:
    reassembler = Reassembler()
    done = []
    for pdu in pdus:
        sar = None
        if Tag.SAR_MSG_REF_NUM in pdu.tlvs:
            sar = SarInfo(
                pdu.tlvs.get_int(Tag.SAR_MSG_REF_NUM) or 0,
                pdu.tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS) or 0,
                pdu.tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM) or 0,
            )
        part = ReceivedPart(
            source=pdu.source_addr,
            destination=pdu.destination_addr,
            short_message=pdu.short_message,
            data_coding=pdu.data_coding,
            esm_class=pdu.esm_class,
            sar=sar,
        )
        message = reassembler.add(part, now=0.0)
        if message is not None:
            done.append(message)
    assert len(done) == 1
    return done[0].text


async def test_short_gsm_mo(smsc: Simulator) -> None:
    inbox = Inbox()
    async with client(smsc, inbox, bind_type=BindType.RECEIVER):
        ids = await smsc.inject_mo(source="447700900123", destination="12345", text="STOP @ £5")
        [pdu] = inbox.pdus
    assert len(ids) == 1
    assert not is_receipt(pdu)
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == ("447700900123", 1, 1)
    assert (pdu.destination_addr, pdu.dest_addr_ton) == ("12345", 3)
    assert pdu.data_coding == 0
    assert decode_short_message(pdu.short_message, data_coding=0).text == "STOP @ £5"
    [sent] = smsc.handset("+447700900123")
    assert sent.direction is Direction.SENT
    assert (sent.peer, sent.text, sent.message_ids, sent.fate) == (
        "12345",
        "STOP @ £5",
        ids,
        Fate.DELIVERED,
    )
    assert smsc.counters.mo_sent == 1


@pytest.mark.parametrize("concatenation", ["udh8", "udh16", "sar"])
async def test_long_ucs2_mo_arrives_as_correct_parts(smsc: Simulator, concatenation: str) -> None:
    text = "Привет! Это длинное сообщение с эмодзи 😀👍 и кириллицей. " * 4
    inbox = Inbox()
    async with client(smsc, inbox):
        ids = await smsc.inject_mo(
            source="447700900123", destination="12345", text=text, concatenation=concatenation
        )
        pdus = inbox.pdus
    assert len(pdus) == len(ids) > 2
    references = set()
    for seq, pdu in enumerate(pdus, 1):
        assert pdu.data_coding == 8
        assert len(pdu.short_message) <= 140
        if concatenation == "sar":
            assert pdu.esm_class & 0x40 == 0
            assert pdu.tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM) == seq
            assert pdu.tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS) == len(pdus)
            references.add(pdu.tlvs.get_int(Tag.SAR_MSG_REF_NUM))
        else:
            assert pdu.esm_class & 0x40
            header, payload = UserDataHeader.parse(pdu.short_message)
            info = header.concatenation
            assert info is not None
            assert (info.sequence, info.total, info.wide) == (
                seq,
                len(pdus),
                concatenation == "udh16",
            )
            assert len(payload) % 2 == 0
            # no surrogate pair is split between parts
            assert not 0xD800 <= int.from_bytes(payload[-2:], "big") <= 0xDBFF
            references.add(info.reference)
    assert len(references) == 1
    assert reassemble(pdus) == text
    [sent] = smsc.handset("447700900123")
    assert sent.text == text
    assert sent.parts == len(pdus)


async def test_mo_to_a_chosen_system_id(smsc: Simulator) -> None:
    acme, other = Inbox(), Inbox()
    async with client(smsc, acme), client(smsc, other, system_id="other"):
        await smsc.inject_mo(source="4477", destination="1", text="hi", system_id="other")
    assert (len(acme.pdus), len(other.pdus)) == (0, 1)


async def test_mo_needs_a_receiver(smsc: Simulator) -> None:
    with pytest.raises(LocalProtocolError):
        await smsc.inject_mo(source="4477", destination="1", text="hi")
    async with client(smsc, bind_type=BindType.TRANSMITTER):
        with pytest.raises(LocalProtocolError):
            await smsc.inject_mo(source="4477", destination="1", text="hi")
        with pytest.raises(LocalProtocolError):
            await smsc.inject_mo(source="4477", destination="1", text="hi", system_id="x")


async def test_mo_refused_by_the_esme_is_recorded_as_failed(smsc: Simulator) -> None:
    inbox = Inbox()
    inbox.status = CommandStatus.ESME_RX_P_APPN
    async with client(smsc, inbox):
        with pytest.raises(CommandStatusError):
            await smsc.inject_mo(source="447700900123", destination="1", text="hi")
    assert smsc.handset("447700900123")[0].fate is Fate.UNDELIVERABLE


async def admin_lines(port: int, *lines: str) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for line in lines:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            async with asyncio.timeout(5):
                answers.append((await reader.readline()).decode().rstrip("\n"))
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


async def test_admin_port_injects_mo_and_switches_faults() -> None:
    async with Simulator(config(admin_port=0)) as sim:
        assert sim.admin_port is not None
        inbox = Inbox()
        async with client(sim, inbox):
            mo, faults, handsets, handset, stats, bye = await admin_lines(
                sim.admin_port,
                'mo 447700900123 12345 "Hello\\nWorld 👋"',
                "fault throttle-every=5",
                "handsets",
                "handset 447700900123",
                "stats",
                "quit",
            )
            await inbox.wait_for(1)
        assert mo.startswith("OK ")
        assert json.loads(mo[3:])["parts"] == 1
        text = decode_short_message(inbox.pdus[0].short_message, data_coding=8).text
        assert text == "Hello\nWorld 👋"
        assert faults == 'OK "throttle-every=5"'
        assert sim.faults == Faults(throttle_every=5)
        assert json.loads(handsets[3:]) == ["447700900123"]
        assert json.loads(handset[3:])[0]["text"] == "Hello\nWorld 👋"
        assert json.loads(stats[3:])["mo_sent"] == 1
        assert bye == "OK bye"
        [error] = await admin_lines(sim.admin_port, "mo 1 2 nobody-bound")
        assert error.startswith("ERR no receiver")


async def test_raw_receiver_gets_mo_parts_in_order() -> None:
    async with Simulator(config()) as sim:
        peer = await RawPeer.connect(sim.port)
        await peer.bind()
        task = asyncio.create_task(
            sim.inject_mo(source="447700900123", destination="12345", text="long " * 70)
        )
        seen: list[DeliverSm] = []
        while len(seen) < 3:
            pdu = await peer.read()
            assert isinstance(pdu, DeliverSm)
            seen.append(pdu)
        assert len(await task) == 3
        peer.close()
    infos = [UserDataHeader.parse(p.short_message)[0].concatenation for p in seen]
    assert [i.sequence for i in infos if i is not None] == [1, 2, 3]
    assert all(p.data_coding == 0 for p in seen)
